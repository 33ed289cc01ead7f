// `tito grade COPIES`: scores student copies with the teacher's tests.
//
// Grading runs in the teacher's tree (the solution), never in a student's: the tests that
// count are this tree's tests, hidden ones (tests/hidden/) included, and a student's own test
// files are never compiled. From a student's copy only the bodies of the exercise regions are
// taken; they are put into a scratch copy of this tree, which is built and tested there.
//
//   tito grade ~/class            every student copy in the folder, one CSV row each
//   tito grade ~/class/ada --csv grades.csv --time-limit 120
//
// A region whose code does not compile costs its module only: that module scores 0 with the
// compiler's message, and the solution stands in for it so that the other modules build. A
// test that crashes, hangs (past the time limit) or is skipped does not pass. Modules handed
// out solved (--keep at release) are marked "kept" and count for nothing unless the teacher
// says otherwise.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "project.hpp"

namespace tito {

struct GradeOptions {
  fs::path copies;                       ///< a student copy, or a folder of student copies
  std::string csv;                       ///< where to write the CSV ("" = nowhere)
  std::optional<std::vector<int>> kept;  ///< overrides each copy's own record of kept modules
  bool count_kept = false;               ///< kept modules score like the others
  double time_limit = 300;               ///< seconds for one module's tests
};

/// Grades every copy; returns 0 when every copy built and ran completely, 1 when a module of
/// some copy did not build or a copy could not be graded.
int grade_copies(const Project& teacher, const GradeOptions& options);

}  // namespace tito
