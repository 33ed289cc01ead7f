// Terminal presentation shared by the milestone programs: story panels, a progress bar,
// tables, line plots, digit drawings and the per-epoch CSV log. Colour and redrawn progress
// bars are used only when stdout is a terminal; otherwise every line is plain text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace CLI {
class App;
}

namespace milestone {

/// Flags every milestone accepts; defaults are set by each program to the course's values.
struct Flags {
  Flags(int epochs, std::size_t batch_size, float lr)
      : epochs(epochs), batch_size(batch_size), lr(lr) {}
  int epochs = 1;
  std::size_t batch_size = 32;
  float lr = 0.01f;
  std::uint64_t seed = 42;
  int threads = 1;
  std::string csv;  ///< per-epoch metrics file ("" = none)
  bool quiet = false;
};

/// Adds --epochs --batch-size --lr --seed --threads --csv --quiet to `app`.
void add_flags(CLI::App& app, Flags& flags);
/// Applies --seed and --threads and decides on colour; call once after parsing.
void setup(const Flags& flags);

bool is_tty();
bool quiet();

/// A headline: "1998 · The CNN revolution".
void title(const std::string& text);
/// "── Act 2 · The experiment ─────" (skipped with --quiet).
void act(int number, const std::string& name);
/// A boxed paragraph of lines (skipped with --quiet).
void panel(const std::string& heading, const std::vector<std::string>& lines);
/// One line of narration (skipped with --quiet).
void say(const std::string& line);
/// A line that is always printed (results, errors).
void print(const std::string& line);

/// Redrawn in place on a terminal; on a pipe only finish() prints (one line per epoch).
class ProgressBar {
 public:
  ProgressBar(std::string label, std::size_t total);
  void update(std::size_t done, const std::string& status);
  void finish(const std::string& summary);

 private:
  std::string label_;
  std::size_t total_;
};

class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void add_row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  void print() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

/// A named series of values, one per epoch.
using Series = std::pair<std::string, std::vector<float>>;
/// Plots the series on one character grid (each series gets its own mark) with its y-range.
void plot(const std::string& heading, const std::vector<Series>& series, int height = 10);

/// Renders 8×8 images (pixels in [0, 1]) side by side with a caption under each.
void draw_digits(const std::vector<const float*>& images, const std::vector<std::string>& captions,
                 std::size_t side = 8);

/// Per-epoch metrics written to the --csv file (temporary file + rename).
class CsvLog {
 public:
  CsvLog(std::string path, std::vector<std::string> columns);
  void add(const std::vector<double>& values);
  /// Writes the file; no-op when no path was given.
  void save() const;

 private:
  std::string path_;
  std::vector<std::string> columns_;
  std::vector<std::vector<double>> rows_;
};

/// Runs a milestone's body; an exception (a missing data file, a non-finite loss) is printed
/// as "error: ..." and turns into exit code 1 instead of an abort.
int guarded(const std::function<int()>& body);

/// "12.3 s" / "850 ms".
std::string seconds(double s);
/// "87.5%".
std::string percent(double fraction);

}  // namespace milestone
