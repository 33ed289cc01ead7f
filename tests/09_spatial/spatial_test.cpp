// Module 09: convolution and pooling — known values, gradient checks, fast vs reference kernels.
#include <random>

#include <tinytorch/core/activations.hpp>
#include <tinytorch/core/batchnorm.hpp>
#include <tinytorch/core/models.hpp>
#include <tinytorch/core/spatial.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_gradcheck;
using testing::expect_near;
using testing::expect_throw_with;

Tensor ramp_4x4() {
  return Tensor({{{{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}, {13, 14, 15, 16}}}});
}

// ---- shapes and parameter counts ----------------------------------------------------------

TEST(Spatial, ConvOutputSizeFollowsTheFormula) {
  EXPECT_EQ(conv_output_size(32, 3, 1, 0), 30u);
  EXPECT_EQ(conv_output_size(28, 3, 1, 1), 28u);
  EXPECT_EQ(conv_output_size(16, 3, 2, 0), 7u);
  EXPECT_EQ(conv_output_size(5, 5, 1, 0), 1u);
}

TEST(Spatial, Conv2dOutputShapes) {
  manual_seed(0);
  EXPECT_EQ(Conv2d(3, 16, 3)(Tensor::randn({2, 3, 32, 32})).shape(), (Shape{2, 16, 30, 30}));
  EXPECT_EQ(Conv2d(1, 4, 3, 1, 1)(Tensor::randn({1, 1, 28, 28})).shape(), (Shape{1, 4, 28, 28}));
  EXPECT_EQ(Conv2d(1, 2, 3, 2)(Tensor::randn({1, 1, 16, 16})).shape(), (Shape{1, 2, 7, 7}));
  EXPECT_EQ(Conv2d(3, 16, 3)(Tensor::zeros({1, 3, 8, 8})).shape(), (Shape{1, 16, 6, 6}));
  EXPECT_EQ(Conv2d(2, 3, KernelSize{2, 3})(Tensor::randn({1, 2, 5, 6})).shape(),
            (Shape{1, 3, 4, 4}));
}

TEST(Spatial, Conv2dParameterCounts) {
  const Conv2d big(64, 128, 3);
  EXPECT_EQ(big.parameters().size(), 2u);
  EXPECT_EQ(big.parameter_count(), 73856u);
  const Conv2d no_bias(3, 16, 3, 1, 0, false);
  EXPECT_EQ(no_bias.parameters().size(), 1u);
  const Conv2d small(3, 16, 3);
  EXPECT_EQ(small.weight.size(), 432u);
  EXPECT_EQ(small.bias.size(), 16u);
  EXPECT_TRUE(small.weight.requires_grad());
  EXPECT_TRUE(small.bias.requires_grad());
}

TEST(Spatial, Conv2dUsesHeInitialisation) {
  manual_seed(3);
  const Conv2d conv(64, 128, 3);
  const double expected = std::sqrt(2.0 / (64 * 9));
  double sum = 0, sq = 0;
  for (float v : conv.weight.data()) {
    sum += v;
    sq += static_cast<double>(v) * v;
  }
  const double n = static_cast<double>(conv.weight.size());
  const double std = std::sqrt(sq / n - (sum / n) * (sum / n));
  EXPECT_NEAR(std, expected, 0.05 * expected);
  for (float b : conv.bias.data()) EXPECT_EQ(b, 0.0f);
}

TEST(Spatial, SimpleCNNHasTheMilestoneShapeAndParameterCount) {
  SimpleCNN model;
  EXPECT_EQ(model.parameter_count(), 810u);
  EXPECT_EQ(model.parameters().size(), 4u);
  EXPECT_EQ(model(Tensor::randn({5, 1, 8, 8})).shape(), (Shape{5, 10}));
  EXPECT_EQ(model.features(Tensor::randn({5, 1, 8, 8})).shape(), (Shape{5, 72}));
  EXPECT_EQ(model.named_parameters()[0].first, "layers.0.weight");
}

