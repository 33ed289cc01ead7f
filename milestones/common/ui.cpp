#include "ui.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>

#include <fmt/color.h>
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <tinytorch/core/tensor.hpp>

namespace milestone {

namespace {
bool g_tty = false;
bool g_color = false;
bool g_quiet = false;
int g_rank = 0, g_processes = 1;
std::size_t g_columns = 80;

// Colour only when wanted, so logs and CI output stay plain.
std::string styled(const std::string& text, fmt::text_style style) {
  return g_color ? fmt::format(style, "{}", text) : text;
}

std::string pad(const std::string& s, std::size_t to) {
  const std::size_t w = display_width(s);
  return w >= to ? s : s + std::string(to - w, ' ');
}

std::string repeat(const std::string& piece, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += piece;
  return out;
}

/// Byte length of the first `n` code points of `s` (all of it if shorter).
std::size_t bytes_of_columns(const std::string& s, std::size_t n) {
  std::size_t i = 0;
  for (std::size_t seen = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && seen++ == n) break;
  }
  return i;
}

std::size_t columns_from_environment() {
  if (const char* env = std::getenv("COLUMNS")) {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && n > 0 && n < 100000) return static_cast<std::size_t>(n);
  }
  winsize size{};
  if (isatty(fileno(stdout)) && ioctl(fileno(stdout), TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
    return size.ws_col;
  return 80;
}
}  // namespace

std::size_t display_width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;  // continuation bytes take no column
  return n;
}

std::vector<std::string> wrap(const std::string& text, std::size_t width, std::size_t indent) {
  width = std::max<std::size_t>(width, indent + 8);  // always room for some text
  std::vector<std::string> lines;
  std::string rest = text;
  std::string lead;  // the first line has its own indentation inside `text`
  while (display_width(lead + rest) > width) {
    const std::size_t room = width - display_width(lead);
    // The last space that keeps the line within `room` columns; a word longer than that is cut.
    const std::size_t limit = bytes_of_columns(rest, room);
    std::size_t cut = rest.rfind(' ', limit);
    const bool at_space = cut != std::string::npos && cut > 0 && rest.find_first_not_of(' ') < cut;
    if (!at_space) cut = limit;
    std::string line = lead + rest.substr(0, cut);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    lines.push_back(line);
    rest = rest.substr(cut);
    rest.erase(0, rest.find_first_not_of(' '));
    lead = std::string(indent, ' ');
    if (rest.empty()) return lines;
  }
  lines.push_back(lead + rest);
  return lines;
}

bool use_color(bool stdout_is_terminal, const char* no_color) {
  return stdout_is_terminal && (no_color == nullptr || *no_color == '\0');
}

std::size_t columns() {
  return g_columns;
}

CLI::Validator number_in(double lo, double hi) {
  return CLI::Validator(
      [lo, hi](std::string& text) -> std::string {
        errno = 0;
        char* end = nullptr;
        const double value = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value) ||
            errno == ERANGE) {
          return fmt::format("'{}' is not a number", text);
        }
        if (value < lo || value > hi) {
          return fmt::format("{} is out of range: expected a number from {} to {}", text, lo, hi);
        }
        return "";
      },
      fmt::format("NUMBER in [{}, {}]", lo, hi));
}

CLI::Validator whole_number_in(std::uint64_t lo, std::uint64_t hi) {
  return CLI::Validator(
      [lo, hi](std::string& text) -> std::string {
        const std::string range = fmt::format("expected a whole number from {} to {}", lo, hi);
        if (!text.empty() && text[0] == '-')
          return fmt::format("'{}' is negative: {}", text, range);
        if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
          return fmt::format("'{}' is not a whole number: {}", text, range);
        errno = 0;
        const unsigned long long value = std::strtoull(text.c_str(), nullptr, 10);
        if (errno == ERANGE || value < lo || value > hi)
          return fmt::format("{} is out of range: {}", text, range);
        return "";
      },
      fmt::format("WHOLE NUMBER in [{}, {}]", lo, hi));
}

CLI::Validator writable_file() {
  return CLI::Validator(
      [](std::string& path) -> std::string {
        namespace fs = std::filesystem;
        if (path.empty()) return "expected a file name";
        std::error_code ec;
        const fs::path target(path);
        const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
        if (!fs::exists(dir, ec))
          return fmt::format("cannot write '{}': directory '{}' does not exist", path,
                             dir.string());
        if (!fs::is_directory(dir, ec))
          return fmt::format("cannot write '{}': '{}' is not a directory", path, dir.string());
        if (fs::is_directory(target, ec))
          return fmt::format("cannot write '{}': it is a directory", path);
        if (access(dir.c_str(), W_OK) != 0)
          return fmt::format("cannot write '{}': directory '{}': {}", path, dir.string(),
                             std::strerror(errno));
        if (fs::exists(target, ec) && access(target.c_str(), W_OK) != 0)
          return fmt::format("cannot write '{}': {}", path, std::strerror(errno));
        return "";
      },
      "FILE (written after training)");
}

