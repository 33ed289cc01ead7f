// Terminal presentation shared by the milestone programs: story panels, a progress bar,
// tables, line plots, digit drawings and the per-epoch CSV log. Everything is sized to the
// terminal: $COLUMNS if set, else the terminal's width (TIOCGWINSZ), else 80 columns. Colour
// and redrawn progress bars are used only when stdout is a terminal and NO_COLOR is not set
// (https://no-color.org); otherwise every line is plain text. Hints and errors go to stderr.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace CLI {
class App;
class Validator;
}  // namespace CLI

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
  std::string report;  ///< the HTML training report ("" = none)
  bool quiet = false;
};

/// Adds --epochs --batch-size --lr --seed --threads --csv --report --quiet to `app`.
void add_flags(CLI::App& app, Flags& flags);
/// Applies --seed and --threads and decides on colour and width; call once after parsing.
void setup(const Flags& flags);

// Flag checks that say what is wrong ("'abc' is not a number", "'-1' is negative"), where
// CLI11's Range calls both "not in range" and an unsigned flag silently wraps -1.
/// A number (integer, decimal or exponent form) in [lo, hi].
CLI::Validator number_in(double lo, double hi);
/// A whole number in [lo, hi]; a sign, a fraction or anything else is refused.
CLI::Validator whole_number_in(std::uint64_t lo, std::uint64_t hi);
/// A file that can be created or replaced: its directory exists and is writable, and it is not
/// a directory itself. Checked when the flags are parsed, before any training.
CLI::Validator writable_file();

bool is_tty();
bool quiet();
/// This process's rank among `count` (mpirun): errors name it, and only rank 0 writes files.
void set_process(int rank, int count);
/// How many processes run the program (1 alone), and whether this one is rank 0.
int process_count();
bool primary();
/// Columns available: $COLUMNS (a positive number), else the terminal's, else 80.
std::size_t columns();
/// Colour only on a terminal and when NO_COLOR is unset or empty.
bool use_color(bool stdout_is_terminal, const char* no_color);
/// The columns a UTF-8 string takes (one per code point; these programs print no wide glyphs).
std::size_t display_width(const std::string& s);
/// Splits `text` into lines of at most `width` columns at spaces (a longer word is cut);
/// continuation lines start with `indent` spaces.
std::vector<std::string> wrap(const std::string& text, std::size_t width, std::size_t indent = 0);

/// A headline: "1998 · The CNN revolution".
void title(const std::string& text);
/// "── Act 2 · The experiment ─────" (skipped with --quiet).
void act(int number, const std::string& name);
/// A boxed paragraph of lines (skipped with --quiet).
void panel(const std::string& heading, const std::vector<std::string>& lines);
/// A line that is always printed (results), wrapped at spaces when it is wider than the
/// terminal: a line that starts with a label ("Model:  ...") continues under the text after
/// the label, any other two columns in.
void print(const std::string& line);
/// One line of narration, printed as print() does; skipped with --quiet.
void say(const std::string& line);
/// A line for stderr (errors, hints), printed after whatever stdout holds so far.
void hint(const std::string& line);

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
  /// Box-drawn; when the table is wider than the terminal, the widest columns wrap their text.
  void print() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

/// A named series of values, one per epoch.
using Series = std::pair<std::string, std::vector<float>>;
/// Plots the series on one character grid (each series gets its own mark) with its y-range;
/// one column per epoch while they fit, several epochs per column after that.
void plot(const std::string& heading, const std::vector<Series>& series, int height = 10);

/// Renders square images (pixels in [0, 1]) side by side with a caption under each, as many
/// per band as fit the width.
void draw_digits(const std::vector<const float*>& images, const std::vector<std::string>& captions,
                 std::size_t side = 8);

/// Per-epoch metrics written to the --csv file (temporary file + rename; the directory must
/// exist, which writable_file() checked when the flags were parsed).
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
/// "1 epoch", "3 epochs".
std::string epochs(int n);

}  // namespace milestone
