// Distributed training — data parallelism: every rank holds the same model, computes gradients
// on its own part of the batch, and the ranks average them, so that every rank takes the same
// optimizer step. Two ways to average:
//
//   GradientAverager (fast)   each rank runs forward and backward on its part of the batch.
//     Gradients are grouped into buckets of about 64 KB, in reverse parameter order (backward
//     produces the last layer's gradients first); as soon as backward has finished every
//     gradient of a bucket, the bucket is summed over the ranks with a non-blocking allreduce
//     (MPI_Iallreduce), while backward goes on with the earlier layers. finish() waits for the
//     rest and divides by world_size:  g = (1/W)·Σ_r g_r.
//     Promise: the mean over ranks of each rank's gradient, up to float rounding (the sum's
//     order is MPI's); for a mean loss over equal parts that is the whole batch's gradient.
//
//       GradientAverager averager(model.parameters(), group);
//       Tensor loss = cross_entropy(model(x_mine), y_mine);
//       optimizer.zero_grad();
//       loss.backward();            // buckets start while backward runs
//       averager.finish();          // every grad() now holds the mean over ranks
//       optimizer.step();
//
//   DeterministicDataParallel (bit-identical)   the global batch is cut into S fixed shards
//     (S a multiple of world_size); each rank runs forward and backward on each of its shards
//     separately, the shards' gradients are gathered on every rank (MPI_Allgather), and every
//     rank adds them in shard order with the same float operations:  g = (Σ_{s=0}^{S−1} g_s)·(1/S).
//     Promise: for the same global batches, shard count, seed and starting weights, the weights
//     after every step are bit for bit the same whatever the number of processes (1, 2, 4, ...)
//     and of threads. Buffers (BatchNorm's running statistics) follow the same rule: every
//     shard's forward starts from the same snapshot of the buffers, and the new buffers are
//     (Σ_s b_s)·(1/S) of each shard's result. Each shard's BatchNorm normalises with that
//     shard's own statistics. Dropout draws from a generator seeded by (seed, step, shard).
//     The price: a shard of B/S examples per forward (less batching than B/W), and S gradient
//     copies in memory.
//
//       DeterministicDataParallel ddp(model, group, /*shards=*/4);
//       double loss = ddp.step(images, labels, cross_entropy, optimizer);   // the global batch
//
// Both need the same weights on every rank to begin with: call broadcast_parameters first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <tinytorch/core/module.hpp>
#include <tinytorch/core/optimizers.hpp>
#include <tinytorch/core/tensor.hpp>
#include <tinytorch/distributed/process_group.hpp>

namespace tinytorch {

/// Options with chained setters: GradientAveragerOptions().bucket_bytes(4 << 20).
struct GradientAveragerOptions {
  /// A bucket is closed once it holds at least this many bytes of gradients (default 64 KiB;
  /// a parameter larger than that is a bucket of its own). 0 is std::invalid_argument. Small,
  /// because the models here are: LeNet-5's gradients (247 KB) in one bucket could only be
  /// sent after the whole backward, with nothing left to overlap.
  GradientAveragerOptions& bucket_bytes(std::size_t n) {
    bucket_bytes_ = n;
    return *this;
  }
  /// Start each bucket's allreduce during backward (default). Off: all of them in finish(),
  /// after backward, which is what the overlap is measured against.
  GradientAveragerOptions& overlap(bool on) {
    overlap_ = on;
    return *this;
  }

