#include "commands.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>

#include <fmt/format.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "course.hpp"
#include "error.hpp"
#include "process.hpp"
#include "runner.hpp"

namespace tito {

namespace {

// ---- presentation -------------------------------------------------------------------------

bool colour() {
  static const bool on = ::isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr;
  return on;
}

std::string paint(const std::string& text, const char* code) {
  return colour() ? fmt::format("\033[{}m{}\033[0m", code, text) : text;
}

std::string mark(Outcome o) {
  switch (o) {
    case Outcome::passed:
      return paint("✓", "32");
    case Outcome::skipped:
      return paint("-", "2");
    case Outcome::not_implemented:
      return paint("…", "33");
    case Outcome::failed:
      return paint("✗", "31");
  }
  return "?";
}

std::string label(const CourseModule& m) {
  return fmt::format("{} {}", two_digits(m.number), m.name.substr(3));
}

// "01-06, 08" for {1, 2, 3, 4, 5, 6, 8}.
std::string module_list(const std::vector<int>& numbers) {
  std::string out;
  for (std::size_t i = 0; i < numbers.size();) {
    std::size_t j = i;
    while (j + 1 < numbers.size() && numbers[j + 1] == numbers[j] + 1) ++j;
    if (!out.empty()) out += ", ";
    out += two_digits(numbers[i]);
    if (j > i) out += "-" + two_digits(numbers[j]);
    i = j + 1;
  }
  return out.empty() ? "none" : out;
}

void print_tests(const ModuleRun& run) {
  fmt::print("module {} · {} tests\n", run.module.name, run.tests.size());
  for (const TestResult& t : run.tests) {
    switch (t.outcome) {
      case Outcome::passed:
        fmt::print("  {} {}\n", mark(t.outcome), t.name);
        break;
      case Outcome::skipped:
        fmt::print("  {} {} (skipped)\n", mark(t.outcome), t.name);
        break;
      case Outcome::not_implemented:
        fmt::print("  {} {}  not implemented: {}\n", mark(t.outcome), t.name, t.message);
        break;
      case Outcome::failed:
        fmt::print("  {} {}  failed: {}\n", mark(t.outcome), t.name, t.message);
        break;
    }
  }
}

void print_summary(const ModuleRun& run) {
  const std::size_t stubs = run.count(Outcome::not_implemented);
  fmt::print("{} passed, {} failed{}\n", run.passed(), run.failed(),
             stubs ? fmt::format(" ({} not implemented)", stubs) : "");
}

void require_built(const ModuleRun& run) {
  if (!run.problem.empty()) throw Error(fmt::format("module {}: {}", run.module.name, run.problem));
}

// ---- progress file ------------------------------------------------------------------------
// .tito/progress.json records when `tito complete` passed; states always come from the tests.

fs::path progress_path(const Project& p) {
  return p.root / ".tito" / "progress.json";
}

std::map<std::string, std::string> completed_dates(const Project& p) {
  std::map<std::string, std::string> out;
  std::ifstream in(progress_path(p));
  if (!in) return out;
  const nlohmann::json doc = nlohmann::json::parse(in, nullptr, false);
  if (doc.is_discarded() || !doc.contains("completed") || !doc["completed"].is_object()) return out;
  for (const auto& [module, date] : doc["completed"].items()) {
    if (date.is_string()) out[module] = date.get<std::string>();
  }
  return out;
}

void record_completion(const Project& p, const CourseModule& m) {
  auto dates = completed_dates(p);
  char today[16];
  const std::time_t now = std::time(nullptr);
  std::strftime(today, sizeof today, "%Y-%m-%d", std::localtime(&now));
  dates[two_digits(m.number)] = today;
  nlohmann::json doc;
  doc["completed"] = dates;
  write_file_atomically(progress_path(p), doc.dump(2) + "\n");
}

// ---- milestones ---------------------------------------------------------------------------

std::vector<int> missing_for(const Milestone& ms, const std::map<int, ModuleState>& states) {
  std::vector<int> missing;
  for (int n : ms.needs) {
    auto it = states.find(n);
    if (it == states.end() || it->second != ModuleState::done) missing.push_back(n);
  }
  return missing;
}

std::map<int, ModuleState> states_of(const std::vector<ModuleRun>& runs) {
  std::map<int, ModuleState> states;
  for (const ModuleRun& r : runs) states[r.module.number] = r.state();
  return states;
}

int run_milestone_program(Runner& runner, const Milestone& ms,
                          const std::vector<std::string>& flags) {
  const std::string error = runner.build({ms.program});
  if (!error.empty()) throw Error(fmt::format("building {} failed:\n{}", ms.program, error));
  std::vector<std::string> argv{(runner.project().build_dir / "milestones" / ms.program).string()};
  argv.insert(argv.end(), flags.begin(), flags.end());
  std::fflush(stdout);
  const ProcessResult r = run(argv, runner.project().root, std::nullopt);
  if (!r.ok()) fmt::print("{} ended with {}\n", ms.program, r.describe());
  return r.ok() ? 0 : 1;
}

std::vector<int> all_module_numbers() {
  std::vector<int> all;
  for (const CourseModule& m : modules()) all.push_back(m.number);
  return all;
}

std::string next_step(const std::vector<ModuleRun>& runs,
                      const std::map<std::string, std::string>& dates) {
  for (const ModuleRun& r : runs) {
    const std::string nn = two_digits(r.module.number);
    switch (r.state()) {
      case ModuleState::does_not_build:
        return "fix the build errors (tito test " + nn + " shows them)";
      case ModuleState::not_started:
      case ModuleState::in_progress:
        return fmt::format(
            "write the exercises of module {} (docs/modules/{}.md), then: tito test {}", nn,
            r.module.name, nn);
      case ModuleState::done:
        if (!dates.count(nn)) return "tito complete " + nn;
        break;
    }
  }
  return "tito milestone run 04   (every module is done)";
}

}  // namespace

// ---- commands -----------------------------------------------------------------------------

int cmd_release(const Project& project, const ReleaseOptions& options) {
  const std::size_t stubs = release_student_copy(project, options);
  fmt::print("wrote a student copy to {}: {} exercises are stubs, modules kept: {}\n",
             fs::absolute(options.target).string(), stubs, module_list(options.keep));
  fmt::print("students: cd {} && tito status\n", options.target.string());
  return 0;
}

int cmd_test(const Project& project, const std::string& module) {
  const CourseModule& m = parse_module(module);
  Runner runner(project);
  const ModuleRun run = runner.run_module(m.number);
  require_built(run);
  print_tests(run);
  print_summary(run);
  return run.failed() == 0 ? 0 : 1;
}

int cmd_status(const Project& project) {
  Runner runner(project);
  const std::vector<ModuleRun> runs = runner.run_modules(all_module_numbers());
  const auto dates = completed_dates(project);
  fmt::print("tinytorch course · {}{}\n\n", project.root.string(),
             project.is_student_copy() ? " (student copy)" : "");
  fmt::print("  {:<16} {:>6} {:>7}  {}\n", "module", "tests", "passed", "state");
  for (const ModuleRun& r : runs) {
    const auto date = dates.find(two_digits(r.module.number));
    fmt::print("  {:<16} {:>6} {:>7}  {}{}\n", label(r.module), r.tests.size(), r.passed(),
               state_name(r.state()),
               date != dates.end() ? " (completed " + date->second + ")" : "");
  }
  const auto states = states_of(runs);
  fmt::print("\n  {:<36} {:<16} {}\n", "milestone", "needs modules", "state");
  for (const Milestone& ms : milestones()) {
    const std::vector<int> missing = missing_for(ms, states);
    fmt::print("  {:<36} {:<16} {}\n",
               fmt::format("{} {} {}", two_digits(ms.number), ms.year, ms.title),
               module_list(ms.needs),
               missing.empty() ? "unlocked" : "locked (missing " + module_list(missing) + ")");
  }
  fmt::print("\nnext: {}\n", next_step(runs, dates));
  for (const ModuleRun& r : runs) {
    if (!r.problem.empty()) {
      fmt::print("\n{}\n", r.problem);
      break;
    }
  }
  return 0;
}

int cmd_complete(const Project& project, const std::string& module) {
  const CourseModule& m = parse_module(module);
  Runner runner(project);
  const ModuleRun run = runner.run_module(m.number);
  require_built(run);
  if (run.failed() > 0) {
    print_tests(run);
    print_summary(run);
    fmt::print(
        "module {} is not complete: {} of {} tests fail. Fix them, then run tito complete {} "
        "again.\n",
        m.name, run.failed(), run.tests.size(), two_digits(m.number));
    return 1;
  }
  const bool already = completed_dates(project).count(two_digits(m.number)) > 0;
  record_completion(project, m);
  print_summary(run);
  fmt::print("module {} complete (recorded in .tito/progress.json)\n", m.name);
  if (already) return 0;
  // Milestones this module was the last missing piece of run once, in their quick mode.
  int code = 0;
  for (const Milestone& ms : milestones()) {
    if (std::find(ms.needs.begin(), ms.needs.end(), m.number) == ms.needs.end()) continue;
    std::vector<int> others;
    for (int n : ms.needs) {
      if (n != m.number) others.push_back(n);
    }
    std::map<int, ModuleState> states = states_of(runner.run_modules(others));
    states[m.number] = ModuleState::done;
    if (!missing_for(ms, states).empty()) continue;
    fmt::print(
        "\nthis unlocks milestone {} ({} {}); running it in quick mode: tito milestone run "
        "{} -- --epochs 1 --quiet\n",
        two_digits(ms.number), ms.year, ms.title, two_digits(ms.number));
    code |= run_milestone_program(runner, ms, {"--epochs", "1", "--quiet"});
  }
  return code;
}

int cmd_milestone_run(const Project& project, const std::string& milestone,
                      const std::vector<std::string>& flags) {
  const Milestone& ms = parse_milestone(milestone);
  Runner runner(project);
  const std::vector<int> missing = missing_for(ms, states_of(runner.run_modules(ms.needs)));
  if (!missing.empty()) {
    fmt::print(stderr,
               "tito: milestone {} ({} {}) is locked: modules {} are not done yet; tito status "
               "shows what remains\n",
               two_digits(ms.number), ms.year, ms.title, module_list(missing));
    return 1;
  }
  return run_milestone_program(runner, ms, flags);
}

int cmd_grade(const Project& project, const std::string& csv_path) {
  if (!csv_path.empty()) {  // refuse a path we cannot write before running anything
    const fs::path dir = fs::absolute(csv_path).parent_path();
    std::error_code ec;
    if (!fs::is_directory(dir, ec) || ::access(dir.c_str(), W_OK) != 0) {
      throw Error(fmt::format("cannot write {}: folder {} does not exist or is not writable",
                              csv_path, dir.string()));
    }
  }
  Runner runner(project);
  const std::vector<ModuleRun> runs = runner.run_modules(all_module_numbers());
  std::string csv = "module,name,passed,tests,points,score\n";
  double total = 0.0;
  int points = 0;
  fmt::print("  {:<16} {:>13} {:>7} {:>7}\n", "module", "passed/tests", "points", "score");
  for (const ModuleRun& r : runs) {
    const double score = r.tests.empty() ? 0.0
                                         : r.module.points * static_cast<double>(r.passed()) /
                                               static_cast<double>(r.tests.size());
    total += score;
    points += r.module.points;
    fmt::print("  {:<16} {:>13} {:>7} {:>7.1f}\n", label(r.module),
               fmt::format("{}/{}", r.passed(), r.tests.size()), r.module.points, score);
    csv += fmt::format("{},{},{},{},{},{:.1f}\n", two_digits(r.module.number), r.module.name,
                       r.passed(), r.tests.size(), r.module.points, score);
  }
  fmt::print("  {:<16} {:>13} {:>7} {:>7.1f}\n", "total", "", points, total);
  csv += fmt::format("total,,,,{},{:.1f}\n", points, total);
  if (!csv_path.empty()) {
    write_file_atomically(csv_path, csv);
    fmt::print("wrote {}\n", csv_path);
  }
  return 0;
}

}  // namespace tito
