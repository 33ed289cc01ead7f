// Module 09 — bad input to convolution, pooling and batch norm: ranks, channel counts,
// kernels, strides and statistics that do not fit are errors naming the op and the shapes,
// raised before any kernel runs.
#include <limits>

#include <tinytorch/core/batchnorm.hpp>
#include <tinytorch/core/models.hpp>
#include <tinytorch/core/spatial.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_near;
using testing::expect_throw_with;

TEST(SpatialGiven, Conv2dRejectsInputsItsWindowsCannotTake) {
  const Tensor x = Tensor::zeros({1, 2, 4, 4});
  const Tensor w = Tensor::zeros({1, 2, 3, 3});
  expect_throw_with<ShapeError>(
      [&] {
        conv2d(Tensor::zeros({2, 4, 4}), w);
      },
      "conv2d: expected 4-D input [N, C, H, W], got [2, 4, 4]");
  expect_throw_with<ShapeError>(
      [&] {
        conv2d(x, Tensor::zeros({1, 2, 5, 5}));
      },
      "conv2d: kernel 5x5 is larger than the padded input 4x4 (input [1, 2, 4, 4], padding 0)");
  expect_throw_with<std::invalid_argument>([&] { conv2d(x, w, Tensor(), 0); },
                                           "conv2d: stride must be >= 1, got 0");
}

// The output size is computed (an exercise) before the weight and bias are compared with the
// input, so these reach the module's exercises.
TEST(Spatial, Conv2dRejectsWeightsAndBiasesThatDoNotFitTheInput) {
  const Tensor x = Tensor::zeros({1, 2, 4, 4});
  const Tensor w = Tensor::zeros({1, 2, 3, 3});
  expect_throw_with<ShapeError>(
      [&] {
        conv2d(x, Tensor::zeros({2, 3, 3}));
      },
      "conv2d: expected 4-D weight [O, C, kh, kw], got [2, 3, 3]");
  expect_throw_with<ShapeError>(
      [&] {
        conv2d(x, Tensor::zeros({1, 3, 3, 3}));
      },
      "conv2d: input has 2 channels but the weight [1, 3, 3, 3] expects 3");
  expect_throw_with<ShapeError>([&] { conv2d(x, w, Tensor::zeros({2})); },
                                "conv2d: expected bias [1], got [2]");
}

TEST(SpatialGiven, PoolingRejectsEmptyKernelsAndInputsOfTheWrongRank) {
  expect_throw_with<std::invalid_argument>(
      [] {
        max_pool2d(Tensor::zeros({1, 1, 4, 4}), KernelSize{0, 2});
      },
      "max_pool2d: kernel size must be >= 1, got 0x2");
  expect_throw_with<ShapeError>(
      [] {
        avg_pool2d(Tensor::zeros({4, 4}), 2);
      },
      "avg_pool2d: expected 4-D input [N, C, H, W], got [4, 4]");
  expect_throw_with<std::invalid_argument>(
      [] {
        MaxPool2d(KernelSize{2, 0});
      },
      "MaxPool2d: kernel size must be >= 1, got 2x0");
}

TEST(SpatialGiven, LayersRejectSizesTheyCannotHave) {
  expect_throw_with<std::invalid_argument>([] { Conv2d(0, 1, 3); },
                                           "Conv2d: channel counts must be >= 1, got in=0 out=1");
  expect_throw_with<std::invalid_argument>([] { SimpleCNN::two_block(1, 3); },
                                           "SimpleCNN: image_size must be >= 4, got 3");
}

TEST(Spatial, AConvLayerRejectsAnInputOfOtherChannels) {
  Conv2d conv(1, 2, 3);  // its weight is drawn by an exercise of this module
  expect_throw_with<ShapeError>(
      [&] {
        conv(Tensor::zeros({1, 2, 4, 4}));
      },
      "Conv2d: expected 1 input channels, got input [1, 2, 4, 4]");
}

