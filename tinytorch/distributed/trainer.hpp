// Distributed training — the Trainer over several processes. data_parallel(model, group)
// returns what Trainer::set_parallel takes (train/parallel.hpp): rank 0's weights on every
// rank to begin with, gradients averaged with a GradientAverager (fast mode: buckets
// allreduced while backward runs) before every step, the Trainer's loss and accuracy summed
// over the ranks, checkpoints written by rank 0.
//
//   return run_distributed(argc, argv, [&](ProcessGroup& group) {
//     SimpleCNN model;
//     SGD optimizer(model.parameters(), 0.05f, 0.9f);
//     Trainer trainer(model, optimizer, cross_entropy);
//     trainer.set_parallel(data_parallel(model, group));
//     auto sampler = std::make_shared<DistributedSampler>(group);
//     DataLoader loader(train_set, DataLoaderOptions(32).sampler(sampler));
//     for (std::size_t e = 0; e < epochs; ++e) {
//       sampler->set_epoch(e);
//       trainer.train_epoch(loader);     // the loss over all ranks
//     }
//     return 0;
//   });
//
// Each rank's loader gives that rank's part of the data (a DistributedSampler), so a global
// batch is world_size × the loader's batch. Gradient accumulation is refused (the averager
// averages after every backward).
#pragma once

#include <memory>
#include <vector>

#include <tinytorch/core/module.hpp>
#include <tinytorch/distributed/data_parallel.hpp>
#include <tinytorch/distributed/process_group.hpp>
#include <tinytorch/train/parallel.hpp>

namespace tinytorch {

/// The Trainer's side of fast-mode data parallelism over a ProcessGroup.
class TrainerDataParallel : public TrainerParallel {
 public:
  /// Averages `model`'s parameters' gradients over `group`, which must outlive it. Make it
  /// with data_parallel(), which first makes the ranks' weights equal.
  TrainerDataParallel(Module& model, ProcessGroup& group, GradientAveragerOptions options);

  int rank() const override;
  int world_size() const override;
  void average_gradients() override;
  void sum(std::vector<double>& values) override;
  void barrier() override;

  /// What averaging cost so far: bytes, allreduce time, the share hidden behind backward.
  const CommStats& stats() const { return averager_.stats(); }
  void reset_stats() { averager_.reset_stats(); }

 private:
  ProcessGroup& group_;
  GradientAverager averager_;
};

/// Broadcasts rank 0's parameters and buffers (broadcast_parameters: a model that differs
/// between ranks is an error naming the rank and tensor), then returns the Trainer's side of
/// fast-mode data parallelism over `group` for `model`'s parameters. A collective: every rank
/// calls it.
std::shared_ptr<TrainerDataParallel> data_parallel(
    Module& model, ProcessGroup& group, GradientAveragerOptions options = GradientAveragerOptions());

}  // namespace tinytorch
