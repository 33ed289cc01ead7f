// Module 09: arguments that name what is wrong — strides, kernels and padding no input can
// take, undefined batch-norm tensors, models built for no class or given the wrong image size —
// and BatchNorm2d's running variance, which follows PyTorch.
#include <cstddef>
#include <limits>

#include <tinytorch/core/batchnorm.hpp>
#include <tinytorch/core/models.hpp>
#include <tinytorch/core/spatial.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_near;
using testing::expect_throw_with;

constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();  // a -1 converted

TEST(SpatialGiven, AStrideLargerThanThePaddedInputIsRejectedNamingOpAndValue) {
  // It used to give a 1x1 output. (PyTorch accepts such a stride; here it is nearly always a
  // negative number converted to size_t, so it is refused.)
  const Tensor x = Tensor::zeros({1, 1, 8, 8});
  expect_throw_with<ShapeError>(
      [&] {
        conv2d(x, Tensor::zeros({1, 1, 3, 3}), Tensor(), kMax);
      },
      "conv2d: stride 18446744073709551615 is larger than the padded input 8x8 (input "
      "[1, 1, 8, 8], padding 0)");
  expect_throw_with<ShapeError>(
      [&] { max_pool2d(x, 2, 11, 1); },
      "max_pool2d: stride 11 is larger than the padded input 10x10 (input [1, 1, 8, 8], "
      "padding 1)");
  expect_throw_with<ShapeError>([&] { avg_pool2d(x, 2, 9); },
                                "avg_pool2d: stride 9 is larger than the padded input 8x8");
  expect_throw_with<ShapeError>([] { conv_output_size(8, 3, 9, 0); },
                                "conv_output_size: stride 9 is larger than the padded input 8");
  expect_throw_with<ShapeError>(
      [] {
        avg_pool2d_reference(Array::from_shape({1, 1, 4, 4}), KernelSize{2, 2}, kMax, 0);
      },
      "avg_pool2d_reference: stride 18446744073709551615 is larger than the padded input 4x4");
}

TEST(SpatialGiven, LayersRejectAKernelStrideOrPaddingNoInputCouldFit) {
  const std::string why =
      " is too large: no input side can be longer than 2^61 - 1 (a negative number converted "
      "to size_t?)";
  expect_throw_with<std::invalid_argument>([] { Conv2d(1, 1, 3, kMax); },
                                           "Conv2d: stride 18446744073709551615" + why);
  expect_throw_with<std::invalid_argument>([] { Conv2d(1, 1, 3, 1, kMax); },
                                           "Conv2d: padding 18446744073709551615" + why);
  expect_throw_with<std::invalid_argument>([] { MaxPool2d(kMax, 0); },
                                           "MaxPool2d: kernel height 18446744073709551615" + why);
  expect_throw_with<std::invalid_argument>(
      [] {
        AvgPool2d(KernelSize{2, kMax});
      },
      "AvgPool2d: kernel width 18446744073709551615" + why);
  expect_throw_with<std::invalid_argument>([] { AvgPool2d(2, kMax - 1); },
                                           "AvgPool2d: stride 18446744073709551614" + why);
}

// Past one padded side only is how a global pool of a non-square image looks with the default
// stride (the kernel height), and keeps working.
TEST(Spatial, AGlobalPoolOfANonSquareImageKeepsItsDefaultStride) {
  const Tensor x({{{{1, 2}, {3, 4}, {5, 6}, {7, 8}}}});  // [1, 1, 4, 2]
  expect_near(avg_pool2d(x, KernelSize{4, 2}), Tensor({{{{4.5f}}}}));
}

TEST(BatchNormGiven, UndefinedTensorsAreNamedByArgument) {
  // These used to end in "Tensor: use of an undefined tensor".
  const Tensor x = Tensor::zeros({2, 1, 2, 2}), one = Tensor::ones({1});
  Tensor mean = Tensor::zeros({1}), var = Tensor::ones({1}), none;
  expect_throw_with<std::invalid_argument>([&] { batch_norm2d(x, Tensor(), one, mean, var, true); },
                                           "batch_norm2d: gamma is undefined");
  expect_throw_with<std::invalid_argument>(
      [&] { batch_norm2d(x, one, Tensor(), mean, var, false); }, "batch_norm2d: beta is undefined");
  expect_throw_with<std::invalid_argument>(
      [&] { batch_norm2d(Tensor(), one, one, mean, var, true); },
      "batch_norm2d: input is undefined");
  expect_throw_with<std::invalid_argument>([&] { batch_norm2d(x, one, one, none, var, true); },
                                           "batch_norm2d: running_mean is undefined");
  expect_throw_with<std::invalid_argument>([&] { batch_norm2d(x, one, one, mean, none, true); },
                                           "batch_norm2d: running_var is undefined");
}

