#include <tinytorch/detail/rows.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <string>

#include <tinytorch/detail/errors.hpp>
#include <tinytorch/detail/text.hpp>

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
// with whole 16-float loads wherever the input goes on for that long: on AMD's cores, masked
// loads of data that is not in the cache are slow enough to lose to the scalar loop.
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

// The same on AVX2 (CPUs without AVX-512): rows of at least 8 floats in 8-float pieces, the
// last piece ending at the row's last float (it overlaps the one before, with the same
// values), so that nothing outside a row is read or written without masked moves; shorter rows
// the same way in 4-float pieces, and rows of 1 to 3 floats one by one.
__attribute__((target("avx2"))) void copy_rows_avx2(const float* src, std::size_t src_stride,
                                                    std::size_t rows, std::size_t width,
                                                    float* dst) {
  if (width >= 8) {
    const std::size_t last = width - 8;
    for (std::size_t r = 0; r < rows; ++r, src += src_stride, dst += width) {
      for (std::size_t j = 0; j < last; j += 8) _mm256_storeu_ps(dst + j, _mm256_loadu_ps(src + j));
      _mm256_storeu_ps(dst + last, _mm256_loadu_ps(src + last));
    }
  } else if (width >= 4) {
    const std::size_t last = width - 4;
    for (std::size_t r = 0; r < rows; ++r, src += src_stride, dst += width) {
      _mm_storeu_ps(dst, _mm_loadu_ps(src));
      _mm_storeu_ps(dst + last, _mm_loadu_ps(src + last));
    }
  } else {
    copy_rows_portable(src, src_stride, rows, width, dst);
  }
}

// The even (pick = _MM_SHUFFLE(2, 0, 2, 0)) or odd (3, 1, 3, 1) floats of lo then hi, in order:
// shuffle_ps picks within 128-bit halves, permute4x64 puts the halves' pairs in order.
template <int pick>
__attribute__((target("avx2"))) inline __m256 split(__m256 lo, __m256 hi) {
  const __m256 mixed = _mm256_shuffle_ps(lo, hi, pick);
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(mixed), _MM_SHUFFLE(3, 1, 2, 0)));
}

// 2×2 max pooling on AVX2, 8 windows at a time, by the same steps as the AVX-512 kernel: two
// rows of 16 inputs split into even and odd columns, the taps compared in row-major order
// with the ordered greater-than. A row's last windows, when they are not a whole 8, are done
// again as the row's last 8 (the same values are written twice); rows of fewer than 8
// windows are left to the caller. Every load is inside the input's rows.
__attribute__((target("avx2"))) void max_pool_2x2_avx2(const float* x, std::size_t planes,
                                                       std::size_t h, std::size_t w, float* y,
                                                       std::uint32_t* argmax) {
  const std::size_t ho = h / 2, wo = w / 2;
  const __m256i even = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
  for (std::size_t plane = 0; plane < planes; ++plane, x += h * w) {
    for (std::size_t i = 0; i < ho; ++i, y += wo, argmax += wo) {
      const float* top = x + 2 * i * w;
      const float* bottom = top + w;
      for (std::size_t j = 0; j < wo; j += 8) {
        const std::size_t j0 = std::min(j, wo - 8);
        const float* t = top + 2 * j0;
        const float* b = bottom + 2 * j0;
        const __m256 t0 = _mm256_loadu_ps(t), t1 = _mm256_loadu_ps(t + 8);
        const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        __m256 best = split<_MM_SHUFFLE(2, 0, 2, 0)>(t0, t1);
        const __m256 taps[3] = {split<_MM_SHUFFLE(3, 1, 3, 1)>(t0, t1),
                                split<_MM_SHUFFLE(2, 0, 2, 0)>(b0, b1),
                                split<_MM_SHUFFLE(3, 1, 3, 1)>(b0, b1)};
        // Each tap's offset from the window's top-left input: 1, W, W + 1.
        const int offsets[3] = {1, static_cast<int>(w), static_cast<int>(w) + 1};
        __m256 offset = _mm256_setzero_ps();  // integers, carried in float registers
        for (int k = 0; k < 3; ++k) {
          const __m256 larger = _mm256_cmp_ps(taps[k], best, _CMP_GT_OQ);
          best = _mm256_blendv_ps(best, taps[k], larger);
          offset =
              _mm256_blendv_ps(offset, _mm256_castsi256_ps(_mm256_set1_epi32(offsets[k])), larger);
        }
        // index = 2i·W + 2·(j0 + lane) + offset
        const __m256i corner =
            _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(2 * i * w + 2 * j0)), even);
        _mm256_storeu_ps(y + j0, best);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(argmax + j0),
                            _mm256_add_epi32(corner, _mm256_castps_si256(offset)));
      }
    }
  }
}

