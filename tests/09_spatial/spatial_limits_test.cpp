// Module 09: the geometry of windows — padding that overflows, images the windows cannot read
// and shapes too large to index are errors that name the op, checked before any kernel runs.
#include <cstdint>
#include <limits>

#include <tinytorch/core/spatial.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_throw_with;

constexpr std::size_t k2to63 = std::size_t{1} << 63;
constexpr std::size_t kHugePadding = std::size_t{1} << 62;  // 2 * padding wraps past 2^63

TEST(SpatialGiven, ConvOutputSizeRejectsPaddingWhoseDoubleOverflows) {
  // 5 + 2 * 2^63 wraps to 5 in 64 bits, which used to give an output size of 3.
  expect_throw_with<ShapeError>(
      [] { conv_output_size(5, 3, 1, k2to63); },
      "conv_output_size: padding 9223372036854775808 on a side of 5 is too large");
  expect_throw_with<ShapeError>([] { conv_output_size(5, 3, 1, kHugePadding); },
                                "conv_output_size: padding 4611686018427387904");
  expect_throw_with<ShapeError>(
      [] { conv_output_size(std::numeric_limits<std::size_t>::max(), 3, 1, 0); },
      "conv_output_size: padding 0 on a side of 18446744073709551615 is too large");
}

TEST(SpatialGiven, ConvAndPoolingRejectPaddingWhoseDoubleOverflows) {
  const Tensor x = Tensor::zeros({1, 1, 4, 4});
  const Tensor w = Tensor::zeros({1, 1, 3, 3});
  expect_throw_with<ShapeError>([&] { conv2d(x, w, Tensor(), 1, kHugePadding); },
                                "conv2d: padding 4611686018427387904 on a side of 4 is too large");
  expect_throw_with<ShapeError>([&] { max_pool2d(x, 2, 2, kHugePadding); },
                                "max_pool2d: padding 4611686018427387904");
  expect_throw_with<ShapeError>([&] { avg_pool2d(x, 2, 2, kHugePadding); },
                                "avg_pool2d: padding 4611686018427387904");
}

TEST(SpatialGiven, PoolingAnEmptyImageWithPaddingIsRejected) {
  // With padding 1 a 2x2 window "fits" a 0x0 image, but it has no pixel to take the maximum of
  // (this read through a null pointer).
  const Tensor empty = Tensor::zeros({1, 1, 0, 0});
  expect_throw_with<ShapeError>(
      [&] { max_pool2d(empty, 2, 2, 1); },
      "max_pool2d: input [1, 1, 0, 0] has an empty 0x0 image; expected H and W >= 1");
  expect_throw_with<ShapeError>([&] { avg_pool2d(empty, 2, 2, 1); },
                                "avg_pool2d: input [1, 1, 0, 0] has an empty 0x0 image");
  expect_throw_with<ShapeError>(
      [&] {
        max_pool2d(Tensor::zeros({2, 3, 4, 0}), 1);
      },
      "max_pool2d: input [2, 3, 4, 0] has an empty 4x0 image");
  expect_throw_with<ShapeError>(
      [&] {
        conv2d(empty, Tensor::zeros({1, 1, 2, 2}), Tensor(), 1, 1);
      },
      "conv2d: input [1, 1, 0, 0] has an empty 0x0 image");
}

TEST(SpatialGiven, PoolingPaddingOverHalfTheKernelIsRejectedWhenTheLayerIsMade) {
  expect_throw_with<std::invalid_argument>(
      [] { MaxPool2d(2, 2, 2); }, "MaxPool2d: padding 2 must be at most half the kernel 2x2");
  expect_throw_with<std::invalid_argument>(
      [] {
        AvgPool2d(KernelSize{4, 2}, 1, 2);
      },
      "AvgPool2d: padding 2 must be at most half the kernel 4x2");
  expect_throw_with<std::invalid_argument>([] { MaxPool2d(3, 1, k2to63); },
                                           "MaxPool2d: padding 9223372036854775808");
}

TEST(SpatialGiven, AConvLayerTooLargeToIndexIsRejectedBeforeItsWeightIsDrawn) {
  expect_throw_with<ShapeError>(
      [] { Conv2d(std::size_t{1} << 31, std::size_t{1} << 31, 1 << 20); },
      "Conv2d: shape [2147483648, 2147483648, 1048576, 1048576] is too large");
}

}  // namespace
}  // namespace tinytorch