void add_flags(CLI::App& app, Flags& flags) {
  app.add_option("--epochs", flags.epochs, "training epochs")
      ->check(whole_number_in(1, 1000000))
      ->capture_default_str();
  app.add_option("--batch-size", flags.batch_size, "mini-batch size")
      ->check(whole_number_in(1, 1 << 30))
      ->capture_default_str();
  app.add_option("--lr", flags.lr, "learning rate")
      ->check(number_in(0.0, 1000.0))
      ->capture_default_str();
  app.add_option("--seed", flags.seed, "random seed (weights, data order)")
      ->check(whole_number_in(0, std::numeric_limits<std::uint64_t>::max()))
      ->capture_default_str();
  app.add_option("--threads", flags.threads, "BLAS threads (1 = deterministic)")
      ->check(whole_number_in(1, 256))
      ->capture_default_str();
  app.add_option("--csv", flags.csv, "write per-epoch metrics to this CSV file")
      ->check(writable_file());
  app.add_option("--report", flags.report,
                 "write an HTML report of the run (curves, kernels, feature maps, mistakes)")
      ->check(writable_file());
  app.add_flag("--quiet", flags.quiet, "only the results, no story");
}

void setup(const Flags& flags) {
  g_tty = isatty(fileno(stdout)) != 0;
  g_color = use_color(g_tty, std::getenv("NO_COLOR"));
  g_columns = columns_from_environment();
  g_quiet = flags.quiet;
  tinytorch::manual_seed(flags.seed);
  tinytorch::set_num_threads(flags.threads);
}

bool is_tty() {
  return g_tty;
}
bool quiet() {
  return g_quiet;
}

void set_process(int rank, int count) {
  g_rank = rank;
  g_processes = count;
}

int process_count() {
  return g_processes;
}

bool primary() {
  return g_rank == 0;
}

void title(const std::string& text) {
  const std::string rule = repeat("━", std::min(display_width(text) + 4, g_columns));
  print(styled(rule, fmt::fg(fmt::color::steel_blue)));
  print(styled("  " + text, fmt::emphasis::bold));
  print(styled(rule, fmt::fg(fmt::color::steel_blue)));
}

void act(int number, const std::string& name) {
  if (g_quiet) return;
  const std::string head = fmt::format("── Act {} · {} ", number, name);
  const std::size_t rule = std::min<std::size_t>(72, g_columns);
  std::fputs("\n", stdout);
  print(styled(head + repeat("─", rule > display_width(head) ? rule - display_width(head) : 0),
               fmt::emphasis::bold));
}

void panel(const std::string& heading, const std::vector<std::string>& lines) {
  if (g_quiet) return;
  // "│ " + text + " │": the text gets the terminal's width less four columns.
  const std::size_t most = g_columns > 12 ? g_columns - 4 : 8;
  std::vector<std::string> wrapped;
  for (const auto& l : lines) {
    for (auto& piece : wrap(l, most)) wrapped.push_back(std::move(piece));
  }
  std::size_t inner = std::min(display_width(heading) + 2, most);
  for (const auto& l : wrapped) inner = std::max(inner, display_width(l));
  const std::size_t heading_room = inner > 1 ? inner - 1 : 0;
  const std::string shown =
      display_width(heading) > heading_room
          ? heading.substr(0, bytes_of_columns(heading, heading_room > 1 ? heading_room - 1 : 0)) +
                "…"
          : heading;
  print("╭─ " + styled(shown, fmt::emphasis::bold) + " " +
        repeat("─", inner - std::min(inner, display_width(shown) + 1)) + "╮");
  for (const auto& l : wrapped) print("│ " + pad(l, inner) + " │");
  print("╰" + repeat("─", inner + 2) + "╯");
}

void say(const std::string& line) {
  if (!g_quiet) print(line);
}

namespace {

// Wider than the terminal: wrapped at spaces. "Model:  x ─ ..." continues under the x, other
// lines two columns in from their own first character.
void emit(std::FILE* out, const std::string& line) {
  std::size_t indent = line.find_first_not_of(' ');
  if (indent == std::string::npos) indent = 0;
  const std::size_t label_end = line.find(":  ", indent);
  if (label_end != std::string::npos && line.find(' ', indent) > label_end) {
    indent = display_width(line.substr(0, line.find_first_not_of(' ', label_end + 1)));
  } else {
    indent += 2;
  }
  for (const std::string& piece : wrap(line, g_columns, indent)) {
    std::fputs(piece.c_str(), out);
    std::fputc('\n', out);
  }
  std::fflush(out);
}

}  // namespace

