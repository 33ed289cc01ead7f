#include "ui.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <fmt/color.h>
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <tinytorch/core/tensor.hpp>

namespace milestone {

namespace {
bool g_tty = false;
bool g_quiet = false;

// Colour only on a terminal, so logs and CI output stay plain.
std::string styled(const std::string& text, fmt::text_style style) {
  return g_tty ? fmt::format(style, "{}", text) : text;
}

// Number of characters a UTF-8 string shows (continuation bytes take no column).
std::size_t width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string pad(const std::string& s, std::size_t to) {
  const std::size_t w = width(s);
  return w >= to ? s : s + std::string(to - w, ' ');
}

std::string repeat(const std::string& piece, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += piece;
  return out;
}
}  // namespace

void add_flags(CLI::App& app, Flags& flags) {
  app.add_option("--epochs", flags.epochs, "training epochs")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--batch-size", flags.batch_size, "mini-batch size")
      ->check(CLI::Range(1, 1 << 30))
      ->capture_default_str();
  app.add_option("--lr", flags.lr, "learning rate")
      ->check(CLI::Range(0.0f, 1000.0f))
      ->capture_default_str();
  app.add_option("--seed", flags.seed, "random seed (weights, data order)")->capture_default_str();
  app.add_option("--threads", flags.threads, "BLAS threads (1 = deterministic)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--csv", flags.csv, "write per-epoch metrics to this CSV file");
  app.add_flag("--quiet", flags.quiet, "only the results, no story");
}

void setup(const Flags& flags) {
  g_tty = isatty(fileno(stdout)) != 0;
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

void title(const std::string& text) {
  const std::string rule = repeat("━", width(text) + 4);
  print(styled(rule, fmt::fg(fmt::color::steel_blue)));
  print(styled("  " + text, fmt::emphasis::bold));
  print(styled(rule, fmt::fg(fmt::color::steel_blue)));
}

void act(int number, const std::string& name) {
  if (g_quiet) return;
  const std::string head = fmt::format("── Act {} · {} ", number, name);
  std::fputs("\n", stdout);
  print(styled(head + repeat("─", head.size() < 72 ? 72 - width(head) : 0), fmt::emphasis::bold));
}

void panel(const std::string& heading, const std::vector<std::string>& lines) {
  if (g_quiet) return;
  std::size_t inner = width(heading) + 2;
  for (const auto& l : lines) inner = std::max(inner, width(l));
  print("╭─ " + styled(heading, fmt::emphasis::bold) + " " +
        repeat("─", inner - width(heading) - 1) + "╮");
  for (const auto& l : lines) print("│ " + pad(l, inner) + " │");
  print("╰" + repeat("─", inner + 2) + "╯");
}

void say(const std::string& line) {
  if (!g_quiet) print(line);
}

void print(const std::string& line) {
  std::fputs(line.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

ProgressBar::ProgressBar(std::string label, std::size_t total)
    : label_(std::move(label)), total_(total) {}

void ProgressBar::update(std::size_t done, const std::string& status) {
  if (!g_tty) return;
  constexpr std::size_t bar = 30;
  const std::size_t filled = total_ ? bar * done / total_ : bar;
  std::printf("\r%s %s%s %zu/%zu %s\033[K", label_.c_str(), repeat("█", filled).c_str(),
              repeat("░", bar - filled).c_str(), done, total_, status.c_str());
  std::fflush(stdout);
}

void ProgressBar::finish(const std::string& summary) {
  if (g_tty) std::fputs("\r\033[K", stdout);
  print(label_ + " " + summary);
}

void Table::print() const {
  std::vector<std::size_t> widths(headers_.size());
  for (std::size_t c = 0; c < headers_.size(); ++c) widths[c] = width(headers_[c]);
  for (const auto& row : rows_)
    for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c)
      widths[c] = std::max(widths[c], width(row[c]));
  auto line = [&](const std::string& l, const std::string& m, const std::string& r) {
    std::string s = l;
    for (std::size_t c = 0; c < widths.size(); ++c)
      s += repeat("─", widths[c] + 2) + (c + 1 < widths.size() ? m : r);
    return s;
  };
  auto cells = [&](const std::vector<std::string>& row, bool bold) {
    std::string s = "│";
    for (std::size_t c = 0; c < widths.size(); ++c) {
      const std::string cell = pad(c < row.size() ? row[c] : "", widths[c]);
      s += " " + (bold ? styled(cell, fmt::emphasis::bold) : cell) + " │";
    }
    return s;
  };
  milestone::print(line("┌", "┬", "┐"));
  milestone::print(cells(headers_, true));
  milestone::print(line("├", "┼", "┤"));
  for (const auto& row : rows_) milestone::print(cells(row, false));
  milestone::print(line("└", "┴", "┘"));
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
  // One column per epoch, stretched to at least 40 columns so short runs stay readable.
  const std::size_t cols = std::max<std::size_t>(points, 40);
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
  std::string legend = fmt::format("{:>10}epoch 1 … {}   ", "", points);
  for (std::size_t k = 0; k < series.size(); ++k)
    legend += fmt::format("{} {}  ", marks[k % 4], series[k].first);
  print(legend);
}

void draw_digits(const std::vector<const float*>& images, const std::vector<std::string>& captions,
                 std::size_t side) {
  // Two characters per pixel keep the image square in a terminal; images larger than 16
  // pixels are averaged over 2×2 blocks so that several fit side by side.
  const char* shades[] = {"  ", "░░", "▒▒", "▓▓", "██"};
  const std::size_t step = side > 16 ? 2 : 1, shown = side / step;
  const std::size_t cell = std::max<std::size_t>(2 * shown, 12) + 2;
  auto pixel = [&](const float* img, std::size_t r, std::size_t c) {
    float total = 0.0f;
    for (std::size_t i = 0; i < step; ++i)
      for (std::size_t j = 0; j < step; ++j) total += img[(r * step + i) * side + c * step + j];
    return std::clamp(total / static_cast<float>(step * step), 0.0f, 1.0f);
  };
  for (std::size_t r = 0; r < shown; ++r) {
    std::string line;
    for (const float* img : images) {
      std::string row;
      for (std::size_t c = 0; c < shown; ++c)
        row += shades[static_cast<int>(std::lround(pixel(img, r, c) * 4))];
      line += pad(row, cell);
    }
    print(line);
  }
  std::string line;
  for (const auto& caption : captions) line += pad(caption, cell);
  print(line);
}

CsvLog::CsvLog(std::string path, std::vector<std::string> columns)
    : path_(std::move(path)), columns_(std::move(columns)) {}

void CsvLog::add(const std::vector<double>& values) {
  rows_.push_back(values);
}

void CsvLog::save() const {
  if (path_.empty()) return;
  const std::filesystem::path target(path_);
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path());
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
    std::fflush(stdout);
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}

std::string seconds(double s) {
  return s < 1.0 ? fmt::format("{:.0f} ms", s * 1000.0) : fmt::format("{:.1f} s", s);
}

std::string percent(double fraction) {
  return fmt::format("{:.1f}%", 100.0 * fraction);
}

}  // namespace milestone
