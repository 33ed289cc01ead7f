// Scratch memory for kernels: one set of growing buffers per thread, kept between calls, so
// that a training step does not allocate (and page-fault) its temporaries every time: im2col
// columns, their gradients, reordered gradients. Contents are undefined on return.
//
//   float* cols = detail::scratch(detail::Scratch::kColumns, taps * positions);
#pragma once

#include <cstddef>

namespace tinytorch::detail {

/// The buffers a thread can hold at once; a kernel uses each slot for one purpose.
enum class Scratch {
  kColumns,      ///< im2col columns of one image
  kColumnGrads,  ///< their gradient
  kPadded,       ///< one zero-padded input image
  kPaddedGrad,   ///< its gradient
  kPartials,     ///< per-task partial sums (taken by the thread that starts the tasks)
  kTransposed,   ///< a product's right operand, transposed (detail/small_gemm.cpp)
  kCount
};

/// At least `count` floats owned by the calling thread, valid until its next call with the
/// same slot (and never shared with another thread).
float* scratch(Scratch slot, std::size_t count);

/// glibc's thresholds keep_freed_memory() sets: blocks up to 64 MB come from the heap, and up
/// to 512 MB of free memory stays at its top.
constexpr std::size_t kKeptMmapThreshold = std::size_t{64} << 20;
constexpr std::size_t kKeptTrimThreshold = std::size_t{512} << 20;

/// Keeps freed memory of the arrays a training step allocates in the heap for the next step,
/// instead of returning it to the system and page-faulting it back in (glibc's defaults:
/// blocks over 128 KB are mmap-ed, and free memory over 128 KB at the top of the heap is
/// returned): in training, that churn can cost more than the arithmetic of small layers.
/// Sets glibc's mmap and trim thresholds once (64 MB, 512 MB), unless MALLOC_* variables or
/// GLIBC_TUNABLES already tune malloc; a no-op elsewhere. The batch kernels call it; calling it again does nothing.
void keep_freed_memory();

}  // namespace tinytorch::detail
