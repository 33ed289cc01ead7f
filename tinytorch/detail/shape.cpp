#include <tinytorch/detail/shape.hpp>

#include <algorithm>

#include <fmt/format.h>

#include <tinytorch/detail/errors.hpp>

namespace tinytorch {

std::string shape_str(const Shape& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

}  // namespace tinytorch

namespace tinytorch::detail {

std::size_t normalize_axis(const char* op, int axis, std::size_t ndim) {
  const long n = static_cast<long>(ndim);
  const long a = axis < 0 ? axis + n : axis;
  if (a < 0 || a >= n) {
    fail_shape("{}: axis {} is out of range for a tensor of rank {}", op, axis, ndim);
  }
  return static_cast<std::size_t>(a);
}

std::vector<std::size_t> normalize_axes(const char* op, const std::vector<int>& axes,
                                        std::size_t ndim) {
  std::vector<std::size_t> out;
  out.reserve(axes.size());
  for (int axis : axes) out.push_back(normalize_axis(op, axis, ndim));
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end()) {
    fail_shape("{}: axis repeated in [{}]", op, fmt::join(axes, ", "));
  }
  return out;
}

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  // Hint: align the shapes from the right (a missing dimension counts as 1); each pair must
  // be equal or contain a 1, and the result takes the larger. Otherwise fail_shape naming op.
  // BEGIN SOLUTION 01_tensor broadcast_shapes
  const std::size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (std::size_t i = 0; i < n; ++i) {
    // Align from the right; a missing dimension acts as 1.
    const std::size_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const std::size_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1) {
      fail_shape("{}: shapes {} and {} do not broadcast", op, shape_str(a), shape_str(b));
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
  // END SOLUTION
}

AxisSplit split_at(const Shape& shape, std::size_t axis) {
  AxisSplit s;
  for (std::size_t i = 0; i < axis; ++i) s.outer *= shape[i];
  s.n = shape[axis];
  for (std::size_t i = axis + 1; i < shape.size(); ++i) s.inner *= shape[i];
  return s;
}

Shape keepdims_shape(const Shape& in, const std::vector<std::size_t>& axes) {
  Shape out = in;
  for (std::size_t a : axes) out[a] = 1;
  return out;
}

}  // namespace tinytorch::detail
