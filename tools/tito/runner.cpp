#include "runner.hpp"

#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <fmt/format.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "error.hpp"
#include "process.hpp"

namespace tito {

using nlohmann::json;

std::size_t ModuleRun::count(Outcome o) const {
  std::size_t n = 0;
  for (const TestResult& t : tests) n += t.outcome == o;
  return n;
}

ModuleState ModuleRun::state() const {
  if (!problem.empty() || tests.empty()) return ModuleState::does_not_build;
  if (failed() == 0) return ModuleState::done;
  if (count(Outcome::not_implemented) == tests.size()) return ModuleState::not_started;
  return ModuleState::in_progress;
}

std::string state_name(ModuleState s) {
  switch (s) {
    case ModuleState::not_started:
      return "not started";
    case ModuleState::in_progress:
      return "in progress";
    case ModuleState::done:
      return "done";
    case ModuleState::does_not_build:
      return "does not build";
  }
  return "?";
}

namespace {

// A module's own tests; suites named *Given test the code handed out complete (label given).
const char* const kModuleTests = "--gtest_filter=-*Given.*";

// "09_spatial: conv2d_reference: hint" anywhere in a failure: the text of a NotImplemented,
// whether GoogleTest reports it as an uncaught exception or as the wrong exception type.
const std::regex kStub(
    R"((0[1-9]_(tensor|activations|layers|losses|autograd|optimizers|training|dataloader|spatial)): ([a-z0-9_]+): ([^\n]*))");

std::string stub_message(const std::string& failure) {
  std::smatch m;
  if (!std::regex_search(failure, m, kStub)) return "";
  std::string text = m[0];
  for (const char* end : {"\" thrown in", "\"."}) {
    const auto cut = text.find(end);
    if (cut != std::string::npos) text.resize(cut);
  }
  return text;
}

// The whole failure, every assertion of the test, without empty lines: the line that says
// what went wrong is often the last one ("input 0 element 0: autograd 0.11 vs numerical -0.11").
std::string whole_failure(const std::string& failure) {
  std::istringstream in(failure);
  std::string line, out;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    out += (out.empty() ? "" : "\n") + line;
  }
  return out;
}

// GoogleTest's JSON report escapes each byte of a UTF-8 message as its own \u00XX, so the
// parsed text holds one code point per original byte; this puts the bytes back together.
std::string undo_byte_escapes(const std::string& text) {
  std::string bytes;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      bytes += static_cast<char>(c);
    } else if ((c == 0xC2 || c == 0xC3) && i + 1 < text.size()) {  // a code point 0x80..0xFF
      bytes +=
          static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(text[++i]) & 0x3F));
    } else {
      return text;  // a real code point above 0xFF: the report was not byte-escaped
    }
  }
  return bytes;
}

TestResult classify(const std::string& name, const json& test) {
  TestResult r{name, Outcome::passed, ""};
  if (test.value("result", "") == "SKIPPED") r.outcome = Outcome::skipped;
  if (!test.contains("failures")) return r;
  std::string all;
  for (const json& f : test["failures"]) all += undo_byte_escapes(f.value("failure", "")) + "\n";
  const std::string stub = stub_message(all);
  if (!stub.empty()) return {name, Outcome::not_implemented, stub};
  return {name, Outcome::failed, whole_failure(all)};
}

std::vector<TestResult> parse_report(const fs::path& report) {
  std::ifstream in(report);
  if (!in) return {};
  json doc = json::parse(in, nullptr, false);
  if (doc.is_discarded() || !doc.contains("testsuites")) return {};
  std::vector<TestResult> out;
  for (const json& suite : doc["testsuites"]) {
    for (const json& test : suite["testsuite"]) {
      out.push_back(classify(suite.value("name", "") + "." + test.value("name", ""), test));
    }
  }
  return out;
}

