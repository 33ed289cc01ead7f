// Saving and loading a model's weights: every parameter and buffer of a Module (its
// state_dict(), under the same dotted names) in one safetensors file. No optimizer, no
// Trainer: the file holds the model and nothing else (module 07's Trainer checkpoints add the
// optimizer and the loop's state on top of the same format).
//
// Loading checks everything before it changes anything: every name the model has must be in
// the file with the same shape, and (unless strict is false) the file must hold nothing else.
// A failed load throws SerializationError naming the file and the tensors at fault and leaves
// the model exactly as it was. Values are copied into the model's existing tensors, so
// optimizers holding them keep working.
//
// Files from PyTorch or NumPy load too (F64, F16, BF16, I64 and I32 are converted to float),
// with one difference to keep in mind: tinytorch's Linear weight is [in, out], torch.nn.Linear's
// is [out, in], so Linear weights are transposed on the way (python/tinytorch_io.py does it).
//
//   SimpleCNN model;
//   ... train ...
//   save(model, "simple_cnn.safetensors");
//   SimpleCNN restored;
//   load(restored, "simple_cnn.safetensors");
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <tinytorch/core/module.hpp>
#include <tinytorch/io/safetensors.hpp>

namespace tinytorch {

/// The metadata "format" value that save() writes.
inline constexpr const char* kWeightsFormat = "tinytorch-weights-1";

/// Writes module.state_dict() (parameters and buffers, F32) to `path`, atomically, with
/// metadata {"format": "tinytorch-weights-1"} plus `metadata`.
void save(const Module& module, const std::string& path, const Metadata& metadata = {});

/// Reads `path` into module's parameters and buffers, matched by name. strict = false ignores
/// tensors the model does not have; a tensor the model has but the file lacks is always an
/// error. Throws SerializationError (file, tensor, what was expected) and then changes nothing.
/// save() and load() throw std::invalid_argument for an empty path or one with a NUL byte.
void load(Module& module, const std::string& path, bool strict = true);

/// As load(), from tensors already in memory (named as in module.state_dict()).
void load_state_dict(Module& module, const TensorMap& tensors, bool strict = true);

}  // namespace tinytorch
