#include "release.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>

#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "course.hpp"
#include "error.hpp"
#include "markers.hpp"
#include "tree.hpp"

namespace tito {

namespace {

// ---- where a copy may go: every check runs before anything is written or deleted ----------

// `p` without a trailing separator or "." ("/a/b/" and "/a/b/." are "/a/b"; "/" stays).
fs::path without_trailing_dot(fs::path p) {
  while ((!p.has_filename() || p.filename() == ".") && p.has_relative_path()) p = p.parent_path();
  return p;
}

// `p` absolute, with every symbolic link in its existing part resolved (as the file system will
// resolve it when the copy is written), ".." resolved and no trailing separator.
fs::path resolved(const fs::path& p, std::error_code& ec) {
  return without_trailing_dot(fs::weakly_canonical(fs::absolute(p, ec), ec));
}

struct Home {
  fs::path path;    ///< resolved
  std::string how;  ///< "$HOME", "the home folder of user ann"
};

std::vector<Home> home_folders() {
  std::vector<Home> homes;
  std::error_code ec;
  const char* env = std::getenv("HOME");
  if (env && *env) {
    const fs::path home = resolved(env, ec);
    if (!ec) homes.push_back({home, "$HOME"});
  }
  if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_dir && *pw->pw_dir) {
    const fs::path home = resolved(pw->pw_dir, ec);
    if (!ec) homes.push_back({home, fmt::format("the home folder of user {}", pw->pw_name)});
  }
  return homes;
}

struct Target {
  enum State { fresh, empty, student_copy };
  fs::path path;  ///< resolved: what is written, whatever links led there
  State state;
};

Target check_target(const Project& project, const ReleaseOptions& o) {
  if (o.target.empty()) throw Error("release needs --student DIR, the folder to write the copy to");
  std::error_code ec;
  const fs::path given = without_trailing_dot(fs::absolute(o.target, ec));
  const fs::path t = resolved(o.target, ec);
  if (ec) {
    throw Error(
        fmt::format("cannot resolve {}: {}; nothing was changed", o.target.string(), ec.message()));
  }
  // The target as typed and, when that is not plain, where it leads.
  std::string name = o.target.string();
  if (without_trailing_dot(given.lexically_normal()) != t) {
    name += fmt::format(" (which leads to {})", t.string());
  } else if (o.target != t) {
    name += fmt::format(" ({})", t.string());
  }
  const auto refuse = [&](const std::string& why) {
    throw Error(fmt::format("{} {}; nothing was changed", name, why));
  };

  if (t == t.root_path()) {
    refuse(
        "is the root of the file system; tito release never writes there: choose a new folder "
        "for the copy");
  }
  for (const Home& home : home_folders()) {
    if (t == home.path) {
      refuse(
          fmt::format("is your home folder ({}); tito release never writes there: choose a new "
                      "folder for the copy, such as {}",
                      home.how, (home.path / "tinytorch-student").string()));
    }
    if (is_within(home.path, t)) {
      refuse(fmt::format("contains your home folder {} ({}); choose a new folder for the copy",
                         home.path.string(), home.how));
    }
  }
  const fs::path root = resolved(project.root, ec);
  if (t == root) refuse("is the project tito runs in; choose a folder outside it for the copy");
  if (is_within(t, root)) {
    refuse(fmt::format("is inside the project {} (build folders too); choose a folder outside it",
                       root.string()));
  }
  if (is_within(root, t)) {
    refuse(fmt::format("contains the project {} that tito runs in; choose a folder outside it",
                       root.string()));
  }
  // The target itself must be a real folder (or nothing yet), never a link to one.
  const fs::file_status own = fs::symlink_status(given, ec);
  if (given.filename() != ".." && fs::is_symlink(own)) {
    const fs::path to = fs::read_symlink(given, ec);
    refuse(
        fmt::format("is a symbolic link (to {}); tito release does not write through links: "
                    "give the path of a real folder",
                    to.string()));
  }
  // Links left in the resolved path lead nowhere (resolving stopped there); the file system
  // would follow them wherever they come to point.
  fs::path prefix;
  for (const fs::path& part : t) {
    prefix /= part;
    if (fs::is_symlink(fs::symlink_status(prefix, ec))) {
      const fs::path to = fs::read_symlink(prefix, ec);
      refuse(
          fmt::format("{} the symbolic link {} (to {}), which leads nowhere; tito release does "
                      "not write through links: give the path of a real folder",
                      prefix == t ? "is" : "passes through", prefix.string(), to.string()));
    }
  }
  const fs::file_status st = fs::symlink_status(t, ec);
  if (st.type() == fs::file_type::not_found) return {t, Target::fresh};
  if (st.type() == fs::file_type::none || st.type() == fs::file_type::unknown) {
    refuse(fmt::format("cannot be inspected ({})", ec.message()));
  }
  if (!fs::is_directory(st)) {
    refuse("is a file, not a folder; choose a new folder for the copy");
  }
  const bool empty = fs::is_empty(t, ec);
  if (ec) refuse(fmt::format("cannot be read ({})", ec.message()));
  if (empty) return {t, Target::empty};
  const std::string problem = student_copy_marker_problem(t);
  if (!problem.empty() && !o.force) {
    refuse(
        fmt::format("is not empty; choose a new folder, or add --force only over a student "
                    "copy tito wrote: this folder does not look like one ({}), so tito will "
                    "not write there even with --force",
                    problem));
  }
  if (!problem.empty()) {
    refuse(
        fmt::format("is not empty and does not look like a student copy tito wrote ({}); "
                    "--force only replaces a copy tito wrote, so tito will not write there: "
                    "choose a new folder for the copy",
                    problem));
  }
  if (!o.force) {
    refuse(
        "is not empty; choose a new folder, or add --force to write over it (it is a student "
        "copy tito wrote: --force replaces all of it but its build folders)");
  }
  return {t, Target::student_copy};
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
  record["written_by"] = release_record_writer;
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
  for (const fs::path& rel : tree_files(project.root, TreeFor::student)) {
    auto it = by_path.find(rel);
    if (it == by_path.end()) {
      copy_one(project.root / rel, dir / rel);
    } else {
      write_text(dir / rel, released_text(*it->second, keep));
    }
  }
  write_text(dir / release_record_path, release_record(keep));
}

// ---- writing and replacing -------------------------------------------------------------------

// Removes `path` and, when it is a real folder, everything in it. A symbolic link is removed
// as a link and never followed, so nothing outside `path` is touched.
void remove_tree(const fs::path& path) {
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(path, ec);
  if (st.type() == fs::file_type::not_found) return;
  if (fs::is_directory(st)) {  // symlink_status: a real folder, not a link to one
    std::vector<fs::path> entries;
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      entries.push_back(it->path());
    }
    if (ec) throw Error(fmt::format("cannot read {}: {}", path.string(), ec.message()));
    for (const fs::path& entry : entries) remove_tree(entry);
  }
  fs::remove(path, ec);
  if (ec) throw Error(fmt::format("cannot remove {}: {}", path.string(), ec.message()));
}

