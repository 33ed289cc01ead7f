// Distributed training — one model on every rank: broadcast_parameters copies rank 0's
// parameters and buffers to every other rank, so that all ranks start from the same weights
// (each may have initialised its model from a different seed).
//
//   SimpleCNN model;                        // random weights, different on every rank
//   broadcast_parameters(model, group);     // now rank 0's everywhere
#pragma once

#include <tinytorch/core/module.hpp>
#include <tinytorch/distributed/process_group.hpp>

namespace tinytorch {

/// Copies every tensor of model.state_dict() (parameters, then buffers) from rank 0 into the
/// same tensors of every rank, in place (optimizers holding them keep working). First every
/// rank checks that all ranks have the same tensors: the same count, names and shapes, in the
/// same order. A difference throws std::invalid_argument on every rank (never a hang), naming
/// the first rank that differs from rank 0 and the first tensor where it does:
///   "broadcast_parameters: rank 1 has 'fc.weight' of shape [84, 10], rank 0 has [120, 10]".
/// An MPI failure is a DistributedError. A collective: every rank calls it.
void broadcast_parameters(Module& model, ProcessGroup& group);

}  // namespace tinytorch
