// How a Trainer trains over several processes. The Trainer knows no transport: it asks an
// object of this interface to average the gradients before each optimizer step and to sum its
// loss and accuracy figures over the processes, and lets only the primary process write files.
// tinytorch/distributed/ implements it on MPI (data_parallel(model, group)); a Trainer without
// one trains alone, as before.
//
//   Trainer trainer(model, optimizer, cross_entropy);
//   trainer.set_parallel(data_parallel(model, group));   // tinytorch/distributed
//   trainer.train_epoch(loader);   // loader: this process's part (a DistributedSampler)
#pragma once

#include <cstddef>
#include <vector>

namespace tinytorch {

class TrainerParallel {
 public:
  virtual ~TrainerParallel() = default;

  /// This process's number, 0 .. world_size() − 1; rank 0 is the primary.
  virtual int rank() const = 0;
  /// How many processes train the model together.
  virtual int world_size() const = 0;
  bool is_primary() const { return rank() == 0; }

  /// Called once per optimizer step, after the step's backward and before clipping: leaves in
  /// every parameter's grad() the mean over the processes. Every process calls it.
  virtual void average_gradients() = 0;
  /// Replaces each value by its sum over the processes, on every process.
  virtual void sum(std::vector<double>& values) = 0;
  /// Returns when every process has called it (after the primary wrote a checkpoint).
  virtual void barrier() = 0;
};

}  // namespace tinytorch
