// Internal to the library: the geometry every module-09 kernel loops over, shared by the fast
// kernels (spatial.cpp, pooling.cpp), the reference kernels (spatial_reference.cpp) and batch
// norm.
#pragma once

#include <algorithm>
#include <cstddef>

#include <tinytorch/core/tensor.hpp>
#include <tinytorch/detail/errors.hpp>
#include <tinytorch/detail/shape.hpp>

namespace tinytorch::internal {

// The sizes every kernel below loops over (shape legend in spatial.hpp).
struct Geometry {
  std::size_t n, c, h, w;  // input
  std::size_t kh, kw, stride, pad;
  std::size_t ho, wo;  // output
  std::size_t out_plane() const { return ho * wo; }
};

/// The geometry of a window op over x [N, C, H, W]: checks the rank, the window (kernel and
/// stride at least 1, kernel within the padded input, stride not past it), and gives the
/// output size. Errors name `op`.
Geometry geometry(const char* op, const Shape& x, std::size_t kh, std::size_t kw,
                  std::size_t stride, std::size_t padding);

/// Throws std::invalid_argument "<op>: <what> is undefined" for an undefined tensor.
void check_defined(const char* op, const char* what, const Tensor& t);

/// Pooling pads by at most half the kernel (so every window holds an input value): otherwise
/// std::invalid_argument "<op>: padding 2 must be at most half the kernel 3x3".
void check_pool_padding(const char* op, std::size_t pad, std::size_t kh, std::size_t kw);

// Input row (or column) read by output position `o` at kernel offset `k`; negative or past
// the edge when it falls in the padding.
inline long source_index(std::size_t o, std::size_t k, const Geometry& geo) {
  return static_cast<long>(o * geo.stride + k) - static_cast<long>(geo.pad);
}

// A half-open range [first, last) of indices.
struct Span {
  std::size_t first, last;
};

// The kernel taps [first, last) of window `o` that read inside an input of length `size` (the
// others fall in the padding). Pooling uses it to run its inner loops without bounds checks.
inline Span taps_inside(std::size_t o, std::size_t kernel, std::size_t size, const Geometry& geo) {
  const long start = static_cast<long>(o * geo.stride) - static_cast<long>(geo.pad);
  const long first = std::max(0L, -start);
  const long last = std::min(static_cast<long>(kernel), static_cast<long>(size) - start);
  return {static_cast<std::size_t>(first), static_cast<std::size_t>(std::max(first, last))};
}

}  // namespace tinytorch::internal
