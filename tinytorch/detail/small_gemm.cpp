#include <tinytorch/detail/small_gemm.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <string>

#include <cblas.h>

#include <tinytorch/detail/rows.hpp>
#include <tinytorch/detail/workspace.hpp>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TINYTORCH_SMALL_GEMM_AVX2 1
#endif

namespace tinytorch::detail {

namespace {

std::atomic<GemmChoice> choice{GemmChoice::best};

#ifdef TINYTORCH_SMALL_GEMM_AVX2

#define TINYTORCH_AVX2 __attribute__((target("avx2,fma")))

bool cpu_has_avx2_fma() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}

// OpenBLAS 0.3.21's kernels with a small-matrix path: its AVX-512 ones, by the name
// openblas_get_corename() gives (which follows OPENBLAS_CORETYPE when that is set).
bool blas_has_small_path() {
  static const bool has = [] {
    std::string core = openblas_get_corename();
    std::transform(core.begin(), core.end(), core.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    for (const char* name : {"skylakex", "cooperlake", "sapphire"}) {
      if (core.find(name) != std::string::npos) return true;
    }
    return false;
  }();
  return has;
}

// The first `count` (1 to 7) lanes set: a vmaskmovps mask.
TINYTORCH_AVX2 inline __m256i tail_mask(std::size_t count) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), lane);
}

// 8 floats, or with `masked` only the lanes in `mask` (the others zero, and not read).
template <bool masked>
TINYTORCH_AVX2 inline __m256 load8(const float* x, __m256i mask) {
  return masked ? _mm256_maskload_ps(x, mask) : _mm256_loadu_ps(x);
}

// ---- op(B) = B -------------------------------------------------------------------------------
// A(i, p) = a[i·ars + p·acs] (a transposed A is only other strides); B rows are ldb apart.

// C[0:MR, 0:8·NV] (+)= A[0:MR, :]·B[:, 0:8·NV]: MR·NV accumulators, each C entry summed over
// p = 0, 1, …, K − 1 in order, starting from C (β = 1) or from 0 (β = 0). `masked` (with
// NV = 1): only the columns in `mask` exist; the others are loaded as zeros (vmaskmovps reads
// nothing there) and never stored (through a buffer: AMD's masked stores are slow).
template <int MR, int NV, bool masked>
TINYTORCH_AVX2 void nn_block(const float* a, std::ptrdiff_t ars, std::ptrdiff_t acs, const float* b,
                             std::size_t ldb, std::size_t k, float* c, std::size_t ldc,
                             bool accumulate, __m256i mask, std::size_t width) {
  __m256 acc[MR][NV];
  for (int i = 0; i < MR; ++i) {
    for (int v = 0; v < NV; ++v) {
      acc[i][v] = accumulate ? load8<masked>(c + i * ldc + 8 * v, mask) : _mm256_setzero_ps();
    }
  }
  for (std::size_t p = 0; p < k; ++p, b += ldb, a += acs) {
    __m256 row[NV];
    for (int v = 0; v < NV; ++v) row[v] = load8<masked>(b + 8 * v, mask);
    for (int i = 0; i < MR; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i * ars);
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_fmadd_ps(ai, row[v], acc[i][v]);
    }
  }
  for (int i = 0; i < MR; ++i) {
    for (int v = 0; v < NV; ++v) {
      if (masked) {
        alignas(32) float out[8];
        _mm256_store_ps(out, acc[i][v]);
        std::copy(out, out + width, c + i * ldc);
      } else {
        _mm256_storeu_ps(c + i * ldc + 8 * v, acc[i][v]);
      }
    }
  }
}

template <int NV, bool masked = false>
TINYTORCH_AVX2 void nn_rows(std::size_t rows, const float* a, std::ptrdiff_t ars,
                            std::ptrdiff_t acs, const float* b, std::size_t ldb, std::size_t k,
                            float* c, std::size_t ldc, bool accumulate,
                            __m256i mask = _mm256_setzero_si256(), std::size_t width = 8) {
  switch (rows) {
    case 1:
      return nn_block<1, NV, masked>(a, ars, acs, b, ldb, k, c, ldc, accumulate, mask, width);
    case 2:
      return nn_block<2, NV, masked>(a, ars, acs, b, ldb, k, c, ldc, accumulate, mask, width);
    case 3:
      return nn_block<3, NV, masked>(a, ars, acs, b, ldb, k, c, ldc, accumulate, mask, width);
    case 4:
      return nn_block<4, NV, masked>(a, ars, acs, b, ldb, k, c, ldc, accumulate, mask, width);
    case 5:
      return nn_block<5, NV, masked>(a, ars, acs, b, ldb, k, c, ldc, accumulate, mask, width);
    default:
      return nn_block<6, NV, masked>(a, ars, acs, b, ldb, k, c, ldc, accumulate, mask, width);
  }
}

