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

// "09_spatial: conv2d_reference: <hint>" -> "09_spatial: conv2d_reference".
std::string exercise_of(const std::string& stub_message) {
  const auto first = stub_message.find(": ");
  const auto second = first == std::string::npos ? first : stub_message.find(": ", first + 2);
  return second == std::string::npos ? stub_message : stub_message.substr(0, second);
}

// Every line of a failure, indented under its test.
std::string indented(const std::string& text) {
  std::string out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    out += "      " + text.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

// Passing and failing tests one by one, with the whole failure message; the tests that stop at
// a stub grouped by the exercise they wait on (one stub can hold back a hundred tests).
void print_tests(const ModuleRun& run) {
  fmt::print("module {} · {} tests\n", run.module.name, run.tests.size());
  std::vector<std::string> order;  // exercises in the order their first test appears
  std::map<std::string, std::vector<const TestResult*>> waiting;
  for (const TestResult& t : run.tests) {
    switch (t.outcome) {
      case Outcome::passed:
        fmt::print("  {} {}\n", mark(t.outcome), t.name);
        break;
      case Outcome::skipped:
        fmt::print("  {} {} (skipped)\n", mark(t.outcome), t.name);
        break;
      case Outcome::not_implemented: {
        auto& tests = waiting[exercise_of(t.message)];
        if (tests.empty()) order.push_back(exercise_of(t.message));
        tests.push_back(&t);
        break;
      }
      case Outcome::failed:
        fmt::print("  {} {}  failed:\n{}", mark(t.outcome), t.name, indented(t.message));
        break;
    }
  }
  for (const std::string& exercise : order) {
    const auto& tests = waiting[exercise];
    fmt::print("  {} {} is not implemented yet; {} test{} wait{} on it\n",
               mark(Outcome::not_implemented), exercise, tests.size(), tests.size() == 1 ? "" : "s",
               tests.size() == 1 ? "s" : "");
    fmt::print("      hint: {}\n", tests.front()->message.substr(std::min(
                                       exercise.size() + 2, tests.front()->message.size())));
    for (std::size_t i = 0; i < tests.size() && i < 3; ++i)
      fmt::print("      {}\n", tests[i]->name);
    if (tests.size() > 3) fmt::print("      … and {} more\n", tests.size() - 3);
  }
}

void print_summary(const ModuleRun& run) {
  const std::size_t stubs = run.count(Outcome::not_implemented);
  const std::size_t skipped = run.count(Outcome::skipped);
  fmt::print("{} passed, {} failed{}{}\n", run.passed(), run.failed(),
             stubs ? fmt::format(" ({} not implemented)", stubs) : "",
             skipped ? fmt::format(", {} skipped", skipped) : "");
}

void require_built(const ModuleRun& run) {
  if (!run.problem.empty()) throw Error(fmt::format("module {}: {}", run.module.name, run.problem));
}

// ---- progress file ------------------------------------------------------------------------
// .tito/progress.json records when `tito complete` passed; states always come from the tests.

fs::path progress_path(const Project& p) {
  return p.root / ".tito" / "progress.json";
}

// One section of progress.json: "completed" (modules) or "milestones" (run once unlocked),
// each a map from "NN" to the date.
std::map<std::string, std::string> recorded_dates(const Project& p, const char* section) {
  std::map<std::string, std::string> out;
  std::ifstream in(progress_path(p));
  if (!in) return out;
  const nlohmann::json doc = nlohmann::json::parse(in, nullptr, false);
  if (doc.is_discarded() || !doc.contains(section) || !doc[section].is_object()) return out;
  for (const auto& [key, date] : doc[section].items()) {
    if (date.is_string()) out[key] = date.get<std::string>();
  }
  return out;
}

std::map<std::string, std::string> completed_dates(const Project& p) {
  return recorded_dates(p, "completed");
}

void record_date(const Project& p, const char* section, int number) {
  nlohmann::json doc;
  for (const char* s : {"completed", "milestones"}) doc[s] = recorded_dates(p, s);
  char today[16];
  const std::time_t now = std::time(nullptr);
  std::strftime(today, sizeof today, "%Y-%m-%d", std::localtime(&now));
  doc[section][two_digits(number)] = today;
  write_file_atomically(progress_path(p), doc.dump(2) + "\n");
}

void record_completion(const Project& p, const CourseModule& m) {
  record_date(p, "completed", m.number);
}

// ---- milestones ---------------------------------------------------------------------------

// Modules a student copy was handed solved: nothing to complete there.
std::vector<int> kept_of(const Project& p) {
  std::string unused;
  return p.is_student_copy() ? recorded_kept_modules(p.root.string(), unused) : std::vector<int>{};
}

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
                      const std::map<std::string, std::string>& dates,
                      const std::vector<int>& kept) {
  for (const ModuleRun& r : runs) {
    const std::string nn = two_digits(r.module.number);
    const bool handed_out = std::find(kept.begin(), kept.end(), r.module.number) != kept.end();
    if (handed_out && r.state() == ModuleState::done) continue;
    switch (r.state()) {
      case ModuleState::does_not_build:
        return "fix the build errors (./tito test " + nn + " shows them)";
      case ModuleState::not_started:
      case ModuleState::in_progress:
        return fmt::format(
            "write the exercises of module {} (docs/modules/{}.md), then: ./tito test {}", nn,
            r.module.name, nn);
      case ModuleState::done:
        if (!dates.count(nn)) return "./tito complete " + nn;
        break;
    }
  }
  return "./tito milestone run 04   (every module is done)";
}

}  // namespace

