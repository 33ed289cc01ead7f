#include <tinytorch/detail/rows.hpp>

#include <atomic>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TINYTORCH_ROWS_AVX512 1
#endif

namespace tinytorch::detail {

namespace {

void copy_rows_portable(const float* src, std::size_t src_stride, std::size_t rows,
                        std::size_t width, float* dst) {
  for (std::size_t r = 0; r < rows; ++r, src += src_stride, dst += width) {
    for (std::size_t j = 0; j < width; ++j) dst[j] = src[j];
  }
}

#ifdef TINYTORCH_ROWS_AVX512

// A row is moved in 16-float pieces, its last piece masked: masked lanes are neither read nor
// written, so nothing past a row's last float is touched. (AVX-512, not AVX2: AVX2's masked
// store, vmaskmovps, is slow on AMD's cores.)
__attribute__((target("avx512f"))) void copy_rows_avx512(const float* src,
                                                         std::size_t src_stride,
                                                         std::size_t rows, std::size_t width,
                                                         float* dst) {
  const std::size_t full = width / 16 * 16;
  const auto tail = static_cast<__mmask16>((1u << (width - full)) - 1u);
  for (std::size_t r = 0; r < rows; ++r, src += src_stride, dst += width) {
    for (std::size_t j = 0; j < full; j += 16) _mm512_storeu_ps(dst + j, _mm512_loadu_ps(src + j));
    if (tail) _mm512_mask_storeu_ps(dst + full, tail, _mm512_maskz_loadu_ps(tail, src + full));
  }
}

bool cpu_has_avx512() {
  static const bool has = __builtin_cpu_supports("avx512f");
  return has;
}

#endif

std::atomic<bool> force_portable{false};

bool avx512_in_use() {
#ifdef TINYTORCH_ROWS_AVX512
  return cpu_has_avx512() && !force_portable.load(std::memory_order_relaxed);
#else
  return false;
#endif
}

}  // namespace

void copy_rows(const float* src, std::size_t src_stride, std::size_t rows, std::size_t width,
               float* dst) {
#ifdef TINYTORCH_ROWS_AVX512
  if (avx512_in_use()) return copy_rows_avx512(src, src_stride, rows, width, dst);
#endif
  copy_rows_portable(src, src_stride, rows, width, dst);
}

const char* rows_kernel() {
  return avx512_in_use() ? "avx512" : "portable";
}

void use_portable_rows(bool portable) {
  force_portable.store(portable, std::memory_order_relaxed);
}

}  // namespace tinytorch::detail
