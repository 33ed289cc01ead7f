// tinytorch::distributed — data-parallel training on MPI (Open MPI): every public header of
// the part. Link tinytorch::distributed (built when CMake finds MPI); tinytorch.hpp does not
// include this, so programs that do not train across processes need no MPI.
//
//   process_group.hpp   ProcessGroup (rank, world_size, barrier, all_reduce_mean), run_distributed
//   broadcast.hpp       broadcast_parameters: rank 0's weights on every rank
//   sampler.hpp         DistributedSampler: each rank's part of every epoch
//   data_parallel.hpp   GradientAverager (fast, overlapped), DeterministicDataParallel
//                       (bit-identical for any number of processes)
//   trainer.hpp         data_parallel(model, group): the Trainer over all ranks
#pragma once

// clang-format off
#include <tinytorch/distributed/process_group.hpp>
#include <tinytorch/distributed/broadcast.hpp>
#include <tinytorch/distributed/sampler.hpp>
#include <tinytorch/distributed/data_parallel.hpp>
#include <tinytorch/distributed/trainer.hpp>
// clang-format on
