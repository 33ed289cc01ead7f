// Milestone programs that fit: output sized to the terminal, plain text without a terminal or
// with NO_COLOR, flag errors that say what is wrong, output paths checked before training,
// hints once on stderr, and README figures that match what the programs print.
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <CLI/CLI.hpp>

#include "support/scratch_dir.hpp"
#include "ui.hpp"

namespace milestone {
namespace {

namespace fs = std::filesystem;
using tinytorch::testing::ScratchDir;

// ---- running a program ------------------------------------------------------------------

struct Output {
  int exit_code = -1;
  std::string out, err;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Runs a milestone program from the build tree with `env` ("NAME=value ...") and `args`.
Output run(const std::string& program, const std::string& args, const std::string& env = "") {
  // Not a ScratchDir: the calling test may hold one, and it is named after the test.
  std::string err_file = (fs::temp_directory_path() / "tinytorch_milestone_stderr_XXXXXX").string();
  const int fd = mkstemp(err_file.data());
  if (fd < 0) return {};
  close(fd);
  const std::string command =
      "env " + env + " " + MILESTONE_BIN_DIR + "/" + program + " " + args + " 2>" + err_file;
  Output result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;)
    result.out.append(buffer, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.err = read_file(err_file);
  fs::remove(err_file);
  return result;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::size_t count_of(const std::string& text, const std::string& piece) {
  std::size_t n = 0;
  for (std::size_t at = text.find(piece); at != std::string::npos; at = text.find(piece, at + 1))
    ++n;
  return n;
}

/// Every line of `text` fits in `width` columns.
void expect_fits(const std::string& text, std::size_t width, const std::string& what) {
  for (const std::string& line : lines_of(text)) {
    EXPECT_LE(display_width(line), width) << what << ": '" << line << "'";
  }
}

const char* const kQuickLeNet = "--epochs 1 --limit 600 --data /usr/share/datasets/fashion-mnist";

// ---- terminal width, colour, wrapping ---------------------------------------------------

TEST(Ui, ColumnsComeFromCOLUMNSOrDefaultToEighty) {
  Flags flags(1, 1, 0.1f);
  setenv("COLUMNS", "123", 1);
  setup(flags);
  EXPECT_EQ(columns(), 123u);
  for (const char* bad : {"abc", "0", "-5", ""}) {
    setenv("COLUMNS", bad, 1);
    setup(flags);  // stdout is not a terminal under CTest: no TIOCGWINSZ either
    EXPECT_EQ(columns(), 80u) << "COLUMNS=" << bad;
  }
  unsetenv("COLUMNS");
  setup(flags);
  EXPECT_EQ(columns(), 80u);
}

TEST(Ui, ColourOnlyOnATerminalAndWithoutNoColor) {
  EXPECT_TRUE(use_color(true, nullptr));
  EXPECT_TRUE(use_color(true, ""));  // no-color.org: an empty NO_COLOR does not count
  EXPECT_FALSE(use_color(true, "1"));
  EXPECT_FALSE(use_color(false, nullptr));
}

TEST(Ui, WrapBreaksAtSpacesCutsLongWordsAndIndents) {
  EXPECT_EQ(wrap("short line", 80), std::vector<std::string>{"short line"});
  EXPECT_EQ(wrap("aaaa bbbb cccc dddd", 10, 2),
            (std::vector<std::string>{"aaaa bbbb", "  cccc", "  dddd"}));
  EXPECT_EQ(wrap("abcdefghijklmnop", 10), (std::vector<std::string>{"abcdefghij", "klmnop"}));
  EXPECT_EQ(wrap("  ─ ─ ─ ─ ─", 8), (std::vector<std::string>{"  ─ ─ ─", "─ ─"}));
  EXPECT_EQ(display_width("█░ ✓"), 4u);
}

TEST(Ui, TablesPlotsAndDigitsFitTheWidth) {
  setenv("COLUMNS", "60", 1);
  setup(Flags(1, 1, 0.1f));
  ::testing::internal::CaptureStdout();
  Table table({"name", "a long description"});
  table.add_row({"x", std::string(200, 'y') + " and some words at the end"});
  table.print();
  plot("500 epochs", {{"loss", std::vector<float>(500, 1.0f)}, {"acc", std::vector<float>(500)}});
  std::vector<float> image(8 * 8, 0.5f);
  draw_digits(std::vector<const float*>(8, image.data()), std::vector<std::string>(8, "7 ✓"));
  const std::string out = ::testing::internal::GetCapturedStdout();
  unsetenv("COLUMNS");
  expect_fits(out, 60, "COLUMNS=60");
  EXPECT_NE(out.find("and some words"), std::string::npos) << "wrapped text is kept";
  EXPECT_EQ(count_of(out, "7 ✓"), 8u) << "every image is drawn, in bands";
}

// ---- flag checks ------------------------------------------------------------------------

/// The message of the CLI11 error that parsing `args` raises ("" if none).
std::string parse_error(const std::string& args) {
  CLI::App app;
  Flags flags(1, 1, 0.1f);
  add_flags(app, flags);
  try {
    app.parse(args, false);
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  return "";
}

TEST(Flags, SayWhatIsWrong) {
  EXPECT_EQ(parse_error("--lr abc"), "--lr: 'abc' is not a number");
  EXPECT_EQ(parse_error("--lr 2000"),
            "--lr: 2000 is out of range: expected a number from 0 to 1000");
  EXPECT_EQ(parse_error("--seed -1"),
            "--seed: '-1' is negative: expected a whole number from 0 to 18446744073709551615");
  EXPECT_EQ(parse_error("--epochs 2.5"),
            "--epochs: '2.5' is not a whole number: expected a whole number from 1 to 1000000");
  EXPECT_EQ(parse_error("--batch-size 0"),
            "--batch-size: 0 is out of range: expected a whole number from 1 to 1073741824");
  EXPECT_EQ(parse_error("--lr 0.5 --seed 7 --epochs 3 --threads 2"), "");
}

TEST(Flags, CsvPathIsCheckedWhenParsing) {
  ScratchDir dir;
  const std::string missing_dir = dir.file("no/such/dir");
  EXPECT_EQ(parse_error("--csv " + missing_dir + "/x.csv"), "--csv: cannot write '" + missing_dir +
                                                                "/x.csv': directory '" +
                                                                missing_dir + "' does not exist");
  EXPECT_FALSE(fs::exists(dir.file("no")));
  EXPECT_EQ(parse_error("--csv " + dir.path().string()),
            "--csv: cannot write '" + dir.path().string() + "': it is a directory");
  EXPECT_EQ(parse_error("--csv " + dir.file("ok.csv")), "");
}

// ---- the programs -----------------------------------------------------------------------

TEST(Programs, OutputFitsEightyAndSixtyColumns) {
  for (const std::string width : {"80", "60"}) {
    for (const char* program : {"perceptron_1957", "xor_1969", "mlp_1986", "cnn_1998"}) {
      const Output o = run(program, "", "COLUMNS=" + width);
      EXPECT_EQ(o.exit_code, 0) << program << o.err;
      expect_fits(o.out, std::stoul(width), std::string(program) + " at COLUMNS=" + width);
    }
    const Output lenet = run("lenet5_fashion", kQuickLeNet, "COLUMNS=" + width);
    if (lenet.exit_code == 2) continue;  // no Fashion-MNIST here
    EXPECT_EQ(lenet.exit_code, 0) << lenet.err;
    expect_fits(lenet.out, std::stoul(width), "lenet5_fashion at COLUMNS=" + width);
  }
}

TEST(Programs, PlainTextWithoutATerminalAndWithNoColor) {
  for (const std::string env : {"", "NO_COLOR=1"}) {
    const Output o = run("perceptron_1957", "--epochs 3", env);
    EXPECT_EQ(o.exit_code, 0);
    EXPECT_EQ(o.out.find("\033["), std::string::npos) << "escape codes with env '" << env << "'";
  }
}

TEST(Programs, BadFlagsFailBeforeAnythingRunsAndSayWhy) {
  const Output lr = run("perceptron_1957", "--lr abc");
  EXPECT_NE(lr.exit_code, 0);
  EXPECT_NE(lr.err.find("--lr: 'abc' is not a number"), std::string::npos) << lr.err;
  EXPECT_EQ(lr.out.find("result:"), std::string::npos);
  const Output seed = run("mlp_1986", "--seed -1");
  EXPECT_NE(seed.exit_code, 0);
  EXPECT_NE(seed.err.find("'-1' is negative"), std::string::npos) << seed.err;
}

TEST(Programs, CsvPathIsCheckedBeforeTrainingAndWrittenAfter) {
  ScratchDir dir;
  const Output bad = run("cnn_1998", "--csv " + dir.file("missing/log.csv"));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("directory '" + dir.file("missing") + "' does not exist"),
            std::string::npos)
      << bad.err;
  EXPECT_EQ(bad.out.find("Act 1"), std::string::npos) << "nothing ran";
  EXPECT_FALSE(fs::exists(dir.file("missing")));

  const Output good = run("xor_1969", "--quiet --csv " + dir.file("xor.csv"));
  EXPECT_EQ(good.exit_code, 0) << good.err;
  const std::vector<std::string> csv = lines_of(read_file(dir.file("xor.csv")));
  ASSERT_EQ(csv.size(), 501u);  // header + 500 epochs
  EXPECT_EQ(csv[0], "epoch,loss,accuracy");
}

TEST(Programs, MissingFashionMnistHintIsPrintedOnceOnStderr) {
  const Output o = run("lenet5_fashion", "--data /nonexistent/fashion");
  EXPECT_EQ(o.exit_code, 2);  // the CTest milestone test reports exit code 2 as skipped
  EXPECT_EQ(count_of(o.err, "dataset-fashion-mnist"), 2u) << o.err;  // package name, apt line
  EXPECT_EQ(count_of(o.err, "error:"), 1u) << o.err;
  EXPECT_EQ(count_of(o.err, "--data DIR"), 1u) << o.err;
  EXPECT_EQ(o.out.find("dataset-fashion-mnist"), std::string::npos) << "hint on stdout";
  EXPECT_EQ(o.out.find("error"), std::string::npos) << o.out;
}

// ---- README figures ---------------------------------------------------------------------

/// The README's milestone table row for `program` ("" if missing).
std::string readme_row(const std::string& program) {
  for (const std::string& line : lines_of(read_file(TINYTORCH_SOURCE_DIR "/README.md"))) {
    if (line.rfind("| `" + program + "`", 0) == 0) return line;
  }
  return "";
}

/// The number ("87.4") that ends just before byte `end` of `text` ("" if there is none).
std::string number_before(const std::string& text, std::size_t end) {
  std::size_t begin = end;
  while (begin > 0 &&
         (std::isdigit(static_cast<unsigned char>(text[begin - 1])) || text[begin - 1] == '.'))
    --begin;
  return text.substr(begin, end - begin);
}

/// The percentages of the program's result line, in order, written as the README writes
/// them ("90.0 %").
std::vector<std::string> result_figures(const Output& o) {
  std::vector<std::string> figures;
  for (const std::string& line : lines_of(o.out)) {
    if (line.rfind("result:", 0) != 0) continue;
    for (std::size_t at = line.find('%'); at != std::string::npos; at = line.find('%', at + 1)) {
      const std::string number = number_before(line, at);
      if (!number.empty()) figures.push_back(number + " %");
    }
  }
  return figures;
}

TEST(Readme, MilestoneFiguresAreWhatTheProgramsPrint) {
  struct Expectation {
    const char* program;
    std::size_t figure;  // which percentage of the result line the README row quotes
    const char* wording;
  };
  for (const Expectation& e : {Expectation{"perceptron_1957", 0, "accuracy after 100 epochs"},
                               Expectation{"mlp_1986", 0, "test accuracy after 20 epochs"},
                               Expectation{"cnn_1998", 0, "test accuracy after 50 epochs"}}) {
    const std::string row = readme_row(e.program);
    ASSERT_FALSE(row.empty()) << e.program << " has no README row";
    const std::vector<std::string> figures = result_figures(run(e.program, "--quiet"));
    ASSERT_GT(figures.size(), e.figure) << e.program;
    EXPECT_NE(row.find(figures[e.figure] + " " + e.wording), std::string::npos)
        << "README: " << row << "\nprogram: " << figures[e.figure];
  }
  const std::string xor_row = readme_row("xor_1969");
  const std::vector<std::string> xor_figures = result_figures(run("xor_1969", "--quiet"));
  ASSERT_EQ(xor_figures.size(), 2u);
  EXPECT_NE(xor_row.find(xor_figures[0] + " → " + xor_figures[1]), std::string::npos) << xor_row;
}

TEST(Readme, LeNetRowQuotesTestAccuracyAsTheProgramLabelsIt) {
  // The full run takes minutes, so its figure is not re-measured here; the wording is: the
  // row quotes the test accuracy, which is the figure the result line labels "test accuracy".
  const std::string row = readme_row("lenet5_fashion");
  const std::size_t quote = row.find(" % test accuracy after 3 epochs");
  ASSERT_NE(quote, std::string::npos) << row;
  EXPECT_FALSE(number_before(row, quote).empty()) << row;
  const Output o = run("lenet5_fashion", kQuickLeNet + std::string(" --quiet"));
  if (o.exit_code == 2) GTEST_SKIP() << "no Fashion-MNIST here";
  const std::size_t result = o.out.find("result: test accuracy ");
  ASSERT_NE(result, std::string::npos) << o.out;
  const std::size_t percent = o.out.find("% (train ", result);
  ASSERT_NE(percent, std::string::npos) << o.out;
  EXPECT_EQ(percent, result + 22 + number_before(o.out, percent).size()) << o.out;
}

}  // namespace
}  // namespace milestone
