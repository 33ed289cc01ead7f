// The distributed tests' shared pieces: the program's one ProcessGroup (MPI starts once per
// process) and helpers that look across ranks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <tinytorch/core/module.hpp>
#include <tinytorch/distributed/process_group.hpp>

namespace tinytorch::testing {

/// The group mpi_main.cpp made for the whole test program.
ProcessGroup& world();

/// FNV-1a over the bytes of every tensor of model.state_dict(): equal weights, equal hash.
std::uint64_t state_hash(const Module& model);

/// `value` from every rank, in rank order, on every rank.
std::vector<std::uint64_t> all_gather(std::uint64_t value);

/// `values` (the same count on every rank) from every rank, rank after rank, on every rank.
std::vector<std::size_t> all_gather(const std::vector<std::size_t>& values);

}  // namespace tinytorch::testing
