#include <tinytorch/detail/common.hpp>

#include <algorithm>

#include <cblas.h>

namespace tinytorch {

void manual_seed(std::uint64_t seed) {
  detail::rng().seed(static_cast<std::mt19937::result_type>(seed));
}

void set_num_threads(int n) {
  if (n < 1) detail::fail_arg("set_num_threads: expected a count >= 1, got {}", n);
  openblas_set_num_threads(n);
}

int get_num_threads() {
  return openblas_get_num_threads();
}

std::string shape_str(const Shape& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

}  // namespace tinytorch

namespace tinytorch::detail {

std::mt19937& rng() {
  static std::mt19937 generator(42);
  return generator;
}

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

void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha,
          const float* a, const float* b, float beta, float* c) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // BLAS leaves C untouched when K = 0; the product of empty matrices is 0.
    for (std::size_t i = 0; i < m * n; ++i) c[i] = beta == 0.0f ? 0.0f : beta * c[i];
    return;
  }
  const int lda = static_cast<int>(trans_a ? m : k);
  const int ldb = static_cast<int>(trans_b ? k : n);
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
              trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
              static_cast<int>(k), alpha, a, lda, b, ldb, beta, c, static_cast<int>(n));
}

namespace {

// Points at the data of `x` with its batch dims broadcast to `batch`: `x` itself when no
// broadcast is needed, otherwise a contiguous broadcast copy kept in `storage`.
const float* expand_batch(const Array& x, const Shape& batch, Array& storage) {
  Shape target = batch;
  target.push_back(x.shape()[x.dimension() - 2]);
  target.push_back(x.shape()[x.dimension() - 1]);
  if (std::equal(target.begin(), target.end(), x.shape().begin(), x.shape().end())) {
    return x.data();
  }
  storage = xt::broadcast(x, target);
  return storage.data();
}

}  // namespace

Array batched_matmul(const Array& a, const Array& b, bool trans_a, bool trans_b) {
  const std::size_t ra = a.dimension(), rb = b.dimension();
  const std::size_t m = trans_a ? a.shape()[ra - 1] : a.shape()[ra - 2];
  const std::size_t k = trans_a ? a.shape()[ra - 2] : a.shape()[ra - 1];
  const std::size_t n = trans_b ? b.shape()[rb - 2] : b.shape()[rb - 1];
  const Shape batch = broadcast_shapes("matmul", Shape(a.shape().begin(), a.shape().end() - 2),
                                       Shape(b.shape().begin(), b.shape().end() - 2));
  Array a_storage, b_storage;
  const float* pa = expand_batch(a, batch, a_storage);
  const float* pb = expand_batch(b, batch, b_storage);
  Shape out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(n);
  Array out = Array::from_shape(out_shape);
  const std::size_t count = product(batch);
  for (std::size_t i = 0; i < count; ++i) {
    gemm(trans_a, trans_b, m, n, k, 1.0f, pa + i * m * k, pb + i * k * n, 0.0f,
         out.data() + i * m * n);
  }
  return out;
}

}  // namespace tinytorch::detail
