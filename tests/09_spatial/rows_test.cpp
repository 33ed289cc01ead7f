// The row copies under im2col (detail/rows.hpp): the CPU's kernel against plain loops, for
// widths around its 16-float pieces, with guard values after each block so that a write past
// the end shows.
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

// Runs `check` with the portable loops and with the CPU's best kernel.
template <class F>
void with_each_kernel(F check) {
  for (bool portable : {true, false}) {
    detail::use_portable_rows(portable);
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

}  // namespace
}  // namespace tinytorch
