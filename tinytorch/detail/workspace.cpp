#include <tinytorch/detail/workspace.hpp>

#include <array>
#include <cstdlib>
#include <memory>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

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

void keep_freed_memory() {
  static const bool done = [] {
#if defined(__GLIBC__)
    const bool user_tuned = std::getenv("GLIBC_TUNABLES") || std::getenv("MALLOC_TRIM_THRESHOLD_") ||
                            std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("MALLOC_TOP_PAD_");
    if (!user_tuned) {
      mallopt(M_MMAP_THRESHOLD, static_cast<int>(kKeptMmapThreshold));
      mallopt(M_TRIM_THRESHOLD, static_cast<int>(kKeptTrimThreshold));
    }
#endif
    return true;
  }();
  (void)done;
}

}  // namespace tinytorch::detail
