// Module 03 — Linear: shapes, initialisation statistics, parameters and bad input.
#include <cmath>
#include <limits>

#include <tinytorch/core/layers.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_near;
using testing::expect_throw_with;

TEST(Linear, StoresSizesAndHasCourseLayoutShapes) {
  const Linear layer(784, 256);
  EXPECT_EQ(layer.in_features, 784u);
  EXPECT_EQ(layer.out_features, 256u);
  EXPECT_EQ(layer.weight.shape(), (Shape{784, 256}));  // [in, out], not PyTorch's [out, in]
  EXPECT_EQ(layer.bias.shape(), (Shape{256}));
  EXPECT_TRUE(layer.weight.requires_grad());
  EXPECT_TRUE(layer.bias.requires_grad());
}

TEST(Linear, WeightStdIsNearSqrtOneOverInFeaturesAndBiasIsZero) {
  manual_seed(42);
  const Linear layer(784, 256);
  const Tensor& w = layer.weight;
  const float mean = w.mean().item();
  const float var = ((w - mean) * (w - mean)).mean().item();
  const float expected = std::sqrt(1.0f / 784.0f);
  EXPECT_GE(std::sqrt(var), 0.5f * expected);
  EXPECT_LE(std::sqrt(var), 2.0f * expected);
  EXPECT_NEAR(std::sqrt(var), expected, 0.05f * expected);  // 200k samples pin it much closer
  EXPECT_NEAR(mean, 0.0f, 0.1f * expected);
  for (float b : layer.bias.data()) EXPECT_EQ(b, 0.0f);
}

TEST(Linear, MapsABatchToOutFeatures) {
  Linear layer(784, 256);
  EXPECT_EQ(layer(Tensor::randn({32, 784})).shape(), (Shape{32, 256}));
  Linear small(10, 5);
  EXPECT_EQ(small(Tensor::randn({1, 10})).shape(), (Shape{1, 5}));
}

TEST(Linear, AcceptsAnEmptyBatch) {
  Linear layer(10, 5);
  EXPECT_EQ(layer(Tensor::zeros({0, 10})).shape(), (Shape{0, 5}));
}

TEST(Linear, FoldsLeadingAxesIntoTheBatch) {
  manual_seed(3);
  Linear layer(4, 3);
  const Tensor x = Tensor::randn({2, 5, 4});
  const Tensor y = layer(x);
  ASSERT_EQ(y.shape(), (Shape{2, 5, 3}));
  expect_near(y[1], layer(x[1]), 1e-6f);
  EXPECT_EQ(layer(Tensor::randn({4})).shape(), (Shape{3}));
}

TEST(Linear, ComputesXTimesWPlusB) {
  Linear layer(2, 3);
  layer.weight.data() = Array{{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}};
  layer.bias.data() = Array{0.5f, -1.0f, 0.0f};
  expect_near(layer(Tensor({{1, 1}, {2, 0}})), Tensor({{5.5f, 6, 9}, {2.5f, 3, 6}}));
  expect_near(linear(Tensor({{1, 1}}), layer.weight), Tensor({{5, 7, 9}}));
}

TEST(Linear, LargeWeightsStayFinite) {
  Linear layer(10, 5);
  layer.weight.data().fill(100.0f);
  const Tensor y = layer(Tensor::ones({3, 10}));
  for (float v : y.data()) {
    EXPECT_TRUE(std::isfinite(v));
    EXPECT_EQ(v, 1000.0f);
  }
}

TEST(Linear, WithoutBiasHasOneParameterAndAnUndefinedBias) {
  Linear layer(4, 2, /*bias=*/false);
  EXPECT_FALSE(layer.bias.defined());
  ASSERT_EQ(layer.parameters().size(), 1u);
  EXPECT_TRUE(layer.parameters()[0].same(layer.weight));
  EXPECT_EQ(layer(Tensor::ones({3, 4})).shape(), (Shape{3, 2}));
}

TEST(Linear, ParametersAreTheLayersOwnHandles) {
  Linear layer(3, 2);
  const auto params = layer.parameters();
  ASSERT_EQ(params.size(), 2u);
  EXPECT_TRUE(params[0].same(layer.weight));
  EXPECT_TRUE(params[1].same(layer.bias));
  Tensor w = params[0];
  w.data()(0, 0) = 123.0f;  // writing through the returned handle changes the layer
  EXPECT_EQ(layer.weight.data()(0, 0), 123.0f);
}

TEST(Linear, NamedParametersAreWeightAndBias) {
  const auto named = Linear(3, 2).named_parameters();
  ASSERT_EQ(named.size(), 2u);
  EXPECT_EQ(named[0].first, "weight");
  EXPECT_EQ(named[1].first, "bias");
}

TEST(Linear, ReprNamesSizesAndBias) {
  EXPECT_EQ(Linear(784, 256).repr(), "Linear(in_features=784, out_features=256, bias=true)");
  EXPECT_EQ(Linear(3, 1, false).repr(), "Linear(in_features=3, out_features=1, bias=false)");
  EXPECT_EQ(Linear(3, 1).name(), "Linear");
}

TEST(LinearGiven, ZeroSizesAreRejected) {
  expect_throw_with<std::invalid_argument>(
      [] { Linear(0, 5); }, "Linear: expected positive sizes, got in_features=0 out_features=5");
  expect_throw_with<std::invalid_argument>([] { Linear(5, 0); }, "expected positive sizes");
}

TEST(Linear, InputWithTheWrongFeatureCountIsRejected) {
  Linear layer(4, 2);
  expect_throw_with<ShapeError>(
      [&] {
        layer(Tensor::ones({3, 5}));
      },
      "linear: expected input [N, 4], got [3, 5]");
  expect_throw_with<ShapeError>([&] { layer(Tensor::scalar(1.0f)); },
                                "linear: expected input [N, 4], got []");
}

TEST(LinearGiven, WeightOfTheWrongRankAndBiasOfTheWrongSizeAreRejected) {
  expect_throw_with<ShapeError>(
      [] {
        linear(Tensor::ones({2, 3}), Tensor::ones({3}));
      },
      "linear: expected a 2-D weight [in, out], got [3]");
  expect_throw_with<ShapeError>(
      [] {
        linear(Tensor::ones({2, 3}), Tensor::ones({3, 4}), Tensor::ones({3}));
      },
      "linear: expected bias [4], got [3]");
  expect_throw_with<ShapeError>(
      [] {
        linear(Tensor::ones({2, 3}), Tensor::ones({3, 4}), Tensor::ones({1, 4}));
      },
      "expected bias [4], got [1, 4]");
}

}  // namespace
}  // namespace tinytorch
