#include <tinytorch/detail/rows.hpp>

#include <algorithm>
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

void col2im_rows_portable(const float* cols, std::size_t channels, std::size_t kh, std::size_t kw,
                          std::size_t ho, std::size_t wo, float* planes) {
  const std::size_t hp = ho + kh - 1, wp = wo + kw - 1, plane = ho * wo;
  std::fill(planes, planes + channels * hp * wp, 0.0f);
  for (std::size_t c = 0; c < channels; ++c) {
    float* out = planes + c * hp * wp;
    for (std::size_t u = 0; u < kh; ++u) {
      for (std::size_t v = 0; v < kw; ++v) {
        const float* src = cols + ((c * kh + u) * kw + v) * plane;
        for (std::size_t i = 0; i < ho; ++i, src += wo) {
          float* dst = out + (i + u) * wp + v;
          for (std::size_t j = 0; j < wo; ++j) dst[j] += src[j];
        }
      }
    }
  }
}

void max_pool_2x2_portable(const float* x, std::size_t planes, std::size_t h, std::size_t w,
                           float* y, std::uint32_t* argmax) {
  const std::size_t ho = h / 2, wo = w / 2;
  for (std::size_t plane = 0; plane < planes; ++plane, x += h * w) {
    for (std::size_t i = 0; i < ho; ++i) {
      const float* top = x + 2 * i * w;
      const float* bottom = top + w;
      for (std::size_t j = 0; j < wo; ++j) {
        // Taps in row-major order; strict > keeps the first maximum.
        const float a = top[2 * j], b = top[2 * j + 1], c = bottom[2 * j], d = bottom[2 * j + 1];
        float best = a;
        std::uint32_t tap = 0;
        keep_larger(b, 1u, best, tap);
        keep_larger(c, 2u, best, tap);
        keep_larger(d, 3u, best, tap);
        *y++ = best;
        *argmax++ = static_cast<std::uint32_t>((2 * i + (tap >> 1)) * w + 2 * j + (tap & 1));
      }
    }
  }
}

#ifdef TINYTORCH_ROWS_AVX512

// Lanes [lo, hi) of a 16-lane mask (empty when hi <= lo).
inline __mmask16 lanes(std::ptrdiff_t lo, std::ptrdiff_t hi) {
  lo = std::max<std::ptrdiff_t>(lo, 0);
  hi = std::min<std::ptrdiff_t>(hi, 16);
  if (hi <= lo) return 0;
  return static_cast<__mmask16>(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

// Output row y of a plane, 16 columns at a time: the taps (u, v) with a source row i = y − u
// add their row i, shifted right by v, in (u, v) order. The masked loads read only the lanes
// whose source column exists (masked lanes are not read, so the shifted address never faults).
__attribute__((target("avx512f"))) void col2im_rows_avx512(const float* cols, std::size_t channels,
                                                           std::size_t kh, std::size_t kw,
                                                           std::size_t ho, std::size_t wo,
                                                           float* planes) {
  const std::size_t hp = ho + kh - 1, wp = wo + kw - 1, plane = ho * wo;
  const auto swo = static_cast<std::ptrdiff_t>(wo), swp = static_cast<std::ptrdiff_t>(wp);
  for (std::size_t c = 0; c < channels; ++c) {
    const float* taps = cols + c * kh * kw * plane;
    float* out = planes + c * hp * wp;
    for (std::size_t y = 0; y < hp; ++y) {
      const std::size_t u_first = y >= ho ? y - ho + 1 : 0, u_last = std::min(y, kh - 1);
      for (std::ptrdiff_t x0 = 0; x0 < swp; x0 += 16) {
        __m512 acc = _mm512_setzero_ps();
        for (std::size_t u = u_first; u <= u_last; ++u) {
          const float* row = taps + u * kw * plane + (y - u) * wo;
          for (std::size_t v = 0; v < kw; ++v, row += plane) {
            const auto sv = static_cast<std::ptrdiff_t>(v);
            const __mmask16 m = lanes(sv - x0, sv + swo - x0);  // columns x with 0 <= x − v < Wo
            acc = _mm512_mask_add_ps(acc, m, acc, _mm512_maskz_loadu_ps(m, row + x0 - sv));
          }
        }
        _mm512_mask_storeu_ps(out + y * wp + x0, lanes(0, swp - x0), acc);
      }
    }
  }
}

// 16 windows at a time: two rows of 32 inputs are split into their even and odd columns (the
// windows' four taps), and the taps are compared in row-major order with the ordered
// greater-than (false for NaN), exactly as keep_larger does one window. The inputs are read
// with whole 16-float loads wherever the input goes on for that long: on this project's
// benchmark CPU, masked loads of data that is not in the cache made a batch of 1,000 images
// pool 1.7× slower than the scalar loop.
__attribute__((target("avx512f"))) void max_pool_2x2_avx512(const float* x, std::size_t planes,
                                                            std::size_t h, std::size_t w, float* y,
                                                            std::uint32_t* argmax) {
  const std::size_t ho = h / 2, wo = w / 2;
  const float* const end = x + planes * h * w;
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i even = _mm512_add_epi32(lane, lane),
                odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  for (std::size_t plane = 0; plane < planes; ++plane, x += h * w) {
    for (std::size_t i = 0; i < ho; ++i, y += wo, argmax += wo) {
      const float* top = x + 2 * i * w;
      const float* bottom = top + w;
      for (std::size_t j0 = 0; j0 < wo; j0 += 16) {
        const auto n = static_cast<std::ptrdiff_t>(std::min<std::size_t>(16, wo - j0));
        const __mmask16 lo = lanes(0, 2 * n), hi = lanes(0, 2 * n - 16), out = lanes(0, n);
        const float* t = top + 2 * j0;
        const float* b = bottom + 2 * j0;
        __m512 t0, t1, b0, b1;
        if (static_cast<std::size_t>(end - b) >= 32) {  // whole loads: the lanes past the
          t0 = _mm512_loadu_ps(t);                      // windows are read, not used
          t1 = _mm512_loadu_ps(t + 16);
          b0 = _mm512_loadu_ps(b);
          b1 = _mm512_loadu_ps(b + 16);
        } else {  // the input's last floats: masked loads read nothing past them
          t0 = _mm512_maskz_loadu_ps(lo, t);
          t1 = _mm512_maskz_loadu_ps(hi, t + 16);
          b0 = _mm512_maskz_loadu_ps(lo, b);
          b1 = _mm512_maskz_loadu_ps(hi, b + 16);
        }
        __m512 best = _mm512_permutex2var_ps(t0, even, t1);
        // Each tap's offset from the window's top-left input: 1, W, W + 1.
        const int offsets[3] = {1, static_cast<int>(w), static_cast<int>(w) + 1};
        const __m512 taps[3] = {_mm512_permutex2var_ps(t0, odd, t1),
                                _mm512_permutex2var_ps(b0, even, b1),
                                _mm512_permutex2var_ps(b0, odd, b1)};
        __m512i offset = _mm512_setzero_si512();
        for (int k = 0; k < 3; ++k) {
          const __mmask16 larger = _mm512_cmp_ps_mask(taps[k], best, _CMP_GT_OQ);
          best = _mm512_mask_mov_ps(best, larger, taps[k]);
          offset = _mm512_mask_mov_epi32(offset, larger, _mm512_set1_epi32(offsets[k]));
        }
        // index = 2i·W + 2·(j0 + lane) + offset
        const __m512i corner =
            _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(2 * i * w + 2 * j0)), even);
        const __m512i index = _mm512_add_epi32(corner, offset);
        _mm512_mask_storeu_ps(y + j0, out, best);
        _mm512_mask_storeu_epi32(argmax + j0, out, index);
      }
    }
  }
}

