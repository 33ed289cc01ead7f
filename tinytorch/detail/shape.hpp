// Shapes: the axis and broadcasting arithmetic behind the ops' shape checks (Shape and Array
// themselves are public: tinytorch/types.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <tinytorch/types.hpp>

namespace tinytorch::detail {

template <class S>
Shape to_shape(const S& s) {
  return Shape(s.begin(), s.end());
}

inline std::size_t product(const Shape& s) {
  std::size_t n = 1;
  for (std::size_t d : s) n *= d;
  return n;
}

/// The most elements a tensor may have: its bytes must fit a ptrdiff_t, which xtensor's strides
/// and every pointer difference use (2^61 − 1 floats).
inline constexpr std::size_t kMaxElements = PTRDIFF_MAX / sizeof(float);

/// The element count of `shape`, checked once for every shape the library makes: the
/// dimensions, zeros left out, must multiply to at most kMaxElements (an empty tensor's strides
/// still multiply its other dimensions). Otherwise ShapeError "<op>: shape [...] is too large".
std::size_t checked_numel(const char* op, const Shape& shape);

/// An uninitialised array of `shape` (checked_numel), whose failed allocation is an
/// AllocationError naming op, shape and size instead of a bare std::bad_alloc.
Array make_array(const char* op, const Shape& shape);

/// in + 2·pad (a padded image side), or ShapeError when it would not fit the signed index
/// arithmetic of the kernels (it is at most PTRDIFF_MAX).
std::size_t padded_length(const char* op, std::size_t in, std::size_t pad);

/// Maps a possibly negative axis into [0, ndim); throws naming `op` if out of range.
std::size_t normalize_axis(const char* op, int axis, std::size_t ndim);
/// Normalizes, sorts and checks a list of axes for repeats.
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

}  // namespace tinytorch::detail