TINYTORCH_AVX2 void gemm_nn(std::size_t m, std::size_t n, std::size_t k, const float* a,
                            std::ptrdiff_t ars, std::ptrdiff_t acs, const float* b, float* c,
                            bool accumulate) {
  std::size_t j = 0;
  for (; j + 16 <= n; j += 16) {  // B's 16 columns stay in L1 while every row block reads them
    for (std::size_t i = 0; i < m; i += 6) {
      nn_rows<2>(std::min<std::size_t>(6, m - i), a + i * ars, ars, acs, b + j, n, k, c + i * n + j,
                 n, accumulate);
    }
  }
  if (j + 8 <= n) {
    for (std::size_t i = 0; i < m; i += 6) {
      nn_rows<1>(std::min<std::size_t>(6, m - i), a + i * ars, ars, acs, b + j, n, k, c + i * n + j,
                 n, accumulate);
    }
    j += 8;
  }
  if (j == n) return;
  // The last n − j < 8 columns, masked.
  const std::size_t width = n - j;
  const __m256i mask = tail_mask(width);
  for (std::size_t i = 0; i < m; i += 6) {
    nn_rows<1, true>(std::min<std::size_t>(6, m - i), a + i * ars, ars, acs, b + j, n, k,
                     c + i * n + j, n, accumulate, mask, width);
  }
}

// ---- op(B) = Bᵀ, A not transposed: dot products of rows -------------------------------------

TINYTORCH_AVX2 inline float lane_sum(__m256 v) {
  // ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)): a fixed order.
  const __m128 half = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 pairs = _mm_add_ps(half, _mm_movehl_ps(half, half));
  return _mm_cvtss_f32(_mm_add_ss(pairs, _mm_shuffle_ps(pairs, pairs, 1)));
}

// One step of 8 products for each of MR·NR entries; `masked`: only the lanes in `mask`.
template <int MR, int NR, bool masked>
TINYTORCH_AVX2 inline void nt_step(const float* a, std::size_t lda, const float* b, std::size_t ldb,
                                   __m256i mask, __m256 (&acc)[MR][NR]) {
  __m256 bj[NR];
  for (int j = 0; j < NR; ++j) {
    bj[j] = load8<masked>(b + j * ldb, mask);
  }
  for (int i = 0; i < MR; ++i) {
    const __m256 ai = load8<masked>(a + i * lda, mask);
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_fmadd_ps(ai, bj[j], acc[i][j]);
  }
}

// C[i, j] (+)= Σ_p A[i, p]·B[j, p] for MR rows of A (lda apart) and NR rows of B (ldb apart):
// eight running sums per entry over p in steps of 8, the last k % 8 products as one more step
// with the missing lanes loaded as zeros (vmaskmovps reads nothing there), then added across
// lanes.
template <int MR, int NR>
TINYTORCH_AVX2 void nt_block(const float* a, std::size_t lda, const float* b, std::size_t ldb,
                             std::size_t k, float* c, std::size_t ldc, bool accumulate) {
  __m256 acc[MR][NR];
  for (int i = 0; i < MR; ++i) {
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_setzero_ps();
  }
  std::size_t p = 0;
  for (; p + 8 <= k; p += 8)
    nt_step<MR, NR, false>(a + p, lda, b + p, ldb, _mm256_setzero_si256(), acc);
  if (p < k) nt_step<MR, NR, true>(a + p, lda, b + p, ldb, tail_mask(k - p), acc);
  for (int i = 0; i < MR; ++i) {
    for (int j = 0; j < NR; ++j) {
      const float s = lane_sum(acc[i][j]);
      float& out = c[i * ldc + j];
      out = accumulate ? out + s : s;
    }
  }
}

template <int MR>
TINYTORCH_AVX2 void nt_cols(std::size_t cols, const float* a, std::size_t lda, const float* b,
                            std::size_t ldb, std::size_t k, float* c, std::size_t ldc,
                            bool accumulate) {
  switch (cols) {
    case 1:
      return nt_block<MR, 1>(a, lda, b, ldb, k, c, ldc, accumulate);
    case 2:
      return nt_block<MR, 2>(a, lda, b, ldb, k, c, ldc, accumulate);
    default:
      return nt_block<MR, 3>(a, lda, b, ldb, k, c, ldc, accumulate);
  }
}

