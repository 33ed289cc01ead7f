// Distributed — broadcast_parameters: rank 0's weights everywhere, or a clear error on every
// rank when the models differ.
#include <memory>
#include <vector>

#include <tinytorch/core/batchnorm.hpp>
#include <tinytorch/core/layers.hpp>
#include <tinytorch/core/models.hpp>
#include <tinytorch/distributed/broadcast.hpp>

#include "distributed/world.hpp"
#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_throw_with;
using testing::world;

std::vector<std::vector<float>> values_of(const Module& model) {
  std::vector<std::vector<float>> out;
  for (const auto& named : model.state_dict()) out.push_back(named.second.to_vector());
  return out;
}

TEST(BroadcastParameters, RanksSeededDifferentlyEndWithRankZerosWeights) {
  manual_seed(100 + world().rank());
  SimpleCNN model;
  const auto before = values_of(model);
  const std::vector<std::uint64_t> hashes_before = testing::all_gather(testing::state_hash(model));
  if (world().world_size() > 1) {
    EXPECT_NE(hashes_before[0], hashes_before[1]);
  }
  broadcast_parameters(model, world());
  const std::vector<std::uint64_t> hashes = testing::all_gather(testing::state_hash(model));
  for (std::uint64_t h : hashes) EXPECT_EQ(h, hashes_before[0]);
  if (world().rank() == 0) {
    EXPECT_EQ(values_of(model), before);  // the source stays as it was
  }
}

TEST(BroadcastParameters, BuffersComeAlong) {
  manual_seed(7);
  BatchNorm2d bn(3);
  bn.running_mean.data().fill(static_cast<float>(world().rank()));
  broadcast_parameters(bn, world());
  EXPECT_EQ(bn.running_mean.to_vector(), std::vector<float>(3, 0.0f));
}

// Rank 1 has an 84-input layer where the others have 120 inputs.
TEST(BroadcastParameters, AShapeThatDiffersOnOneRankIsAnErrorOnEveryRank) {
  if (world().world_size() < 2) GTEST_SKIP() << "needs two ranks";
  Sequential model;
  model.push_back(std::make_shared<Linear>(world().rank() == 1 ? 84 : 120, 10));
  const auto before = values_of(model);
  expect_throw_with<std::invalid_argument>(
      [&] { broadcast_parameters(model, world()); },
      "broadcast_parameters: rank 1 has '0.weight' of shape [84, 10], rank 0 has [120, 10]; "
      "every rank must build the same model");
  EXPECT_EQ(values_of(model), before);  // nothing was written
}

TEST(BroadcastParameters, ATensorMissingOnTheLastRankIsNamed) {
  if (world().world_size() < 2) GTEST_SKIP() << "needs two ranks";
  const int last = world().world_size() - 1;
  Sequential model;
  model.push_back(std::make_shared<Linear>(4, 4));
  if (world().rank() != last) model.push_back(std::make_shared<Linear>(4, 2));
  expect_throw_with<std::invalid_argument>(
      [&] { broadcast_parameters(model, world()); },
      fmt::format("broadcast_parameters: rank {} has 2 tensors, rank 0 has 4 (the first one rank "
                  "{} lacks: '1.weight' of shape [4, 2])",
                  last, last));
}

}  // namespace
}  // namespace tinytorch
