// Row copies from a strided plane into a contiguous block: the inner loops of im2col for
// stride 1, where each kernel tap copies Ho rows of Wo floats (LeNet-5: rows of 28 and of 10
// floats, about 4,400 of them per image and training step).
//
// Written as plain loops, a row of 10 floats is two 4-float moves and a scalar tail, and the
// per-row work cost more than the copying: im2col was the largest cost of LeNet-5 training
// after the sgemms. On CPUs with AVX-512 (chosen once, at run time) each row is moved in
// 16-float pieces with a masked last piece instead; the numbers are the same either way, since
// nothing is computed.
#pragma once

#include <cstddef>

namespace tinytorch::detail {

/// dst[r·width + j] = src[r·src_stride + j] for r < rows, j < width.
void copy_rows(const float* src, std::size_t src_stride, std::size_t rows, std::size_t width,
               float* dst);

/// The implementation in use: "avx512" or "portable".
const char* rows_kernel();

/// Tests: run the portable loops even where AVX-512 is there (true), or go back to the CPU's best.
void use_portable_rows(bool portable);

}  // namespace tinytorch::detail