TINYTORCH_AVX2 void gemm_nt(std::size_t m, std::size_t n, std::size_t k, const float* a,
                            const float* b, float* c, bool accumulate) {
  for (std::size_t i = 0; i < m; i += 4) {
    const std::size_t rows = std::min<std::size_t>(4, m - i);
    for (std::size_t j = 0; j < n; j += 3) {
      const std::size_t cols = std::min<std::size_t>(3, n - j);
      const float* ai = a + i * k;
      const float* bj = b + j * k;
      float* cij = c + i * n + j;
      switch (rows) {
        case 1:
          nt_cols<1>(cols, ai, k, bj, k, k, cij, n, accumulate);
          break;
        case 2:
          nt_cols<2>(cols, ai, k, bj, k, k, cij, n, accumulate);
          break;
        case 3:
          nt_cols<3>(cols, ai, k, bj, k, k, cij, n, accumulate);
          break;
        default:
          nt_cols<4>(cols, ai, k, bj, k, k, cij, n, accumulate);
          break;
      }
    }
  }
}

// ---- op(B) = Bᵀ through op(B) = B ------------------------------------------------------------

// bt [K, N] = b [N, K] transposed, in 8 × 8 tiles so that both sides are read and written a
// cache line at a time.
void transpose(const float* b, std::size_t n, std::size_t k, float* bt) {
  constexpr std::size_t kTile = 8;
  for (std::size_t j0 = 0; j0 < n; j0 += kTile) {
    const std::size_t j1 = std::min(n, j0 + kTile);
    for (std::size_t p0 = 0; p0 < k; p0 += kTile) {
      const std::size_t p1 = std::min(k, p0 + kTile);
      for (std::size_t j = j0; j < j1; ++j) {
        for (std::size_t p = p0; p < p1; ++p) bt[p * n + j] = b[j * k + p];
      }
    }
  }
}

// Whether C = A·Bᵀ runs as Bᵀ copied out and multiplied by the broadcast kernel (every step over
// k is 12 FMAs on 12 accumulators, nothing to add across lanes at the end) rather than as dot
// products. The broadcast kernel needs columns to fill its vectors; the copy must stay cheap
// (at most 16 KB, half an L1 cache). A function of N and K only, so that a caller cutting the
// rows of A into blocks gets the same floats as with the whole. LeNet-5's second-layer dWᵀ
// [150, 100]·[100, 16] goes this way (faster, the copy included: micro_bench ConvProducts);
// its first layer's [25, 784]·[784, 6] (six columns, long rows) stays with the dot products.
bool transpose_first(std::size_t n, std::size_t k) {
  return n >= 8 && n * k <= 4096;
}

#endif  // TINYTORCH_SMALL_GEMM_AVX2

bool own_kernels_in_use() {
#ifdef TINYTORCH_SMALL_GEMM_AVX2
  if (vector_cap() < 1) return false;  // TINYTORCH_VECTOR=none
  switch (choice.load(std::memory_order_relaxed)) {
    case GemmChoice::blas:
      return false;
    case GemmChoice::own:
      return cpu_has_avx2_fma();
    default:
      return cpu_has_avx2_fma() && !blas_has_small_path();
  }
#else
  return false;
#endif
}

}  // namespace

bool small_gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k,
                const float* a, const float* b, float beta, float* c) {
  if (!own_kernels_in_use() || (trans_a && trans_b) || (beta != 0.0f && beta != 1.0f)) {
    return false;
  }
#ifdef TINYTORCH_SMALL_GEMM_AVX2
  if (m == 0 || n == 0) return true;
  const bool accumulate = beta == 1.0f;
  if (k == 0) {  // an empty sum: C stays (β = 1) or becomes 0
    if (!accumulate) std::fill(c, c + m * n, 0.0f);
    return true;
  }
  if (trans_b && transpose_first(n, k)) {
    float* bt = scratch(Scratch::kTransposed, k * n);
    transpose(b, n, k, bt);
    gemm_nn(m, n, k, a, static_cast<std::ptrdiff_t>(k), 1, bt, c, accumulate);
  } else if (trans_b) {
    gemm_nt(m, n, k, a, b, c, accumulate);
  } else if (trans_a) {  // A is stored [K, M]: A(i, p) = a[p·M + i]
    gemm_nn(m, n, k, a, 1, static_cast<std::ptrdiff_t>(m), b, c, accumulate);
  } else {
    gemm_nn(m, n, k, a, static_cast<std::ptrdiff_t>(k), 1, b, c, accumulate);
  }
  return true;
#else
  (void)m, (void)n, (void)k, (void)a, (void)b, (void)c;
  return false;
#endif
}

const char* gemm_kernel() {
  return own_kernels_in_use() ? "avx2" : "blas";
}

void choose_gemm(GemmChoice c) {
  choice.store(c, std::memory_order_relaxed);
}

}  // namespace tinytorch::detail