TEST(Spatial, TwoBlockSimpleCNNMatchesTheModuleVariant) {
  auto model = SimpleCNN::two_block(3, 32, 10);
  EXPECT_EQ(model->features(Tensor::randn({2, 3, 32, 32})).shape(), (Shape{2, 2048}));
  EXPECT_EQ((*model)(Tensor::randn({8, 3, 32, 32})).shape(), (Shape{8, 10}));
  auto small = SimpleCNN::two_block(3, 16, 10);
  EXPECT_EQ(small->features(Tensor::randn({1, 3, 16, 16})).shape(), (Shape{1, 512}));
  // The course's conv stack has 5,088 scalars; the C++ model adds the Linear head it promised.
  EXPECT_EQ(model->parameter_count(), 5088u + 2048u * 10u + 10u);
}

TEST(Spatial, LeNet5MapsFashionImagesToTenLogits) {
  manual_seed(0);
  auto model = lenet5();
  EXPECT_EQ((*model)(Tensor::randn({2, 1, 28, 28})).shape(), (Shape{2, 10}));
  // conv 156 + 2,416, linear 48,120 + 10,164 + 850
  EXPECT_EQ(model->parameter_count(), 61706u);
}

// ---- known values -------------------------------------------------------------------------

TEST(Spatial, EdgeKernelFindsTheVerticalEdge) {
  Conv2d conv(1, 1, 3, 1, 0, false);
  conv.weight.data() = Tensor({{{{-1, 0, 1}, {-1, 0, 1}, {-1, 0, 1}}}}).data();
  const Tensor image({{{{0, 0, 1, 1}, {0, 0, 1, 1}, {0, 0, 1, 1}, {0, 0, 1, 1}}}});
  const Tensor y = conv(image);
  ASSERT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_FLOAT_EQ(y.data()(0, 0, 0, 0), 3.0f);
  expect_near(y, Tensor({{{{3, 3}, {3, 3}}}}));
}

TEST(Spatial, Conv2dHandComputedWithPaddingStrideAndBias) {
  // x = 3x3 ramp 1..9, w = [[1, 0], [0, -1]] (x[i][j] − x[i+1][j+1]), bias 0.5, padding 1,
  // stride 2.
  const Tensor x({{{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}}});
  const Tensor w({{{{1, 0}, {0, -1}}}});
  const Tensor b({0.5f});
  // Padded input is 5x5; windows start at rows/cols 0 and 2:
  // (0,0): 0 − 1 = −1   (0,2): 0 − 3 = −3   (2,0): 0 − 7 = −7   (2,2): 5 − 9 = −4
  expect_near(conv2d(x, w, b, 2, 1), Tensor({{{{-0.5f, -2.5f}, {-6.5f, -3.5f}}}}));
}

TEST(Spatial, MaxPoolPicksWindowMaximum) {
  expect_near(MaxPool2d(2)(ramp_4x4()), Tensor({{{{6, 8}, {14, 16}}}}));
  const Tensor mixed({{{{-1, -3, 2, 4}, {-5, -2, 6, 1}, {2, -8, 1, 3}, {-7, 1, -9, 2}}}});
  expect_near(MaxPool2d(2)(mixed), Tensor({{{{-1, 6}, {2, 3}}}}));
}

TEST(Spatial, AvgPoolAveragesEachWindow) {
  expect_near(AvgPool2d(2)(ramp_4x4()), Tensor({{{{3.5f, 5.5f}, {11.5f, 13.5f}}}}));
}

TEST(Spatial, PoolFunctionsTakeAPlainKernelSizeLikeTheModules) {
  const Tensor x = ramp_4x4();
  expect_near(max_pool2d(x, 2), MaxPool2d(2)(x), 0.0f);
  expect_near(avg_pool2d(x, 2), AvgPool2d(2)(x), 0.0f);
  expect_near(max_pool2d(x, 3, 1), max_pool2d(x, {3, 3}, 1), 0.0f);
  expect_near(avg_pool2d(x, 2, 2, 1), avg_pool2d(x, {2, 2}, 2, 1), 0.0f);
}