// col2im on AVX2, as the AVX-512 kernel does it, 8 columns at a time: the lanes whose source
// column exists are loaded (vmaskmovps reads nothing in the others, which stay 0) and added in
// (u, v) order. Adding a 0 changes nothing here (a sum that starts at +0 is never −0), so the
// floats are those of the plain loops (tests/kernels compares them bit for bit). A row's last,
// partial piece is stored through a buffer: AMD's masked stores are slow.
__attribute__((target("avx2"))) void col2im_rows_avx2(const float* cols, std::size_t channels,
                                                      std::size_t kh, std::size_t kw,
                                                      std::size_t ho, std::size_t wo,
                                                      float* planes) {
  const std::size_t hp = ho + kh - 1, wp = wo + kw - 1, plane = ho * wo;
  const auto swo = static_cast<std::ptrdiff_t>(wo), swp = static_cast<std::ptrdiff_t>(wp);
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (std::size_t c = 0; c < channels; ++c) {
    const float* taps = cols + c * kh * kw * plane;
    float* out = planes + c * hp * wp;
    for (std::size_t y = 0; y < hp; ++y) {
      const std::size_t u_first = y >= ho ? y - ho + 1 : 0, u_last = std::min(y, kh - 1);
      for (std::ptrdiff_t x0 = 0; x0 < swp; x0 += 8) {
        __m256 acc = _mm256_setzero_ps();
        for (std::size_t u = u_first; u <= u_last; ++u) {
          const float* row = taps + u * kw * plane + (y - u) * wo;
          for (std::size_t v = 0; v < kw; ++v, row += plane) {
            // Lanes x0 + l with 0 <= x0 + l − v < Wo: l in [v − x0, v − x0 + Wo).
            const auto first = static_cast<std::ptrdiff_t>(v) - x0;
            const __m256i from =
                _mm256_set1_epi32(static_cast<int>(std::max<std::ptrdiff_t>(first, -1)));
            const __m256i to =
                _mm256_set1_epi32(static_cast<int>(std::clamp<std::ptrdiff_t>(first + swo, -1, 8)));
            const __m256i m =
                _mm256_andnot_si256(_mm256_cmpgt_epi32(from, lane), _mm256_cmpgt_epi32(to, lane));
            acc = _mm256_add_ps(acc, _mm256_maskload_ps(row - first, m));
          }
        }
        float* dst = out + y * wp + x0;
        if (swp - x0 >= 8) {
          _mm256_storeu_ps(dst, acc);
        } else {
          alignas(32) float piece[8];
          _mm256_store_ps(piece, acc);
          std::copy(piece, piece + (swp - x0), dst);
        }
      }
    }
  }
}

bool cpu_has_avx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}

bool cpu_has_avx512() {
  static const bool has = __builtin_cpu_supports("avx512f");
  return has;
}

#endif

// The widest kernels allowed: 2 = the CPU's best, 1 = AVX2 at most, 0 = portable. Starts at
// vector_cap() (TINYTORCH_VECTOR); the tests move it.
std::atomic<int> widest{-1};

int widest_allowed() {
  int w = widest.load(std::memory_order_relaxed);
  if (w < 0) {
    w = vector_cap();
    int unset = -1;
    widest.compare_exchange_strong(unset, w, std::memory_order_relaxed);
    w = widest.load(std::memory_order_relaxed);
  }
  return w;
}

bool avx512_in_use() {
#ifdef TINYTORCH_ROWS_AVX512
  return cpu_has_avx512() && widest_allowed() >= 2;
#else
  return false;
#endif
}

bool avx2_in_use() {
#ifdef TINYTORCH_ROWS_AVX512
  return cpu_has_avx2() && widest_allowed() >= 1;
#else
  return false;
#endif
}

}  // namespace

int vector_cap() {
  static const int cap = [] {
    const char* env = std::getenv("TINYTORCH_VECTOR");
    const std::string v = env ? env : "";
    if (v.empty() || v == "auto" || v == "avx512") return 2;
    if (v == "avx2") return 1;
    if (v == "none") return 0;
    return -1;
  }();
  if (cap < 0) {
    fail_arg("TINYTORCH_VECTOR: expected auto, avx512, avx2 or none, got '{}'",
             escaped(std::getenv("TINYTORCH_VECTOR")));
  }
  return cap;
}

void copy_rows(const float* src, std::size_t src_stride, std::size_t rows, std::size_t width,
               float* dst) {
#ifdef TINYTORCH_ROWS_AVX512
  if (avx512_in_use()) return copy_rows_avx512(src, src_stride, rows, width, dst);
  if (avx2_in_use()) return copy_rows_avx2(src, src_stride, rows, width, dst);
#endif
  copy_rows_portable(src, src_stride, rows, width, dst);
}

bool col2im_rows(const float* cols, std::size_t channels, std::size_t kh, std::size_t kw,
                 std::size_t ho, std::size_t wo, float* planes) {
  if (channels == 0 || kh == 0 || kw == 0) return true;
  if (ho == 0 || wo == 0) {  // no columns: the planes [Ho + kh − 1, Wo + kw − 1] are zeros
    std::fill(planes, planes + channels * (ho + kh - 1) * (wo + kw - 1), 0.0f);
    return true;
  }
#ifdef TINYTORCH_ROWS_AVX512
  if (avx512_in_use()) {
    col2im_rows_avx512(cols, channels, kh, kw, ho, wo, planes);
    return true;
  }
  if (avx2_in_use()) {
    col2im_rows_avx2(cols, channels, kh, kw, ho, wo, planes);
    return true;
  }
#endif
  return false;
}

bool max_pool_2x2(const float* x, std::size_t planes, std::size_t h, std::size_t w, float* y,
                  std::uint32_t* argmax) {
#ifdef TINYTORCH_ROWS_AVX512
  // The vector kernels' indices are 32-bit lanes: planes of up to 2³¹ values.
  const bool fits = h * w < (std::size_t{1} << 31);
  if (fits && avx512_in_use()) {
    max_pool_2x2_avx512(x, planes, h, w, y, argmax);
    return true;
  }
  // The AVX2 kernel does 8 windows at a time: narrower rows are left to the caller.
  if (fits && w / 2 >= 8 && avx2_in_use()) {
    max_pool_2x2_avx2(x, planes, h, w, y, argmax);
    return true;
  }
#endif
  return false;
}

const char* rows_kernel() {
  if (avx512_in_use()) return "avx512";
  return avx2_in_use() ? "avx2" : "portable";
}

void use_portable_rows(bool portable) {
  widest.store(portable ? 0 : vector_cap(), std::memory_order_relaxed);
}

void use_avx2_rows() {
  widest.store(1, std::memory_order_relaxed);
}

}  // namespace tinytorch::detail
