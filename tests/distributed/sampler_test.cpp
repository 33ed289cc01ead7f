// Distributed — DistributedSampler and shard_indices: disjoint parts that cover the epoch, the
// same permutation on every rank, PyTorch's rule for uneven sizes, and set_epoch enforced.
#include <algorithm>
#include <memory>
#include <numeric>
#include <set>
#include <vector>

#include <tinytorch/data/loader.hpp>
#include <tinytorch/distributed/sampler.hpp>

#include "distributed/world.hpp"
#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_throw_with;
using testing::world;
using Indices = std::vector<std::size_t>;

Indices iota(std::size_t n) {
  Indices v(n);
  std::iota(v.begin(), v.end(), std::size_t{0});
  return v;
}

TEST(ShardIndices, EvenSizesGiveDisjointPartsThatCoverTheOrder) {
  const Indices order = epoch_permutation(12, 5, 0);
  Indices all;
  for (std::size_t r = 0; r < 4; ++r) {
    const Indices part = shard_indices(order, 4, r, false);
    EXPECT_EQ(part, (Indices{order[r], order[r + 4], order[r + 8]}));
    all.insert(all.end(), part.begin(), part.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, iota(12));
}

TEST(ShardIndices, UnevenSizesPadFromTheStartOrDropTheTail) {
  const Indices order = iota(10);  // the example at the top of sampler.hpp
  EXPECT_EQ(shard_indices(order, 4, 0, false), (Indices{0, 4, 8}));
  EXPECT_EQ(shard_indices(order, 4, 1, false), (Indices{1, 5, 9}));
  EXPECT_EQ(shard_indices(order, 4, 2, false), (Indices{2, 6, 0}));
  EXPECT_EQ(shard_indices(order, 4, 3, false), (Indices{3, 7, 1}));
  EXPECT_EQ(shard_indices(order, 4, 2, true), (Indices{2, 6}));
  EXPECT_EQ(shard_indices(order, 4, 3, true), (Indices{3, 7}));
  // Fewer examples than ranks: padding repeats the order as often as it takes.
  EXPECT_EQ(shard_indices(Indices{7, 8}, 5, 4, false), (Indices{7}));
  EXPECT_EQ(shard_indices(Indices{7, 8}, 5, 4, true), Indices{});
  EXPECT_EQ(shard_indices(Indices{}, 3, 1, false), Indices{});
}

TEST(ShardIndices, BadReplicasOrRankAreRefused) {
  expect_throw_with<std::invalid_argument>([] { shard_indices(iota(4), 0, 0, false); },
                                           "shard_indices: expected at least 1 replica, got 0");
  expect_throw_with<std::invalid_argument>([] { shard_indices(iota(4), 2, 2, false); },
                                           "shard_indices: rank 2 is outside 0..1 for 2 replicas");
  expect_throw_with<std::invalid_argument>([] { DistributedSampler(3, 3); },
                                           "DistributedSampler: rank 3 is outside 0..2");
}

TEST(EpochPermutation, IsAPermutationFixedBySeedAndEpoch) {
  const Indices p = epoch_permutation(50, 1, 3);
  Indices sorted = p;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, iota(50));
  EXPECT_NE(p, iota(50));
  EXPECT_EQ(epoch_permutation(50, 1, 3), p);
  EXPECT_NE(epoch_permutation(50, 1, 4), p);
  EXPECT_NE(epoch_permutation(50, 2, 3), p);
  EXPECT_NE(epoch_permutation(50, 1ull << 32, 3), p);  // the seed's high half counts too
}

TEST(DistributedSampler, CountsFollowDropLast) {
  EXPECT_EQ(DistributedSampler(4, 0).size(10), 3u);
  EXPECT_EQ(DistributedSampler(4, 0, DistributedSamplerOptions().drop_last(true)).size(10), 2u);
  EXPECT_EQ(DistributedSampler(4, 3).size(12), 3u);
}

TEST(DistributedSampler, ASecondPassWithoutSetEpochIsAnError) {
  DistributedSampler sampler(2, 1, DistributedSamplerOptions().seed(9));
  const Indices first = sampler.indices(20);
  expect_throw_with<std::logic_error>(
      [&] { sampler.indices(20); },
      "DistributedSampler: a second pass over epoch 0 without set_epoch(): with shuffling on, "
      "every epoch would repeat the same order; call sampler->set_epoch(epoch)");
  sampler.set_epoch(1);
  const Indices second = sampler.indices(20);
  EXPECT_NE(second, first);
  EXPECT_EQ(second, shard_indices(epoch_permutation(20, 9, 1), 2, 1, false));
  sampler.set_epoch(1);  // an epoch may be replayed on purpose
  EXPECT_EQ(sampler.indices(20), second);
}

TEST(DistributedSampler, WithoutShufflingPassesRepeatTheDatasetOrder) {
  DistributedSampler sampler(3, 1, DistributedSamplerOptions().shuffle(false));
  EXPECT_EQ(sampler.indices(7), (Indices{1, 4, 0}));
  EXPECT_EQ(sampler.indices(7), (Indices{1, 4, 0}));  // no set_epoch needed
}

TEST(DistributedSampler, RanksShareOnePermutationAndSplitIt) {
  const std::size_t n = 103, world_size = world().world_size();
  auto sampler = std::make_shared<DistributedSampler>(world(), DistributedSamplerOptions().seed(4));
  for (std::size_t epoch = 0; epoch < 2; ++epoch) {
    sampler->set_epoch(epoch);
    const Indices mine = sampler->indices(n);
    const Indices all = testing::all_gather(mine);  // rank 0's part, then rank 1's, ...
    // Interleaved back, the parts are the epoch's permutation padded from its start.
    const Indices order = epoch_permutation(n, 4, epoch);
    const std::size_t per_rank = mine.size();
    for (std::size_t r = 0; r < world_size; ++r) {
      for (std::size_t i = 0; i < per_rank; ++i) {
        EXPECT_EQ(all[r * per_rank + i], order[(r + i * world_size) % n]) << "rank " << r;
      }
    }
    const std::set<std::size_t> covered(all.begin(), all.end());
    EXPECT_EQ(covered.size(), n);  // every example, the padding repeats only some
  }
}

TEST(DistributedSampler, DrivesADataLoader) {
  const std::size_t n = 20;
  auto data = std::make_shared<TensorDataset>(
      std::vector<Tensor>{Tensor::zeros({n, 1}), Tensor::arange(0.0f, static_cast<float>(n))});
  auto sampler = std::make_shared<DistributedSampler>(world(), DistributedSamplerOptions().seed(2));
  DataLoader loader(data, DataLoaderOptions(3).sampler(sampler));
  for (std::size_t epoch = 0; epoch < 2; ++epoch) {
    sampler->set_epoch(epoch);
    std::vector<float> labels;
    for (const Batch& batch : loader) {
      for (float y : batch[1].to_vector()) labels.push_back(y);
    }
    const Indices expected =
        shard_indices(epoch_permutation(n, 2, epoch), world().world_size(), world().rank(), false);
    EXPECT_EQ(labels, std::vector<float>(expected.begin(), expected.end()));
  }
  expect_throw_with<std::logic_error>([&] { loader.begin(); },
                                      "DistributedSampler: a second pass over epoch 1");
}

}  // namespace
}  // namespace tinytorch
