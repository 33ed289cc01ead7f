// Running the build and the test programs: output to a log file (or the terminal), a time
// limit, and an exit status that says whether the program crashed.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "project.hpp"

namespace tito {

struct ProcessResult {
  int exit_code = 0;  ///< valid when !signal
  int signal = 0;     ///< the signal that ended it (11 = segmentation fault), 0 if none
  bool timed_out = false;
  bool ok() const { return signal == 0 && !timed_out && exit_code == 0; }
  std::string describe() const;  ///< "exit code 1", "crashed (signal 11, SIGSEGV)", ...
};

/// Runs argv[0] (looked up in PATH) in `cwd`. With a log, stdout and stderr go there;
/// without, they stay on the terminal. A run over `timeout_seconds` is killed, with every
/// process it started. `tick`, if given, is called about twice a second while it runs.
ProcessResult run(const std::vector<std::string>& argv, const fs::path& cwd,
                  const std::optional<fs::path>& log, double timeout_seconds = 0,
                  const std::function<void()>& tick = {});

/// The last `count` lines of a file (for build errors).
std::string tail(const fs::path& file, std::size_t count);

}  // namespace tito
