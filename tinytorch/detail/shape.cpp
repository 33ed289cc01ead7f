#include <tinytorch/detail/shape.hpp>

#include <algorithm>
#include <cstdint>
#include <new>

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

std::size_t checked_numel(const char* op, const Shape& shape) {
  std::size_t nonzero = 1;  // the product of the dimensions other than 0
  for (std::size_t d : shape) {
    if (d == 0) continue;
    if (d > kMaxElements / nonzero) {
      const bool empty = std::find(shape.begin(), shape.end(), 0) != shape.end();
      fail_shape(
          "{}: shape {} is too large: its dimensions{} multiply past 2^61 - 1, the most elements "
          "a tensor can index",
          op, shape_str(shape), empty ? " other than 0" : "");
    }
    nonzero *= d;
  }
  return std::find(shape.begin(), shape.end(), 0) != shape.end() ? 0 : nonzero;
}

namespace {

std::string byte_size(double bytes) {
  constexpr const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  constexpr std::size_t kUnits = sizeof units / sizeof units[0];
  std::size_t u = 0;
  while (bytes >= 1024.0 && u + 1 < kUnits) {
    bytes /= 1024.0;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} bytes", bytes) : fmt::format("{:.1f} {}", bytes, units[u]);
}

}  // namespace

Array make_array(const char* op, const Shape& shape) {
  const std::size_t n = checked_numel(op, shape);
  try {
    return Array::from_shape(shape);
  } catch (const std::bad_alloc&) {
    throw AllocationError(fmt::format("{}: cannot allocate {} for a tensor of shape {}", op,
                                      byte_size(static_cast<double>(n) * sizeof(float)),
                                      shape_str(shape)));
  }
}

std::size_t padded_length(const char* op, std::size_t in, std::size_t pad) {
  constexpr auto kMax = static_cast<std::size_t>(PTRDIFF_MAX);
  if (in > kMax || pad > (kMax - in) / 2) {
    fail_shape("{}: padding {} on a side of {} is too large (the padded side must stay below 2^63)",
               op, pad, in);
  }
  return in + 2 * pad;
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
