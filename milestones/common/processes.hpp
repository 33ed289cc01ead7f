// The milestones over several processes: a program started by mpirun (Open MPI) trains one
// model over all of them, with the same recipe as alone: --batch-size is the global batch,
// each process takes batch/processes examples of it (a DistributedSampler's part of every
// epoch), gradients are averaged before every step (tinytorch/distributed), and rank 0 alone
// prints and writes files. Started without mpirun, or built without MPI, it is one process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include <tinytorch/tinytorch.hpp>

namespace milestone {

class Processes {
 public:
  /// Starts MPI when mpirun started this program (and the milestones were built with MPI);
  /// otherwise a world of one. Other ranks than 0 print nothing on stdout from here on. One
  /// per program, made first thing in main(): train_classifier finds it.
  Processes();
  /// A world of one that starts nothing (for code run without a main()'s Processes).
  struct Alone {};
  explicit Processes(Alone);
  ~Processes();
  Processes(const Processes&) = delete;
  Processes& operator=(const Processes&) = delete;

  int rank() const { return rank_; }
  int count() const { return count_; }
  bool alone() const { return count_ == 1; }

  /// The examples of each batch this process trains on: batch / count(); a batch the
  /// processes cannot share evenly is std::invalid_argument naming both numbers.
  std::size_t local_batch(std::size_t batch) const;
  /// Makes `trainer` train over every process (rank 0's weights everywhere first).
  void share(tinytorch::Module& model, tinytorch::Trainer& trainer);
  /// This process's part of each epoch (null alone); call set_epoch before every epoch.
  std::shared_ptr<tinytorch::Sampler> sampler(std::uint64_t seed);
  void set_epoch(std::size_t epoch);
  /// Rows [begin, end) of n that this process evaluates: n split in count() contiguous parts.
  std::size_t part_begin(std::size_t n) const { return n * rank_ / count_; }
  std::size_t part_end(std::size_t n) const { return n * (rank_ + 1) / count_; }

  /// The program's exit: a failure on any process ends every process (never a hang).
  int finish(int code);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int rank_ = 0, count_ = 1;
};

/// The Processes main() made, or null (then the milestones train alone).
Processes* current_processes();

}  // namespace milestone
