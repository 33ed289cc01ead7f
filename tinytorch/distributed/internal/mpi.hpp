// Internal to tinytorch::distributed (not installed): the one header that includes <mpi.h>.
// The public headers hold no MPI type, so that their users need no MPI headers; the sources
// reach the communicator through ProcessGroup::Impl, defined here.
#pragma once

#include <climits>
#include <cstddef>

#include <mpi.h>

#include <tinytorch/distributed/process_group.hpp>

namespace tinytorch {

/// What a ProcessGroup holds: its own duplicate of MPI_COMM_WORLD (our collectives never mix
/// with the user's), whose errors are returned, not fatal.
struct ProcessGroup::Impl {
  MPI_Comm comm = MPI_COMM_NULL;
  int rank = 0;
  int world_size = 1;
  bool owns_mpi = false;  ///< this group initialised MPI, so it finalises it
};

namespace detail {

/// Throws DistributedError "<call> failed: <MPI's message>" unless `code` is MPI_SUCCESS.
void check_mpi(int code, const char* call);

/// `count` as the int MPI takes; a larger count is a DistributedError naming `op`.
int mpi_count(std::size_t count, const char* op);

/// The communicator of `group`.
inline MPI_Comm comm(const ProcessGroup& group) {
  return group.impl().comm;
}

}  // namespace detail
}  // namespace tinytorch