// ---- commands -----------------------------------------------------------------------------

int cmd_release(const Project& project, const ReleaseOptions& options) {
  const std::size_t stubs = release_student_copy(project, options);
  fmt::print("wrote a student copy to {}: {} exercises are stubs, modules kept: {}\n",
             fs::absolute(options.target).string(), stubs, module_list(options.keep));
  fmt::print("students: cd {} && ./tito status\n", options.target.string());
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
  fmt::print("\nnext: {}\n", next_step(runs, dates, kept_of(project)));
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
        "module {} is not complete: {} of {} tests fail. Fix them, then run ./tito complete {} "
        "again.\n",
        m.name, run.failed(), run.tests.size(), two_digits(m.number));
    return 1;
  }
  record_completion(project, m);
  print_summary(run);
  fmt::print("module {} complete (recorded in .tito/progress.json)\n", m.name);
  // A milestone this module unlocks runs once, in its quick mode: the first time every module
  // it needs passes (recorded, so completing another module does not run it again).
  const auto already_run = recorded_dates(project, "milestones");
  int code = 0;
  for (const Milestone& ms : milestones()) {
    if (std::find(ms.needs.begin(), ms.needs.end(), m.number) == ms.needs.end()) continue;
    if (already_run.count(two_digits(ms.number))) continue;
    std::vector<int> others;
    for (int n : ms.needs) {
      if (n != m.number) others.push_back(n);
    }
    std::map<int, ModuleState> states = states_of(runner.run_modules(others));
    states[m.number] = ModuleState::done;
    if (!missing_for(ms, states).empty()) continue;
    fmt::print(
        "\nthis unlocks milestone {} ({} {}); running it in quick mode: ./tito milestone run "
        "{} -- --epochs 1 --quiet\n",
        two_digits(ms.number), ms.year, ms.title, two_digits(ms.number));
    const int result = run_milestone_program(runner, ms, {"--epochs", "1", "--quiet"});
    if (result == 0) record_date(project, "milestones", ms.number);
    fmt::print(
        "that was a quick run of milestone {} (1 epoch, so its accuracy is not the milestone's); "
        "the whole run: ./tito milestone run {}\n",
        two_digits(ms.number), two_digits(ms.number));
    code |= result;
  }
  return code;
}

std::vector<std::string> files_from_here(std::vector<std::string> flags) {
  auto absolute = [](const std::string& path) {
    std::error_code ec;
    const fs::path full = fs::absolute(path, ec);
    return ec || path.empty() ? path : full.string();
  };
  for (std::size_t i = 0; i < flags.size(); ++i) {
    for (const std::string name : {"--report", "--csv"}) {
      if (flags[i] == name && i + 1 < flags.size()) {
        flags[i + 1] = absolute(flags[i + 1]);
      } else if (flags[i].rfind(name + "=", 0) == 0) {
        flags[i] = name + "=" + absolute(flags[i].substr(name.size() + 1));
      }
    }
  }
  return flags;
}

int cmd_milestone_run(const Project& project, const std::string& milestone,
                      const std::vector<std::string>& flags) {
  const Milestone& ms = parse_milestone(milestone);
  Runner runner(project);
  const std::vector<int> missing = missing_for(ms, states_of(runner.run_modules(ms.needs)));
  if (!missing.empty()) {
    fmt::print(stderr,
               "tito: milestone {} ({} {}) is locked: modules {} are not done yet; ./tito status "
               "shows what remains\n",
               two_digits(ms.number), ms.year, ms.title, module_list(missing));
    return 1;
  }
  return run_milestone_program(runner, ms, flags);
}

}  // namespace tito
