// Module 06 — Optimizers: the course's known update values for SGD, Adam and AdamW, the
// base-class contract and bad arguments.
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include <tinytorch/core/activations.hpp>
#include <tinytorch/core/layers.hpp>
#include <tinytorch/core/optimizers.hpp>

#include "06_optimizers/optimizer_fixtures.hpp"
#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_near;
using testing::expect_throw_with;
using testing::param_with_grad;

// ---- the base contract ------------------------------------------------------------------

TEST(OptimizerGiven, StoresTheSameParameterHandlesAndStartsAtStepZero) {
  Linear layer(3, 2);
  SGD opt(layer.parameters());
  ASSERT_EQ(opt.params().size(), 2u);
  EXPECT_TRUE(opt.params()[0].same(layer.weight));
  EXPECT_TRUE(opt.params()[1].same(layer.bias));
  EXPECT_EQ(opt.step_count(), 0u);
  EXPECT_FLOAT_EQ(opt.lr(), 0.01f);
}

TEST(OptimizerGiven, CourseDefaults) {
  Tensor p = param_with_grad();
  const SGD sgd({p});
  EXPECT_FLOAT_EQ(sgd.lr(), 0.01f);
  EXPECT_EQ(sgd.momentum(), 0.0f);
  EXPECT_FALSE(sgd.has_momentum());
  const Adam adam({p});
  EXPECT_FLOAT_EQ(adam.lr(), 0.001f);
  EXPECT_FLOAT_EQ(adam.beta1(), 0.9f);
  EXPECT_FLOAT_EQ(adam.beta2(), 0.999f);
  EXPECT_FLOAT_EQ(adam.eps(), 1e-8f);
  EXPECT_EQ(adam.weight_decay(), 0.0f);
  EXPECT_FLOAT_EQ(AdamW({p}).weight_decay(), 0.01f);
}

TEST(OptimizerGiven, ZeroGradDropsEveryGradient) {
  Tensor a = param_with_grad(), b = param_with_grad();
  SGD opt({a, b});
  opt.zero_grad();
  EXPECT_FALSE(a.grad().defined());
  EXPECT_FALSE(b.grad().defined());
}

TEST(OptimizerGiven, ParameterThatDoesNotRequireGradIsRejectedByIndex) {
  const Tensor ok({1, 2}, true), frozen({3, 4});
  expect_throw_with<std::invalid_argument>(
      [&] {
        SGD({ok, frozen});
      },
      "optimizer: parameter 1 does not require gradients");
  expect_throw_with<std::invalid_argument>([&] { Adam({frozen}); },
                                           "parameter 0 does not require gradients");
  expect_throw_with<std::invalid_argument>([] { SGD({Tensor()}); }, "does not require gradients");
}

TEST(OptimizerGiven, AnEmptyParameterListIsRejected) {
  expect_throw_with<std::invalid_argument>([] { SGD(std::vector<Tensor>{}); },
                                           "optimizer: got an empty parameter list");
  expect_throw_with<std::invalid_argument>([] { Adam(std::vector<Tensor>{}, 0.01f); },
                                           "optimizer: got an empty parameter list");
}

TEST(OptimizerGiven, TheSameTensorTwiceIsRejectedByIndex) {
  Tensor a = param_with_grad(), b = param_with_grad();
  expect_throw_with<std::invalid_argument>(
      [&] {
        SGD({a, b, a});
      },
      "optimizer: parameter 2 is the same tensor as parameter 0; give each parameter once");
  // A second handle (a copy of the Tensor) is the same tensor; two equal tensors are not.
  const Tensor alias = b;
  expect_throw_with<std::invalid_argument>(
      [&] {
        Adam({b, alias});
      },
      "optimizer: parameter 1 is the same tensor as "
      "parameter 0");
  EXPECT_NO_THROW(SGD({a, b}));
}

TEST(OptimizerGiven, BadHyperParametersAreRejected) {
  Tensor p = param_with_grad();
  expect_throw_with<std::invalid_argument>([&] { SGD({p}, -0.1f); },
                                           "learning rate must be finite and >= 0, got -0.1");
  expect_throw_with<std::invalid_argument>([&] { SGD({p}, 0.1f, -0.5f); },
                                           "SGD: momentum must be finite and >= 0, got -0.5");
  expect_throw_with<std::invalid_argument>(
      [&] {
        Adam({p}, 0.1f, {1.0f, 0.999f});
      },
      "Adam: betas must be in [0, 1), got (1, 0.999)");
}

