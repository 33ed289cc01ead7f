// The exercise regions of the library's sources.
//
//   // Hint: one or more comment lines for the student
//   // BEGIN SOLUTION 09_spatial conv2d_reference
//   ...the reference solution: a whole function body...
//   // END SOLUTION
//
// A student copy holds the same region as `// BEGIN EXERCISE ...` around a stub that throws
// tinytorch::NotImplemented("09_spatial: conv2d_reference: <hint>").
#pragma once

#include <string>
#include <vector>

#include "project.hpp"

namespace tito {

struct Region {
  fs::path file;                   ///< relative to the project root
  std::size_t begin = 0, end = 0;  ///< 0-based line numbers of the BEGIN and END lines
  std::string module, name, hint;
  std::string indent;    ///< of the BEGIN line
  bool is_stub = false;  ///< an EXERCISE region (already released)
};

/// A source file's lines and the regions in it.
struct SourceFile {
  fs::path path;  ///< relative to the project root
  std::vector<std::string> lines;
  std::vector<Region> regions;
};

/// Every source under <root>/tinytorch, with its regions. Markers that do not pair up, nest,
/// name an unknown module, repeat a name or lack a hint throw tito::Error naming file:line.
std::vector<SourceFile> scan_regions(const fs::path& root);

/// The lines that replace a region in a student copy: EXERCISE markers around a throw.
std::vector<std::string> stub_lines(const Region& region);

}  // namespace tito
