// Module 01 — Tensor shape ops: reshape, flatten, transpose, indexing, slicing, stack. Each
// op computes a materialised result, then records its backward node (rules in autograd.cpp)
// when an input requires grad.
#include <tinytorch/core/internal/nodes.hpp>
#include <tinytorch/core/tensor.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include <tinytorch/core/autograd.hpp>
#include <tinytorch/detail/common.hpp>

namespace tinytorch {

// ---- shape ops --------------------------------------------------------------------------

namespace {

// The shape `request` asks for, with its one −1 inferred from the element count.
Shape reshape_target(const Shape& from, std::size_t size, const std::vector<long>& request) {
  // Hint: at most one −1; it becomes size / (product of the others). Any other negative
  // entry, or a product that differs from `size`, is a ShapeError naming both shapes.
  // BEGIN SOLUTION 01_tensor reshape
  Shape target(request.size());
  long known = 1;
  int unknown = -1;
  for (std::size_t i = 0; i < request.size(); ++i) {
    if (request[i] == -1) {
      if (unknown >= 0) {
        detail::fail_shape("reshape: only one dimension can be -1; got [{}]",
                           fmt::join(request, ", "));
      }
      unknown = static_cast<int>(i);
    } else if (request[i] < 0) {
      detail::fail_shape("reshape: invalid dimension {} in [{}]", request[i],
                         fmt::join(request, ", "));
    } else {
      known *= request[i];
      target[i] = static_cast<std::size_t>(request[i]);
    }
  }
  if (unknown >= 0) target[static_cast<std::size_t>(unknown)] = known == 0 ? 0 : size / known;
  if (detail::product(target) != size || (unknown >= 0 && known == 0)) {
    detail::fail_shape("reshape: total elements must match: {} has {}, [{}] asks for {}",
                       shape_str(from), size, fmt::join(request, ", "),
                       unknown >= 0 ? known : static_cast<long>(detail::product(target)));
  }
  return target;
  // END SOLUTION
}

// The request's explicit dimensions must fit a tensor before the exercise multiplies them (as
// long, where an overflow is undefined): an empty tensor must not become [2^32, 2^32].
void check_reshape_request(const Shape& from, const std::vector<long>& request) {
  Shape explicit_dims;
  for (long d : request) {
    if (d >= 0) explicit_dims.push_back(static_cast<std::size_t>(d));
  }
  try {
    detail::checked_numel("reshape", explicit_dims);
  } catch (const ShapeError&) {
    detail::fail_shape("reshape: [{}] asks for more than 2^61 - 1 elements; the tensor {} has {}",
                       fmt::join(request, ", "), shape_str(from), detail::product(from));
  }
}

}  // namespace

Tensor Tensor::reshape(const std::vector<long>& shape) const {
  check_reshape_request(this->shape(), shape);
  const Shape target = reshape_target(this->shape(), size(), shape);
  Array out = data();
  out.reshape(target);
  Tensor result(std::move(out));
  if (detail::should_record({this}))
    return detail::attach(result, std::make_shared<detail::ReshapeBackward>(*this));
  return result;
}

Tensor Tensor::flatten(int start_dim) const {
  if (ndim() == 0) return reshape({1});
  const std::size_t start = detail::normalize_axis("flatten", start_dim, ndim());
  std::vector<long> target;
  for (std::size_t i = 0; i < start; ++i) target.push_back(static_cast<long>(data().shape()[i]));
  std::size_t rest = 1;
  for (std::size_t i = start; i < ndim(); ++i) rest *= data().shape()[i];
  target.push_back(static_cast<long>(rest));
  return reshape(target);
}

namespace {

// `a` with axes d0 and d1 swapped (a new, contiguous array).
Array transpose_forward(const Array& a, std::size_t d0, std::size_t d1) {
  // Hint: build the axis permutation 0, 1, …, n−1, swap entries d0 and d1, and let
  // xt::transpose(a, perm) do the rest; assigning it to an Array makes the copy.
  // BEGIN SOLUTION 01_tensor transpose
  std::vector<std::size_t> perm(a.dimension());
  for (std::size_t i = 0; i < perm.size(); ++i) perm[i] = i;
  std::swap(perm[d0], perm[d1]);
  return xt::transpose(a, perm);
  // END SOLUTION
}

}  // namespace

Tensor Tensor::transpose(int dim0, int dim1) const {
  if (ndim() < 2) {
    // The course's 1-D transpose is the identity; an explicit axis must still exist.
    if (dim0 != -2 || dim1 != -1) {
      detail::normalize_axis("transpose", dim0, ndim());
      detail::normalize_axis("transpose", dim1, ndim());
    }
    Tensor out{Array(data())};
    if (detail::should_record({this}))
      return detail::attach(out, std::make_shared<detail::ReshapeBackward>(*this));
    return out;
  }
  const std::size_t d0 = detail::normalize_axis("transpose", dim0, ndim());
  const std::size_t d1 = detail::normalize_axis("transpose", dim1, ndim());
  Tensor out(transpose_forward(data(), d0, d1));
  if (detail::should_record({this}))
    return detail::attach(out, std::make_shared<detail::TransposeBackward>(*this, d0, d1));
  return out;
}

namespace {

// Copies whole rows (blocks of `row_size` floats along axis 0) — contiguous, so memcpy.
Array gather_rows(const Array& src, const std::vector<std::size_t>& rows, Shape out_shape) {
  // Hint: a row along axis 0 is size/shape[0] contiguous floats; memcpy row rows[i] of src
  // to row i of the result (indices were checked by the caller).
  // BEGIN SOLUTION 01_tensor gather_rows
  const std::size_t row_size =
      src.dimension() == 0 || src.shape()[0] == 0 ? 0 : src.size() / src.shape()[0];
  Array out = Array::from_shape(out_shape);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (row_size)
      std::memcpy(out.data() + i * row_size, src.data() + rows[i] * row_size,
                  row_size * sizeof(float));
  }
  return out;
  // END SOLUTION
}

}  // namespace

