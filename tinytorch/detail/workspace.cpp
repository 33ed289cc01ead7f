#include <tinytorch/detail/workspace.hpp>

#include <array>
#include <memory>

namespace tinytorch::detail {

namespace {

struct Buffer {
  std::unique_ptr<float[]> data;
  std::size_t capacity = 0;
};

}  // namespace

float* scratch(Scratch slot, std::size_t count) {
  thread_local std::array<Buffer, static_cast<std::size_t>(Scratch::kCount)> buffers;
  Buffer& b = buffers[static_cast<std::size_t>(slot)];
  if (b.capacity < count) {  // grow only: the same shapes come back every step
    b.data.reset(new float[count]);
    b.capacity = count;
  }
  return b.data.get();
}

}  // namespace tinytorch::detail
