#include "project.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <system_error>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "error.hpp"

namespace tito {

namespace {

bool is_project_root(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "CMakeLists.txt", ec) &&
         fs::is_regular_file(dir / "tinytorch" / "tinytorch.hpp", ec);
}

// The record's text, read without following a symbolic link; "" with `problem` set otherwise.
std::string read_record(const fs::path& path, std::string& problem) {
  constexpr off_t limit = 64 * 1024;  // a record is a few lines
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    problem = fmt::format("{} cannot be read", release_record_path.string());
    return {};
  }
  std::string text;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    problem = fmt::format("{} is not a regular file", release_record_path.string());
  } else if (st.st_size > limit) {
    problem = fmt::format("{} is too large to be a release record", release_record_path.string());
  } else {
    char buffer[4096];
    for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) text.append(buffer, n);
  }
  ::close(fd);
  return text;
}

bool is_release_record(const nlohmann::json& r) {
  if (!r.is_object() || !r.contains("kept") || !r["kept"].is_array() || !r.contains("released") ||
      !r["released"].is_string())
    return false;
  for (const auto& k : r["kept"]) {
    if (!k.is_string()) return false;
  }
  if (r.contains("written_by")) return r["written_by"] == release_record_writer;
  return r.size() == 2;  // written before release recorded "written_by"
}

}  // namespace

std::string student_copy_marker_problem(const fs::path& dir) {
  std::error_code ec;
  const fs::path tito_dir = dir / release_record_path.parent_path();
  const fs::file_status d = fs::symlink_status(tito_dir, ec);
  if (d.type() == fs::file_type::not_found)
    return fmt::format("it has no {}", release_record_path.string());
  if (fs::is_symlink(d))
    return fmt::format("its {} is a symbolic link", release_record_path.parent_path().string());
  if (!fs::is_directory(d))
    return fmt::format("its {} is not a folder", release_record_path.parent_path().string());
  const fs::file_status f = fs::symlink_status(dir / release_record_path, ec);
  if (f.type() == fs::file_type::not_found)
    return fmt::format("it has no {}", release_record_path.string());
  if (fs::is_symlink(f))
    return fmt::format("its {} is a symbolic link", release_record_path.string());
  if (!fs::is_regular_file(f))
    return fmt::format("its {} is not a regular file", release_record_path.string());
  std::string problem;
  const std::string text = read_record(dir / release_record_path, problem);
  if (!problem.empty()) return "its " + problem;
  const nlohmann::json record = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (record.is_discarded() || !is_release_record(record))
    return fmt::format("its {} is not the record tito release writes",
                       release_record_path.string());
  return "";
}

bool Project::is_student_copy() const {
  std::error_code ec;
  return fs::is_regular_file(root / ".tito" / "release.json", ec);
}

Project find_project(const fs::path& start, const std::string& build_dir_option) {
  std::error_code ec;
  fs::path dir = fs::weakly_canonical(fs::absolute(start), ec);
  for (fs::path d = dir;; d = d.parent_path()) {
    if (is_project_root(d)) {
      Project p{d, d / "build"};
      const char* env = std::getenv("TITO_BUILD_DIR");
      if (!build_dir_option.empty()) {
        p.build_dir = fs::absolute(build_dir_option);
      } else if (env && *env) {
        p.build_dir = fs::absolute(env);
      }
      return p;
    }
    if (d == d.root_path() || d.empty()) break;
  }
  throw Error(fmt::format(
      "not inside a tinytorch project ({} and its parents have no tinytorch/tinytorch.hpp); cd "
      "into the project folder first",
      dir.string()));
}

bool is_within(const fs::path& inner, const fs::path& outer) {
  std::error_code ec;
  const fs::path a = fs::weakly_canonical(fs::absolute(inner), ec);
  const fs::path b = fs::weakly_canonical(fs::absolute(outer), ec);
  auto ai = a.begin();
  for (auto bi = b.begin(); bi != b.end(); ++bi, ++ai) {
    if (bi->empty()) continue;  // a trailing separator
    if (ai == a.end() || *ai != *bi) return false;
  }
  return true;
}

void write_file_atomically(const fs::path& path, const std::string& text) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  const fs::path tmp = path.string() + fmt::format(".tmp.{}", ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) {
      fs::remove(tmp, ec);
      throw Error(fmt::format("cannot write {} (is the folder writable?)", path.string()));
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    const std::string why = ec.message();
    fs::remove(tmp, ec);
    throw Error(fmt::format("cannot write {}: {}", path.string(), why));
  }
}

}  // namespace tito
