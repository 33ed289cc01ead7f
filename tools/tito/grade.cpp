#include "grade.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "course.hpp"
#include "error.hpp"
#include "markers.hpp"
#include "runner.hpp"
#include "tree.hpp"

namespace tito {

namespace {

// ---- the copies to grade --------------------------------------------------------------------

struct Student {
  std::string name;  ///< the copy's folder name
  fs::path dir;
};

bool is_copy(const fs::path& dir) {
  std::error_code ec;
  return fs::is_directory(dir / "tinytorch", ec);
}

std::vector<Student> find_students(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    throw Error(
        fmt::format("{} is not a folder; give a student copy or a folder of them", path.string()));
  }
  const fs::path dir = fs::weakly_canonical(fs::absolute(path), ec);
  if (is_copy(dir)) return {{dir.filename().string(), dir}};
  std::vector<Student> students;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_directory(ec) && is_copy(entry.path()))
      students.push_back({entry.path().filename().string(), entry.path()});
  }
  std::sort(students.begin(), students.end(),
            [](const Student& a, const Student& b) { return a.name < b.name; });
  if (students.empty()) {
    throw Error(fmt::format(
        "{} is neither a student copy (it has no tinytorch/ folder) nor a folder of them",
        path.string()));
  }
  return students;
}

// ---- the student's answers ------------------------------------------------------------------

// The body lines of every region of one of the student's files, by "module name". Markers are
// read leniently (a student may have deleted a hint); a region whose END is missing is left
// out, and so counts as not written.
std::map<std::string, std::vector<std::string>> answers_in(const fs::path& file) {
  static const std::regex begin(R"(^\s*// BEGIN (SOLUTION|EXERCISE)\s+(\S+)\s+(\S+)\s*$)");
  static const std::regex end(R"(^\s*// END (SOLUTION|EXERCISE)\s*$)");
  std::map<std::string, std::vector<std::string>> answers;
  std::ifstream in(file, std::ios::binary);
  std::string line, open;
  std::vector<std::string> body;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, begin)) {
      open = m[2].str() + " " + m[3].str();
      body.clear();
    } else if (std::regex_match(line, end)) {
      if (!open.empty()) answers[open] = body;
      open.clear();
    } else if (!open.empty()) {
      body.push_back(line);
    }
  }
  return answers;
}

// A region of a spliced file that holds a student's code: lines [first, last], 1-based.
struct StudentLines {
  fs::path file;
  std::size_t first = 0, last = 0;
  int module = 0;
};

// The teacher's file with the region bodies of modules not in `solution_for` taken from the
// student's answers (a stub where the student's file has no such region).
std::string spliced(const SourceFile& f,
                    const std::map<std::string, std::vector<std::string>>& answers,
                    const std::set<int>& solution_for, std::vector<StudentLines>& placed,
                    std::set<std::string>& missing) {
  std::vector<std::string> out;
  std::size_t next = 0;
  for (const Region& r : f.regions) {
    const int module = module_named(r.module)->number;
    if (solution_for.count(module)) continue;
    out.insert(out.end(), f.lines.begin() + static_cast<long>(next),
               f.lines.begin() + static_cast<long>(r.begin + 1));  // through the BEGIN line
    const auto answer = answers.find(r.module + " " + r.name);
    std::vector<std::string> body;
    if (answer != answers.end()) {
      body = answer->second;
    } else {
      body = {stub_lines(r)[1]};
      missing.insert(r.module + " " + r.name);
    }
    placed.push_back({f.path, out.size() + 1, out.size() + body.size(), module});
    out.insert(out.end(), body.begin(), body.end());
    next = r.end;  // the END line comes next
  }
  out.insert(out.end(), f.lines.begin() + static_cast<long>(next), f.lines.end());
  std::string text;
  for (const std::string& line : out) text += line + "\n";
  return text;
}

// ---- building, and whose code a compile error is in -----------------------------------------

const std::vector<std::string>& test_targets() {
  static const std::vector<std::string> targets = [] {
    std::vector<std::string> t;
    for (const CourseModule& m : modules()) t.push_back("test_" + m.name);
    return t;
  }();
  return targets;
}

