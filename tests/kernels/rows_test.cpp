// The row kernels under im2col, col2im and 2×2 max pooling (detail/rows.hpp): the CPU's
// kernels against plain loops, for widths around their 8- and 16-float pieces, with guard
// values after each block so that a write past the end shows. col2im_rows and max_pool_2x2
// exist only as vector kernels: where there is none they answer false and write nothing, and
// the exercises of module 09 that call them run their own loops.
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <tinytorch/detail/rows.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

constexpr float kGuard = -7.5f;

// A plane of `rows` × `stride` distinct values, then guards.
std::vector<float> plane(std::size_t rows, std::size_t stride) {
  std::vector<float> p(rows * stride + 16, kGuard);
  for (std::size_t i = 0; i < rows * stride; ++i) p[i] = 0.25f * static_cast<float>(i) + 1.0f;
  return p;
}

// Runs `check` with no vector kernels, with the AVX2 kernels (where the CPU has AVX2) and
// with the CPU's best kernels.
template <class F>
void with_each_kernel(F check) {
  for (int kernels = 0; kernels < 3; ++kernels) {
    detail::use_portable_rows(kernels == 0);
    if (kernels == 1) detail::use_avx2_rows();
    SCOPED_TRACE(detail::rows_kernel());
    check();
  }
  detail::use_portable_rows(false);
}

TEST(RowCopiesGiven, CopyRowsGathersEachRowAndWritesNothingElse) {
  with_each_kernel([] {
    for (std::size_t width : {0, 1, 3, 7, 8, 9, 10, 15, 16, 17, 28, 31, 32, 33}) {
      for (std::size_t rows : {0, 1, 3}) {
        const std::size_t stride = width + 5;
        const std::vector<float> src = plane(rows, stride);
        std::vector<float> dst(rows * width + 16, kGuard);
        detail::copy_rows(src.data(), stride, rows, width, dst.data());
        for (std::size_t r = 0; r < rows; ++r) {
          for (std::size_t j = 0; j < width; ++j)
            ASSERT_EQ(dst[r * width + j], src[r * stride + j]) << "width " << width << " row " << r;
        }
        for (std::size_t i = rows * width; i < dst.size(); ++i)
          ASSERT_EQ(dst[i], kGuard) << "written past the block, width " << width;
      }
    }
  });
}