void print(const std::string& line) {
  emit(stdout, line);
}

void hint(const std::string& line) {
  std::fflush(stdout);
  emit(stderr, line);
}

ProgressBar::ProgressBar(std::string label, std::size_t total)
    : label_(std::move(label)), total_(total) {}

void ProgressBar::update(std::size_t done, const std::string& status) {
  if (!g_tty) return;
  const std::string counts = fmt::format("{}/{}", done, total_);
  // label, bar, counts and status on one line that never wraps (\r could not redraw it).
  const std::size_t text =
      display_width(label_) + display_width(counts) + display_width(status) + 3;
  const std::size_t bar =
      g_columns > text + 10 ? std::min<std::size_t>(30, g_columns - text - 1) : 10;
  const std::size_t filled = total_ ? bar * std::min(done, total_) / total_ : bar;
  std::string line = fmt::format("{} {}{} {} {}", label_, repeat("█", filled),
                                 repeat("░", bar - filled), counts, status);
  line.resize(bytes_of_columns(line, g_columns > 1 ? g_columns - 1 : 1));
  std::printf("\r%s\033[K", line.c_str());
  std::fflush(stdout);
}

void ProgressBar::finish(const std::string& summary) {
  if (g_tty) std::fputs("\r\033[K", stdout);
  print(label_ + " " + summary);
}

void Table::print() const {
  const std::size_t n = headers_.size();
  std::vector<std::size_t> widths(n);
  for (std::size_t c = 0; c < n; ++c) widths[c] = display_width(headers_[c]);
  for (const auto& row : rows_)
    for (std::size_t c = 0; c < row.size() && c < n; ++c)
      widths[c] = std::max(widths[c], display_width(row[c]));
  // "│ a │ b │" takes 3 columns per cell plus 1 around the text; the widest columns give way
  // (their text wraps) until the table fits, down to 8 columns each.
  const std::size_t room = g_columns > 3 * n + 1 ? g_columns - 3 * n - 1 : 0;
  auto total = [&] {
    std::size_t sum = 0;
    for (std::size_t w : widths) sum += w;
    return sum;
  };
  while (total() > room) {
    auto widest = std::max_element(widths.begin(), widths.end());
    if (*widest <= 8) break;
    --*widest;
  }
  auto line = [&](const std::string& l, const std::string& m, const std::string& r) {
    std::string s = l;
    for (std::size_t c = 0; c < n; ++c) s += repeat("─", widths[c] + 2) + (c + 1 < n ? m : r);
    milestone::print(s);
  };
  auto cells = [&](const std::vector<std::string>& row, bool bold) {
    std::vector<std::vector<std::string>> wrapped(n);
    std::size_t height = 1;
    for (std::size_t c = 0; c < n; ++c) {
      wrapped[c] = wrap(c < row.size() ? row[c] : "", widths[c]);
      height = std::max(height, wrapped[c].size());
    }
    for (std::size_t k = 0; k < height; ++k) {
      std::string s = "│";
      for (std::size_t c = 0; c < n; ++c) {
        const std::string cell = pad(k < wrapped[c].size() ? wrapped[c][k] : "", widths[c]);
        s += " " + (bold ? styled(cell, fmt::emphasis::bold) : cell) + " │";
      }
      milestone::print(s);
    }
  };
  line("┌", "┬", "┐");
  cells(headers_, true);
  line("├", "┼", "┤");
  for (const auto& row : rows_) cells(row, false);
  line("└", "┴", "┘");
}