void remove_tree_quietly(const fs::path& path) {
  try {
    remove_tree(path);
  } catch (const Error&) {
  }
}

void warn(const std::string& message) {
  std::fflush(stdout);
  fmt::print(stderr, "tito: warning: {}\n", message);
}

// A name beside `target` that nothing has yet: "<target>.<what>-<pid>[-<n>]".
fs::path unused_sibling(const fs::path& target, const char* what) {
  for (int n = 0; n < 1000; ++n) {
    const fs::path p =
        target.parent_path() / fmt::format("{}.{}-{}{}", target.filename().string(), what,
                                           ::getpid(), n ? fmt::format("-{}", n) : std::string());
    std::error_code ec;
    const fs::file_status st = fs::symlink_status(p, ec);
    if (st.type() == fs::file_type::not_found) return p;
    if (st.type() == fs::file_type::none) {
      throw Error(fmt::format("cannot use {}: {}", p.string(), ec.message()));
    }
  }
  throw Error(fmt::format("cannot find a free name beside {}", target.string()));
}

// A new, empty folder beside `target` for the copy being written.
fs::path make_staging(const fs::path& target) {
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec) {
    throw Error(fmt::format("cannot create {}: {}; nothing was changed",
                            target.parent_path().string(), ec.message()));
  }
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path staging;
    try {
      staging = unused_sibling(target, "tito-partial");
    } catch (const Error& e) {
      throw Error(fmt::format("{}; nothing was changed", e.what()));
    }
    if (fs::create_directory(staging, ec)) return staging;  // false: someone made it meanwhile
    if (ec) {
      throw Error(
          fmt::format("cannot create {}: {}; nothing was changed", staging.string(), ec.message()));
    }
  }
  throw Error(
      fmt::format("cannot find a free name beside {}; nothing was changed", target.string()));
}

