// tito — the course tool: hands out student copies, runs a module's tests, shows progress,
// records completed modules, runs milestones and grades. Run it inside the project tree (the
// solution or a student copy); docs/modules/README.md describes the workflow.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "course.hpp"
#include "error.hpp"
#include "grade.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "tito: the tinytorch course tool (student copies, tests, progress, milestones, grades)"};
  app.require_subcommand(1);
  std::string build_dir;
  app.add_option("--build-dir", build_dir, "build folder to use (default: <project>/build)");

  std::string target, keep;
  bool force = false;
  CLI::App* release = app.add_subcommand("release", "write a student copy with exercise stubs");
  release->add_option("--student", target, "folder to write the copy to")->required();
  release->add_option("--keep", keep, "modules whose solutions stay, e.g. 01-04 or 01,03");
  release->add_flag("--force", force,
                    "replace the contents of a folder that is not empty (its build folders stay)");

  std::string module;
  CLI::App* test = app.add_subcommand("test", "build and run one module's tests");
  test->add_option("module", module, "module number, 01..09")->required();
  CLI::App* status = app.add_subcommand("status", "progress of every module and milestone");
  CLI::App* complete = app.add_subcommand("complete", "test a module and record it as complete");
  complete->add_option("module", module, "module number, 01..09")->required();

  std::string milestone;
  std::vector<std::string> flags;
  CLI::App* ms = app.add_subcommand("milestone", "milestone programs");
  ms->require_subcommand(1);
  CLI::App* ms_run = ms->add_subcommand("run", "run a milestone (unlocked by its modules)");
  ms_run->add_option("milestone", milestone, "milestone number, 01..04")->required();
  ms_run->add_option("flags", flags, "flags for the program, after --");
  std::string report;
  ms_run->add_option("--report", report,
                     "write the run's HTML report (curves, kernels, feature maps) to this file");

  tito::GradeOptions grading;
  std::string graded_kept;
  CLI::App* grade = app.add_subcommand(
      "grade", "score student copies with this tree's tests (run it in the teacher's tree)");
  grade->add_option("copies", grading.copies, "a student copy, or a folder of student copies")
      ->required();
  grade->add_option("--csv", grading.csv, "write one row per student to this CSV file");
  grade->add_option("--kept", graded_kept,
                    "modules handed out solved (default: what each copy's release recorded)");
  grade->add_flag("--count-kept", grading.count_kept,
                  "kept modules score like the others (by default they count for nothing)");
  grade
      ->add_option("--time-limit", grading.time_limit,
                   "seconds one module's tests may run (default 300)")
      ->check(CLI::Range(1.0, 86400.0));

  CLI11_PARSE(app, argc, argv);
  try {
    const tito::Project project = tito::find_project(std::filesystem::current_path(), build_dir);
    if (*release) {
      return tito::cmd_release(project, {target, tito::parse_module_set(keep), force});
    }
    if (*test) return tito::cmd_test(project, module);
    if (*status) return tito::cmd_status(project);
    if (*complete) return tito::cmd_complete(project, module);
    if (*ms_run) {
      if (!report.empty()) {
        flags.push_back("--report");
        flags.push_back(report);
      }
      return tito::cmd_milestone_run(project, milestone, tito::files_from_here(flags));
    }
    if (*grade) {
      if (!graded_kept.empty()) grading.kept = tito::parse_module_set(graded_kept);
      return tito::grade_copies(project, grading);
    }
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "tito: {}\n", e.what());
    return 2;
  }
  return 0;
}
