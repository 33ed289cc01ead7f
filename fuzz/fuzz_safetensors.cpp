// load_safetensors on arbitrary bytes: a SerializationError naming the file is the only
// acceptable failure.
#include <cstddef>
#include <cstdint>

#include <tinytorch/io/safetensors.hpp>

#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::MemoryFile file(data, size);
  try {
    tinytorch::Metadata metadata;
    const tinytorch::TensorMap tensors = tinytorch::load_safetensors(file.path(), &metadata);
    (void)tensors;
  } catch (const tinytorch::SerializationError&) {
  }
  return 0;
}
