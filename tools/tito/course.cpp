#include "course.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "error.hpp"

namespace tito {

const std::vector<CourseModule>& modules() {
  static const std::vector<CourseModule> table = {
      {1, "01_tensor", "Tensor", 85},     {2, "02_activations", "Activations", 70},
      {3, "03_layers", "Layers", 55},     {4, "04_losses", "Losses", 60},
      {5, "05_autograd", "Autograd", 60}, {6, "06_optimizers", "Optimizers", 90},
      {7, "07_training", "Training", 55}, {8, "08_dataloader", "DataLoader", 60},
      {9, "09_spatial", "Spatial", 60},
  };
  return table;
}

// The programs call exactly these modules' exercises (docs/modules/README.md lists which):
// the perceptron and XOR train with module 07's Trainer and score with its accuracy, the
// digit classifiers also batch with module 08's DataLoader, and the CNN needs module 09.
// tests/course checks that each program reaches the exercises of every module listed here.
const std::vector<Milestone>& milestones() {
  static const std::vector<Milestone> table = {
      {1, "1957", "The perceptron", "perceptron_1957", {1, 2, 3, 4, 5, 6, 7}},
      {2, "1969", "The XOR crisis", "xor_1969", {1, 2, 3, 4, 5, 6, 7}},
      {3, "1986", "The MLP revival", "mlp_1986", {1, 2, 3, 4, 5, 6, 7, 8}},
      {4, "1998", "The convolutional network", "cnn_1998", {1, 2, 3, 4, 5, 6, 7, 8, 9}},
  };
  return table;
}

std::string two_digits(int number) {
  return fmt::format("{:02d}", number);
}

namespace {

bool all_digits(const std::string& s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A module a word refers to, for the hint in an error: "spatial", "09_spatial", "Spatial".
const CourseModule* guess_module(const std::string& word) {
  const std::string w = lower(word);
  for (const CourseModule& m : modules()) {
    if (w == m.name || w == lower(m.title) || w == m.name.substr(3)) return &m;
  }
  return nullptr;
}

}  // namespace

const CourseModule& parse_module(const std::string& text) {
  if (!all_digits(text)) {
    const CourseModule* guess = guess_module(text);
    if (guess) {
      throw Error(fmt::format("expected a module number, got '{}'; {} is module {} (try: {})", text,
                              guess->name, two_digits(guess->number), two_digits(guess->number)));
    }
    throw Error(
        fmt::format("expected a module number 01..09, got '{}' (./tito status lists them)", text));
  }
  const int n = text.size() > 2 ? 0 : std::stoi(text);
  if (n < 1 || n > 9) {
    throw Error(
        fmt::format("there is no module {}; the course has modules 01..09 (01_tensor .. "
                    "09_spatial)",
                    text));
  }
  return modules()[static_cast<std::size_t>(n - 1)];
}

std::optional<CourseModule> module_named(const std::string& name) {
  for (const CourseModule& m : modules()) {
    if (m.name == name) return m;
  }
  return std::nullopt;
}

std::vector<int> parse_module_set(const std::string& text) {
  std::vector<int> out;
  if (text == "none" || text.empty()) return out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    const std::size_t dash = item.find('-');
    const std::string first = item.substr(0, dash);
    const std::string last = dash == std::string::npos ? first : item.substr(dash + 1);
    if (!all_digits(first) || !all_digits(last)) {
      throw Error(fmt::format("expected modules like 01-04 or 01,03,05, got '{}'", text));
    }
    const int a = parse_module(first).number, b = parse_module(last).number;
    if (a > b)
      throw Error(fmt::format("the range '{}' runs backwards; write {}-{}", item, last, first));
    for (int n = a; n <= b; ++n) out.push_back(n);
    start = comma + 1;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<int> recorded_kept_modules(const std::string& copy_dir, std::string& note) {
  std::ifstream in(copy_dir + "/.tito/release.json");
  const nlohmann::json doc = nlohmann::json::parse(in, nullptr, false);
  std::vector<int> kept;
  if (doc.is_discarded() || !doc.contains("kept") || !doc["kept"].is_array()) {
    note = "no readable .tito/release.json: no module counted as kept (give --kept)";
    return kept;
  }
  for (const auto& m : doc["kept"]) {
    try {
      if (m.is_string()) kept.push_back(parse_module(m.get<std::string>()).number);
    } catch (const Error&) {
      note = "a kept module in .tito/release.json is not a module number: ignored";
    }
  }
  std::sort(kept.begin(), kept.end());
  kept.erase(std::unique(kept.begin(), kept.end()), kept.end());
  return kept;
}

const Milestone& parse_milestone(const std::string& text) {
  const int n = all_digits(text) && text.size() <= 2 ? std::stoi(text) : 0;
  if (n < 1 || n > static_cast<int>(milestones().size())) {
    throw Error(
        fmt::format("there is no milestone '{}'; the milestones are 01..04 (./tito status "
                    "lists them)",
                    text));
  }
  return milestones()[static_cast<std::size_t>(n - 1)];
}

}  // namespace tito
