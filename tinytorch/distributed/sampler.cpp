// Distributed training — DistributedSampler: the epoch's permutation, and this rank's part.
#include <tinytorch/distributed/sampler.hpp>

#include <numeric>
#include <random>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include <tinytorch/detail/errors.hpp>

namespace tinytorch {

std::vector<std::size_t> epoch_permutation(std::size_t n, std::uint64_t seed, std::size_t epoch) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  // seed_seq takes 32 bits per value: both halves of seed and epoch.
  const std::uint64_t e = epoch;
  std::seed_seq words{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                      static_cast<std::uint32_t>(e), static_cast<std::uint32_t>(e >> 32)};
  std::mt19937_64 generator(words);
  // Fisher–Yates with a plain modulo (std::shuffle's draws differ between standard libraries);
  // its bias, below n / 2^64, is far under anything a training run can notice.
  for (std::size_t i = n; i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(generator() % i);
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

std::vector<std::size_t> shard_indices(const std::vector<std::size_t>& order, std::size_t replicas,
                                       std::size_t rank, bool drop_last) {
  if (replicas == 0) detail::fail_arg("shard_indices: expected at least 1 replica, got 0");
  if (rank >= replicas) {
    detail::fail_arg("shard_indices: rank {} is outside 0..{} for {} replicas", rank, replicas - 1,
                     replicas);
  }
  const std::size_t n = order.size();
  const std::size_t per_rank = drop_last ? n / replicas : n / replicas + (n % replicas != 0);
  std::vector<std::size_t> part(per_rank);
  // Position k of the padded order is order[k mod n]: the start repeats to fill the last round.
  for (std::size_t i = 0; i < per_rank; ++i) part[i] = order[(rank + i * replicas) % n];
  return part;
}

DistributedSampler::DistributedSampler(std::size_t replicas, std::size_t rank,
                                       DistributedSamplerOptions options)
    : replicas_(replicas), rank_(rank), options_(options) {
  if (replicas == 0) detail::fail_arg("DistributedSampler: expected at least 1 replica, got 0");
  if (rank >= replicas) {
    detail::fail_arg("DistributedSampler: rank {} is outside 0..{} for {} replicas", rank,
                     replicas - 1, replicas);
  }
}

DistributedSampler::DistributedSampler(const ProcessGroup& group, DistributedSamplerOptions options)
    : DistributedSampler(static_cast<std::size_t>(group.world_size()),
                         static_cast<std::size_t>(group.rank()), options) {}

void DistributedSampler::set_epoch(std::size_t epoch) {
  epoch_ = epoch;
  passes_this_epoch_ = 0;
}

std::size_t DistributedSampler::size(std::size_t dataset_size) const {
  const std::size_t n = dataset_size, r = replicas_;
  return options_.drop_last_ ? n / r : n / r + (n % r != 0);
}

std::vector<std::size_t> DistributedSampler::indices(std::size_t dataset_size) {
  if (options_.shuffle_ && passes_this_epoch_ > 0) {
    throw std::logic_error(fmt::format(
        "DistributedSampler: a second pass over epoch {} without set_epoch(): with shuffling "
        "on, every epoch would repeat the same order; call sampler->set_epoch(epoch) before "
        "each epoch's pass (or turn shuffling off)",
        epoch_));
  }
  ++passes_this_epoch_;
  if (!options_.shuffle_) {
    std::vector<std::size_t> order(dataset_size);
    std::iota(order.begin(), order.end(), std::size_t{0});
    return shard_indices(order, replicas_, rank_, options_.drop_last_);
  }
  return shard_indices(epoch_permutation(dataset_size, options_.seed_, epoch_), replicas_, rank_,
                       options_.drop_last_);
}

}  // namespace tinytorch
