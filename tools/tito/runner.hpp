// Building a module's tests and running them: one result per test — passed, failed, or not
// implemented (it hit an exercise stub) — from GoogleTest's JSON report.
#pragma once

#include <string>
#include <vector>

#include "course.hpp"
#include "project.hpp"

namespace tito {

enum class Outcome { passed, failed, not_implemented, skipped };

struct TestResult {
  std::string name;  ///< "Spatial.MaxPoolPicksWindowMaximum"
  Outcome outcome = Outcome::passed;
  std::string message;  ///< the NotImplemented text, or the whole failure message
};

enum class ModuleState { not_started, in_progress, done, does_not_build };

struct ModuleRun {
  CourseModule module;
  std::vector<TestResult> tests;
  std::string problem;  ///< why there are no results (the build failed, the program crashed)
  std::size_t count(Outcome o) const;
  /// Skipped tests are neither: they never count as passed (a grade counts them as lost).
  std::size_t passed() const { return count(Outcome::passed); }
  std::size_t failed() const { return tests.size() - passed() - count(Outcome::skipped); }
  /// done: no test fails; not started: every test hit a stub; in progress: the rest.
  ModuleState state() const;
};

/// Time limits of one module's test program: the whole run, and each test when a crash or a
/// hang makes the tests run one at a time; `budget` bounds those one-at-a-time runs together
/// (tests not reached count as failed), so an endless loop costs its own module only.
struct RunLimits {
  double program_seconds = 900, test_seconds = 120, budget_seconds = 1800;
};

std::string state_name(ModuleState s);

class Runner {
 public:
  explicit Runner(Project project, RunLimits limits = {})
      : project_(std::move(project)), limits_(limits) {}
  const Project& project() const { return project_; }

  /// Configures the build folder when it has no CMakeCache.txt yet (with `extra` CMake
  /// arguments); throws on failure.
  void configure(const std::vector<std::string>& extra = {});
  /// Builds CMake targets, showing progress on stderr while it takes long; returns "" or the
  /// compiler's errors on failure. The whole log is in build_log().
  std::string build(const std::vector<std::string>& targets);
  fs::path build_log() const { return work_dir() / "build.log"; }
  /// Builds and runs the tests of each module (one build for all of them).
  std::vector<ModuleRun> run_modules(const std::vector<int>& numbers);
  ModuleRun run_module(int number) { return run_modules({number}).front(); }

 private:
  ModuleRun run_tests(const CourseModule& m);
  std::vector<TestResult> run_each_test(const fs::path& binary, const CourseModule& m,
                                        const std::vector<std::string>& names);
  fs::path work_dir() const;
  Project project_;
  RunLimits limits_;
  bool configured_ = false;
};

}  // namespace tito