// Moves the build folders of the replaced copy (real folders named build*, not links) into the
// new one, so that the next build of the copy is incremental; the paths stay the same.
void keep_build_folders(const fs::path& old_copy, const fs::path& copy) {
  std::error_code ec;
  std::vector<fs::path> builds;
  for (fs::directory_iterator it(old_copy, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code st_ec;
    if (name.rfind("build", 0) == 0 && it->symlink_status(st_ec).type() == fs::file_type::directory)
      builds.push_back(it->path());
  }
  for (const fs::path& from : builds) {
    const fs::path to = copy / from.filename();
    if (fs::symlink_status(to, ec).type() != fs::file_type::not_found) {
      warn(fmt::format("the new copy has its own {}; the old {} is removed", to.string(),
                       from.filename().string()));
      continue;
    }
    fs::rename(from, to, ec);
    if (ec) warn(fmt::format("cannot keep {}: {}", from.string(), ec.message()));
  }
}

}  // namespace

std::size_t release_student_copy(const Project& project, const ReleaseOptions& o) {
  const Target target = check_target(project, o);
  const std::vector<SourceFile> sources = scan_regions(project.root);  // throws before writing
  std::size_t stubs = 0;
  for (const SourceFile& f : sources) {
    for (const Region& r : f.regions) {
      stubs +=
          std::find(o.keep.begin(), o.keep.end(), module_named(r.module)->number) == o.keep.end();
    }
  }
  // The copy is written beside the target and swapped in, so a failure leaves no half copy and
  // the copy it replaces stays as it was.
  const fs::path& t = target.path;
  const fs::path staging = make_staging(t);
  try {
    write_copy(project, sources, o.keep, staging);
  } catch (...) {
    remove_tree_quietly(staging);
    throw;
  }
  std::error_code ec;
  if (target.state != Target::student_copy) {
    fs::rename(staging, t, ec);  // replaces an empty folder
    if (ec) {
      remove_tree_quietly(staging);
      throw Error(
          fmt::format("cannot create {}: {}; nothing was changed", t.string(), ec.message()));
    }
    return stubs;
  }
  // --force over a copy tito wrote: the old copy moves aside, the new one takes its place.
  fs::path old_copy;
  try {
    old_copy = unused_sibling(t, "tito-old");
  } catch (const Error& e) {
    remove_tree_quietly(staging);
    throw Error(fmt::format("{}; nothing was changed", e.what()));
  }
  fs::rename(t, old_copy, ec);
  if (ec) {
    remove_tree_quietly(staging);
    throw Error(fmt::format("cannot move {} aside to replace it: {}; nothing was changed",
                            t.string(), ec.message()));
  }
  fs::rename(staging, t, ec);
  if (ec) {
    const std::string why = ec.message();
    fs::rename(old_copy, t, ec);
    remove_tree_quietly(staging);
    throw Error(
        ec ? fmt::format("cannot put the new copy in place at {}: {}; the old copy is at {}",
                         t.string(), why, old_copy.string())
           : fmt::format("cannot put the new copy in place at {}: {}; the old copy is "
                         "left as it was",
                         t.string(), why));
  }
  keep_build_folders(old_copy, t);
  try {
    remove_tree(old_copy);
  } catch (const Error& e) {
    warn(
        fmt::format("the new copy is in place, but the old one is not fully removed ({}); "
                    "delete {} yourself",
                    e.what(), old_copy.string()));
  }
  return stubs;
}

}  // namespace tito