TEST(SpatialGiven, ConvAndPoolingNameAnUndefinedArgument) {
  const Tensor x = Tensor::zeros({1, 1, 4, 4});
  expect_throw_with<std::invalid_argument>(
      [&] {
        conv2d(Tensor(), Tensor::zeros({1, 1, 3, 3}));
      },
      "conv2d: input is undefined");
  expect_throw_with<std::invalid_argument>([&] { conv2d(x, Tensor()); },
                                           "conv2d: weight is undefined");
  expect_throw_with<std::invalid_argument>([] { max_pool2d(Tensor(), 2); },
                                           "max_pool2d: input is undefined");
  expect_throw_with<std::invalid_argument>([] { avg_pool2d(Tensor(), 2); },
                                           "avg_pool2d: input is undefined");
}

// Follows torch.nn.BatchNorm2d (the values below are what PyTorch 1.13 gives): the batch is
// normalised with its biased variance, the running variance takes the unbiased one, M/(M − 1)
// times as large for the M = N·H·W values of a channel.
TEST(BatchNormGiven, RunningVarianceTakesTheUnbiasedBatchVarianceAsTorchDoes) {
  BatchNorm2d bn(2);  // momentum 0.1, eps 1e-5
  // Channel 0 holds 1, 3, 5, 7: mean 4, biased variance 5, unbiased 20/3.
  // Channel 1 holds 0, 0, 2, 2: mean 1, biased variance 1, unbiased 4/3.
  const Tensor x({{{{1, 3}}, {{0, 0}}}, {{{5, 7}}, {{2, 2}}}});  // [2, 2, 1, 2]
  const Tensor y = bn(x);
  // (x − 4)/√(5 + eps) and (x − 1)/√(1 + eps): the biased variance.
  expect_near(y,
              Tensor({{{{-1.3416394f, -0.4472131f}}, {{-0.999995f, -0.999995f}}},
                      {{{0.4472131f, 1.3416394f}}, {{0.999995f, 0.999995f}}}}),
              1e-6f);
  expect_near(bn.running_mean, Tensor({0.4f, 0.1f}), 1e-7f);
  expect_near(bn.running_var, Tensor({1.5666666f, 1.0333333f}), 1e-6f);  // 0.9 + 0.1·20/3, ·4/3
  bn(x);
  expect_near(bn.running_mean, Tensor({0.76f, 0.19f}), 1e-6f);
  expect_near(bn.running_var, Tensor({2.0766666f, 1.0633333f}), 1e-6f);
  bn.eval();
  expect_near(bn(x),
              Tensor({{{{0.1665432f, 1.5544028f}}, {{-0.1842540f, -0.1842540f}}},
                      {{{2.9422627f, 4.3301225f}}, {{1.7552615f, 1.7552615f}}}}),
              1e-5f);
}

TEST(SpatialGiven, ModelsCheckTheirNumberOfClassesThemselves) {
  // SimpleCNN(0) used to fail inside Linear, which never says num_classes.
  expect_throw_with<std::invalid_argument>([] { SimpleCNN(0); },
                                           "SimpleCNN: num_classes must be >= 1, got 0");
  expect_throw_with<std::invalid_argument>([] { SimpleCNN::two_block(3, 32, 0); },
                                           "SimpleCNN::two_block: num_classes must be >= 1, got 0");
  expect_throw_with<std::invalid_argument>([] { lenet5(0); },
                                           "lenet5: num_classes must be >= 1, got 0");
}

TEST(Spatial, LeNet5NamesTheImageSizeItExpects) {
  const auto net = lenet5();
  // A 32x32 image (CIFAR's size, or MNIST padded) used to fail in `linear` with [2, 576].
  expect_throw_with<ShapeError>(
      [&] {
        (*net)(Tensor::zeros({2, 1, 32, 32}));
      },
      "lenet5: expected 28x28 images [N, 1, 28, 28], got input [2, 1, 32, 32]: the first "
      "Linear layer takes the 16x5x5 features of a 28x28 image (crop or resize the images to "
      "28x28)");
  EXPECT_EQ((*net)(Tensor::zeros({2, 1, 28, 28})).shape(), (Shape{2, 10}));
  EXPECT_EQ(net->named_parameters().front().first, "0.weight");  // files keep their names
}

}  // namespace
}  // namespace tinytorch