TEST(SpatialGiven, BatchNormRejectsStatisticsOfOtherChannelsAndTooFewValues) {
  const Tensor x = Tensor::zeros({2, 2, 1, 1});
  Tensor mean = Tensor::zeros({3}), var = Tensor::ones({2});
  expect_throw_with<ShapeError>(
      [&] { batch_norm2d(x, Tensor::ones({2}), Tensor::zeros({2}), mean, var, true); },
      "batch_norm2d: expected 2 channels, got input [2, 2, 1, 1] and a statistic of shape [3]");
  mean = Tensor::zeros({2});
  expect_throw_with<ShapeError>(
      [&] {
        batch_norm2d(Tensor::zeros({1, 2, 1, 1}), Tensor::ones({2}), Tensor::zeros({2}), mean, var,
                     true);
      },
      "batch_norm2d: training needs more than one value per channel, got input [1, 2, 1, 1]");
  expect_throw_with<ShapeError>(
      [&] {
        batch_norm2d(Tensor::zeros({2, 2}), Tensor::ones({2}), Tensor::zeros({2}), mean, var, true);
      },
      "batch_norm2d: expected 4-D input [N, C, H, W], got [2, 2]");
}

// The reference kernels are exercises, and their checks are part of them.
TEST(Spatial, ReferenceKernelsCheckTheirGeometryToo) {
  expect_throw_with<ShapeError>(
      [] {
        conv2d_reference(Array::from_shape({4, 4}), Array::from_shape({1, 1, 3, 3}),
                         Array::from_shape({0}), 1, 0);
      },
      "conv2d_reference: expected 4-D input [N, C, H, W], got [4, 4]");
  expect_throw_with<ShapeError>(
      [] {
        max_pool2d_reference(Array::from_shape({1, 1, 0, 0}), KernelSize{2, 2}, 2, 1);
      },
      "max_pool2d_reference: input [1, 1, 0, 0] has an empty 0x0 image");
}

TEST(SpatialGiven, BatchNormRejectsAnEpsThatIsNotPositiveAndAMomentumOutsideZeroToOne) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  expect_throw_with<std::invalid_argument>([] { BatchNorm2d(2, 0.0f); },
                                           "BatchNorm2d: eps must be > 0, got 0");
  expect_throw_with<std::invalid_argument>([] { BatchNorm2d(2, -1e-5f); },
                                           "BatchNorm2d: eps must be > 0, got -1e-05");
  expect_throw_with<std::invalid_argument>([&] { BatchNorm2d(2, nan); },
                                           "BatchNorm2d: eps must be > 0, got nan");
  expect_throw_with<std::invalid_argument>([] { BatchNorm2d(2, 1e-5f, 1.5f); },
                                           "BatchNorm2d: momentum must be in [0, 1], got 1.5");
  expect_throw_with<std::invalid_argument>([] { BatchNorm2d(2, 1e-5f, -0.1f); },
                                           "BatchNorm2d: momentum must be in [0, 1], got -0.1");
  expect_throw_with<std::invalid_argument>([&] { BatchNorm2d(2, 1e-5f, -nan); },
                                           "BatchNorm2d: momentum must be in [0, 1], got nan");
  EXPECT_NO_THROW(BatchNorm2d(2, 1e-5f, 0.0f));
  EXPECT_NO_THROW(BatchNorm2d(2, 1e-5f, 1.0f));
}

