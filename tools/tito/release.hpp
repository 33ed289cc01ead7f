// `tito release --student DIR`: a copy of the project where the exercises of every module not
// kept are stubs that throw tinytorch::NotImplemented.
#pragma once

#include <vector>

#include "project.hpp"

namespace tito {

struct ReleaseOptions {
  fs::path target;
  std::vector<int> keep;  ///< modules whose solutions stay in the copy
  /// Replace a student copy tito wrote earlier (a folder with the record
  /// .tito/release.json, see student_copy_marker_problem): everything in it goes except its
  /// build* folders, files the student added too. Any other non-empty folder is refused.
  bool force = false;
};

/// Checks everything first (target, markers) and writes nothing when a check fails. Never
/// writes to /, a home folder ($HOME, the user's home in the password database) or a folder
/// containing one, the project tito runs in, a folder inside it (build folders too) or a
/// folder containing it, nor through a symbolic link named as the target; paths are compared
/// with the links in them resolved. The copy is written to a folder beside the target and
/// renamed into place, so a failure leaves no half copy and a replaced copy as it was; the
/// replaced copy is deleted without following any symbolic link out of it.
/// Returns the number of regions that became stubs.
std::size_t release_student_copy(const Project& project, const ReleaseOptions& options);

}  // namespace tito
