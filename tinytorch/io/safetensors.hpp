// Reading and writing tensors in the safetensors format, the file format of Hugging Face's
// `safetensors` package, which PyTorch, NumPy (python/tinytorch_io.py) and others read.
//
//   file    = u64 little-endian header length n, n bytes of JSON header, then the data
//   header  = {"<name>": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//              "__metadata__": {"key": "string value"}}        (metadata optional)
//   data    = each tensor's elements, row-major and little-endian, at [begin, end) of the data
//             section; the offsets tile it exactly (no gaps, no overlaps)
//
// Writing always stores F32. Reading accepts F32, F64, F16, BF16, I64 and I32 and converts
// every element to float (F64 values beyond float range become ±inf; integers above 2^24
// round to the nearest float); any other dtype is an error naming the file and the tensor.
//
//   save_safetensors("out/tensors.safetensors", {{"w", Tensor({1, 2, 3})}}, {{"note", "hi"}});
//   Metadata meta;
//   TensorMap loaded = load_safetensors("out/tensors.safetensors", &meta);   // loaded["w"]
#pragma once

#include <map>
#include <stdexcept>
#include <string>

#include <tinytorch/core/tensor.hpp>

namespace tinytorch {

/// Tensors by name, in name order (the order safetensors writers use).
using TensorMap = std::map<std::string, Tensor>;
/// The string-to-string "__metadata__" of a safetensors file.
using Metadata = std::map<std::string, std::string>;

// SerializationError (a file that cannot be read or written, or does not fit the model) is
// declared in tinytorch/types.hpp, which every public header includes.

/// Writes every tensor as F32, atomically: into a temporary file beside `path` that is then
/// renamed over it, so a crash never leaves half a file. Creates missing parent directories.
/// A `path` that is a symbolic link keeps being one: its target gets the new contents (see
/// detail/atomic_file.hpp). An empty path or one with a NUL byte, an undefined tensor, the
/// reserved name "__metadata__", and names or metadata that are not valid UTF-8 (JSON holds
/// nothing else) are std::invalid_argument.
void save_safetensors(const std::string& path, const TensorMap& tensors,
                      const Metadata& metadata = {});

/// Reads every tensor of a safetensors file (F32, F64, F16, BF16, I64 or I32, converted to
/// float) and, if asked, its metadata. The whole file is checked before anything is returned;
/// any problem (missing file, a directory, bad header, a tensor named twice, unknown dtype,
/// byte size that disagrees with the shape) throws SerializationError naming the file and the
/// tensor. An empty path or one with a NUL byte is std::invalid_argument.
TensorMap load_safetensors(const std::string& path, Metadata* metadata = nullptr);

}  // namespace tinytorch
