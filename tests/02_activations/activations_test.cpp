// Module 02 — Activations: known values and properties of ReLU, Sigmoid, Tanh and GELU,
// and the Module wrappers around them.
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include <tinytorch/core/activations.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_near;

// ---- sigmoid ----------------------------------------------------------------------------

TEST(Activations, SigmoidMatchesReferenceValues) {
  expect_near(sigmoid(Tensor({-2, 0, 2})), Tensor({0.119203f, 0.5f, 0.880797f}), 1e-6f);
}

TEST(Activations, SigmoidOfZeroIsOneHalfAndItsSlopeIsOneQuarter) {
  const float s = sigmoid(Tensor::scalar(0.0f)).item();
  EXPECT_EQ(s, 0.5f);
  EXPECT_EQ(s * (1.0f - s), 0.25f);
}

TEST(Activations, SigmoidOutputsLieStrictlyBetweenZeroAndOne) {
  const Tensor y = sigmoid(Tensor::arange(-10, 10.5f, 0.5f));
  for (float v : y.data()) {
    EXPECT_GT(v, 0.0f);
    EXPECT_LT(v, 1.0f);
  }
}

TEST(Activations, SigmoidIsSymmetricAroundOneHalf) {
  const Tensor x = Tensor::arange(-5, 5.25f, 0.25f);
  expect_near(sigmoid(-x), 1.0f - sigmoid(x), 1e-6f);
}

TEST(Activations, SigmoidOfHugeInputsSaturatesWithoutNaN) {
  const Tensor y = sigmoid(Tensor({-1000, 1000}));
  EXPECT_FALSE(std::isnan(y.data()(0)));
  EXPECT_FALSE(std::isnan(y.data()(1)));
  EXPECT_NEAR(y.data()(0), 0.0f, 1e-10f);
  EXPECT_NEAR(y.data()(1), 1.0f, 1e-10f);
}

// ---- relu -------------------------------------------------------------------------------

TEST(Activations, ReluZeroesNegativesAndKeepsPositives) {
  expect_near(relu(Tensor({-2, -1, 0, 1, 2})), Tensor({0, 0, 0, 1, 2}), 0.0f);
  expect_near(relu(Tensor({-5, -0.5f, -3})), Tensor({0, 0, 0}), 0.0f);
  expect_near(relu(Tensor({0.5f, 3, 7})), Tensor({0.5f, 3, 7}), 0.0f);
}

TEST(Activations, ReluOfThreeNegativesAndOnePositiveHasThreeZeros) {
  const Tensor y = relu(Tensor({-1, -2, -3, 1}));
  int zeros = 0;
  for (float v : y.data()) zeros += v == 0.0f;
  EXPECT_EQ(zeros, 3);
}

// ---- tanh -------------------------------------------------------------------------------

TEST(Activations, ReluLetsNaNThroughSoTheLossShowsIt) {
  // As in PyTorch: a NaN input must not come out as 0, or a finite loss hides it while
  // backward writes NaN into the weights.
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const Tensor y = relu(Tensor({nan, -1.0f, 2.0f, -inf, inf}));
  EXPECT_TRUE(std::isnan(y.data()(0)));
  EXPECT_EQ(y.data()(1), 0.0f);
  EXPECT_EQ(y.data()(2), 2.0f);
  EXPECT_EQ(y.data()(3), 0.0f);
  EXPECT_EQ(y.data()(4), inf);
  EXPECT_TRUE(std::isnan(ReLU()(Tensor({{nan}})).item()));
}

TEST(Activations, TanhMatchesReferenceValues) {
  expect_near(tanh(Tensor({-2, 0, 2})), Tensor({-0.964028f, 0, 0.964028f}), 1e-6f);
}

TEST(Activations, TanhIsOddAndBounded) {
  EXPECT_EQ(tanh(Tensor::scalar(0.0f)).item(), 0.0f);
  EXPECT_FLOAT_EQ(tanh(Tensor::scalar(-2.0f)).item(), -tanh(Tensor::scalar(2.0f)).item());
  const Tensor y = tanh(Tensor({-10, 10}));
  EXPECT_LT(y.data()(0), -0.99f);
  EXPECT_GT(y.data()(1), 0.99f);
  expect_near(tanh(Tensor({-1000, 1000})), Tensor({-1, 1}), 0.0f);
}

