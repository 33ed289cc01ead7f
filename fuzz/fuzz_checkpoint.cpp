// Trainer::load_checkpoint on arbitrary bytes (then one training step if it loads): only
// SerializationError, and NonFiniteError from the step, may come out. Byte mutations mostly
// stop at the JSON header; fuzz_checkpoint_fields mutates a checkpoint's fields instead.
#include <cstddef>
#include <cstdint>

#include "checkpoint_harness.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::MemoryFile file(data, size);
  fuzz::load_and_train(file.path());
  return 0;
}