std::vector<std::string> list_tests(const fs::path& binary, const fs::path& log) {
  std::error_code ec;
  fs::remove(log, ec);
  const ProcessResult r =
      run({binary.string(), kModuleTests, "--gtest_list_tests"}, binary.parent_path(), log, 120);
  if (!r.ok()) return {};
  std::ifstream in(log);
  std::vector<std::string> names;
  std::string suite;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const std::string word = line.substr(line.find_first_not_of(' '));
    const std::string clean = word.substr(0, word.find_first_of(" #"));
    if (line[0] != ' ') {
      suite = clean;  // "Suite."
    } else {
      names.push_back(suite + clean);
    }
  }
  return names;
}

// The compiler's error lines with the two lines after each (the source line and the caret),
// or the end of the log when there are none (a link or CMake error).
std::string compiler_errors(const fs::path& log) {
  std::ifstream in(log);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::string out;
  int shown = 0;
  for (std::size_t i = 0; i < lines.size() && shown < 8; ++i) {
    if (lines[i].find("error:") == std::string::npos) continue;
    ++shown;
    for (std::size_t j = i; j < std::min(lines.size(), i + 3); ++j) out += lines[j] + "\n";
  }
  return out.empty() ? tail(log, 30) : out;
}

// Ninja's "[12/125] Building ..." lines, shown on stderr once a build has run for a few
// seconds: the first build of a copy takes minutes, and silence looks like a hang. On a
// terminal one line is redrawn; otherwise a line is printed every tenth of the way.
class BuildProgress {
 public:
  explicit BuildProgress(fs::path log)
      : log_(std::move(log)), start_(std::chrono::steady_clock::now()) {}

  void show() {
    if (std::chrono::steady_clock::now() - start_ < std::chrono::seconds(3)) return;
    std::size_t done = 0, total = 0;
    if (!last_step(done, total) || total == 0) return;
    if (::isatty(STDERR_FILENO)) {
      fmt::print(stderr, "\r  building: {}/{} steps", done, total);
      shown_ = true;
    } else if (done * 10 / total > printed_tenths_) {
      printed_tenths_ = done * 10 / total;
      fmt::print(stderr, "  building: {}/{} steps\n", done, total);
    }
  }
  void done() {
    if (shown_) fmt::print(stderr, "\r\033[K");
  }

 private:
  bool last_step(std::size_t& done, std::size_t& total) const {
    static const std::regex step(R"(\[(\d+)/(\d+)\])");
    std::ifstream in(log_);
    std::string line, last;
    while (std::getline(in, line)) {
      if (!line.empty() && line[0] == '[') last = line;
    }
    std::smatch m;
    if (!std::regex_search(last, m, step)) return false;
    done = std::stoul(m[1]);
    total = std::stoul(m[2]);
    return true;
  }
  fs::path log_;
  std::chrono::steady_clock::time_point start_;
  std::size_t printed_tenths_ = 0;
  bool shown_ = false;
};

}  // namespace

fs::path Runner::work_dir() const {
  const fs::path dir = project_.build_dir / "tito";
  std::error_code ec;
  fs::create_directories(dir, ec);
  return dir;
}

void Runner::configure(const std::vector<std::string>& extra) {
  if (configured_) return;
  std::error_code ec;
  if (!fs::exists(project_.build_dir / "CMakeCache.txt", ec)) {
    fmt::print(stderr, "tito: configuring {} (first run only)...\n", project_.build_dir.string());
    fs::create_directories(project_.build_dir, ec);
    const fs::path log = project_.build_dir / "tito-configure.log";
    std::vector<std::string> cmd =
        project_.build_dir == project_.root / "build" && extra.empty()
            ? std::vector<std::string>{"cmake", "--preset", "default"}
            : std::vector<std::string>{
                  "cmake", "-S",    project_.root.string(),      "-B", project_.build_dir.string(),
                  "-G",    "Ninja", "-DCMAKE_BUILD_TYPE=Release"};
    cmd.insert(cmd.end(), extra.begin(), extra.end());
    const ProcessResult r = run(cmd, project_.root, log);
    if (!r.ok()) {
      throw Error(fmt::format("configuring the build failed ({}); the log ends with:\n{}",
                              r.describe(), tail(log, 20)));
    }
  }
  configured_ = true;
}

