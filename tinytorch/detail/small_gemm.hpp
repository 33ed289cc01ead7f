// Matrix products without packing, for CPUs with AVX2 and FMA where OpenBLAS runs kernels that
// pack every operand.
//
// The convolutions multiply small matrices once per image (LeNet-5: [6, 25]·[25, 784],
// [16, 150]·[150, 100] and their gradients). OpenBLAS 0.3.21 has a path for such small
// products only in its AVX-512 kernels (SkylakeX, Cooperlake, Sapphire Rapids); with the
// others (Haswell, Zen, …: every AVX2 CPU, and an AVX-512 one told OPENBLAS_CORETYPE=Haswell)
// it copies both operands into packed panels first, and for matrices this small the packing
// (and the zeroing of C for β = 0) costs about as much as the products; micro_bench's
// ConvProducts prints both (docs/performance.md has the figures). These kernels read the
// operands where they are:
//  - op(B) = B (A transposed or not): C rows in blocks of 6, columns in blocks of 16; each
//    step over k loads 16 floats of a row of B and broadcasts 6 of A: 12 FMAs on 12
//    registers, the shape of the usual AVX2 sgemm micro-kernel.
//  - op(B) = Bᵀ, A not transposed: when Bᵀ is small (at most 4096 floats) and at least 8
//    wide, it is copied out transposed and the kernel above runs; otherwise each C entry is a
//    dot product of two contiguous rows, 4 rows of A against 3 of B at a time, 8 products per
//    FMA, summed across lanes at the end.
// Every C entry is summed in a fixed order that depends only on the shapes, so results do not
// depend on the thread count or on how the caller cuts its work.
//
// The reference is OpenBLAS itself (and a product in double): tests/kernels/small_gemm_test.cpp
// compares these kernels with both, around every block edge and on LeNet-5's shapes.
#pragma once

#include <cstddef>

namespace tinytorch::detail {

/// Row-major C = op(A)·op(B) + β·C for β ∈ {0, 1} (β = 0 overwrites C, NaN included), with
/// A M×K and B K×N after op. Returns false, having done nothing, when these kernels are not in
/// use (see GemmChoice) or the case is not covered (both operands transposed, another β): then
/// the caller runs OpenBLAS.
bool small_gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k,
                const float* a, const float* b, float beta, float* c);

/// Which kernels detail::gemm runs. best: these on CPUs with AVX2 and FMA unless OpenBLAS runs
/// its AVX-512 kernels, which have their own path for small products; OpenBLAS elsewhere.
/// blas: OpenBLAS always. own: these wherever the CPU has AVX2 and FMA (tests, benchmarks).
enum class GemmChoice { best, blas, own };
void choose_gemm(GemmChoice choice);

/// The kernels in use: "avx2" when small_gemm takes the products, else "blas".
const char* gemm_kernel();

}  // namespace tinytorch::detail
