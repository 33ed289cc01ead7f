// Where tito works: the project tree (the solution or a student copy) and its build folder.
#pragma once

#include <filesystem>
#include <string>

namespace tito {

namespace fs = std::filesystem;

struct Project {
  fs::path root;       ///< holds CMakeLists.txt and tinytorch/tinytorch.hpp
  fs::path build_dir;  ///< <root>/build unless --build-dir or TITO_BUILD_DIR says otherwise
  /// A student copy written by `tito release` (it has .tito/release.json).
  bool is_student_copy() const;
};

/// The record `tito release` leaves in every copy it writes, relative to the copy's root; it
/// is the marker that lets `release --force` replace that folder later.
inline const fs::path release_record_path = fs::path(".tito") / "release.json";
/// The "written_by" value of that record.
inline constexpr const char* release_record_writer = "tito release";

/// Why `dir` does not hold a student copy written by `tito release` ("it has no
/// .tito/release.json", ...), or "" when it does: .tito must be a real folder and
/// .tito/release.json a regular file (neither a symbolic link) holding the JSON release writes
/// ({"written_by": "tito release", "kept": [...], "released": "..."}, or the older
/// {"kept", "released"} record without "written_by").
std::string student_copy_marker_problem(const fs::path& dir);

/// The project containing `start` (it or a parent); throws tito::Error outside any project.
Project find_project(const fs::path& start, const std::string& build_dir_option);

/// True when `inner` is `outer` or lies inside it (both made absolute and normal first).
bool is_within(const fs::path& inner, const fs::path& outer);

/// Writes `text` to `path` through a temporary file in the same folder and a rename.
void write_file_atomically(const fs::path& path, const std::string& text);

}  // namespace tito
