// `tito release --student DIR`: a copy of the project where the exercises of every module not
// kept are stubs that throw tinytorch::NotImplemented.
#pragma once

#include <vector>

#include "project.hpp"

namespace tito {

struct ReleaseOptions {
  fs::path target;
  std::vector<int> keep;  ///< modules whose solutions stay in the copy
  bool force = false;     ///< write into a non-empty folder
};

/// Checks everything first (target, markers) and writes nothing when a check fails.
/// Returns the number of regions that became stubs.
std::size_t release_student_copy(const Project& project, const ReleaseOptions& options);

}  // namespace tito
