// The io internals the library's own writers and loaders share (serialize.cpp and the
// Trainer's checkpoints): not installed, not reached from tinytorch.hpp.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <tinytorch/core/module.hpp>
#include <tinytorch/io/safetensors.hpp>

namespace tinytorch::detail {

/// save_safetensors() for the functions built on it (save, save_checkpoint): `op` starts
/// every error message, so that it names the function the user called.
void save_safetensors(const char* op, const std::string& path, const TensorMap& tensors,
                      const Metadata& metadata);

/// What a load will copy: pairs of (model tensor, file tensor), checked to fit.
struct CheckedState {
  std::vector<std::pair<Tensor, Tensor>> copies;
  /// Copies every file tensor into its model tensor's existing storage.
  void apply() const;
};

/// The checks behind load(), load_state_dict() and the Trainer's checkpoints, done before
/// anything changes: `op` and `source` (the file; "" for tensors in memory) start every error
/// message; the module's tensor "a.b" is looked up as prefix + "a.b", and with strict only names
/// that start with `prefix` count as extras.
CheckedState check_state_dict(const char* op, const std::string& source, const Module& module,
                              const TensorMap& tensors, const std::string& prefix, bool strict);

}  // namespace tinytorch::detail