TEST(Spatial, AvgPoolCountsPaddingAsTheCourseDoes) {
  // Corner window of a padded 2x2 ramp sees 1 real pixel and 3 zeros: 1/4.
  const Tensor x({{{{1, 2}, {3, 4}}}});
  expect_near(avg_pool2d(x, {2, 2}, 2, 1), Tensor({{{{0.25f, 0.5f}, {0.75f, 1.0f}}}}));
}

TEST(Spatial, PoolShapesAndSizeReduction) {
  EXPECT_EQ(MaxPool2d(2)(Tensor::randn({1, 3, 8, 8})).shape(), (Shape{1, 3, 4, 4}));
  EXPECT_EQ(MaxPool2d(3, 1)(Tensor::randn({1, 1, 5, 5})).shape(), (Shape{1, 1, 3, 3}));
  const Tensor x = Tensor::randn({2, 4, 16, 16});
  EXPECT_EQ(x.size(), 4 * MaxPool2d(2)(x).size());
}

TEST(Spatial, MaxPoolTiesSendTheGradientToTheFirstMaximum) {
  Tensor x({{{{5, 5}, {5, 5}}}}, true);
  max_pool2d(x, {2, 2}).sum().backward();
  expect_near(x.grad(), Tensor({{{{1, 0}, {0, 0}}}}));

  // Overlapping windows (3x3, stride 1) on a plateau: every window picks the top-left of its
  // own view, and gradients add up where those picks coincide.
  Tensor flat = Tensor::ones({1, 1, 4, 4}, true);
  max_pool2d(flat, {3, 3}, 1).sum().backward();
  expect_near(flat.grad(), Tensor({{{{1, 1, 0, 0}, {1, 1, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}}}}));
}

// lenet5() pools before its ReLUs; that is only a speed choice if both orders agree exactly.
TEST(Spatial, PoolThenReluEqualsReluThenPoolWithTheSameGradient) {
  // By hand: window 1 has a positive maximum (4), window 2 only values <= 0, window 3 a tie
  // of positive maxima (first one wins), window 4 a zero maximum.
  const Tensor known({{{{1, 4, -1, -2}, {3, 2, -3, 0}, {2, 2, 0, -1}, {1, -5, -2, -3}}}});
  expect_near(relu(max_pool2d(known, {2, 2})), Tensor({{{{4, 0}, {2, 0}}}}), 0.0f);
  for (const std::uint64_t seed : {1u, 2u, 3u}) {
    manual_seed(seed);
    const Tensor x = Tensor::randn({3, 2, 8, 8});
    Tensor a(x.data(), true), b(x.data(), true);
    const Tensor g = Tensor::randn({3, 2, 4, 4});
    const Tensor ya = relu(max_pool2d(a, {2, 2})), yb = max_pool2d(relu(b), {2, 2});
    expect_near(ya, yb, 0.0f);
    (ya * g).sum().backward();
    (yb * g).sum().backward();
    expect_near(a.grad(), b.grad(), 0.0f);
    std::size_t nonzero = 0;
    for (float v : a.grad().data()) nonzero += v != 0.0f;
    EXPECT_GT(nonzero, 0u);
  }
  Tensor c(known.data(), true), d(known.data(), true);
  relu(max_pool2d(c, {2, 2})).sum().backward();
  max_pool2d(relu(d), {2, 2}).sum().backward();
  const Tensor expected({{{{0, 1, 0, 0}, {0, 0, 0, 0}, {1, 0, 0, 0}, {0, 0, 0, 0}}}});
  expect_near(c.grad(), expected, 0.0f);
  expect_near(d.grad(), expected, 0.0f);
}

TEST(Spatial, MaxPoolGradientIsSparse) {
  manual_seed(5);
  Tensor x = Tensor::randn({1, 2, 6, 6}, true);
  max_pool2d(x, {2, 2}).sum().backward();
  std::size_t nonzero = 0;
  for (float g : x.grad().data()) nonzero += g != 0.0f;
  EXPECT_EQ(nonzero, 2u * 9u);  // one winner per window
}

