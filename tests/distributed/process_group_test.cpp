// Distributed — ProcessGroup: ranks, collectives of one number, MPI errors as exceptions.
#include <cstdlib>
#include <string>

#include <tinytorch/distributed/internal/mpi.hpp>
#include <tinytorch/distributed/process_group.hpp>

#include "distributed/world.hpp"
#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_throw_with;
using testing::world;

TEST(ProcessGroup, RanksNumberTheProcessesMpirunStarted) {
  ProcessGroup& group = world();
  EXPECT_GE(group.rank(), 0);
  EXPECT_LT(group.rank(), group.world_size());
  EXPECT_EQ(group.is_primary(), group.rank() == 0);
  if (const char* size = std::getenv("OMPI_COMM_WORLD_SIZE")) {
    EXPECT_EQ(group.world_size(), std::stoi(size));
  } else {
    EXPECT_EQ(group.world_size(), 1);  // started without mpirun: a world of one
  }
  const std::vector<std::uint64_t> ranks = testing::all_gather(std::uint64_t(group.rank()));
  for (std::size_t r = 0; r < ranks.size(); ++r) EXPECT_EQ(ranks[r], r);
}

TEST(ProcessGroup, AllReduceGivesEveryRankTheSumAndTheMean) {
  ProcessGroup& group = world();
  const double w = group.world_size();
  EXPECT_EQ(group.all_reduce_sum(group.rank() + 1), w * (w + 1) / 2);
  EXPECT_EQ(group.all_reduce_mean(group.rank()), (w - 1) / 2);
  std::vector<double> figures{1.0, static_cast<double>(group.rank())};
  group.all_reduce_sum(figures);
  EXPECT_EQ(figures, (std::vector<double>{w, w * (w - 1) / 2}));
  group.barrier();
}

TEST(ProcessGroup, ASecondGroupSharesMpiAndLeavesItRunning) {
  {
    ProcessGroup second;
    EXPECT_EQ(second.rank(), world().rank());
    EXPECT_EQ(second.world_size(), world().world_size());
    EXPECT_EQ(second.all_reduce_sum(1), world().world_size());
  }
  EXPECT_EQ(world().all_reduce_sum(1), world().world_size());  // MPI is still up
}

TEST(ProcessGroup, AFailedMpiCallThrowsNamingTheCall) {
  // An invalid root is refused on every rank, and comes back as an error code (not an abort).
  int value = 0;
  expect_throw_with<DistributedError>(
      [&] {
        detail::check_mpi(
            MPI_Bcast(&value, 1, MPI_INT, world().world_size(), detail::comm(world())),
            "MPI_Bcast");
      },
      "MPI_Bcast failed: MPI_ERR_ROOT");
  expect_throw_with<DistributedError>([] { detail::mpi_count(std::size_t{1} << 40, "op"); },
                                      "op: 1099511627776 values in one message; MPI counts in "
                                      "int, at most 2147483647");
}

}  // namespace
}  // namespace tinytorch
