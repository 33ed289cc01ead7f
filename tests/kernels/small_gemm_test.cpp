// The unpacked AVX2 products of detail/small_gemm.hpp against a plain triple loop in double,
// and against OpenBLAS through detail::gemm, for shapes around their 6×16 and 4×3 blocks and
// their 8-float steps, with guard values after C so that a write past the end shows.
#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <tinytorch/detail/blas.hpp>
#include <tinytorch/detail/small_gemm.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

constexpr float kGuard = -7.5f;

// Runs the test body with the AVX2 kernels chosen, and puts the CPU's best choice back after.
class SmallGemmGiven : public ::testing::Test {
 protected:
  void SetUp() override {
    detail::choose_gemm(detail::GemmChoice::own);
    if (std::string(detail::gemm_kernel()) != "avx2") {
      detail::choose_gemm(detail::GemmChoice::best);
      GTEST_SKIP() << "this CPU has no AVX2 + FMA: detail::gemm runs OpenBLAS only";
    }
  }
  void TearDown() override { detail::choose_gemm(detail::GemmChoice::best); }
};

// op(A)(i, p) and op(B)(p, j) of row-major storage.
float at_a(const std::vector<float>& a, bool trans, std::size_t m, std::size_t k, std::size_t i,
           std::size_t p) {
  return trans ? a[p * m + i] : a[i * k + p];
}
float at_b(const std::vector<float>& b, bool trans, std::size_t k, std::size_t n, std::size_t p,
           std::size_t j) {
  return trans ? b[j * k + p] : b[p * n + j];
}

struct Case {
  bool trans_a, trans_b;
  std::size_t m, n, k;
  float beta;
};

void check_against_reference(const Case& t, std::mt19937& rng) {
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  std::vector<float> a(t.m * t.k), b(t.k * t.n), c0(t.m * t.n);
  for (float& x : a) x = value(rng);
  for (float& x : b) x = value(rng);
  for (float& x : c0) x = value(rng);
  std::vector<float> c(c0);
  c.resize(t.m * t.n + 16, kGuard);
  ASSERT_TRUE(detail::small_gemm(t.trans_a, t.trans_b, t.m, t.n, t.k, a.data(), b.data(), t.beta,
                                 c.data()));
  std::vector<float> blas(c0);
  detail::choose_gemm(detail::GemmChoice::blas);
  detail::gemm(t.trans_a, t.trans_b, t.m, t.n, t.k, 1.0f, a.data(), b.data(), t.beta, blas.data());
  detail::choose_gemm(detail::GemmChoice::own);
  for (std::size_t i = 0; i < t.m; ++i) {
    for (std::size_t j = 0; j < t.n; ++j) {
      double want = t.beta == 0.0f ? 0.0 : c0[i * t.n + j];
      double scale = std::fabs(want);
      for (std::size_t p = 0; p < t.k; ++p) {
        const double ab = static_cast<double>(at_a(a, t.trans_a, t.m, t.k, i, p)) *
                          static_cast<double>(at_b(b, t.trans_b, t.k, t.n, p, j));
        want += ab;
        scale += std::fabs(ab);
      }
      // float sums of k + 1 terms: each rounding is at most 2⁻²⁴ of the running |sum|.
      const double tolerance = 1e-6 * (static_cast<double>(t.k) + 2.0) * scale + 1e-30;
      EXPECT_NEAR(c[i * t.n + j], want, tolerance) << "at (" << i << ", " << j << ")";
      EXPECT_NEAR(c[i * t.n + j], blas[i * t.n + j], 2.0 * tolerance) << "vs OpenBLAS";
    }
  }
  for (std::size_t g = t.m * t.n; g < c.size(); ++g) ASSERT_EQ(c[g], kGuard) << "past C";
}

void check_cases(std::initializer_list<Case> cases, std::mt19937& rng) {
  for (const Case& t : cases) {
    SCOPED_TRACE(::testing::Message() << "trans_a " << t.trans_a << " trans_b " << t.trans_b
                                      << " m " << t.m << " n " << t.n << " k " << t.k);
    check_against_reference(t, rng);
  }
}

