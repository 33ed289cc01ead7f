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

/// The project containing `start` (it or a parent); throws tito::Error outside any project.
Project find_project(const fs::path& start, const std::string& build_dir_option);

/// True when `inner` is `outer` or lies inside it (both made absolute and normal first).
bool is_within(const fs::path& inner, const fs::path& outer);

/// Writes `text` to `path` through a temporary file in the same folder and a rename.
void write_file_atomically(const fs::path& path, const std::string& text);

}  // namespace tito
