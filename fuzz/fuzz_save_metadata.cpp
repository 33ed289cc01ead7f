// save_safetensors then load_safetensors with tensor names and metadata made of arbitrary
// bytes (non-UTF-8, NULs, control bytes, "__metadata__", names that collide once cut): a save
// either throws std::invalid_argument, for a name or metadata JSON cannot hold, or writes a file
// that loads back with the same names, values and metadata. Anything else (nlohmann's own
// type_error, a crash, a round trip that changes a byte) is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include <stdlib.h>
#include <unistd.h>

#include <fuzzer/FuzzedDataProvider.h>

#include <tinytorch/detail/text.hpp>
#include <tinytorch/io/safetensors.hpp>

namespace {

/// A folder of this process's own for the file each input is saved to, removed at exit.
class ScratchFile {
 public:
  ScratchFile() {
    char dir[] = "/tmp/fuzz_save_metadata.XXXXXX";
    if (::mkdtemp(dir) == nullptr) std::abort();
    dir_ = dir;
    path_ = dir_ + "/file.safetensors";
  }
  ~ScratchFile() {
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string dir_, path_;
};

const std::string& scratch_file() {
  static const ScratchFile file;
  return file.path();
}

bool same_bits(float a, float b) {
  std::uint32_t x, y;
  std::memcpy(&x, &a, sizeof x);
  std::memcpy(&y, &b, sizeof y);
  return x == y;
}

/// Whether save_safetensors may refuse these (and must, see the round trip below).
bool savable(const tinytorch::TensorMap& tensors, const tinytorch::Metadata& metadata) {
  for (const auto& [name, t] : tensors) {
    if (name == "__metadata__" || !tinytorch::detail::is_utf8(name)) return false;
  }
  for (const auto& [key, value] : metadata) {
    if (!tinytorch::detail::is_utf8(key) || !tinytorch::detail::is_utf8(value)) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  tinytorch::TensorMap tensors;
  const std::size_t n_tensors = in.ConsumeIntegralInRange<std::size_t>(0, 3);
  for (std::size_t i = 0; i < n_tensors; ++i) {
    const std::string name = in.ConsumeRandomLengthString(32);
    tensors[name] = tinytorch::Tensor({in.ConsumeFloatingPoint<float>()});
  }
  tinytorch::Metadata metadata;
  const std::size_t n_metadata = in.ConsumeIntegralInRange<std::size_t>(0, 3);
  for (std::size_t i = 0; i < n_metadata; ++i) {
    const std::string key = in.ConsumeRandomLengthString(32);
    metadata[key] = in.ConsumeRandomLengthString(64);
  }

  const std::string& path = scratch_file();
  try {
    tinytorch::save_safetensors(path, tensors, metadata);
  } catch (const std::invalid_argument&) {
    if (savable(tensors, metadata)) std::abort();  // refused what the format can hold
    return 0;
  }
  if (!savable(tensors, metadata)) std::abort();  // wrote what JSON cannot hold

  tinytorch::Metadata loaded_metadata;
  const tinytorch::TensorMap loaded = tinytorch::load_safetensors(path, &loaded_metadata);
  if (loaded_metadata != metadata || loaded.size() != tensors.size()) std::abort();
  for (const auto& [name, t] : tensors) {
    const auto it = loaded.find(name);
    if (it == loaded.end() || it->second.shape() != t.shape()) std::abort();
    // Bit for bit, NaN payloads included.
    if (!same_bits(t.data().data()[0], it->second.data().data()[0])) std::abort();
  }
  return 0;
}
