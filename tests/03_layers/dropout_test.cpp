// Module 03 — Dropout: inverted-dropout statistics, modes and bad probabilities.
#include <cmath>

#include <tinytorch/core/layers.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_near;
using testing::expect_throw_with;

TEST(Dropout, StoresPAndHasNoParameters) {
  const Dropout d(0.3f);
  EXPECT_FLOAT_EQ(d.p(), 0.3f);
  EXPECT_TRUE(d.parameters().empty());
  EXPECT_EQ(Dropout().p(), 0.5f);
}

TEST(Dropout, HalfOfAThousandOnesSurviveAndAreScaledToTwo) {
  manual_seed(42);
  Dropout d(0.5f);
  const Tensor y = d(Tensor::ones({1000}));
  int survivors = 0;
  for (float v : y.data()) {
    if (v == 0.0f) continue;
    ++survivors;
    EXPECT_EQ(v, 2.0f);
  }
  EXPECT_GE(survivors, 453);  // 500 ± 3σ, σ = √(1000·0.25) ≈ 15.8
  EXPECT_LE(survivors, 547);
}

TEST(Dropout, KeepRateFollowsOneMinusP) {
  manual_seed(8);
  const Tensor y = dropout(Tensor::ones({20000}), 0.2f);
  int survivors = 0;
  for (float v : y.data()) {
    if (v != 0.0f) {
      ++survivors;
      EXPECT_FLOAT_EQ(v, 1.25f);
    }
  }
  EXPECT_NEAR(survivors / 20000.0, 0.8, 0.02);
  // Inverted dropout keeps the expected value: the mean stays near 1.
  EXPECT_NEAR(y.mean().item(), 1.0f, 0.03f);
}

TEST(Dropout, DrawsANewMaskOnEveryCall) {
  manual_seed(9);
  const Tensor x = Tensor::ones({200});
  const Tensor a = dropout(x, 0.5f), b = dropout(x, 0.5f);
  int differ = 0;
  for (std::size_t i = 0; i < 200; ++i) differ += a.data()(i) != b.data()(i);
  EXPECT_GT(differ, 0);
}

TEST(Dropout, SameSeedGivesTheSameMask) {
  manual_seed(10);
  const Tensor a = dropout(Tensor::ones({100}), 0.5f);
  manual_seed(10);
  expect_near(dropout(Tensor::ones({100}), 0.5f), a, 0.0f);
}

TEST(Dropout, EvalModePassesTheInputThrough) {
  Dropout d(0.5f);
  const Tensor x = Tensor::randn({4, 5});
  d.eval();
  EXPECT_FALSE(d.is_training());
  EXPECT_TRUE(d(x).same(x));
  EXPECT_TRUE(d.forward(x, /*training=*/false).same(x));
  EXPECT_TRUE(dropout(x, 0.5f, /*training=*/false).same(x));
  d.train();
  EXPECT_TRUE(d.is_training());
  EXPECT_FALSE(d(x).same(x));
}

TEST(DropoutGiven, ZeroProbabilityPassesTheInputThrough) {
  const Tensor x = Tensor::randn({3, 3});
  EXPECT_TRUE(Dropout(0.0f)(x).same(x));
}

TEST(Dropout, ProbabilityOneGivesZerosOfTheSameShape) {
  const Tensor x = Tensor::ones({3, 4}, true);
  const Tensor y = Dropout(1.0f)(x);
  expect_near(y, Tensor::zeros({3, 4}), 0.0f);
  EXPECT_TRUE(y.requires_grad());
}

TEST(DropoutGiven, ProbabilityOutsideZeroOneIsRejectedWithTheValue) {
  expect_throw_with<std::invalid_argument>(
      [] { Dropout(-0.1f); }, "Dropout: probability must be between 0.0 and 1.0, got -0.1");
  expect_throw_with<std::invalid_argument>([] { Dropout(1.1f); }, "between 0.0 and 1.0, got 1.1");
  expect_throw_with<std::invalid_argument>(
      [] { dropout(Tensor::ones({2}), 2.0f); },
      "dropout: probability must be between 0.0 and 1.0, got 2");
  expect_throw_with<std::invalid_argument>([] { dropout(Tensor::ones({2}), std::nanf("")); },
                                           "between 0.0 and 1.0");
}

TEST(DropoutGiven, ReprShowsP) {
  EXPECT_EQ(Dropout(0.5f).repr(), "Dropout(p=0.5)");
  EXPECT_EQ(Dropout(0.25f).repr(), "Dropout(p=0.25)");
}

}  // namespace
}  // namespace tinytorch
