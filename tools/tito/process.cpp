#include "process.hpp"

#include <chrono>
#include <csignal>
#include <cstring>
#include <deque>
#include <fstream>
#include <thread>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "error.hpp"

extern char** environ;

namespace tito {

std::string ProcessResult::describe() const {
  if (timed_out) return "timed out";
  if (signal) return fmt::format("crashed ({})", strsignal(signal));
  return fmt::format("exit code {}", exit_code);
}

namespace {

// posix_spawn's file actions: both output streams into the log, stdin from /dev/null, and the
// child's working directory.
class Redirect {
 public:
  explicit Redirect(const std::optional<fs::path>& log) {
    posix_spawn_file_actions_init(&actions_);
    if (!log) return;
    posix_spawn_file_actions_addopen(&actions_, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions_, 1, log->c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions_, 1, 2);
  }
  ~Redirect() { posix_spawn_file_actions_destroy(&actions_); }
  /// The child starts in `dir` (the parent's working directory is left alone).
  void change_directory(const fs::path& dir) {
    posix_spawn_file_actions_addchdir_np(&actions_, dir.c_str());
  }
  Redirect(const Redirect&) = delete;
  Redirect& operator=(const Redirect&) = delete;
  const posix_spawn_file_actions_t* get() const { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

}  // namespace

ProcessResult run(const std::vector<std::string>& argv, const fs::path& cwd,
                  const std::optional<fs::path>& log, double timeout_seconds,
                  const std::function<void()>& tick) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  Redirect redirect(log);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);  // a timeout kills the whole group
  redirect.change_directory(cwd);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], redirect.get(), &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw Error(fmt::format("cannot run {}: {}", argv[0], std::strerror(rc)));

  ProcessResult result;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration<double>(timeout_seconds > 0 ? timeout_seconds : 1e9);
  int status = 0;
  auto next_tick = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (tick && std::chrono::steady_clock::now() > next_tick) {
      tick();
      next_tick += std::chrono::milliseconds(500);
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      result.timed_out = true;
      return result;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

std::string tail(const fs::path& file, std::size_t count) {
  std::ifstream in(file);
  std::deque<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
    if (lines.size() > count) lines.pop_front();
  }
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

}  // namespace tito
