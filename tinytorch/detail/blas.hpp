// Matrix products on contiguous row-major float buffers, through OpenBLAS's cblas_sgemm, or,
// on CPUs with AVX2 and FMA where OpenBLAS does not run its AVX-512 kernels, through the
// unpacked kernels of small_gemm.hpp.
#pragma once

#include <cstddef>

#include <tinytorch/detail/shape.hpp>

namespace tinytorch::detail {

/// Row-major C = alpha·op(A)·op(B) + beta·C with op(X) = X or Xᵀ; A is M×K, B is K×N after op.
/// Runs on the calling thread: OpenBLAS is held to one thread, the library's own tasks (see
/// threads.hpp) are how several cores share the work.
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha,
          const float* a, const float* b, float beta, float* c);

/// The name of the kernels OpenBLAS chose for this CPU at load time ("Haswell", "Cooperlake",
/// ...; an OPENBLAS_CORETYPE environment variable overrides its choice).
const char* blas_kernels();

/// Σ x[i] over n floats, in eight interleaved partial sums: one running sum is a chain of
/// dependent adds (4 cycles each) and cannot be vectorised; eight can, in a fixed order.
float sum(const float* x, std::size_t n);

/// Batched matmul on arrays of rank ≥ 2 with broadcast batch dims; op(X) swaps the last two.
Array batched_matmul(const Array& a, const Array& b, bool trans_a = false, bool trans_b = false);

}  // namespace tinytorch::detail
