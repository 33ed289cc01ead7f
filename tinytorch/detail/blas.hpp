// Matrix products on contiguous row-major float buffers, through OpenBLAS's cblas_sgemm.
#pragma once

#include <cstddef>

#include <tinytorch/detail/shape.hpp>

namespace tinytorch::detail {

/// Row-major C = alpha·op(A)·op(B) + beta·C with op(X) = X or Xᵀ; A is M×K, B is K×N after op.
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha,
          const float* a, const float* b, float beta, float* c);

/// Batched matmul on arrays of rank ≥ 2 with broadcast batch dims; op(X) swaps the last two.
Array batched_matmul(const Array& a, const Array& b, bool trans_a = false, bool trans_b = false);

/// Threads OpenBLAS may use (the library's set_num_threads goes through here).
void set_blas_threads(int n);
int blas_threads();

}  // namespace tinytorch::detail
