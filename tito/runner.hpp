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
  std::string message;  ///< the NotImplemented text, or the first lines of the failure
};

enum class ModuleState { not_started, in_progress, done, does_not_build };

struct ModuleRun {
  CourseModule module;
  std::vector<TestResult> tests;
  std::string problem;  ///< why there are no results (the build failed, the program crashed)
  std::size_t count(Outcome o) const;
  std::size_t passed() const { return count(Outcome::passed) + count(Outcome::skipped); }
  std::size_t failed() const { return tests.size() - passed(); }
  /// done: every test passes; not started: every test hit a stub; in progress: the rest.
  ModuleState state() const;
};

std::string state_name(ModuleState s);

class Runner {
 public:
  explicit Runner(Project project) : project_(std::move(project)) {}
  const Project& project() const { return project_; }

  /// Configures the build folder when it has no CMakeCache.txt yet; throws on failure.
  void configure();
  /// Builds CMake targets; returns "" or the tail of the build log on failure.
  std::string build(const std::vector<std::string>& targets);
  /// Builds and runs the tests of each module (one build for all of them).
  std::vector<ModuleRun> run_modules(const std::vector<int>& numbers);
  ModuleRun run_module(int number) { return run_modules({number}).front(); }

 private:
  ModuleRun run_tests(const CourseModule& m);
  std::vector<TestResult> run_each_test(const fs::path& binary, const CourseModule& m);
  fs::path work_dir() const;
  Project project_;
  bool configured_ = false;
};

}  // namespace tito
