#include <tinytorch/detail/blas.hpp>

#include <algorithm>

#include <cblas.h>
#include <tinytorch/detail/small_gemm.hpp>
#include <xtensor/xbroadcast.hpp>

namespace tinytorch::detail {

namespace {

// OpenBLAS would otherwise start its own threads inside our tasks (or, on one thread, split
// every small product over all cores, which made two threads slower than one).
void hold_openblas_to_one_thread() {
  static const bool held = [] {
    openblas_set_num_threads(1);
    return true;
  }();
  (void)held;
}

}  // namespace

void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha,
          const float* a, const float* b, float beta, float* c) {
  if (m == 0 || n == 0) return;
  if (alpha == 1.0f && small_gemm(trans_a, trans_b, m, n, k, a, b, beta, c)) return;
  hold_openblas_to_one_thread();
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

const char* blas_kernels() {
  return openblas_get_corename();
}

float sum(const float* x, std::size_t n) {
  float partial[8] = {};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (std::size_t k = 0; k < 8; ++k) partial[k] += x[i + k];
  }
  for (std::size_t k = 0; i < n; ++i, ++k) partial[k] += x[i];
  return ((partial[0] + partial[1]) + (partial[2] + partial[3])) +
         ((partial[4] + partial[5]) + (partial[6] + partial[7]));
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