TEST(Spatial, OutputsCarryTheirBackwardNodes) {
  Conv2d conv(1, 2, 3);
  const Tensor y = conv(Tensor::randn({1, 1, 5, 5}));
  ASSERT_TRUE(y.grad_fn());
  EXPECT_STREQ(y.grad_fn()->name(), "Conv2dBackward");
  EXPECT_STREQ(max_pool2d(y, {2, 2}).grad_fn()->name(), "MaxPool2dBackward");
  EXPECT_STREQ(avg_pool2d(y, {2, 2}).grad_fn()->name(), "AvgPool2dBackward");
}

// ---- gradient checks ----------------------------------------------------------------------

TEST(Gradcheck, Conv2d) {
  manual_seed(11);
  expect_gradcheck([](const std::vector<Tensor>& t) { return conv2d(t[0], t[1], t[2]); },
                   {Tensor::randn({2, 2, 5, 5}, true), Tensor::randn({3, 2, 3, 3}, true),
                    Tensor::randn({3}, true)});
}

TEST(Gradcheck, Conv2dStridePadding) {
  manual_seed(12);
  expect_gradcheck([](const std::vector<Tensor>& t) { return conv2d(t[0], t[1], t[2], 2, 1); },
                   {Tensor::randn({2, 2, 6, 5}, true), Tensor::randn({2, 2, 3, 3}, true),
                    Tensor::randn({2}, true)});
}

TEST(Gradcheck, Conv2dNonSquareKernelNoBias) {
  manual_seed(13);
  expect_gradcheck([](const std::vector<Tensor>& t) { return conv2d(t[0], t[1], Tensor(), 2, 1); },
                   {Tensor::randn({1, 3, 6, 7}, true), Tensor::randn({2, 3, 2, 3}, true)});
}

TEST(Gradcheck, MaxPool2dOverlapping) {
  manual_seed(14);
  // Distinct, well-separated values: a ±eps step never changes which element wins.
  Tensor x = Tensor::arange(0, 50).reshape({2, 1, 5, 5});
  std::vector<float> values(x.data().begin(), x.data().end());
  std::shuffle(values.begin(), values.end(), std::mt19937(7));
  std::copy(values.begin(), values.end(), x.data().begin());
  x.data() *= 0.1f;
  x.requires_grad_();
  expect_gradcheck([](const std::vector<Tensor>& t) { return max_pool2d(t[0], {3, 3}, 1); }, {x});
  expect_gradcheck(
      [](const std::vector<Tensor>& t) {
        return max_pool2d(t[0], {2, 3}, 2, 1);
      },
      {x});
}

TEST(Gradcheck, AvgPool2d) {
  manual_seed(15);
  const Tensor x = Tensor::randn({2, 2, 5, 5}, true);
  expect_gradcheck([](const std::vector<Tensor>& t) { return avg_pool2d(t[0], {3, 3}, 1); }, {x});
  expect_gradcheck(
      [](const std::vector<Tensor>& t) {
        return avg_pool2d(t[0], {2, 2}, 2, 1);
      },
      {x});
}

TEST(Gradcheck, ConvReluPoolChain) {
  manual_seed(16);
  expect_gradcheck(
      [](const std::vector<Tensor>& t) {
        return avg_pool2d(relu(conv2d(t[0], t[1], t[2], 1, 1)), {2, 2});
      },
      {Tensor::randn({2, 1, 4, 4}, true), Tensor::randn({2, 1, 3, 3}, true),
       Tensor::randn({2}, true)},
      1e-3f, 2e-3, 2e-2);
}

// ---- fast kernels against the reference kernels -------------------------------------------

struct ConvCase {
  std::size_t n, c, h, w, o, kh, kw, stride, pad;
};

