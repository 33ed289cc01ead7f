// GoogleTest's main for the distributed tests, run under mpirun: one ProcessGroup for the
// whole program, the usual report from rank 0, and from every other rank its failures only,
// each line naming the rank. The exit code is non-zero when a test failed on any rank.
#include <cstdio>
#include <cstring>

#include <mpi.h>

#include <gtest/gtest.h>

#include <tinytorch/distributed/process_group.hpp>

#include "distributed/world.hpp"

namespace tinytorch::testing {

namespace {

ProcessGroup* the_world = nullptr;

// What a rank other than 0 prints: its failed assertions, "rank 2: file:line: message".
class RankFailures : public ::testing::EmptyTestEventListener {
 public:
  explicit RankFailures(int rank) : rank_(rank) {}
  void OnTestPartResult(const ::testing::TestPartResult& result) override {
    if (!result.failed()) return;
    std::fprintf(stderr, "rank %d: %s:%d: %s\n", rank_,
                 result.file_name() ? result.file_name() : "?", result.line_number(),
                 result.message());
  }

 private:
  int rank_;
};

}  // namespace

ProcessGroup& world() {
  return *the_world;
}

std::uint64_t state_hash(const Module& model) {
  std::uint64_t hash = 1469598103934665603ull;
  for (const auto& named : model.state_dict()) {
    const Array& values = named.second.data();
    const auto* bytes = reinterpret_cast<const unsigned char*>(values.data());
    for (std::size_t i = 0; i < values.size() * sizeof(float); ++i) {
      hash = (hash ^ bytes[i]) * 1099511628211ull;
    }
  }
  return hash;
}

std::vector<std::uint64_t> all_gather(std::uint64_t value) {
  std::vector<std::uint64_t> all(world().world_size());
  MPI_Allgather(&value, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD);
  return all;
}

std::vector<std::size_t> all_gather(const std::vector<std::size_t>& values) {
  std::vector<std::uint64_t> mine(values.begin(), values.end());
  std::vector<std::uint64_t> all(mine.size() * world().world_size());
  MPI_Allgather(mine.data(), static_cast<int>(mine.size()), MPI_UINT64_T, all.data(),
                static_cast<int>(mine.size()), MPI_UINT64_T, MPI_COMM_WORLD);
  return std::vector<std::size_t>(all.begin(), all.end());
}

}  // namespace tinytorch::testing

int main(int argc, char** argv) {
  tinytorch::ProcessGroup group(argc, argv);
  tinytorch::testing::the_world = &group;
  ::testing::InitGoogleTest(&argc, argv);
  if (group.rank() != 0) {
    ::testing::TestEventListeners& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new tinytorch::testing::RankFailures(group.rank()));
  }
  const int failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
  return group.all_reduce_sum(failed) > 0 ? 1 : 0;
}
