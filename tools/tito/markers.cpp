#include "markers.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>

#include <fmt/format.h>

#include "course.hpp"
#include "error.hpp"

namespace tito {

namespace {

const std::regex kBegin(R"(^(\s*)// BEGIN (SOLUTION|EXERCISE)\s+(\S+)\s+(\S+)\s*$)");
const std::regex kEnd(R"(^\s*// END (SOLUTION|EXERCISE)\s*$)");
const std::regex kName(R"(^[a-z][a-z0-9_]*$)");

std::vector<std::string> read_lines(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("cannot read {}", path.string()));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool is_comment(const std::string& line) {
  const auto first = line.find_first_not_of(" \t");
  return first != std::string::npos && line.compare(first, 2, "//") == 0;
}

std::string comment_text(const std::string& line) {
  std::string text = line.substr(line.find("//") + 2);
  const auto first = text.find_first_not_of(' ');
  return first == std::string::npos ? "" : text.substr(first);
}

[[noreturn]] void fail_at(const fs::path& file, std::size_t line, const std::string& what) {
  throw Error(fmt::format("{}:{}: {}", file.string(), line + 1, what));
}

// The comment lines just above `begin`, from the one that starts with "Hint:", joined.
std::string hint_above(const SourceFile& f, std::size_t begin) {
  std::size_t i = begin;
  while (i > 0 && is_comment(f.lines[i - 1])) {
    --i;
    if (comment_text(f.lines[i]).rfind("Hint:", 0) == 0) {
      std::string hint = comment_text(f.lines[i]).substr(5);
      for (std::size_t j = i + 1; j < begin; ++j) hint += " " + comment_text(f.lines[j]);
      const auto first = hint.find_first_not_of(' ');
      return first == std::string::npos ? "" : hint.substr(first);
    }
  }
  return "";
}

Region open_region(const SourceFile& f, std::size_t line, const std::smatch& m) {
  Region r;
  r.file = f.path;
  r.begin = line;
  r.indent = m[1];
  r.is_stub = m[2] == "EXERCISE";
  r.module = m[3];
  r.name = m[4];
  if (!module_named(r.module)) {
    fail_at(
        f.path, line,
        fmt::format("unknown module '{}' in the marker; expected one of 01_tensor .. 09_spatial",
                    r.module));
  }
  if (!std::regex_match(r.name, kName)) {
    fail_at(f.path, line, fmt::format("exercise name '{}' should be lower_snake_case", r.name));
  }
  r.hint = hint_above(f, line);
  if (r.hint.empty()) {
    fail_at(f.path, line, "the region has no `// Hint: ...` comment just above its BEGIN line");
  }
  return r;
}

void scan_file(SourceFile& f) {
  std::optional<Region> open;
  for (std::size_t i = 0; i < f.lines.size(); ++i) {
    const std::string& line = f.lines[i];
    std::smatch m;
    if (std::regex_match(line, m, kBegin)) {
      if (open) {
        fail_at(f.path, i,
                fmt::format("BEGIN inside the region opened at line {}; close it with "
                            "// END SOLUTION first (regions do not nest)",
                            open->begin + 1));
      }
      open = open_region(f, i, m);
    } else if (std::regex_match(line, kEnd)) {
      if (!open) fail_at(f.path, i, "END without a BEGIN above it");
      open->end = i;
      f.regions.push_back(*open);
      open.reset();
    } else if (line.find("BEGIN SOLUTION") != std::string::npos ||
               line.find("END SOLUTION") != std::string::npos) {
      fail_at(f.path, i,
              "malformed marker; write `// BEGIN SOLUTION <NN_module> <name>` or "
              "`// END SOLUTION` alone on its line");
    }
  }
  if (open) fail_at(f.path, open->begin, "BEGIN has no matching END before the end of the file");
}

bool is_source(const fs::path& p) {
  const std::string ext = p.extension().string();
  return ext == ".cpp" || ext == ".hpp" || ext == ".cc" || ext == ".h";
}

}  // namespace

std::vector<SourceFile> scan_regions(const fs::path& root) {
  std::vector<fs::path> paths;
  for (const auto& entry : fs::recursive_directory_iterator(root / "tinytorch")) {
    if (entry.is_regular_file() && is_source(entry.path())) paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<SourceFile> files;
  std::map<std::string, Region> seen;  // "module name" -> first place
  for (const fs::path& p : paths) {
    SourceFile f{fs::relative(p, root), read_lines(p), {}};
    scan_file(f);
    for (const Region& r : f.regions) {
      const auto [it, fresh] = seen.emplace(r.module + " " + r.name, r);
      if (!fresh) {
        fail_at(r.file, r.begin,
                fmt::format("{} {} is already a region at {}:{}", r.module, r.name,
                            it->second.file.string(), it->second.begin + 1));
      }
    }
    files.push_back(std::move(f));
  }
  return files;
}

std::vector<std::string> stub_lines(const Region& r) {
  std::string message = fmt::format("{}: {}: {}", r.module, r.name, r.hint);
  std::string literal;
  for (char c : message) {
    if (c == '"' || c == '\\') literal += '\\';
    literal += c;
  }
  return {r.indent + fmt::format("// BEGIN EXERCISE {} {}", r.module, r.name),
          r.indent + fmt::format("throw tinytorch::NotImplemented(\"{}\");", literal),
          r.indent + "// END EXERCISE"};
}

}  // namespace tito
