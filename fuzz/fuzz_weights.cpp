// load(model, path) on arbitrary bytes, strict and not: a SerializationError is the only
// acceptable failure, and a file that loads must leave every weight with its shape.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include <tinytorch/io/serialize.hpp>

#include "checkpoint_harness.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::MemoryFile file(data, size);
  for (const bool strict : {true, false}) {
    auto model = fuzz::small_model();
    const auto before = model->state_dict();
    try {
      tinytorch::load(*model, file.path(), strict);
    } catch (const tinytorch::SerializationError&) {
    }
    const auto after = model->state_dict();
    for (std::size_t i = 0; i < after.size(); ++i) {
      if (after[i].second.shape() != before[i].second.shape()) std::abort();
    }
  }
  return 0;
}