// The modules whose student lines the build log's errors point at: each "file:line:col:
// error:" line and the "required from" lines of the template instantiation just before it
// (those before a warning are dropped: a stub's unused parameters warn, and are no fault). An
// error below a student's region in the same file (an unbalanced brace) counts against that
// region.
std::set<int> modules_to_blame(const fs::path& log, const fs::path& tree,
                               const std::vector<StudentLines>& placed) {
  static const std::regex where(
      R"(^(\S+?):(\d+):(\d+:)? (error|fatal error|warning|\s*required from))");
  std::set<int> blamed;
  std::vector<std::pair<fs::path, std::size_t>> pending;  // "required from" places
  std::ifstream in(log);
  std::error_code ec;
  const auto blame = [&](fs::path file, std::size_t at) {
    if (file.is_relative()) file = tree / "build" / file;
    const fs::path rel = fs::relative(fs::weakly_canonical(file, ec), tree, ec);
    const StudentLines* nearest = nullptr;
    for (const StudentLines& s : placed) {
      if (s.file != rel || s.first > at) continue;
      if (!nearest || s.first > nearest->first) nearest = &s;
    }
    if (nearest) blamed.insert(nearest->module);
  };
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!std::regex_search(line, m, where)) continue;
    const std::string kind = m[4].str();
    const std::pair<fs::path, std::size_t> place{m[1].str(), std::stoul(m[2])};
    if (kind.find("required from") != std::string::npos) {
      pending.push_back(place);
    } else if (kind == "warning") {
      pending.clear();
    } else {
      for (const auto& p : pending) blame(p.first, p.second);
      pending.clear();
      blame(place.first, place.second);
    }
  }
  return blamed;
}

// ---- one student ----------------------------------------------------------------------------

struct ModuleGrade {
  std::size_t passed = 0, tests = 0, failed = 0, skipped = 0;
  double score = 0.0;
  bool kept = false;
  std::string build_error;  ///< the compiler's message when the student's code did not build
  std::vector<std::string> notes;
};

struct StudentGrade {
  Student student;
  std::vector<int> kept;
  std::vector<ModuleGrade> modules;  ///< by module number − 1
  std::string problem;               ///< why the copy could not be graded at all
  std::vector<std::string> notes;
  double total = 0.0;
  int max = 0;
  bool complete() const {
    if (!problem.empty()) return false;
    for (const ModuleGrade& m : modules)
      if (!m.build_error.empty()) return false;
    return true;
  }
};

class Grader {
 public:
  Grader(const Project& teacher, const GradeOptions& options)
      : teacher_(teacher),
        options_(options),
        sources_(scan_regions(teacher.root)),
        tree_(teacher.build_dir / "tito" / "grade"),
        runner_(Project{tree_, tree_ / "build"},
                RunLimits{options.time_limit, std::max(5.0, options.time_limit / 10),
                          options.time_limit}) {}

  StudentGrade grade(const Student& student) {
    StudentGrade g{student, {}, std::vector<ModuleGrade>(modules().size()), "", {}, 0.0, 0};
    std::string kept_note;
    g.kept =
        options_.kept ? *options_.kept : recorded_kept_modules(student.dir.string(), kept_note);
    if (!kept_note.empty()) g.notes.push_back(kept_note);
    for (int n : g.kept) modules_grade(g, n).kept = true;
    fmt::print("\ngrading {} ({})\n", student.name, student.dir.string());
    std::fflush(stdout);
    sync_tree(teacher_.root, tree_);
    answers_.clear();
    for (const SourceFile& f : sources_)
      if (!f.regions.empty()) answers_[f.path] = answers_in(student.dir / f.path);

    std::set<int> solution_for(g.kept.begin(), g.kept.end());
    if (!build_with_blame(g, solution_for)) return g;
    std::vector<int> runnable;
    for (const CourseModule& m : modules())
      if (modules_grade(g, m.number).build_error.empty()) runnable.push_back(m.number);
    for (const ModuleRun& run : runner_.run_modules(runnable)) score(g, run);
    total(g);
    return g;
  }

 private:
  static ModuleGrade& modules_grade(StudentGrade& g, int number) {
    return g.modules[static_cast<std::size_t>(number - 1)];
  }

  // Writes the spliced sources; returns where the student's lines went.
  std::vector<StudentLines> write_sources(const std::set<int>& solution_for,
                                          std::set<std::string>& missing) {
    std::vector<StudentLines> placed;
    for (const SourceFile& f : sources_) {
      if (f.regions.empty()) continue;
      write_if_changed(tree_ / f.path, spliced(f, answers_[f.path], solution_for, placed, missing));
    }
    return placed;
  }

