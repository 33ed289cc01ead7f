#include "project.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <system_error>

#include <fmt/format.h>
#include <unistd.h>

#include "error.hpp"

namespace tito {

namespace {

bool is_project_root(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "CMakeLists.txt", ec) &&
         fs::is_regular_file(dir / "tinytorch" / "tinytorch.hpp", ec);
}

}  // namespace

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