TEST_F(SmallGemmGiven, MatchesTheReferenceLoopAndOpenBlasAroundEveryBlockEdge) {
  std::mt19937 rng(7);
  for (bool trans_a : {false, true}) {
    for (bool trans_b : {false, true}) {
      if (trans_a && trans_b) continue;  // not covered: OpenBLAS runs it
      for (std::size_t m : {1, 2, 4, 5, 6, 7, 12, 13, 25}) {
        for (std::size_t n : {1, 3, 4, 7, 8, 9, 15, 16, 17, 24, 33, 100}) {
          for (std::size_t k : {1, 3, 7, 8, 9, 17, 150}) {
            for (float beta : {0.0f, 1.0f}) {
              SCOPED_TRACE(::testing::Message()
                           << "trans_a " << trans_a << " trans_b " << trans_b << " m " << m << " n "
                           << n << " k " << k << " beta " << beta);
              check_against_reference({trans_a, trans_b, m, n, k, beta}, rng);
            }
          }
        }
      }
    }
  }
}

TEST_F(SmallGemmGiven, LeNetShapesMatchTheReferenceLoop) {
  std::mt19937 rng(11);
  // conv1 and conv2 per image: forward, dWᵀ, dcols; and a linear layer's three products.
  check_cases({{false, false, 6, 784, 25, 1.0f},
               {false, true, 25, 6, 784, 1.0f},
               {true, false, 25, 784, 6, 0.0f},
               {false, false, 16, 100, 150, 1.0f},
               {false, true, 150, 16, 100, 1.0f},
               {true, false, 150, 100, 16, 0.0f},
               {false, false, 64, 120, 400, 1.0f},
               {false, true, 64, 400, 120, 0.0f},
               {true, false, 400, 120, 64, 0.0f}},
              rng);
}

TEST_F(SmallGemmGiven, KnownValuesByHand) {
  // [1 2 3; 4 5 6]·[1 0; 0 1; 1 1] = [4 5; 10 11]
  const float a[] = {1, 2, 3, 4, 5, 6}, b[] = {1, 0, 0, 1, 1, 1};
  float c[4] = {100, 100, 100, 100};
  ASSERT_TRUE(detail::small_gemm(false, false, 2, 2, 3, a, b, 0.0f, c));
  EXPECT_EQ(c[0], 4.0f);
  EXPECT_EQ(c[1], 5.0f);
  EXPECT_EQ(c[2], 10.0f);
  EXPECT_EQ(c[3], 11.0f);
  // β = 1 adds: C = [1 1; 1 1] + Aᵀ-stored A times B; A stored [K, M] = Aᵀ of the above.
  const float a_t[] = {1, 4, 2, 5, 3, 6};
  float c1[4] = {1, 1, 1, 1};
  ASSERT_TRUE(detail::small_gemm(true, false, 2, 2, 3, a_t, b, 1.0f, c1));
  EXPECT_EQ(c1[0], 5.0f);
  EXPECT_EQ(c1[3], 12.0f);
  // Bᵀ stored [N, K]: rows (1 0 1) and (0 1 1).
  const float b_t[] = {1, 0, 1, 0, 1, 1};
  float c2[4] = {};
  ASSERT_TRUE(detail::small_gemm(false, true, 2, 2, 3, a, b_t, 0.0f, c2));
  EXPECT_EQ(c2[0], 4.0f);
  EXPECT_EQ(c2[1], 5.0f);
  EXPECT_EQ(c2[2], 10.0f);
  EXPECT_EQ(c2[3], 11.0f);
}