  // Builds the tests; a module whose code does not compile gets the solution instead, and its
  // compiler message. False when even that does not help (then g.problem says why).
  bool build_with_blame(StudentGrade& g, std::set<int>& solution_for) {
    for (std::size_t attempt = 0; attempt <= modules().size(); ++attempt) {
      std::set<std::string> missing;
      const std::vector<StudentLines> placed = write_sources(solution_for, missing);
      if (attempt == 0) {
        for (const std::string& m : missing) {
          const int n = module_named(m.substr(0, m.find(' ')))->number;
          modules_grade(g, n).notes.push_back("missing region " + m.substr(m.find(' ') + 1));
        }
      }
      runner_.configure({"-DTINYTORCH_BUILD_PROGRAMS=OFF", "-DTINYTORCH_BUILD_TITO=OFF",
                         "-DTINYTORCH_COMPARE_LIBTORCH=OFF"});
      const std::string errors = runner_.build(test_targets());
      if (errors.empty()) return true;
      keep_log(g.student.name, attempt);
      std::set<int> blamed = modules_to_blame(runner_.build_log(), tree_, placed);
      for (int n : solution_for) blamed.erase(n);
      if (blamed.empty()) blamed = blame_by_elimination(solution_for);
      if (blamed.empty()) {
        g.problem = "the tree does not build even with the solution in every module:\n" + errors;
        return false;
      }
      for (int n : blamed) {
        modules_grade(g, n).build_error = errors;
        solution_for.insert(n);
      }
    }
    g.problem = "the build kept failing";
    return false;
  }

  // Each failed build's whole log stays, for the teacher: build/tito/grade-logs/<student>.N.log.
  void keep_log(const std::string& student, std::size_t attempt) {
    const fs::path dir = tree_.parent_path() / "grade-logs";
    std::error_code ec;
    fs::create_directories(dir, ec);
    fs::copy_file(runner_.build_log(), dir / fmt::format("{}.{}.log", student, attempt + 1),
                  fs::copy_options::overwrite_existing, ec);
  }

  // The first module, in course order, whose code alone keeps the tree from building.
  std::set<int> blame_by_elimination(const std::set<int>& solution_for) {
    for (const CourseModule& m : modules()) {
      if (solution_for.count(m.number)) continue;
      std::set<int> trial = solution_for;
      trial.insert(m.number);
      std::set<std::string> missing;
      write_sources(trial, missing);
      if (runner_.build(test_targets()).empty()) return {m.number};
    }
    return {};
  }

  void score(StudentGrade& g, const ModuleRun& run) {
    ModuleGrade& mg = modules_grade(g, run.module.number);
    if (!run.problem.empty()) {
      mg.notes.push_back(run.problem);
      return;
    }
    mg.tests = run.tests.size();
    mg.passed = run.passed();
    mg.skipped = run.count(Outcome::skipped);
    mg.failed = mg.tests - mg.passed;
    if (mg.skipped)
      mg.notes.push_back(fmt::format("{} skipped (not counted as passed)", mg.skipped));
    for (const TestResult& t : run.tests) {
      if (t.message.rfind("timed out", 0) == 0 || t.message.rfind("not run:", 0) == 0) {
        mg.notes.push_back("time limit reached");
        break;
      }
    }
    mg.score = mg.tests ? run.module.points * static_cast<double>(mg.passed) /
                              static_cast<double>(mg.tests)
                        : 0.0;
  }

  void total(StudentGrade& g) const {
    for (const CourseModule& m : modules()) {
      ModuleGrade& mg = modules_grade(g, m.number);
      if (!mg.build_error.empty()) mg.score = 0.0;
      if (mg.kept && !options_.count_kept) continue;
      g.total += mg.score;
      g.max += m.points;
    }
  }

  const Project& teacher_;
  const GradeOptions& options_;
  std::vector<SourceFile> sources_;
  fs::path tree_;
  Runner runner_;
  std::map<fs::path, std::map<std::string, std::vector<std::string>>> answers_;
};

// ---- reporting ------------------------------------------------------------------------------

// The first compiler error line, without the scratch tree's path: for a CSV cell.
std::string first_error(const std::string& errors, const fs::path& tree) {
  std::istringstream in(errors);
  for (std::string line; std::getline(in, line);) {
    if (line.find("error") == std::string::npos) continue;
    for (const std::string& prefix : {tree.string() + "/", std::string("../")}) {
      const auto at = line.find(prefix);
      if (at != std::string::npos) line.erase(at, prefix.size());
    }
    return line;
  }
  return "the build failed";
}