TEST(OptimizerGiven, SettingsThatAreNotFiniteOrOutOfRangeAreRejected) {
  Tensor p = param_with_grad();
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  expect_throw_with<std::invalid_argument>(
      [&] { SGD({p}, inf); }, "optimizer: learning rate must be finite and >= 0, got inf");
  expect_throw_with<std::invalid_argument>(
      [&] { SGD({p}, nan); }, "optimizer: learning rate must be finite and >= 0, got nan");
  expect_throw_with<std::invalid_argument>([&] { SGD({p}, 0.1f, inf); },
                                           "SGD: momentum must be finite and >= 0, got inf");
  expect_throw_with<std::invalid_argument>(
      [&] { SGD({p}, 0.1f, 0.0f, -1e-4f); },
      "SGD: weight_decay must be finite and >= 0, got -0.0001");
  expect_throw_with<std::invalid_argument>(
      [&] {
        Adam({p}, 0.1f, {0.9f, 0.999f}, 0.0f);
      },
      "Adam: eps must be finite and > 0, got 0");
  expect_throw_with<std::invalid_argument>(
      [&] {
        Adam({p}, 0.1f, {0.9f, 0.999f}, nan);
      },
      "Adam: eps must be finite and > 0, got nan");
  expect_throw_with<std::invalid_argument>(
      [&] {
        AdamW({p}, 0.1f, {0.9f, 0.999f}, 1e-8f, nan);
      },
      "Adam: weight_decay must be finite and >= 0, got nan");
  expect_throw_with<std::invalid_argument>(
      [&] {
        Adam({p}, 0.1f, {nan, 0.999f});
      },
      "Adam: betas must be in [0, 1), got (nan, 0.999)");
}

