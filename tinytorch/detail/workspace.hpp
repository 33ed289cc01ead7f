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
  kCount
};

/// At least `count` floats owned by the calling thread, valid until its next call with the
/// same slot (and never shared with another thread).
float* scratch(Scratch slot, std::size_t count);

}  // namespace tinytorch::detail