std::string note_of(const ModuleGrade& m, const fs::path& tree) {
  std::vector<std::string> parts;
  if (m.kept) parts.push_back("kept");
  if (!m.build_error.empty()) parts.push_back("build error: " + first_error(m.build_error, tree));
  parts.insert(parts.end(), m.notes.begin(), m.notes.end());
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

void print_grade(const StudentGrade& g, const fs::path& tree, bool count_kept) {
  if (!g.problem.empty()) {
    fmt::print("  not graded: {}\n", g.problem);
    return;
  }
  fmt::print("  {:<16} {:>13} {:>7} {:>7}  {}\n", "module", "passed/tests", "points", "score",
             "note");
  for (const CourseModule& m : modules()) {
    const ModuleGrade& mg = g.modules[static_cast<std::size_t>(m.number - 1)];
    const bool counted = !mg.kept || count_kept;
    fmt::print("  {:<16} {:>13} {:>7} {:>7}  {}\n",
               fmt::format("{} {}", two_digits(m.number), m.name.substr(3)),
               mg.build_error.empty() ? fmt::format("{}/{}", mg.passed, mg.tests) : "-",
               counted ? std::to_string(m.points) : "-",
               counted ? fmt::format("{:.1f}", mg.score) : "-", note_of(mg, tree));
  }
  fmt::print("  {:<16} {:>13} {:>7} {:>7.1f}\n", "total", "", g.max, g.total);
  for (const ModuleGrade& mg : g.modules) {
    if (!mg.build_error.empty()) fmt::print("\n  the compiler said:\n{}", mg.build_error);
  }
  for (const std::string& note : g.notes) fmt::print("  note: {}\n", note);
}

std::string csv_cell(std::string text) {
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  if (text.find_first_of(",\"") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string csv_of(const std::vector<StudentGrade>& grades, const fs::path& tree) {
  std::string csv = "student,total,max,kept";
  for (const CourseModule& m : modules()) {
    const std::string nn = two_digits(m.number);
    csv += fmt::format(",{0}_score,{0}_passed,{0}_tests,{0}_failed,{0}_note", nn);
  }
  csv += ",problem\n";
  for (const StudentGrade& g : grades) {
    std::string kept;
    for (int n : g.kept) kept += (kept.empty() ? "" : " ") + two_digits(n);
    csv += fmt::format("{},{:.1f},{},{}", csv_cell(g.student.name), g.total, g.max, kept);
    for (const ModuleGrade& mg : g.modules) {
      csv += fmt::format(",{:.1f},{},{},{},{}", mg.score, mg.passed, mg.tests, mg.failed,
                         csv_cell(note_of(mg, tree)));
    }
    csv += "," + csv_cell(g.problem.empty() ? "" : first_error(g.problem, tree)) + "\n";
  }
  return csv;
}

// The scratch tree is rewritten and pruned for every student, so it must be one tito made: a
// build folder chosen by mistake (--build-dir, TITO_BUILD_DIR) may hold a tito/grade of
// someone else's, which grading would otherwise empty.
void claim_scratch_tree(const fs::path& tree) {
  const fs::path marker = tree / ".tito-grading-tree";
  std::error_code ec;
  if (fs::exists(tree, ec) && !fs::is_empty(tree, ec) &&
      !fs::is_regular_file(fs::symlink_status(marker, ec))) {
    throw Error(fmt::format(
        "{} holds files tito did not write (no {}); grade rewrites that folder, so it will not "
        "use it: choose another build folder (--build-dir); nothing was changed",
        tree.string(), marker.filename().string()));
  }
  write_file_atomically(marker, "the scratch tree of tito grade: rewritten for every student\n");
}

}  // namespace

int grade_copies(const Project& teacher, const GradeOptions& options) {
  if (teacher.is_student_copy()) {
    throw Error(
        "grade runs in the teacher's tree, with the teacher's tests; in a student copy, ./tito "
        "status and ./tito test show where you stand");
  }
  if (!options.csv.empty()) {  // refuse a path we cannot write before running anything
    const fs::path dir = fs::absolute(options.csv).parent_path();
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      throw Error(
          fmt::format("cannot write {}: folder {} does not exist", options.csv, dir.string()));
    }
  }
  const std::vector<Student> students = find_students(options.copies);
  for (const Student& s : students) {
    if (is_within(s.dir, teacher.root) || is_within(teacher.root, s.dir)) {
      throw Error(fmt::format("{} is this tree or inside it; grade copies released elsewhere",
                              s.dir.string()));
    }
  }
  claim_scratch_tree(teacher.build_dir / "tito" / "grade");
  Grader grader(teacher, options);
  std::vector<StudentGrade> grades;
  for (const Student& s : students) {
    grades.push_back(grader.grade(s));
    print_grade(grades.back(), teacher.build_dir / "tito" / "grade", options.count_kept);
  }
  if (!options.csv.empty()) {
    write_file_atomically(options.csv, csv_of(grades, teacher.build_dir / "tito" / "grade"));
    fmt::print("\nwrote {} ({} student{})\n", options.csv, grades.size(),
               grades.size() == 1 ? "" : "s");
  }
  const bool all_complete =
      std::all_of(grades.begin(), grades.end(), [](const StudentGrade& g) { return g.complete(); });
  if (!all_complete) {
    std::fflush(stdout);  // the table first, then the summary
    fmt::print(stderr,
               "tito: some code did not build or a copy could not be graded (see above); those "
               "modules scored 0\n");
  }
  return all_complete ? 0 : 1;
}

}  // namespace tito