void plot(const std::string& heading, const std::vector<Series>& series, int height) {
  std::size_t points = 0;
  float lo = INFINITY, hi = -INFINITY;
  for (const auto& s : series) {
    points = std::max(points, s.second.size());
    for (float v : s.second) {
      if (!std::isfinite(v)) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (points == 0 || !std::isfinite(lo)) return;
  if (hi - lo < 1e-6f) hi = lo + 1.0f;
  // One column per epoch, stretched to at least 40 columns so short runs stay readable, and
  // squeezed into the terminal (the "%8.3f ┤" axis takes 10) so long runs do not wrap.
  const std::size_t room = g_columns > 20 ? g_columns - 10 : 10;
  const std::size_t cols = std::min(std::max<std::size_t>(points, 40), room);
  const char* marks[] = {"●", "◆", "▲", "■"};
  std::vector<std::vector<std::string>> grid(static_cast<std::size_t>(height),
                                             std::vector<std::string>(cols, " "));
  for (std::size_t k = 0; k < series.size(); ++k) {
    const auto& values = series[k].second;
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (!std::isfinite(values[i])) continue;
      const std::size_t col = values.size() == 1 ? 0 : i * (cols - 1) / (values.size() - 1);
      const int row = static_cast<int>(std::lround((values[i] - lo) / (hi - lo) * (height - 1)));
      grid[static_cast<std::size_t>(height - 1 - row)][col] = marks[k % 4];
    }
  }
  print(styled(heading, fmt::emphasis::bold));
  for (int r = 0; r < height; ++r) {
    const float value = hi - (hi - lo) * static_cast<float>(r) / static_cast<float>(height - 1);
    std::string row = fmt::format("{:>8.3f} ┤", value);
    for (const auto& c : grid[static_cast<std::size_t>(r)]) row += c;
    print(row);
  }
  print(fmt::format("{:>8} └{}", "", repeat("─", cols)));
  std::string legend = fmt::format("epoch 1 … {}   ", points);
  for (std::size_t k = 0; k < series.size(); ++k)
    legend += fmt::format("{} {}  ", marks[k % 4], series[k].first);
  for (const std::string& piece : wrap(legend, g_columns - std::min<std::size_t>(g_columns, 10)))
    print(std::string(10, ' ') + piece);
}

void draw_digits(const std::vector<const float*>& images, const std::vector<std::string>& captions,
                 std::size_t side) {
  // Two characters per pixel keep the image square in a terminal; images larger than 16
  // pixels are averaged over 2×2 blocks so that several fit side by side. As many images as
  // fit the width go in one band; the rest follow in further bands.
  const char* shades[] = {"  ", "░░", "▒▒", "▓▓", "██"};
  const std::size_t step = side > 16 ? 2 : 1, shown = side / step;
  const std::size_t cell = std::max<std::size_t>(2 * shown, 12) + 2;
  const std::size_t per_band = std::max<std::size_t>(1, g_columns / cell);
  auto pixel = [&](const float* img, std::size_t r, std::size_t c) {
    float total = 0.0f;
    for (std::size_t i = 0; i < step; ++i)
      for (std::size_t j = 0; j < step; ++j) total += img[(r * step + i) * side + c * step + j];
    return std::clamp(total / static_cast<float>(step * step), 0.0f, 1.0f);
  };
  for (std::size_t first = 0; first < images.size(); first += per_band) {
    const std::size_t last = std::min(images.size(), first + per_band);
    if (first > 0) print("");
    for (std::size_t r = 0; r < shown; ++r) {
      std::string line;
      for (std::size_t k = first; k < last; ++k) {
        std::string row;
        for (std::size_t c = 0; c < shown; ++c)
          row += shades[static_cast<int>(std::lround(pixel(images[k], r, c) * 4))];
        line += k + 1 < last ? pad(row, cell) : row;
      }
      print(line);
    }
    std::string line;
    for (std::size_t k = first; k < last && k < captions.size(); ++k)
      line += k + 1 < last ? pad(captions[k], cell) : captions[k];
    print(line);
  }
}

CsvLog::CsvLog(std::string path, std::vector<std::string> columns)
    : path_(std::move(path)), columns_(std::move(columns)) {}

void CsvLog::add(const std::vector<double>& values) {
  rows_.push_back(values);
}

void CsvLog::save() const {
  if (path_.empty() || !primary()) return;  // over several processes rank 0 writes
  const std::filesystem::path target(path_);
  const std::string tmp = path_ + ".tmp";
  {
    std::ofstream out(tmp);
    if (!out) throw std::runtime_error("--csv: cannot write " + tmp);
    for (std::size_t c = 0; c < columns_.size(); ++c)
      out << columns_[c] << (c + 1 < columns_.size() ? "," : "\n");
    for (const auto& row : rows_)
      for (std::size_t c = 0; c < row.size(); ++c)
        out << fmt::format("{:.6g}", row[c]) << (c + 1 < row.size() ? "," : "\n");
    if (!out.flush()) throw std::runtime_error("--csv: write failed for " + tmp);
  }
  std::filesystem::rename(tmp, target);  // never leave a half-written file under the real name
}

int guarded(const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    hint(g_processes > 1 ? fmt::format("error (rank {} of {}): {}", g_rank, g_processes, e.what())
                         : std::string("error: ") + e.what());
    return 1;
  }
}

std::string seconds(double s) {
  return s < 1.0 ? fmt::format("{:.0f} ms", s * 1000.0) : fmt::format("{:.1f} s", s);
}

std::string percent(double fraction) {
  return fmt::format("{:.1f}%", 100.0 * fraction);
}

std::string epochs(int n) {
  return fmt::format("{} epoch{}", n, n == 1 ? "" : "s");
}

}  // namespace milestone