TEST(SpatialGiven, BatchNormFunctionRejectsTheSameEpsAndMomentumAndLeavesTheStatistics) {
  const Tensor x = Tensor::randn({2, 2, 2, 2}), gamma = Tensor::ones({2}),
               beta = Tensor::zeros({2});
  Tensor mean = Tensor::zeros({2}), var = Tensor::ones({2});
  expect_throw_with<std::invalid_argument>(
      [&] { batch_norm2d(x, gamma, beta, mean, var, true, 0.1f, 0.0f); },
      "batch_norm2d: eps must be > 0, got 0");
  expect_throw_with<std::invalid_argument>(
      [&] {
        batch_norm2d(x, gamma, beta, mean, var, true, 0.1f,
                     std::numeric_limits<float>::quiet_NaN());
      },
      "batch_norm2d: eps must be > 0, got nan");
  expect_throw_with<std::invalid_argument>(
      [&] { batch_norm2d(x, gamma, beta, mean, var, true, 2.0f); },
      "batch_norm2d: momentum must be in [0, 1], got 2");
  expect_throw_with<std::invalid_argument>(
      [&] { batch_norm2d(x, gamma, beta, mean, var, false, -0.5f); },
      "batch_norm2d: momentum must be in [0, 1], got -0.5");
  expect_near(mean, Tensor::zeros({2}), 0.0f);  // the running statistics did not move
  expect_near(var, Tensor::ones({2}), 0.0f);
}

// Checked before the exercise's loops: a weight the loops would index past.
TEST(SpatialGiven, ConvReferenceKernelsRejectAWeightOfTheWrongRankOrChannels) {
  const Array x = Array::from_shape({1, 2, 4, 4}), no_bias = Array::from_shape({0});
  expect_throw_with<ShapeError>(
      [&] {
        conv2d_reference(x, Array::from_shape({3, 2}), no_bias, 1, 0);
      },
      "conv2d_reference: expected 4-D weight [O, C, kh, kw], got [3, 2]");
  expect_throw_with<ShapeError>(
      [&] {
        conv2d_reference(x, Array::from_shape({3, 1, 3, 3}), no_bias, 1, 0);
      },
      "conv2d_reference: input has 2 channels but the weight [3, 1, 3, 3] expects 1");
  expect_throw_with<ShapeError>(
      [&] {
        conv2d_reference(x, Array::from_shape({3, 2, 3, 3}), Array::from_shape({2}), 1, 0);
      },
      "conv2d_reference: expected bias [3] or no bias, got [2]");
  const Array g = Array::from_shape({1, 3, 2, 2});
  expect_throw_with<ShapeError>(
      [&] {
        conv2d_backward_reference(x, Array::from_shape({3, 2, 3}), g, 1, 0);
      },
      "conv2d_backward_reference: expected 4-D weight [O, C, kh, kw], got [3, 2, 3]");
  expect_throw_with<ShapeError>(
      [&] {
        conv2d_backward_reference(x, Array::from_shape({3, 4, 3, 3}), g, 1, 0);
      },
      "conv2d_backward_reference: input has 2 channels but the weight [3, 4, 3, 3] expects 4");
}

// The expected grad_out shape is the forward's output size: an exercise of this module.
TEST(Spatial, BackwardReferenceKernelsRejectAGradOutOfAnotherShape) {
  const Array x = Array::from_shape({1, 2, 4, 4});
  expect_throw_with<ShapeError>(
      [&] {
        conv2d_backward_reference(x, Array::from_shape({3, 2, 3, 3}),
                                  Array::from_shape({1, 3, 4, 4}), 1, 0);
      },
      "conv2d_backward_reference: expected grad_out [1, 3, 2, 2] (the forward's output), got "
      "[1, 3, 4, 4]");
  expect_throw_with<ShapeError>(
      [&] {
        max_pool2d_backward_reference(x, Array::from_shape({1, 2, 2}), KernelSize{2, 2}, 2, 0);
      },
      "max_pool2d_backward_reference: expected grad_out [1, 2, 2, 2] (the forward's output), got "
      "[1, 2, 2]");
  expect_throw_with<ShapeError>(
      [&] {
        avg_pool2d_backward_reference(x, Array::from_shape({1, 2, 3, 3}), KernelSize{2, 2}, 2, 0);
      },
      "avg_pool2d_backward_reference: expected grad_out [1, 2, 2, 2] (the forward's output), got "
      "[1, 2, 3, 3]");
}

}  // namespace
}  // namespace tinytorch
