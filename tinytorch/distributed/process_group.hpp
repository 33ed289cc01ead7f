// Distributed training — the process group: the processes mpirun started, each with a rank.
//
// Data-parallel training runs one copy of the program per process ("rank" 0 .. world_size−1).
// Every rank holds the whole model; each trains on its own part of the data and the ranks
// average what they learned (tinytorch/distributed/data_parallel.hpp). A ProcessGroup starts
// MPI (Open MPI) for the program's life and is what every collective here takes.
//
//   int main(int argc, char** argv) {
//     return run_distributed(argc, argv, [](ProcessGroup& group) {
//       fmt::print("rank {} of {}\n", group.rank(), group.world_size());
//       double mean = group.all_reduce_mean(group.rank());   // the same on every rank
//       return 0;
//     });
//   }
//
//   $ mpirun -np 4 ./program      (./program alone is a world of one: rank 0 of 1)
//
// Errors: an MPI call that fails throws DistributedError naming the call. An exception that one
// rank does not share leaves the others waiting in their next collective: run_distributed ends
// the whole job instead (every process, within seconds, with the rank's message).
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <vector>

namespace tinytorch {

/// An MPI call that failed ("MPI_Allreduce failed: ..."), or collectives used in a way that
/// cannot work (a second MPI start after MPI was finalised).
class DistributedError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The processes of this job (MPI_COMM_WORLD) and this process's place among them. The first
/// ProcessGroup of a program starts MPI (MPI_Init_thread, unless the program did) and finalises
/// it when it is destroyed; MPI starts once per program, so make one group for the program's
/// life (a group made after that finalisation throws DistributedError). Not copyable. Its
/// collectives are called from one thread (the one that runs backward).
class ProcessGroup {
 public:
  /// Starts MPI without the command line.
  ProcessGroup();
  /// Starts MPI, which may take its own arguments out of argc/argv.
  ProcessGroup(int& argc, char**& argv);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  /// This process's number, 0 .. world_size() − 1.
  int rank() const;
  /// How many processes the job has (1 when started without mpirun).
  int world_size() const;
  /// Rank 0: the one that prints, saves checkpoints and writes reports.
  bool is_primary() const { return rank() == 0; }

  /// Returns when every rank has called it.
  void barrier();
  /// The sum of `value` over all ranks, on every rank.
  double all_reduce_sum(double value);
  /// The mean of `value` over all ranks, on every rank (a loss, an accuracy).
  double all_reduce_mean(double value);
  /// Ends every process of the job at once with exit code `code` (MPI_Abort): what a rank
  /// that failed calls so that the others do not wait for it forever.
  [[noreturn]] void abort(int code);
  /// Replaces each value by its sum over all ranks, in one message (every rank passes the same
  /// count): a loss sum, a count of correct answers and a count of examples together.
  void all_reduce_sum(std::vector<double>& values);

  struct Impl;  ///< MPI's handles (tinytorch/distributed/internal/mpi.hpp)
  const Impl& impl() const { return *impl_; }

 private:
  void start(int* argc, char*** argv);
  std::unique_ptr<Impl> impl_;
};

/// Runs `body` on a ProcessGroup and returns its exit code, and makes a failure end the whole
/// job instead of leaving the other ranks waiting: an exception out of `body` (or a
/// std::terminate, e.g. from another thread) prints "rank R: <message>" to stderr and calls
/// MPI_Abort, which ends every process of the job with a non-zero exit; a non-zero return
/// does the same with that code. Use it as main's body (see the example at the top).
int run_distributed(int argc, char** argv, const std::function<int(ProcessGroup&)>& body);

}  // namespace tinytorch
