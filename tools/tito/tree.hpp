// The files of a project tree that travel: what `tito release` copies into a student copy and
// what `tito grade` copies into its scratch tree. Build folders, version control, tito's own
// records and the course tool's tests never travel; the teacher's material (hidden tests,
// the tests of the library's internal kernels) goes to the scratch tree but not to students.
#pragma once

#include <string>
#include <vector>

#include "project.hpp"

namespace tito {

enum class TreeFor { student, grading };

/// The files (and symlinks) under `root` that go to a copy for `use`, relative to root, sorted.
std::vector<fs::path> tree_files(const fs::path& root, TreeFor use);

/// True when `relative` (a path under the tree's root, absolute = root / relative) never goes
/// to a copy for `use`.
bool left_out(const fs::path& relative, const fs::path& absolute, TreeFor use);

/// Writes `text` to `path` unless it holds exactly that already (so that its time stamp, and
/// a build's up-to-date state, stays), creating folders as needed.
void write_if_changed(const fs::path& path, const std::string& text);

/// Makes `to` hold the files of `from` for grading (changed files rewritten, files `from` no
/// longer has removed), leaving `to`'s build folder alone.
void sync_tree(const fs::path& from, const fs::path& to);

}  // namespace tito
