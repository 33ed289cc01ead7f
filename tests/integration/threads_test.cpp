// Integration: the library's thread pool (tinytorch/detail/threads.hpp) runs every task once,
// on any thread count, runs nested loops in place, and hands task exceptions to the caller.
#include <atomic>
#include <stdexcept>
#include <vector>

#include <tinytorch/detail/threads.hpp>
#include <tinytorch/tinytorch.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

class Threads : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { set_num_threads(GetParam()); }
  void TearDown() override { set_num_threads(1); }
};

TEST_P(Threads, EveryTaskRunsExactlyOnce) {
  EXPECT_EQ(get_num_threads(), GetParam());
  for (std::size_t count : {0u, 1u, 2u, 3u, 7u, 64u, 65u, 1000u}) {
    std::vector<std::atomic<int>> runs(count);
    detail::parallel_for(count, [&](std::size_t k) { ++runs[k]; });
    for (std::size_t k = 0; k < count; ++k) EXPECT_EQ(runs[k].load(), 1) << "task " << k;
  }
}

TEST_P(Threads, NestedLoopsRunInPlace) {
  std::vector<std::atomic<int>> runs(8 * 8);
  detail::parallel_for(8, [&](std::size_t outer) {
    detail::parallel_for(8, [&](std::size_t inner) { ++runs[outer * 8 + inner]; });
  });
  for (const auto& r : runs) EXPECT_EQ(r.load(), 1);
}

TEST_P(Threads, TaskExceptionsReachTheCaller) {
  testing::expect_throw_with<std::runtime_error>(
      [] {
        detail::parallel_for(16, [](std::size_t k) {
          if (k == 5) throw std::runtime_error("task 5 failed");
        });
      },
      "task 5 failed");
  std::atomic<int> after{0};  // the pool is usable again
  detail::parallel_for(16, [&](std::size_t) { ++after; });
  EXPECT_EQ(after.load(), 16);
}

TEST_P(Threads, PartsDependOnTheShapesOnly) {
  const std::size_t parts = detail::parts_for(64, 235200.0);
  EXPECT_EQ(parts, 8u);
  EXPECT_EQ(detail::parts_for(64, 10.0), 1u);  // too little work to share
  EXPECT_EQ(detail::parts_for(3, 1e9), 3u);    // never more parts than items
  std::size_t covered = 0;
  for (std::size_t k = 0; k < 8; ++k) covered += detail::chunk(61, 8, k).size();
  EXPECT_EQ(covered, 61u);
}

// 3: blocks of unequal size; 65: more threads than the pool cuts blocks for (64), so some
// threads start by helping with another thread's block.
INSTANTIATE_TEST_SUITE_P(OneToSixtyFive, Threads, ::testing::Values(1, 2, 3, 4, 65));

TEST(Threads, BadThreadCountIsAClearError) {
  const int before = get_num_threads();
  testing::expect_throw_with<std::invalid_argument>(
      [] { set_num_threads(0); }, "set_num_threads: expected a count >= 1, got 0");
  testing::expect_throw_with<std::invalid_argument>(
      [] { set_num_threads(-3); }, "set_num_threads: expected a count >= 1, got -3");
  EXPECT_EQ(get_num_threads(), before);
}

}  // namespace
}  // namespace tinytorch