std::string Runner::build(const std::vector<std::string>& targets) {
  configure();
  std::vector<std::string> cmd{"cmake", "--build", project_.build_dir.string(), "--target"};
  cmd.insert(cmd.end(), targets.begin(), targets.end());
  const fs::path log = build_log();
  BuildProgress progress(log);
  const ProcessResult r = run(cmd, project_.root, log, 0, [&] { progress.show(); });
  progress.done();
  return r.ok() ? "" : compiler_errors(log);
}

std::vector<ModuleRun> Runner::run_modules(const std::vector<int>& numbers) {
  std::vector<std::string> targets;
  for (int n : numbers)
    targets.push_back("test_" + modules()[static_cast<std::size_t>(n - 1)].name);
  const std::string build_error = build(targets);
  std::vector<ModuleRun> runs;
  for (int n : numbers) {
    const CourseModule& m = modules()[static_cast<std::size_t>(n - 1)];
    if (!build_error.empty()) {
      runs.push_back({m, {}, "the build failed; the compiler said:\n" + build_error});
    } else {
      runs.push_back(run_tests(m));
    }
  }
  return runs;
}

// The results in the order of `names`, the tests the program lists: a test the report lacks
// (the program stopped before it, or something removed it) did not pass.
std::vector<TestResult> in_listed_order(const std::vector<std::string>& names,
                                        const std::vector<TestResult>& reported) {
  std::map<std::string, const TestResult*> by_name;
  for (const TestResult& t : reported) by_name.emplace(t.name, &t);
  std::vector<TestResult> out;
  for (const std::string& name : names) {
    const auto it = by_name.find(name);
    out.push_back(it != by_name.end() ? *it->second
                                      : TestResult{name, Outcome::failed, "the test did not run"});
  }
  return out;
}

ModuleRun Runner::run_tests(const CourseModule& m) {
  const fs::path binary = project_.build_dir / "tests" / ("test_" + m.name);
  const std::vector<std::string> names = list_tests(binary, work_dir() / (m.name + ".list"));
  if (names.empty())
    return {m, {}, fmt::format("{} lists no tests (does it run?)", binary.string())};
  const fs::path report = work_dir() / (m.name + ".json");
  std::error_code ec;
  fs::remove(report, ec);
  const ProcessResult r =
      run({binary.string(), kModuleTests, "--gtest_output=json:" + report.string()},
          binary.parent_path(), work_dir() / (m.name + ".log"), limits_.program_seconds);
  std::vector<TestResult> results = parse_report(report);
  if (results.empty() || r.signal || r.timed_out) {
    // A crash (a student's segfault) or a hang ends the whole program: run each test alone.
    return {m, run_each_test(binary, m, names), ""};
  }
  return {m, in_listed_order(names, results), ""};
}

std::vector<TestResult> Runner::run_each_test(const fs::path& binary, const CourseModule& m,
                                              const std::vector<std::string>& names) {
  std::vector<TestResult> results;
  const fs::path report = work_dir() / (m.name + ".one.json");
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(limits_.budget_seconds);
  for (const std::string& name : names) {
    if (std::chrono::steady_clock::now() > deadline) {
      results.push_back({name, Outcome::failed,
                         fmt::format("not run: the module's tests ran out of their {:.0f} s",
                                     limits_.budget_seconds)});
      continue;
    }
    std::error_code ec;
    fs::remove(report, ec);
    const ProcessResult r =
        run({binary.string(), "--gtest_filter=" + name, "--gtest_output=json:" + report.string()},
            binary.parent_path(), work_dir() / (m.name + ".one.log"), limits_.test_seconds);
    std::vector<TestResult> one = parse_report(report);
    if (one.size() == 1 && !r.signal && !r.timed_out) {
      results.push_back(one.front());
    } else {
      results.push_back({name, Outcome::failed,
                         r.timed_out ? fmt::format("timed out after {:.0f} s (an endless loop?)",
                                                   limits_.test_seconds)
                                     : r.describe()});
    }
  }
  return results;
}

}  // namespace tito
