#include "release.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>

#include <fmt/format.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "course.hpp"
#include "error.hpp"
#include "markers.hpp"

namespace tito {

namespace {

// Build folders, version control, the teacher's own progress and the release tests stay out.
bool left_out(const fs::path& relative, const fs::path& absolute) {
  const std::string first = relative.begin()->string();
  std::error_code ec;
  const bool top_dir =
      fs::is_directory(absolute, ec) || std::next(relative.begin()) != relative.end();
  if (first == ".git" || first == ".cache" || (top_dir && first.rfind("build", 0) == 0))
    return true;
  if (relative == fs::path(".tito") || relative == fs::path("compile_commands.json")) return true;
  if (relative == fs::path("tests") / "course") return true;
  return fs::is_directory(absolute, ec) && fs::exists(absolute / "CMakeCache.txt", ec);
}

// Inside the tree only where the copy never looks (a build folder), or the copy would copy
// itself.
bool inside_copied_tree(const Project& project, const fs::path& target) {
  if (!is_within(target, project.root)) return false;
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(project.root, ec);
  fs::path rel = fs::relative(fs::weakly_canonical(fs::absolute(target), ec), root, ec);
  fs::path probe = root;
  for (const fs::path& part : rel) {
    probe /= part;
    if (left_out(fs::relative(probe, root), probe)) return false;
  }
  return true;
}

std::vector<fs::path> files_to_copy(const fs::path& root) {
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    const fs::path rel = fs::relative(it->path(), root);
    if (left_out(rel, it->path())) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file() || it->is_symlink()) files.push_back(rel);
  }
  std::sort(files.begin(), files.end());
  return files;
}

void check_target(const Project& project, const ReleaseOptions& o) {
  std::error_code ec;
  if (o.target.empty()) throw Error("release needs --student DIR, the folder to write the copy to");
  if (inside_copied_tree(project, o.target)) {
    throw Error(fmt::format("{} is inside the project {}; choose a folder outside it",
                            o.target.string(), project.root.string()));
  }
  if (fs::exists(o.target, ec) && !fs::is_directory(o.target, ec)) {
    throw Error(fmt::format("{} is a file, not a folder; choose a new folder for the copy",
                            o.target.string()));
  }
  if (fs::is_directory(o.target, ec) && !fs::is_empty(o.target, ec) && !o.force) {
    throw Error(fmt::format("{} is not empty; choose a new folder, or add --force to write over it",
                            o.target.string()));
  }
}

// The file's lines with the regions of modules not kept replaced by stubs.
std::string released_text(const SourceFile& f, const std::vector<int>& keep) {
  std::vector<std::string> out;
  std::size_t next = 0;
  for (const Region& r : f.regions) {
    const bool kept =
        std::find(keep.begin(), keep.end(), module_named(r.module)->number) != keep.end();
    if (kept) continue;
    out.insert(out.end(), f.lines.begin() + static_cast<long>(next),
               f.lines.begin() + static_cast<long>(r.begin));
    for (std::string& line : stub_lines(r)) out.push_back(std::move(line));
    next = r.end + 1;
  }
  out.insert(out.end(), f.lines.begin() + static_cast<long>(next), f.lines.end());
  std::string text;
  for (const std::string& line : out) text += line + "\n";
  return text;
}

std::string today() {
  const std::time_t now = std::time(nullptr);
  char buffer[16];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d", std::localtime(&now));
  return buffer;
}

std::string release_record(const std::vector<int>& keep) {
  nlohmann::json record;
  std::vector<std::string> kept;
  for (int n : keep) kept.push_back(two_digits(n));
  record["kept"] = kept;
  record["released"] = today();
  return record.dump(2) + "\n";
}

void copy_one(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::create_directories(to.parent_path(), ec);
  if (fs::is_symlink(from, ec)) {
    fs::remove(to, ec);
    fs::copy_symlink(from, to, ec);
  } else {
    fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  }
  if (ec) throw Error(fmt::format("cannot write {}: {}", to.string(), ec.message()));
}

void write_text(const fs::path& to, const std::string& text) {
  std::error_code ec;
  fs::create_directories(to.parent_path(), ec);
  std::ofstream out(to, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw Error(fmt::format("cannot write {} (disk full?)", to.string()));
}

void write_copy(const Project& project, const std::vector<SourceFile>& sources,
                const std::vector<int>& keep, const fs::path& dir) {
  std::map<fs::path, const SourceFile*> by_path;
  for (const SourceFile& f : sources) {
    if (!f.regions.empty()) by_path[f.path] = &f;
  }
  for (const fs::path& rel : files_to_copy(project.root)) {
    auto it = by_path.find(rel);
    if (it == by_path.end()) {
      copy_one(project.root / rel, dir / rel);
    } else {
      write_text(dir / rel, released_text(*it->second, keep));
    }
  }
  write_text(dir / ".tito" / "release.json", release_record(keep));
}

// Empties a folder for --force, keeping its build folders (so the next build of the copy is
// incremental): files of an earlier release must not linger next to the new one.
void clear_for_rewrite(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory(ec) && name.rfind("build", 0) == 0) continue;
    fs::remove_all(entry.path(), ec);
    if (ec)
      throw Error(
          fmt::format("cannot clear {} for --force: {}", entry.path().string(), ec.message()));
  }
}

}  // namespace

std::size_t release_student_copy(const Project& project, const ReleaseOptions& o) {
  check_target(project, o);
  const std::vector<SourceFile> sources = scan_regions(project.root);  // throws before writing
  std::size_t stubs = 0;
  for (const SourceFile& f : sources) {
    for (const Region& r : f.regions) {
      stubs +=
          std::find(o.keep.begin(), o.keep.end(), module_named(r.module)->number) == o.keep.end();
    }
  }
  std::error_code ec;
  if (fs::exists(o.target, ec) && !fs::is_empty(o.target, ec)) {
    clear_for_rewrite(o.target);  // --force: the copy replaces what is there
    write_copy(project, sources, o.keep, o.target);
    return stubs;
  }
  // A fresh copy is written beside the target and renamed, so a failure leaves no half copy.
  const fs::path target = fs::absolute(o.target);
  const fs::path staging = target.string() + fmt::format(".tito-partial-{}", ::getpid());
  try {
    write_copy(project, sources, o.keep, staging);
    fs::remove(target, ec);  // an empty folder, if any
    fs::rename(staging, target);
  } catch (...) {
    fs::remove_all(staging, ec);
    throw;
  }
  return stubs;
}

}  // namespace tito