  std::size_t bucket_bytes_ = std::size_t{64} << 10;
  bool overlap_ = true;
};

/// What averaging cost, summed over the steps since construction or reset_stats().
struct CommStats {
  std::size_t steps = 0;           ///< finish() calls
  std::size_t allreduces = 0;      ///< buckets averaged
  std::size_t bytes = 0;           ///< gradient bytes averaged
  /// Time from each step's first allreduce start until finish() saw the last one done.
  double allreduce_seconds = 0.0;
  /// Time finish() waited for the allreduces: the part backward did not hide. It includes
  /// waiting for slower ranks to reach the same bucket.
  double wait_seconds = 0.0;
  double backward_seconds = 0.0;  ///< each step's first to last gradient reported
  /// The share of the allreduces' time that passed while backward was still running:
  /// 1 − wait_seconds / allreduce_seconds, in [0, 1] (0 without overlap or allreduce).
  double hidden_share() const;
};

/// Fast mode: averages the gradients of `parameters` over the group, bucket by bucket, during
/// backward (see the top of the file). Listens to backward through a LeafGradientHook on the
/// thread that makes it, so backward must run on that thread. One backward per finish():
/// a parameter that gets a second gradient before finish() is a std::logic_error. Parameters
/// that get no gradient in a step count as zeros, and after finish() hold the mean of the
/// other ranks' gradients (zeros when no rank had one), so no rank waits for a bucket forever.
/// Every rank must make its averager from the same parameters (count and sizes), in the same
/// order.
class GradientAverager {
 public:
  /// `parameters` must not be empty (std::invalid_argument).
  GradientAverager(std::vector<Tensor> parameters, ProcessGroup& group,
                   GradientAveragerOptions options = GradientAveragerOptions());
  ~GradientAverager();
  GradientAverager(const GradientAverager&) = delete;
  GradientAverager& operator=(const GradientAverager&) = delete;

  /// Starts what backward left, waits for every bucket and writes the means into grad().
  /// A collective: every rank calls it once per step, after its backward.
  void finish();

  /// How the parameters were grouped: bucket i holds these parameter indices (into the list
  /// given to the constructor), the last parameters first.
  std::vector<std::vector<std::size_t>> buckets() const;
  const CommStats& stats() const;
  void reset_stats();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Deterministic mode: one training step on a global batch cut into `shards` fixed shards
/// (see the top of the file).
class DeterministicDataParallel {
 public:
  /// The loss of one shard: (model output, targets) → 0-d tensor (cross_entropy fits).
  using Loss = std::function<Tensor(const Tensor& output, const Tensor& target)>;

  /// `shards` must be a positive multiple of group.world_size() (std::invalid_argument:
  /// "DeterministicDataParallel: 6 shards cannot be split evenly over 4 ranks"). `seed`
  /// seeds the per-shard generator (dropout).
  DeterministicDataParallel(Module& model, ProcessGroup& group, std::size_t shards,
                            std::uint64_t seed = 0);

  /// Sets every parameter's grad() to the shard-ordered mean of the shards' gradients and
  /// every buffer to the shard-ordered mean of the shards' buffers; returns the mean of the
  /// shards' losses (the same on every rank). `inputs` and `targets` are the whole global
  /// batch, the same on every rank (each rank reads only its shards' rows); its size must be
  /// a multiple of the shard count (std::invalid_argument). A collective.
  double compute_gradients(const Tensor& inputs, const Tensor& targets, const Loss& loss);
  /// compute_gradients, then optimizer.step(); returns the mean loss.
  double step(const Tensor& inputs, const Tensor& targets, const Loss& loss, Optimizer& optimizer);

  std::size_t shards() const { return shards_; }
  /// The shards this rank computes: [first_shard(), first_shard() + shards()/world_size).
  std::size_t first_shard() const;
  /// Steps taken so far (it seeds the per-shard generator).
  std::uint64_t steps() const { return steps_; }

 private:
  /// Forward and backward of shard `s`; appends its gradients, buffers and loss to `out`.
  void run_shard(std::size_t s, const Tensor& inputs, const Tensor& targets, const Loss& loss,
                 const std::vector<float>& buffer_snapshot, std::vector<float>& out);
  /// Writes the shard-ordered mean of the gathered records into the grads and buffers;
  /// returns the mean loss.
  double apply_means(const std::vector<float>& records);

  Module& model_;
  ProcessGroup& group_;
  std::size_t shards_;
  std::uint64_t seed_;
  std::uint64_t steps_ = 0;
  std::vector<Tensor> parameters_, buffers_;
  std::size_t parameter_values_ = 0, buffer_values_ = 0;
};

}  // namespace tinytorch