TEST(Spatial, FastConvMatchesReferenceOnRandomCases) {
  std::mt19937 gen(21);
  const std::vector<ConvCase> cases = {{2, 1, 8, 8, 8, 3, 3, 1, 0},
                                       {3, 2, 7, 9, 4, 2, 3, 2, 1},
                                       {1, 3, 6, 6, 2, 5, 5, 1, 2},
                                       {2, 4, 5, 5, 3, 1, 1, 1, 0},
                                       {4, 2, 9, 6, 5, 3, 2, 3, 1},
                                       {1, 1, 4, 4, 1, 4, 4, 1, 0},
                                       // LeNet-5's two layers: output rows of 28 and 10 floats
                                       {2, 1, 28, 28, 3, 5, 5, 1, 2},
                                       {2, 3, 14, 14, 4, 5, 5, 1, 0},
                                       {1, 2, 5, 19, 2, 3, 3, 1, 1}};
  for (const ConvCase& k : cases) {
    SCOPED_TRACE(::testing::Message() << "case n=" << k.n << " c=" << k.c << " kernel=" << k.kh
                                      << "x" << k.kw << " stride=" << k.stride << " pad=" << k.pad);
    manual_seed(gen());
    Tensor x = Tensor::randn({k.n, k.c, k.h, k.w}, true);
    Tensor w = Tensor::randn({k.o, k.c, k.kh, k.kw}, true);
    Tensor b = Tensor::randn({k.o}, true);
    Tensor y = conv2d(x, w, b, k.stride, k.pad);
    // numpy(): reading through the non-const data() would count as a write of x and w,
    // which the backward below reads.
    expect_near(y, Tensor(conv2d_reference(x.numpy(), w.numpy(), b.numpy(), k.stride, k.pad)),
                1e-4f);

    const Tensor g = Tensor::randn(y.shape());
    y.backward(g);
    const Conv2dGrads ref =
        conv2d_backward_reference(x.data(), w.data(), g.data(), k.stride, k.pad);
    expect_near(x.grad(), Tensor(ref.input), 1e-4f);
    expect_near(w.grad(), Tensor(ref.weight), 1e-3f);
    expect_near(b.grad(), Tensor(ref.bias), 1e-3f);
  }
}

TEST(Spatial, FastPoolsMatchReferenceOnRandomCases) {
  const std::vector<ConvCase> cases = {{2, 3, 8, 8, 0, 2, 2, 2, 0},
                                       {1, 2, 7, 7, 0, 3, 3, 2, 1},
                                       {2, 1, 5, 6, 0, 3, 2, 1, 1},
                                       {1, 1, 9, 9, 0, 3, 3, 3, 0}};
  std::uint64_t seed = 30;
  for (const ConvCase& k : cases) {
    SCOPED_TRACE(::testing::Message()
                 << "pool " << k.kh << "x" << k.kw << " stride " << k.stride << " pad " << k.pad);
    manual_seed(seed++);
    Tensor x = Tensor::randn({k.n, k.c, k.h, k.w}, true);
    const KernelSize kernel{k.kh, k.kw};

    Tensor y = max_pool2d(x, kernel, k.stride, k.pad);
    expect_near(y, Tensor(max_pool2d_reference(x.numpy(), kernel, k.stride, k.pad)));
    Tensor g = Tensor::randn(y.shape());
    y.backward(g);
    expect_near(x.grad(),
                Tensor(max_pool2d_backward_reference(x.data(), g.data(), kernel, k.stride, k.pad)));

    x.zero_grad();
    Tensor a = avg_pool2d(x, kernel, k.stride, k.pad);
    expect_near(a, Tensor(avg_pool2d_reference(x.data(), kernel, k.stride, k.pad)));
    g = Tensor::randn(a.shape());
    a.backward(g);
    expect_near(x.grad(),
                Tensor(avg_pool2d_backward_reference(x.data(), g.data(), kernel, k.stride, k.pad)));
  }
}

// ---- training signal ----------------------------------------------------------------------

TEST(Spatial, ConvPoolChainGivesGradientsToInputWeightAndBias) {
  manual_seed(40);
  Conv2d conv(1, 2, 3);
  Tensor x = Tensor::randn({2, 1, 6, 6}, true);
  max_pool2d(relu(conv(x)), {2, 2}).sum().backward();
  for (const Tensor& t : {x, conv.weight, conv.bias}) {
    ASSERT_TRUE(t.grad().defined());
    EXPECT_EQ(t.grad().shape(), t.shape());
    bool nonzero = false;
    for (float v : t.grad().data()) nonzero = nonzero || v != 0.0f;
    EXPECT_TRUE(nonzero);
  }
}

