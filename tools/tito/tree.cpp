#include "tree.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "error.hpp"

namespace tito {

bool left_out(const fs::path& relative, const fs::path& absolute, TreeFor use) {
  const std::string first = relative.begin()->string();
  std::error_code ec;
  const bool directory = fs::is_directory(fs::symlink_status(absolute, ec));
  const bool top_dir = directory || std::next(relative.begin()) != relative.end();
  if (first == ".git" || first == ".cache" || first == ".tito" ||
      (top_dir && first.rfind("build", 0) == 0))
    return true;
  if (relative == fs::path("compile_commands.json") || relative == fs::path(".tito-grading-tree"))
    return true;
  if (relative == fs::path("tests") / "course") return true;
  if (use == TreeFor::student &&
      (relative == fs::path("tests") / "hidden" || relative == fs::path("tests") / "kernels"))
    return true;
  return directory && fs::exists(absolute / "CMakeCache.txt", ec);
}

std::vector<fs::path> tree_files(const fs::path& root, TreeFor use) {
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    const fs::path rel = fs::relative(it->path(), root);
    if (left_out(rel, it->path(), use)) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_symlink() || it->is_regular_file()) files.push_back(rel);
  }
  std::sort(files.begin(), files.end());
  return files;
}

namespace {

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

void write_if_changed(const fs::path& path, const std::string& text) {
  std::error_code ec;
  if (fs::is_regular_file(fs::symlink_status(path, ec)) && read_all(path) == text) return;
  fs::create_directories(path.parent_path(), ec);
  fs::remove(path, ec);  // a symlink is replaced, never written through
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw Error(fmt::format("cannot write {} (disk full?)", path.string()));
}

void sync_tree(const fs::path& from, const fs::path& to) {
  const std::vector<fs::path> files = tree_files(from, TreeFor::grading);
  for (const fs::path& rel : files) {
    std::error_code ec;
    if (fs::is_symlink(from / rel, ec)) continue;  // links stay out of the scratch tree
    write_if_changed(to / rel, read_all(from / rel));
  }
  // Files the source tree no longer has must not linger (a removed test would still count).
  const std::set<fs::path> wanted(files.begin(), files.end());
  std::error_code ec;
  if (!fs::is_directory(to, ec)) return;
  for (const fs::path& rel : tree_files(to, TreeFor::grading)) {
    if (!wanted.count(rel)) fs::remove(to / rel, ec);
  }
}

}  // namespace tito
