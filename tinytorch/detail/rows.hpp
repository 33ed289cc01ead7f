// Row copies from a strided plane into a contiguous block: the inner loops of im2col for
// stride 1, where each kernel tap copies Ho rows of Wo floats (LeNet-5: rows of 28 and of 10
// floats, about 4,400 of them per image and training step); their adjoint, col2im for
// stride 1, which adds the rows back (1,500 rows of 10 floats per LeNet-5 image); and 2×2 max
// pooling, which reads rows in pairs.
//
// Written as plain loops, a row of 10 floats is two 4-float moves and a scalar tail, and the
// per-row work cost more than the copying: im2col was the largest cost of LeNet-5 training
// after the sgemms. On CPUs with AVX-512 (chosen once, at run time) each row is moved in
// 16-float pieces with a masked last piece instead, and on CPUs with AVX2 only in 8-float
// pieces, the last one overlapping the one before; the numbers are the same either way, since
// nothing is computed.
//
// The references are plain loops: the exercises im2col, col2im and max_pool2d of module 09
// (core/spatial.cpp), which run wherever these kernels answer false, and the loops of
// tests/kernels/rows_test.cpp, which compares each kernel with them (AVX-512, AVX2 and none)
// around every row width and mask edge.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tinytorch::detail {

/// dst[r·width + j] = src[r·src_stride + j] for r < rows, j < width.
void copy_rows(const float* src, std::size_t src_stride, std::size_t rows, std::size_t width,
               float* dst);

/// col2im for stride 1, one image, on the CPU's vector units: for each of `channels` planes
/// [Ho + kh − 1, Wo + kw − 1],
///   plane[c, y, x] = Σ_{u, v} cols[(c·kh + u)·kw + v, (y − u)·Wo + (x − v)]
/// over the taps (u, v) whose row y − u < Ho and column x − v < Wo exist, added in (u, v)
/// order starting from 0. Overwrites the planes and returns true; returns false, writing
/// nothing, where there is no vector kernel (the caller, the col2im exercise of module 09,
/// then runs its own loops, which give the same floats). tests/kernels compares them.
bool col2im_rows(const float* cols, std::size_t channels, std::size_t kh, std::size_t kw,
                 std::size_t ho, std::size_t wo, float* planes);

/// if (value > best) { best = value; index = candidate; } — strict >, so that the first maximum
/// in row-major order wins (and a NaN never replaces a number) — computed without a branch: on
/// real data that branch is mispredicted in about every other window, which made pooling cost
/// more than the sgemms.
template <class Index>
inline void keep_larger(float value, Index candidate, float& best, Index& index) {
  const Index larger = value > best;  // 0 or 1
  index += larger * (candidate - index);
  best = larger ? value : best;
}

/// Max pooling with 2×2 windows, stride 2, no padding, over `planes` planes x [H, W] into
/// y [H/2, W/2] each, on the CPU's vector units: the first maximum of each window in row-major
/// order (strict >), and in argmax its index within the input plane. Returns false, writing
/// nothing, where no vector kernel fits (no AVX2, or rows of fewer than 8 windows on AVX2):
/// the caller, the max_pool2d exercise of module 09, then runs its own loops.
bool max_pool_2x2(const float* x, std::size_t planes, std::size_t h, std::size_t w, float* y,
                  std::uint32_t* argmax);

/// The implementation in use: "avx512", "avx2" or "portable".
const char* rows_kernel();

/// The widest vector kernels the environment allows, for these kernels and small_gemm's:
/// TINYTORCH_VECTOR = auto or avx512 (or unset): the CPU's best, 2; avx2: AVX2 at most, 1;
/// none: plain loops and OpenBLAS, 0. It lets one machine run the code paths of a smaller CPU
/// (benchmarks, docs/performance.md). Any other value is std::invalid_argument naming it.
int vector_cap();

/// Tests: no vector kernels even where the CPU has them (true: copy_rows runs plain loops,
/// col2im_rows and max_pool_2x2 return false), or go back to what TINYTORCH_VECTOR allows.
void use_portable_rows(bool portable);

/// Tests: the AVX2 kernels even where AVX-512 is there (the portable ones without AVX2); undone
/// by use_portable_rows.
void use_avx2_rows();

}  // namespace tinytorch::detail