// A row is moved in 16-float pieces, its last piece stored masked: nothing past a row's last
// float is written, or read past the source's last row. (AVX-512, not AVX2: AVX2's masked
// store, vmaskmovps, is slow on AMD's cores.)
__attribute__((target("avx512f"))) void copy_rows_avx512(const float* src, std::size_t src_stride,
                                                         std::size_t rows, std::size_t width,
                                                         float* dst) {
  const std::size_t full = width / 16 * 16;
  const auto tail = static_cast<__mmask16>((1u << (width - full)) - 1u);
  // The last piece of a row is loaded whole while the source goes on for 16 floats from it
  // (the rows in between belong to the source): masked loads of data that is not in the cache
  // are slow on AMD's cores. Only the last rows' pieces need masked loads.
  const float* const end = src + (rows == 0 ? 0 : (rows - 1) * src_stride + width);
  for (std::size_t r = 0; r < rows; ++r, src += src_stride, dst += width) {
    for (std::size_t j = 0; j < full; j += 16) _mm512_storeu_ps(dst + j, _mm512_loadu_ps(src + j));
    if (!tail) continue;
    const float* piece = src + full;
    const __m512 v =
        end - piece >= 16 ? _mm512_loadu_ps(piece) : _mm512_maskz_loadu_ps(tail, piece);
    _mm512_mask_storeu_ps(dst + full, tail, v);
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

void col2im_rows(const float* cols, std::size_t channels, std::size_t kh, std::size_t kw,
                 std::size_t ho, std::size_t wo, float* planes) {
  if (channels == 0 || kh == 0 || kw == 0) return;
  if (ho == 0 || wo == 0) {  // no columns: the planes [Ho + kh − 1, Wo + kw − 1] are zeros
    std::fill(planes, planes + channels * (ho + kh - 1) * (wo + kw - 1), 0.0f);
    return;
  }
#ifdef TINYTORCH_ROWS_AVX512
  if (avx512_in_use()) return col2im_rows_avx512(cols, channels, kh, kw, ho, wo, planes);
#endif
  col2im_rows_portable(cols, channels, kh, kw, ho, wo, planes);
}

void max_pool_2x2(const float* x, std::size_t planes, std::size_t h, std::size_t w, float* y,
                  std::uint32_t* argmax) {
#ifdef TINYTORCH_ROWS_AVX512
  // The AVX-512 kernel's indices are 32-bit lanes: planes of up to 2³¹ values.
  if (avx512_in_use() && h * w < (std::size_t{1} << 31))
    return max_pool_2x2_avx512(x, planes, h, w, y, argmax);
#endif
  max_pool_2x2_portable(x, planes, h, w, y, argmax);
}

const char* rows_kernel() {
  return avx512_in_use() ? "avx512" : "portable";
}

void use_portable_rows(bool portable) {
  force_portable.store(portable, std::memory_order_relaxed);
}

}  // namespace tinytorch::detail