TEST_F(SmallGemmGiven, BetaZeroOverwritesNanAndEmptySumsFollowBeta) {
  const float a[] = {1, 2}, b[] = {3, 4};
  float c[1] = {std::numeric_limits<float>::quiet_NaN()};
  ASSERT_TRUE(detail::small_gemm(false, false, 1, 1, 2, a, b, 0.0f, c));
  EXPECT_EQ(c[0], 11.0f);
  float kept[2] = {2.5f, -1.0f}, zeroed[2] = {2.5f, -1.0f};
  ASSERT_TRUE(detail::small_gemm(false, false, 1, 2, 0, nullptr, nullptr, 1.0f, kept));
  ASSERT_TRUE(detail::small_gemm(false, false, 1, 2, 0, nullptr, nullptr, 0.0f, zeroed));
  EXPECT_EQ(kept[0], 2.5f);
  EXPECT_EQ(kept[1], -1.0f);
  EXPECT_EQ(zeroed[0], 0.0f);
  EXPECT_EQ(zeroed[1], 0.0f);
  // A NaN or an infinity in the operands reaches C.
  const float nan_a[] = {std::numeric_limits<float>::quiet_NaN(), 1.0f};
  ASSERT_TRUE(detail::small_gemm(false, false, 1, 1, 2, nan_a, b, 0.0f, c));
  EXPECT_TRUE(std::isnan(c[0]));
}

TEST_F(SmallGemmGiven, LeavesUncoveredCasesToOpenBlas) {
  const float a[] = {1}, b[] = {1};
  float c[1] = {0};
  EXPECT_FALSE(detail::small_gemm(true, true, 1, 1, 1, a, b, 0.0f, c));
  EXPECT_FALSE(detail::small_gemm(false, false, 1, 1, 1, a, b, 0.5f, c));
  EXPECT_EQ(c[0], 0.0f);
  detail::choose_gemm(detail::GemmChoice::blas);
  EXPECT_STREQ(detail::gemm_kernel(), "blas");
  EXPECT_FALSE(detail::small_gemm(false, false, 1, 1, 1, a, b, 0.0f, c));
}

TEST_F(SmallGemmGiven, SameResultsWhateverTheCallerCutsOff) {
  // A product cut into row blocks by the caller (as the threads cut a batch) gives the same
  // floats as the whole: each entry's order of sums depends on k only.
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  const std::size_t m = 20, n = 37, k = 29;
  std::vector<float> a(m * k), b(k * n), whole(m * n), parts(m * n);
  for (float& x : a) x = value(rng);
  for (float& x : b) x = value(rng);
  for (bool trans_b : {false, true}) {  // Bᵀ [37, 29] is copied out transposed first
    SCOPED_TRACE(trans_b ? "A·Bᵀ" : "A·B");
    ASSERT_TRUE(
        detail::small_gemm(false, trans_b, m, n, k, a.data(), b.data(), 0.0f, whole.data()));
    for (std::size_t i = 0; i < m; i += 7) {
      const std::size_t rows = std::min<std::size_t>(7, m - i);
      ASSERT_TRUE(detail::small_gemm(false, trans_b, rows, n, k, a.data() + i * k, b.data(), 0.0f,
                                     parts.data() + i * n));
    }
    EXPECT_EQ(whole, parts);
  }
}

TEST_F(SmallGemmGiven, BothRoutesForTransposedBMatchTheReference) {
  // A·Bᵀ runs as dot products, or with Bᵀ copied out first when it is at most 4096 floats and
  // at least 8 wide: shapes on both sides of each limit, and LeNet-5's and its linear layers'.
  std::mt19937 rng(11);
  check_cases({{false, true, 150, 16, 100, 1.0f},
               {false, true, 150, 16, 256, 1.0f},
               {false, true, 150, 16, 257, 0.0f},
               {false, true, 64, 7, 300, 0.0f},
               {false, true, 64, 8, 512, 1.0f},
               {false, true, 64, 8, 513, 0.0f},
               {false, true, 64, 84, 10, 0.0f},
               {false, true, 32, 120, 84, 0.0f},
               {false, true, 1, 4096, 1, 0.0f},
               {false, true, 3, 33, 124, 1.0f}},
              rng);
}

}  // namespace
}  // namespace tinytorch
