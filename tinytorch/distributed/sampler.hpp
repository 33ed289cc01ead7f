// Distributed training — DistributedSampler: each rank's part of every epoch.
//
// Every rank draws the same permutation of the dataset for an epoch (from the seed and the
// epoch number alone) and takes every world_size-th index of it, starting at its rank, so the
// parts are disjoint and together cover the epoch, as torch.utils.data.DistributedSampler does:
//
//   n = 10 examples, 4 ranks, the epoch's permutation p = [p0 p1 ... p9]:
//     drop_last = false: each rank gets ceil(10/4) = 3; p is padded to 12 by repeating its
//       start (p0 p1), rank r gets p[r], p[r+4], p[r+8]: rank 0 {p0 p4 p8}, rank 2 {p2 p6 p0}
//       — two examples are seen twice, and every rank runs the same number of steps
//     drop_last = true: each rank gets floor(10/4) = 2; p8 and p9 are left out this epoch
//
//   auto sampler = std::make_shared<DistributedSampler>(group);     // shuffle on, seed 0
//   DataLoader loader(train_set, DataLoaderOptions(32).sampler(sampler));
//   for (std::size_t epoch = 0; epoch < epochs; ++epoch) {
//     sampler->set_epoch(epoch);        // a new permutation, the same on every rank
//     for (const Batch& batch : loader) ...
//   }
//
// Forgetting set_epoch would give every epoch the same order. With shuffling on, a second pass
// without set_epoch in between is a std::logic_error instead of that silent repetition.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <tinytorch/data/loader.hpp>
#include <tinytorch/distributed/process_group.hpp>

namespace tinytorch {

/// 0 .. n−1 shuffled by a Fisher–Yates shuffle driven by mt19937_64 seeded from (seed, epoch):
/// the same on every rank, every platform and every standard library.
std::vector<std::size_t> epoch_permutation(std::size_t n, std::uint64_t seed, std::size_t epoch);

/// Rank `rank`'s part of an epoch's `order` split over `replicas` ranks: order[rank],
/// order[rank + replicas], ... With drop_last the tail that does not fill a round is dropped
/// (each rank gets floor(n / replicas)); without it `order` is padded by repeating it from the
/// start until every rank gets ceil(n / replicas). replicas 0 or rank >= replicas is
/// std::invalid_argument.
std::vector<std::size_t> shard_indices(const std::vector<std::size_t>& order, std::size_t replicas,
                                       std::size_t rank, bool drop_last);

/// Options with chained setters: DistributedSamplerOptions().seed(7).drop_last(true).
struct DistributedSamplerOptions {
  /// A new permutation every epoch (set_epoch); off: the dataset's own order.
  DistributedSamplerOptions& shuffle(bool on) {
    shuffle_ = on;
    return *this;
  }
  /// The permutations' seed: the same on every rank, or the parts overlap.
  DistributedSamplerOptions& seed(std::uint64_t s) {
    seed_ = s;
    return *this;
  }
  /// Drop the tail that does not divide evenly instead of padding (see the top of the file).
  DistributedSamplerOptions& drop_last(bool on) {
    drop_last_ = on;
    return *this;
  }

  bool shuffle_ = true;
  std::uint64_t seed_ = 0;
  bool drop_last_ = false;
};

/// This rank's part of every epoch, for DataLoaderOptions::sampler.
class DistributedSampler : public Sampler {
 public:
  /// Rank `rank` of `replicas` (no MPI needed: tests and tools can play any rank).
  DistributedSampler(std::size_t replicas, std::size_t rank,
                     DistributedSamplerOptions options = {});
  /// This process's rank in `group`.
  explicit DistributedSampler(const ProcessGroup& group, DistributedSamplerOptions options = {});

  /// The epoch whose permutation the next pass takes; call it before every epoch.
  void set_epoch(std::size_t epoch);
  std::size_t epoch() const { return epoch_; }

  /// ceil(n / replicas), or floor(n / replicas) with drop_last.
  std::size_t size(std::size_t dataset_size) const override;
  /// This rank's part of the current epoch. With shuffling, a second pass over the same epoch
  /// (no set_epoch since the last one) is a std::logic_error.
  std::vector<std::size_t> indices(std::size_t dataset_size) override;

 private:
  std::size_t replicas_, rank_;
  DistributedSamplerOptions options_;
  std::size_t epoch_ = 0;
  std::size_t passes_this_epoch_ = 0;
};

}  // namespace tinytorch
