// Internal helpers shared by the library's sources (never included by public headers).
// This is the one place that pulls in the heavy xtensor headers, so that compile times
// stay low and an xtensor upgrade (0.26 moved its headers) touches one file.
#pragma once

#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <xtensor/xarray.hpp>
#include <xtensor/xbroadcast.hpp>
#include <xtensor/xmanipulation.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xnoalias.hpp>
#include <xtensor/xoperation.hpp>
#include <xtensor/xreducer.hpp>

#include <tinytorch/core/tensor.hpp>

namespace tinytorch::detail {

/// The library's generator; seeded by manual_seed().
std::mt19937& rng();

/// Throws ShapeError with a formatted message. Formatting happens only on the error path.
template <class... Args>
[[noreturn]] void fail_shape(fmt::format_string<Args...> format, Args&&... args) {
  throw ShapeError(fmt::format(format, std::forward<Args>(args)...));
}

/// Throws std::invalid_argument with a formatted message.
template <class... Args>
[[noreturn]] void fail_arg(fmt::format_string<Args...> format, Args&&... args) {
  throw std::invalid_argument(fmt::format(format, std::forward<Args>(args)...));
}

template <class S>
Shape to_shape(const S& s) {
  return Shape(s.begin(), s.end());
}

inline std::size_t product(const Shape& s) {
  std::size_t n = 1;
  for (std::size_t d : s) n *= d;
  return n;
}

/// Maps a possibly negative axis into [0, ndim); throws naming `op` if out of range.
std::size_t normalize_axis(const char* op, int axis, std::size_t ndim);
/// Normalizes, sorts and de-duplicates-checks a list of axes.
std::vector<std::size_t> normalize_axes(const char* op, const std::vector<int>& axes,
                                        std::size_t ndim);
/// The NumPy broadcast of two shapes; throws ShapeError naming `op` if they do not broadcast.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

/// A shape seen as [outer, n, inner] around one axis, so kernels can loop over raw data.
struct AxisSplit {
  std::size_t outer = 1, n = 1, inner = 1;
};
AxisSplit split_at(const Shape& shape, std::size_t axis);

/// The shape `in` with `axes` set to 1 (what keepdims would give).
Shape keepdims_shape(const Shape& in, const std::vector<std::size_t>& axes);

/// Row-major C = alpha·op(A)·op(B) + beta·C with op(X) = X or Xᵀ; A is M×K, B is K×N after op.
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha,
          const float* a, const float* b, float beta, float* c);

/// Batched matmul on arrays of rank ≥ 2 with broadcast batch dims; op(X) swaps the last two.
Array batched_matmul(const Array& a, const Array& b, bool trans_a = false, bool trans_b = false);

}  // namespace tinytorch::detail
