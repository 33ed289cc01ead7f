// Module 06 — Optimizers: options structs with chained setters give the same optimizer as the
// course's positional arguments, and a setting left out keeps its default.
#include <utility>
#include <vector>

#include <tinytorch/core/optimizers.hpp>

#include "06_optimizers/optimizer_fixtures.hpp"
#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_near;
using testing::expect_throw_with;
using testing::param_with_grad;

TEST(OptimizerOptions, SgdOptionsChainAndMatchThePositionalForm) {
  Tensor a = param_with_grad(), b = param_with_grad();
  SGD chained({a}, SGDOptions(0.1f).momentum(0.9f).weight_decay(0.01f));
  SGD positional({b}, 0.1f, 0.9f, 0.01f);
  EXPECT_FLOAT_EQ(chained.lr(), 0.1f);
  EXPECT_FLOAT_EQ(chained.momentum(), 0.9f);
  EXPECT_FLOAT_EQ(chained.weight_decay(), 0.01f);
  for (int step = 0; step < 3; ++step) {
    chained.step();
    positional.step();
  }
  expect_near(a, b, 0.0f);
}

TEST(OptimizerOptionsGiven, SettersCanComeInAnyOrderAndDefaultsStay) {
  const SGDOptions options = SGDOptions().weight_decay(0.5f);
  EXPECT_FLOAT_EQ(options.lr(), 0.01f);
  EXPECT_EQ(options.momentum(), 0.0f);
  EXPECT_FLOAT_EQ(options.weight_decay(), 0.5f);
  EXPECT_FLOAT_EQ(SGDOptions(0.2f).lr(1.0f).lr(), 1.0f);
}

TEST(OptimizerOptions, AdamWeightDecayWithoutRestatingBetasAndEps) {
  Tensor a = param_with_grad(), b = param_with_grad();
  Adam chained({a}, AdamOptions(0.01f).weight_decay(0.1f));
  EXPECT_FLOAT_EQ(chained.beta1(), 0.9f);
  EXPECT_FLOAT_EQ(chained.beta2(), 0.999f);
  EXPECT_FLOAT_EQ(chained.eps(), 1e-8f);
  EXPECT_FLOAT_EQ(chained.weight_decay(), 0.1f);
  Adam positional({b}, 0.01f, {0.9f, 0.999f}, 1e-8f, 0.1f);
  chained.step();
  positional.step();
  expect_near(a, b, 0.0f);
}

TEST(OptimizerOptionsGiven, AdamBetasAndEps) {
  Tensor p = param_with_grad();
  const Adam adam({p}, AdamOptions().betas({0.8f, 0.9f}).eps(1e-6f));
  EXPECT_FLOAT_EQ(adam.lr(), 1e-3f);
  EXPECT_FLOAT_EQ(adam.beta1(), 0.8f);
  EXPECT_FLOAT_EQ(adam.beta2(), 0.9f);
  EXPECT_FLOAT_EQ(adam.eps(), 1e-6f);
}

TEST(OptimizerOptions, AdamWDefaultsToDecoupledDecayOfOneHundredth) {
  Tensor a = param_with_grad(), b = param_with_grad();
  AdamW chained({a}, AdamWOptions(0.05f));
  EXPECT_FLOAT_EQ(chained.weight_decay(), 0.01f);
  AdamW positional({b}, 0.05f);
  chained.step();
  positional.step();
  expect_near(a, b, 0.0f);
  EXPECT_EQ(AdamW({a}, AdamWOptions().weight_decay(0.0f)).weight_decay(), 0.0f);
}

TEST(OptimizerOptionsGiven, BadValuesAreCheckedAsInThePositionalForm) {
  Tensor p = param_with_grad();
  expect_throw_with<std::invalid_argument>([&] { SGD({p}, SGDOptions(-1.0f)); },
                                           "learning rate must be finite and >= 0, got -1");
  expect_throw_with<std::invalid_argument>([&] { SGD({p}, SGDOptions().momentum(-0.5f)); },
                                           "SGD: momentum must be finite and >= 0, got -0.5");
  expect_throw_with<std::invalid_argument>(
      [&] {
        Adam({p}, AdamOptions().betas({1.0f, 0.9f}));
      },
      "Adam: betas must be in [0, 1), got (1, 0.9)");
}

}  // namespace
}  // namespace tinytorch