TEST(OptimizerGiven, SetLrRejectsAValueThatIsNegativeOrNotFiniteAndKeepsTheOldOne) {
  SGD opt({param_with_grad()}, 0.1f);
  for (const float bad :
       {-1.0f, std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
    expect_throw_with<std::invalid_argument>(
        [&] { opt.set_lr(bad); },
        fmt::format("set_lr: learning rate must be finite and >= 0, got {}", bad));
  }
  EXPECT_EQ(opt.lr(), 0.1f);
}

TEST(Optimizer, ParametersWithoutAGradientAreSkipped) {
  Tensor with = param_with_grad();
  Tensor without({5, 6}, true);
  SGD sgd({with, without}, 0.1f, 0.9f);
  sgd.step();
  expect_near(without, Tensor({5, 6}), 0.0f);
  Adam adam({without}, 0.1f);
  adam.step();
  expect_near(without, Tensor({5, 6}), 0.0f);
}

TEST(Optimizer, SetLrChangesTheNextStep) {
  Tensor p({10}, true);
  p.set_grad(Tensor({2}));
  SGD opt({p}, 1.0f);
  opt.set_lr(0.5f);
  opt.step();
  EXPECT_FLOAT_EQ(p.data()(0), 9.0f);
}

// ---- SGD --------------------------------------------------------------------------------

TEST(SGD, PlainStepSubtractsLearningRateTimesGradient) {
  Tensor theta = param_with_grad();
  SGD opt({theta}, 0.1f);
  opt.step();
  expect_near(theta, Tensor({0.99f, 1.98f}), 1e-6f);
  EXPECT_EQ(opt.step_count(), 1u);
}

TEST(SGD, MovesAgainstTheGradient) {
  Tensor p = Tensor::scalar(10.0f, true);
  p.set_grad(Tensor::scalar(2.0f));
  SGD opt({p}, 1.0f);
  opt.step();
  EXPECT_EQ(p.item(), 8.0f);
}

TEST(SGD, MomentumTwoStepsMatchTheKnownValues) {
  // v1 = g, θ1 = θ − 0.1·g;  v2 = 0.9·g + g = 1.9·g, θ2 = θ1 − 0.1·1.9·g.
  Tensor theta = param_with_grad();
  SGD opt({theta}, 0.1f, 0.9f);
  opt.step();
  expect_near(theta, Tensor({0.99f, 1.98f}), 1e-6f);
  opt.step();
  expect_near(theta, Tensor({0.971f, 1.942f}), 1e-6f);
  EXPECT_EQ(opt.step_count(), 2u);
}

TEST(SGD, WeightDecayAddsDecayTimesThetaToTheGradient) {
  Tensor theta = param_with_grad();
  SGD opt({theta}, 0.1f, 0.0f, 0.1f);
  opt.step();
  // g + wd·θ = [0.1 + 0.1, 0.2 + 0.2]: θ − 0.1·[0.2, 0.4]
  expect_near(theta, Tensor({0.98f, 1.96f}), 1e-6f);
  Tensor theta2 = param_with_grad();
  SGD opt2({theta2}, 0.1f, 0.0f, 0.01f);
  opt2.step();
  expect_near(theta2, Tensor({1 - 0.1f * 0.11f, 2 - 0.1f * 0.22f}), 1e-6f);
}

TEST(SGD, LargerLearningRateMovesProportionallyFurther) {
  Tensor slow = param_with_grad(), fast = param_with_grad();
  SGD({slow}, 0.01f).step();
  SGD({fast}, 1.0f).step();
  const float slow_move = std::abs(slow.data()(0) - 1.0f),
              fast_move = std::abs(fast.data()(0) - 1.0f);
  EXPECT_GE(fast_move, 50.0f * slow_move);
}

TEST(SGD, UpdatesParametersInPlace) {
  Tensor theta = param_with_grad();
  const Tensor alias = theta;
  const float* storage = theta.data().data();
  SGD({theta}, 0.1f).step();
  EXPECT_EQ(theta.data().data(), storage);
  EXPECT_FLOAT_EQ(alias.data()(0), 0.99f);
}

// ---- Adam / AdamW -------------------------------------------------------------------------

TEST(Adam, FirstStepMatchesTheFormula) {
  Tensor theta = param_with_grad();
  Adam opt({theta}, 0.01f);
  opt.step();
  // m̂ = g and v̂ = g² after bias correction, so the step is lr·g/(|g| + ε) ≈ lr.
  const double g[2] = {0.1, 0.2}, start[2] = {1.0, 2.0};
  for (int i = 0; i < 2; ++i) {
    const double expected = start[i] - 0.01 * g[i] / (std::sqrt(g[i] * g[i]) + 1e-8);
    EXPECT_NEAR(theta.data()(i), expected, 1e-6 * std::abs(expected));
  }
  expect_near(theta, Tensor({0.99f, 1.99f}), 1e-6f);
  EXPECT_EQ(opt.step_count(), 1u);
}

TEST(Adam, KeepsMomentBuffersAndCountsSteps) {
  Tensor theta = param_with_grad();
  Adam opt({theta}, 0.01f);
  opt.step();
  opt.step();
  EXPECT_EQ(opt.step_count(), 2u);
  const OptimizerState state = opt.state_dict();
  ASSERT_EQ(state.count("m.0"), 1u);
  ASSERT_EQ(state.count("v.0"), 1u);
  // m = 0.9·0.1·g + 0.1·g = 0.19·g;  v = 0.999·0.001·g² + 0.001·g² = 0.001999·g²
  expect_near(state.at("m.0"), Tensor({0.019f, 0.038f}), 1e-7f);
  // (1 − 0.999 is 0.00099999 in float32, hence a tolerance of about 1e-4 relative)
  expect_near(state.at("v.0"), Tensor({0.001999f * 0.01f, 0.001999f * 0.04f}), 1e-8f);
}

TEST(Adam, FirstStepIsSignLikeWithOrWithoutWeightDecay) {
  Tensor theta = param_with_grad();
  Adam opt({theta}, 0.01f, {0.9f, 0.999f}, 1e-8f, 0.01f);
  const Tensor before = theta.clone();
  opt.step();
  expect_near(theta, Tensor({0.99f, 1.99f}), 1e-6f);
  EXPECT_NE(theta.data()(0), before.data()(0));
}

TEST(Adam, WeightDecayChangesLaterSteps) {
  Tensor plain = param_with_grad(), decayed = param_with_grad();
  Adam a({plain}, 0.01f), b({decayed}, 0.01f, {0.9f, 0.999f}, 1e-8f, 0.5f);
  for (int i = 0; i < 3; ++i) {
    a.step();
    b.step();
  }
  EXPECT_NE(plain.data()(0), decayed.data()(0));
}

TEST(Adam, AdamWFirstStepMatchesTheKnownValues) {
  Tensor theta = param_with_grad();
  AdamW opt({theta}, 0.01f, {0.9f, 0.999f}, 1e-8f, 0.01f);
  opt.step();
  // Adam's step to [0.99, 1.99], then θ·(1 − lr·wd) = θ·0.9999.
  expect_near(theta, Tensor({0.989901f, 1.989801f}), 1e-6f);
}

TEST(Adam, AdamAndAdamWWithWeightDecayDiffer) {
  Tensor a = param_with_grad(), b = param_with_grad();
  Adam adam({a}, 0.01f, {0.9f, 0.999f}, 1e-8f, 0.01f);
  AdamW adamw({b}, 0.01f, {0.9f, 0.999f}, 1e-8f, 0.01f);
  adam.step();
  adamw.step();
  EXPECT_NE(a.data()(0), b.data()(0));
}

TEST(Adam, AdamWWithoutWeightDecayEqualsAdam) {
  Tensor a = param_with_grad(), b = param_with_grad();
  Adam adam({a}, 0.01f);
  AdamW adamw({b}, 0.01f, {0.9f, 0.999f}, 1e-8f, 0.0f);
  for (int i = 0; i < 5; ++i) {
    adam.step();
    adamw.step();
  }
  expect_near(a, b, 0.0f);
}

TEST(Adam, ZeroGradKeepsStateAndStepCount) {
  Tensor theta = param_with_grad();
  Adam opt({theta}, 0.01f);
  opt.step();
  const Tensor m = opt.state_dict().at("m.0");
  opt.zero_grad();
  EXPECT_EQ(opt.step_count(), 1u);
  expect_near(opt.state_dict().at("m.0"), m, 0.0f);
}

TEST(Adam, ConstantGradientKeepsMovingAtFullSpeed) {
  Tensor theta = Tensor::scalar(5.0f, true);
  Adam opt({theta}, 0.01f);
  float positions[11];
  positions[0] = theta.item();
  for (int i = 1; i <= 10; ++i) {
    theta.set_grad(Tensor::scalar(1.0f));
    opt.step();
    positions[i] = theta.item();
  }
  const float early = positions[0] - positions[5], late = positions[5] - positions[10];
  EXPECT_GT(early, 0.0f);
  EXPECT_GE(late, 0.8f * early);
}

// ---- every optimizer on a small network ---------------------------------------------------

TEST(Optimizer, EveryParameterOfASmallNetworkChangesAfterOneStep) {
  manual_seed(4);
  const Tensor x = Tensor::randn({8, 3});
  for (int kind = 0; kind < 3; ++kind) {
    Sequential net(
        {std::make_shared<Linear>(3, 4), std::make_shared<Tanh>(), std::make_shared<Linear>(4, 2)});
    std::vector<Tensor> before;
    for (const Tensor& p : net.parameters()) before.push_back(p.clone());
    std::unique_ptr<Optimizer> opt;
    if (kind == 0) opt = std::make_unique<SGD>(net.parameters(), 0.1f, 0.9f);
    if (kind == 1) opt = std::make_unique<Adam>(net.parameters(), 0.01f);
    if (kind == 2) opt = std::make_unique<AdamW>(net.parameters(), 0.01f);
    (net(x) * net(x)).mean().backward();
    opt->step();
    const auto params = net.parameters();
    for (std::size_t i = 0; i < params.size(); ++i) {
      bool changed = false;
      for (std::size_t j = 0; j < params[i].size(); ++j) {
        changed = changed || params[i].data().data()[j] != before[i].data().data()[j];
      }
      EXPECT_TRUE(changed) << "optimizer " << kind << " parameter " << i;
    }
  }
}

TEST(SGD, LinearWeightsChangeAfterOneStep) {
  manual_seed(14);
  Linear layer(2, 1);
  const Tensor before = layer.weight.clone();
  SGD opt(layer.parameters(), 0.1f);
  layer(Tensor({{1, 2}, {3, 4}})).sum().backward();
  opt.step();
  EXPECT_GT((layer.weight - before).pow(2.0f).sum().item(), 0.0f);
}

}  // namespace
}  // namespace tinytorch
