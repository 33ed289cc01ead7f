// Internal to the library: the geometry every module-09 kernel loops over, shared by the fast
// kernels (spatial.cpp), the reference kernels (spatial_reference.cpp) and batch norm.
#pragma once

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

}  // namespace tinytorch::internal