TEST(Gradcheck, MaxPool2dAfterRelu) {
  // Distinct values away from 0 and from each other: a ±eps step changes no max and no sign.
  Tensor y = Tensor::arange(-25, 25).reshape({2, 1, 5, 5});
  std::vector<float> values(y.data().begin(), y.data().end());
  std::shuffle(values.begin(), values.end(), std::mt19937(9));
  std::copy(values.begin(), values.end(), y.data().begin());
  y.data() = y.data() * 0.1f + 0.05f;
  y.requires_grad_();
  expect_gradcheck(
      [](const std::vector<Tensor>& t) {
        return max_pool2d(relu(t[0]), {2, 2});
      },
      {y});
}

// ---- bad input ----------------------------------------------------------------------------

TEST(Spatial, BadInputGivesClearErrors) {
  Conv2d conv(1, 8, 3);
  expect_throw_with<ShapeError>(
      [&] {
        conv(Tensor::zeros({32, 64}));
      },
      "conv2d: expected 4-D input [N, C, H, W], got [32, 64]");
  expect_throw_with<ShapeError>(
      [&] {
        conv(Tensor::zeros({2, 3, 8, 8}));
      },
      "expected 1 input channels, got input [2, 3, 8, 8]");
  expect_throw_with<ShapeError>(
      [&] {
        conv(Tensor::zeros({1, 1, 2, 2}));
      },
      "kernel 3x3 is larger than the padded input 2x2");
  expect_throw_with<std::invalid_argument>([] { Conv2d(1, 1, 3, 0); },
                                           "stride must be >= 1, got 0");
  expect_throw_with<std::invalid_argument>([] { Conv2d(1, 1, 0); }, "kernel size must be >= 1");
  expect_throw_with<std::invalid_argument>([] { MaxPool2d(0); }, "kernel size must be >= 1");
  expect_throw_with<ShapeError>(
      [] {
        MaxPool2d(2)(Tensor::zeros({4, 4}));
      },
      "max_pool2d: expected 4-D input");
  expect_throw_with<ShapeError>(
      [] {
        AvgPool2d(5)(Tensor::zeros({1, 1, 4, 4}));
      },
      "avg_pool2d: kernel 5x5 is larger than the padded input 4x4");
  expect_throw_with<std::invalid_argument>(
      [] {
        max_pool2d(Tensor::zeros({1, 1, 4, 4}), {2, 2}, 2, 2);
      },
      "padding 2 must be at most half the kernel 2x2");
  expect_throw_with<ShapeError>(
      [] {
        conv2d(Tensor::zeros({1, 1, 4, 4}), Tensor::zeros({2, 1, 3}), Tensor());
      },
      "conv2d: expected 4-D weight");
  expect_throw_with<ShapeError>(
      [] {
        conv2d(Tensor::zeros({1, 1, 4, 4}), Tensor::zeros({2, 1, 3, 3}), Tensor::zeros({3}));
      },
      "conv2d: expected bias [2], got [3]");
}

// As in PyTorch: an empty batch gives zero weight and bias gradients and an empty input
// gradient, not undefined ones (the engine took a size-0 gradient for "no gradient").
TEST(Spatial, AnEmptyBatchThroughConv2dGivesZeroGradients) {
  Conv2d conv(1, 2, 3, 1, 1);
  Tensor x = Tensor::zeros({0, 1, 5, 5}, true);
  conv(x).sum().backward();
  ASSERT_TRUE(conv.weight.grad().defined());
  ASSERT_TRUE(conv.bias.grad().defined());
  ASSERT_TRUE(x.grad().defined());
  expect_near(conv.weight.grad(), Tensor::zeros({2, 1, 3, 3}));
  expect_near(conv.bias.grad(), Tensor::zeros({2}));
  EXPECT_EQ(x.grad().shape(), (Shape{0, 1, 5, 5}));
}

}  // namespace
}  // namespace tinytorch
