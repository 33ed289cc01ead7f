// Integration: thread counts the pool cannot have. A count past its limit is refused naming
// the limit; threads the system will not start leave the pool at the size it had, with an
// error naming set_num_threads and the count (it used to be a bare std::system_error, with
// the pool left half-grown).
#include <atomic>
#include <climits>
#include <cstdio>
#include <string>
#include <system_error>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <tinytorch/detail/threads.hpp>
#include <tinytorch/tinytorch.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_throw_with;

TEST(ThreadLimits, ACountPastTheLimitIsRefusedNamingTheLimit) {
  set_num_threads(2);
  expect_throw_with<std::invalid_argument>(
      [] { set_num_threads(INT_MAX); },
      "set_num_threads: expected a count in 1..1024, got 2147483647");
  EXPECT_EQ(get_num_threads(), 2);
  set_num_threads(1);
}

/// In a child process: the checks of a pool that cannot start its threads; the exit code says
/// which failed (77: the limit cannot be set up here).
int child_checks() {
  // Root is exempt from RLIMIT_NPROC; an unprivileged user of its own is not, and has no other
  // processes, so the count starts at 1 (this process).
  if (::geteuid() == 0 && ::setuid(54321) != 0) return 77;
  const rlimit three{3, 3};  // this thread and two workers
  if (::setrlimit(RLIMIT_NPROC, &three) != 0) return 77;
  try {
    set_num_threads(8);
    return 1;
  } catch (const std::system_error& e) {
    const std::string expected =
        "set_num_threads: cannot start 8 threads (thread 4 failed to start); the pool keeps 1 "
        "thread";
    if (std::string(e.what()).find(expected) == std::string::npos) {
      std::fprintf(stderr, "message was: %s\nexpected: %s\n", e.what(), expected.c_str());
      return 2;
    }
  }
  if (get_num_threads() != 1) return 3;
  std::atomic<int> runs{0};
  detail::parallel_for(10, [&](std::size_t) { ++runs; });
  return runs == 10 ? 0 : 4;
}

TEST(ThreadLimits, ThreadsTheSystemCannotStartLeaveThePoolAsItWas) {
  set_num_threads(1);  // no workers: a forked child has none of the parent's threads
  std::fflush(nullptr);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(child_checks());
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "cannot limit the thread count here";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "exit code names the check that failed";
}

}  // namespace
}  // namespace tinytorch