TEST(RowCopiesGiven, KnownValuesByHand) {
  with_each_kernel([] {
    const float src[] = {1, 2, 3, 9, 4, 5, 6, 9};  // two rows of 3, stride 4
    float dst[6] = {};
    detail::copy_rows(src, 4, 2, 3, dst);
    EXPECT_EQ(std::vector<float>(dst, dst + 6), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  });
}

// col2im for stride 1 the plain way: zeros, then each tap's rows added back in (u, v) order.
std::vector<float> col2im_reference(const std::vector<float>& cols, std::size_t channels,
                                    std::size_t kh, std::size_t kw, std::size_t ho,
                                    std::size_t wo) {
  const std::size_t hp = ho + kh - 1, wp = wo + kw - 1;
  std::vector<float> out(channels * hp * wp, 0.0f);
  for (std::size_t c = 0; c < channels; ++c)
    for (std::size_t u = 0; u < kh; ++u)
      for (std::size_t v = 0; v < kw; ++v)
        for (std::size_t i = 0; i < ho; ++i)
          for (std::size_t j = 0; j < wo; ++j)
            out[(c * hp + i + u) * wp + j + v] += cols[(((c * kh + u) * kw + v) * ho + i) * wo + j];
  return out;
}

TEST(RowCopiesGiven, Col2imRowsMatchesPlainLoopsBitForBit) {
  struct Case {
    std::size_t channels, kh, kw, ho, wo;
  };
  // LeNet-5's conv2 (6 planes, 5×5, 10×10 out) and conv1 (28×28: two 16-lane blocks per row),
  // SimpleCNN's 3×3 layers, 1×1 and non-square kernels, rows that end on and around 16 lanes.
  const Case cases[] = {{6, 5, 5, 10, 10}, {1, 5, 5, 28, 28}, {16, 3, 3, 14, 14}, {2, 1, 1, 4, 5},
                        {3, 2, 3, 5, 7},   {1, 3, 1, 2, 16},  {1, 1, 3, 3, 14},   {2, 4, 4, 1, 13},
                        {1, 2, 2, 3, 31},  {1, 6, 2, 9, 33},  {1, 1, 1, 1, 1}};
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  with_each_kernel([&] {
    for (const Case& k : cases) {
      SCOPED_TRACE(::testing::Message() << k.channels << " planes, " << k.kh << "x" << k.kw
                                        << " taps, " << k.ho << "x" << k.wo << " out");
      std::vector<float> cols(k.channels * k.kh * k.kw * k.ho * k.wo);
      for (float& x : cols) x = normal(rng);
      const std::vector<float> expected =
          col2im_reference(cols, k.channels, k.kh, k.kw, k.ho, k.wo);
      std::vector<float> out(expected.size() + 16, kGuard);
      if (!detail::col2im_rows(cols.data(), k.channels, k.kh, k.kw, k.ho, k.wo, out.data())) {
        ASSERT_STREQ(detail::rows_kernel(), "portable") << "a vector kernel declined the work";
        ASSERT_EQ(out, std::vector<float>(expected.size() + 16, kGuard)) << "declined but wrote";
        continue;
      }
      for (std::size_t i = 0; i < expected.size(); ++i)
        ASSERT_EQ(out[i], expected[i]) << "at " << i;
      for (std::size_t i = expected.size(); i < out.size(); ++i)
        ASSERT_EQ(out[i], kGuard) << "written past the planes";
    }
  });
}

TEST(RowCopiesGiven, Col2imRowsKnownValuesByHand) {
  with_each_kernel([] {
    // One plane, 2×2 taps, 2×2 output: each of the 4 tap rows [a b; c d] lands on a 3×3 plane
    // shifted by its (u, v). Tap values: (0,0) = 1, (0,1) = 10, (1,0) = 100, (1,1) = 1000.
    std::vector<float> cols;
    for (float t : {1.0f, 10.0f, 100.0f, 1000.0f}) {
      for (int p = 0; p < 4; ++p) cols.push_back(t);
    }
    std::vector<float> out(9, kGuard);
    // No output positions: the plane [0 + 3 − 1, 0 + 2 − 1] is zeros, and nothing after it,
    // with or without vector kernels.
    std::vector<float> empty(4, kGuard);
    EXPECT_TRUE(detail::col2im_rows(nullptr, 1, 3, 2, 0, 0, empty.data()));
    EXPECT_EQ(empty, (std::vector<float>{0, 0, kGuard, kGuard}));
    if (!detail::col2im_rows(cols.data(), 1, 2, 2, 2, 2, out.data())) return;
    EXPECT_EQ(out, (std::vector<float>{1, 11, 10, 101, 1111, 1010, 100, 1100, 1000}));
  });
}

TEST(RowCopiesGiven, MaxPool2x2MatchesPlainLoops) {
  // Values from a small set, so that windows often tie (the first maximum must win), plus NaNs
  // (never chosen over a number, kept when first) and infinities.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const float values[] = {-2.0f, -1.0f, 0.0f, 0.0f, 1.0f, 1.0f, 3.0f, -inf, inf, nan};
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> pick(0, 9);
  with_each_kernel([&] {
    for (std::size_t h : {2, 3, 5, 28}) {
      for (std::size_t w : {2, 3, 10, 15, 16, 17, 18, 28, 31, 32, 33, 34, 65}) {
        const std::size_t planes = 3, ho = h / 2, wo = w / 2;
        std::vector<float> x(planes * h * w);
        for (float& v : x) v = values[pick(rng)];
        std::vector<float> y(planes * ho * wo + 16, kGuard);
        std::vector<std::uint32_t> arg(planes * ho * wo + 16, 77u);
        if (!detail::max_pool_2x2(x.data(), planes, h, w, y.data(), arg.data())) {
          // Declined: no vector kernel, or rows of fewer than 8 windows for the AVX2 one.
          const std::string kernel = detail::rows_kernel();
          ASSERT_TRUE(kernel == "portable" || (kernel == "avx2" && wo < 8)) << kernel << " " << w;
          ASSERT_EQ(y[0], kGuard) << "declined but wrote";
          continue;
        }
        for (std::size_t p = 0; p < planes; ++p) {
          for (std::size_t i = 0; i < ho; ++i) {
            for (std::size_t j = 0; j < wo; ++j) {
              // The window's taps in row-major order; the first one not beaten by a later (>).
              std::size_t best = (2 * i) * w + 2 * j;
              for (std::size_t t : {(2 * i) * w + 2 * j + 1, (2 * i + 1) * w + 2 * j,
                                    (2 * i + 1) * w + 2 * j + 1}) {
                if (x[p * h * w + t] > x[p * h * w + best]) best = t;
              }
              const std::size_t k = (p * ho + i) * wo + j;
              ASSERT_EQ(arg[k], best)
                  << h << "x" << w << " plane " << p << " out " << i << "," << j;
              const float expected = x[p * h * w + best];
              if (std::isnan(expected)) {
                ASSERT_TRUE(std::isnan(y[k]));
              } else {
                ASSERT_EQ(y[k], expected);
              }
            }
          }
        }
        for (std::size_t k = planes * ho * wo; k < y.size(); ++k) {
          ASSERT_EQ(y[k], kGuard) << "written past the output, " << h << "x" << w;
          ASSERT_EQ(arg[k], 77u) << "written past the indices, " << h << "x" << w;
        }
      }
    }
  });
}

TEST(RowCopiesGiven, MaxPool2x2KnownValuesByHand) {
  with_each_kernel([] {
    // One 2×4 plane: windows [1 5; 5 2] (first 5 wins, index 1) and [3 3; 3 3] (index 2).
    const float x[] = {1, 5, 3, 3, 5, 2, 3, 3};
    float y[2] = {};
    std::uint32_t arg[2] = {};
    if (!detail::max_pool_2x2(x, 1, 2, 4, y, arg)) return;  // no vector kernel for 2 windows
    EXPECT_EQ(y[0], 5.0f);
    EXPECT_EQ(y[1], 3.0f);
    EXPECT_EQ(arg[0], 1u);
    EXPECT_EQ(arg[1], 2u);
  });
}

}  // namespace
}  // namespace tinytorch