Tensor Tensor::operator[](long i) const {
  if (ndim() == 0) detail::fail_shape("index: cannot index a 0-d tensor");
  const long n = static_cast<long>(data().shape()[0]);
  const long row = i < 0 ? i + n : i;
  if (row < 0 || row >= n) {
    throw std::out_of_range(
        fmt::format("index: index {} is out of range for axis 0 of size {}", i, n));
  }
  const std::vector<std::size_t> rows{static_cast<std::size_t>(row)};
  Shape out_shape = shape();
  out_shape.erase(out_shape.begin());
  Tensor out(gather_rows(data(), rows, out_shape));
  if (detail::should_record({this}))
    return detail::attach(out, std::make_shared<detail::SliceBackward>(*this, rows));
  return out;
}

Tensor Tensor::slice(std::size_t start, std::size_t stop) const {
  if (ndim() == 0) detail::fail_shape("slice: cannot slice a 0-d tensor");
  const std::size_t n = data().shape()[0];
  if (start > stop || stop > n) {
    throw std::out_of_range(
        fmt::format("slice: rows [{}, {}) are out of range for axis 0 of size {}", start, stop, n));
  }
  std::vector<std::size_t> rows(stop - start);
  for (std::size_t r = 0; r < rows.size(); ++r) rows[r] = start + r;
  return index_select(rows);
}

Tensor Tensor::index_select(const std::vector<std::size_t>& indices) const {
  if (ndim() == 0) detail::fail_shape("index_select: cannot index a 0-d tensor");
  const std::size_t n = data().shape()[0];
  for (std::size_t i : indices) {
    if (i >= n) {
      throw std::out_of_range(
          fmt::format("index_select: index {} is out of range for axis 0 of size {}", i, n));
    }
  }
  Shape out_shape = shape();
  out_shape[0] = indices.size();
  detail::checked_numel("index_select", out_shape);
  Tensor out(gather_rows(data(), indices, out_shape));
  if (detail::should_record({this})) {
    return detail::attach(out, std::make_shared<detail::SliceBackward>(*this, indices));
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors) {
  if (tensors.empty()) detail::fail_shape("stack: expected at least one tensor, got none");
  const Shape item = tensors[0].shape();
  Shape out_shape{tensors.size()};
  out_shape.insert(out_shape.end(), item.begin(), item.end());
  Array out = detail::make_array("stack", out_shape);
  const std::size_t n = tensors[0].size();
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    if (tensors[i].data().shape() != tensors[0].data().shape()) {
      detail::fail_shape("stack: tensor {} has shape {}, tensor 0 has {}", i,
                         shape_str(tensors[i].shape()), shape_str(item));
    }
    std::copy(tensors[i].data().begin(), tensors[i].data().end(), out.data() + i * n);
  }
  return Tensor(std::move(out));
}

}  // namespace tinytorch
