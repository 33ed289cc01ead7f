#include "runner.hpp"

#include <fstream>
#include <regex>
#include <sstream>

#include <fmt/format.h>
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

// The failure without GoogleTest's "file:line" first line, at most three lines.
std::string short_failure(const std::string& failure) {
  std::istringstream in(failure);
  std::string line, out;
  int kept = 0;
  bool first = true;
  while (std::getline(in, line) && kept < 3) {
    if (first && std::regex_match(line, std::regex(R"(.*:\d+$)"))) {
      first = false;
      continue;
    }
    first = false;
    if (line.empty()) continue;
    out += (kept++ ? " | " : "") + line;
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
  return {name, Outcome::failed, short_failure(all)};
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
  run({binary.string(), kModuleTests, "--gtest_list_tests"}, binary.parent_path(), log, 120);
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

}  // namespace

fs::path Runner::work_dir() const {
  const fs::path dir = project_.build_dir / "tito";
  std::error_code ec;
  fs::create_directories(dir, ec);
  return dir;
}

void Runner::configure() {
  if (configured_) return;
  std::error_code ec;
  if (!fs::exists(project_.build_dir / "CMakeCache.txt", ec)) {
    fmt::print(stderr, "tito: configuring {} (first run only)...\n", project_.build_dir.string());
    fs::create_directories(project_.build_dir, ec);
    const fs::path log = project_.build_dir / "tito-configure.log";
    const std::vector<std::string> cmd =
        project_.build_dir == project_.root / "build"
            ? std::vector<std::string>{"cmake", "--preset", "default"}
            : std::vector<std::string>{
                  "cmake", "-S",    project_.root.string(),      "-B", project_.build_dir.string(),
                  "-G",    "Ninja", "-DCMAKE_BUILD_TYPE=Release"};
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
  const fs::path log = work_dir() / "build.log";
  const ProcessResult r = run(cmd, project_.root, log);
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

ModuleRun Runner::run_tests(const CourseModule& m) {
  const fs::path binary = project_.build_dir / "tests" / ("test_" + m.name);
  const fs::path report = work_dir() / (m.name + ".json");
  std::error_code ec;
  fs::remove(report, ec);
  const ProcessResult r =
      run({binary.string(), kModuleTests, "--gtest_output=json:" + report.string()},
          binary.parent_path(), work_dir() / (m.name + ".log"), 900);
  std::vector<TestResult> results = parse_report(report);
  if (results.empty() || r.signal || r.timed_out) {
    // A crash (a student's segfault) or a hang ends the whole program: run each test alone.
    results = run_each_test(binary, m);
  }
  if (results.empty())
    return {m, {}, fmt::format("{} did not run ({})", binary.string(), r.describe())};
  return {m, results, ""};
}

std::vector<TestResult> Runner::run_each_test(const fs::path& binary, const CourseModule& m) {
  std::vector<TestResult> results;
  const fs::path report = work_dir() / (m.name + ".one.json");
  for (const std::string& name : list_tests(binary, work_dir() / (m.name + ".list"))) {
    std::error_code ec;
    fs::remove(report, ec);
    const ProcessResult r =
        run({binary.string(), "--gtest_filter=" + name, "--gtest_output=json:" + report.string()},
            binary.parent_path(), work_dir() / (m.name + ".one.log"), 120);
    std::vector<TestResult> one = parse_report(report);
    if (one.size() == 1 && !r.signal && !r.timed_out) {
      results.push_back(one.front());
    } else {
      results.push_back({name, Outcome::failed, r.describe()});
    }
  }
  return results;
}

}  // namespace tito
