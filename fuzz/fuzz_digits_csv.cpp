// read_digits_csv on arbitrary bytes: a DatasetError naming the file and line is the only
// acceptable failure; anything else (another exception, a crash, a sanitizer report, a
// timeout or running out of memory) is a finding.
#include <cstddef>
#include <cstdint>

#include <tinytorch/data/datasets.hpp>

#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::MemoryFile file(data, size);
  try {
    const tinytorch::LabeledImages digits = tinytorch::read_digits_csv(file.path());
    (void)digits;
  } catch (const tinytorch::DatasetError&) {
  }
  return 0;
}