// ---- gelu -------------------------------------------------------------------------------

TEST(Activations, GeluMatchesTheSigmoidApproximation) {
  // x·σ(1.702x): 1·σ(1.702) = 0.845795, −1·σ(−1.702) = −0.154205.
  expect_near(gelu(Tensor({1, -1})), Tensor({0.845795f, -0.154205f}), 1e-5f);
  EXPECT_NEAR(gelu(Tensor::scalar(0.0f)).item(), 0.0f, 1e-10f);
}

TEST(Activations, GeluHasTheCourseShape) {
  const float at_one = gelu(Tensor::scalar(1.0f)).item();
  const float at_minus_one = gelu(Tensor::scalar(-1.0f)).item();
  EXPECT_GT(at_one, 0.8f);
  EXPECT_GT(at_minus_one, -0.2f);
  EXPECT_LT(at_minus_one, 0.0f);
  const Tensor near_zero = gelu(Tensor({-0.001f, 0.001f}));
  EXPECT_LT(std::abs(near_zero.data()(1) - near_zero.data()(0)), 0.01f);
}

TEST(Activations, GeluIsNotTheErfForm) {
  // The erf GELU gives 0.841345 at 1; the course's sigmoid form gives 0.845795.
  EXPECT_GT(std::abs(gelu(Tensor::scalar(1.0f)).item() - 0.841345f), 1e-3f);
}

// ---- every activation -------------------------------------------------------------------

std::vector<std::shared_ptr<Module>> all_activations() {
  return {std::make_shared<ReLU>(), std::make_shared<Sigmoid>(), std::make_shared<Tanh>(),
          std::make_shared<GELU>(), std::make_shared<Softmax>(), std::make_shared<LogSoftmax>()};
}

TEST(Activations, EveryActivationPreservesShape) {
  const Tensor x({{1, -2}, {0.5f, 3}});
  for (const auto& act : all_activations()) {
    EXPECT_EQ((*act)(x).shape(), (Shape{2, 2})) << act->name();
  }
  manual_seed(1);
  const Tensor cube = Tensor::randn({2, 3, 4});
  for (const auto& act : all_activations()) {
    EXPECT_EQ((*act)(cube).shape(), (Shape{2, 3, 4})) << act->name();
  }
}

TEST(Activations, EveryActivationAcceptsAnEmptyInput) {
  const Tensor empty = Tensor::zeros({0, 3});
  for (const auto& act : all_activations()) {
    EXPECT_EQ((*act)(empty).shape(), (Shape{0, 3})) << act->name();
  }
}

TEST(Activations, ActivationsDoNotModifyTheirInput) {
  const Tensor x({-1, 0.5f, 2});
  for (const auto& act : all_activations()) (void)(*act)(x);
  expect_near(x, Tensor({-1, 0.5f, 2}), 0.0f);
}

TEST(Activations, ModuleFormsMatchFunctionalForms) {
  manual_seed(2);
  const Tensor x = Tensor::randn({3, 4});
  expect_near(ReLU()(x), relu(x), 0.0f);
  expect_near(ReLU().forward(x), relu(x), 0.0f);
  expect_near(Sigmoid()(x), sigmoid(x), 0.0f);
  expect_near(Tanh()(x), tanh(x), 0.0f);
  expect_near(GELU()(x), gelu(x), 0.0f);
  expect_near(Softmax()(x), softmax(x, -1), 0.0f);
  expect_near(Softmax()(x, 0), softmax(x, 0), 0.0f);
  expect_near(Softmax(0)(x), softmax(x, 0), 0.0f);
  expect_near(Softmax().forward(x, 0), softmax(x, 0), 0.0f);
  expect_near(LogSoftmax()(x), log_softmax(x, -1), 0.0f);
}

TEST(Activations, ReluThenSoftmaxYieldsADistribution) {
  const Tensor p = Softmax()(ReLU()(Tensor({{-1, 2, 0.5f, -3}})));
  EXPECT_NEAR(p.sum().item(), 1.0f, 1e-6f);
  for (float v : p.data()) EXPECT_GT(v, 0.0f);
}

}  // namespace
}  // namespace tinytorch
