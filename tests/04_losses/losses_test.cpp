// Module 04 — Losses: known values of MSE, cross-entropy and binary cross-entropy, their
// stability for extreme inputs, and bad shapes and labels.
#include <cmath>

#include <tinytorch/core/activations.hpp>
#include <tinytorch/core/losses.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_near;
using testing::expect_throw_with;

// ---- log_softmax (the free function the course puts in this module) -----------------------

// ---- MSE --------------------------------------------------------------------------------

TEST(Losses, MseOfEqualTensorsIsZero) {
  EXPECT_EQ(mse_loss(Tensor({1, 2, 3}), Tensor({1, 2, 3})).item(), 0.0f);
}

TEST(Losses, MseMatchesTheKnownValue) {
  // ((−0.5)² + (−0.5)² + 0.2²)/3 = 0.54/3 = 0.18
  const Tensor loss = MSELoss()(Tensor({1, 2, 3}), Tensor({1.5f, 2.5f, 2.8f}));
  EXPECT_EQ(loss.shape(), Shape{});
  EXPECT_NEAR(loss.item(), 0.18f, 1e-6f);
  EXPECT_NEAR(mse_loss(Tensor({1, 2, 3}), Tensor({1, 2, 4})).item(), 1.0f / 3.0f, 1e-6f);
}

TEST(Losses, MseOfRandomInputsIsNonNegative) {
  manual_seed(5);
  for (int i = 0; i < 5; ++i) {
    EXPECT_GE(MSELoss().forward(Tensor::randn({4, 3}), Tensor::randn({4, 3})).item(), 0.0f);
  }
}

TEST(LossesGiven, MseRejectsMismatchedShapesInsteadOfBroadcasting) {
  // The Python course broadcasts [3, 1] against [3] to [3, 3] and reports 1.333 instead of 0.
  expect_throw_with<ShapeError>(
      [] {
        mse_loss(Tensor({{1}, {2}, {3}}), Tensor({1, 2, 3}));
      },
      "mse_loss: prediction [3, 1] and target [3] must have the same shape");
}

TEST(LossesGiven, MseAndBinaryCrossEntropyOfAnEmptyBatchAreErrorsNotNaN) {
  expect_throw_with<ShapeError>([] { mse_loss(Tensor::zeros({0}), Tensor::zeros({0})); },
                                "mse_loss: empty batch (prediction [0])");
  expect_throw_with<ShapeError>(
      [] {
        MSELoss()(Tensor::zeros({0, 3}), Tensor::zeros({0, 3}));
      },
      "mse_loss: empty batch (prediction [0, 3])");
  expect_throw_with<ShapeError>(
      [] {
        binary_cross_entropy(Tensor::zeros({0, 1}), Tensor::zeros({0, 1}));
      },
      "binary_cross_entropy: empty batch (probabilities [0, 1])");
}

// ---- cross-entropy ----------------------------------------------------------------------

TEST(Losses, CrossEntropyMatchesTheKnownValue) {
  const Tensor loss =
      CrossEntropyLoss()(Tensor({{2, 1, 0.1f}, {0.5f, 1.5f, 0.8f}}), Tensor({0, 1}));
  EXPECT_EQ(loss.shape(), Shape{});
  EXPECT_NEAR(loss.item(), 0.520002f, 1e-6f);
}

TEST(Losses, CrossEntropyOfUniformLogitsIsLogOfTheClassCount) {
  EXPECT_NEAR(cross_entropy(Tensor({{0, 0, 0}, {5, 5, 5}}), Tensor({2, 0})).item(), 1.098612f,
              1e-6f);
}

TEST(Losses, CrossEntropyIsSmallWhenConfidentAndRightAndLargeWhenConfidentAndWrong) {
  const Tensor logits({{10, -10, -10}, {-10, 10, -10}});
  EXPECT_LT(cross_entropy(logits, Tensor({0, 1})).item(), 0.01f);
  EXPECT_GT(cross_entropy(logits, Tensor({2, 2})).item(), 5.0f);
  EXPECT_LT(cross_entropy(Tensor({{1, 2, 0.5f}}), Tensor({1})).item(), 1.0f);
  EXPECT_GT(cross_entropy(Tensor({{10, 0, 0}}), Tensor({2})).item(), 1.0f);
}

TEST(Losses, CrossEntropyOfLargeLogitsIsFinite) {
  const float loss = cross_entropy(Tensor({{100, 50, 25}}), Tensor({0})).item();
  EXPECT_TRUE(std::isfinite(loss));
  EXPECT_NEAR(loss, 0.0f, 1e-6f);
  // The wrong class of the same logits: −log softmax = 100 − 25 (+ a negligible log-sum term).
  EXPECT_NEAR(cross_entropy(Tensor({{100, 50, 25}}), Tensor({2})).item(), 75.0f, 1e-4f);
}

TEST(Losses, CrossEntropyEqualsNegativeMeanOfPickedLogSoftmax) {
  manual_seed(6);
  const Tensor logits = Tensor::randn({4, 5});
  const Tensor labels({3, 0, 4, 4});
  const Tensor lp = log_softmax(logits, -1);
  const float expected =
      -(lp.data()(0, 3) + lp.data()(1, 0) + lp.data()(2, 4) + lp.data()(3, 4)) / 4.0f;
  EXPECT_NEAR(cross_entropy(logits, labels).item(), expected, 1e-5f);
}

TEST(LossesGiven, CrossEntropyRejectsLabelsOutsideTheClassRange) {
  const Tensor logits = Tensor::zeros({2, 3});
  expect_throw_with<std::invalid_argument>(
      [&] {
        cross_entropy(logits, Tensor({0, 3}));
      },
      "cross_entropy: label 3 at position 1 is not a class index in [0, 3)");
  expect_throw_with<std::invalid_argument>(
      [&] {
        cross_entropy(logits, Tensor({-1, 0}));
      },
      "label -1 at position 0 is not a class index");
}

TEST(LossesGiven, CrossEntropyRejectsNonIntegerAndNaNLabels) {
  const Tensor logits = Tensor::zeros({2, 3});
  expect_throw_with<std::invalid_argument>(
      [&] {
        cross_entropy(logits, Tensor({0.5f, 1}));
      },
      "label 0.5 at position 0 is not a class index in [0, 3)");
  expect_throw_with<std::invalid_argument>(
      [&] {
        cross_entropy(logits, Tensor({1, std::nanf("")}));
      },
      "at position 1 is not a class index");
}

TEST(LossesGiven, CrossEntropyRejectsLabelsOfTheWrongLengthOrRank) {
  expect_throw_with<ShapeError>(
      [] {
        cross_entropy(Tensor::zeros({2, 3}), Tensor({0, 1, 2}));
      },
      "cross_entropy: expected labels [2] for logits [2, 3], got [3]");
  expect_throw_with<ShapeError>(
      [] {
        cross_entropy(Tensor::zeros({2, 3}), Tensor({{0}, {1}}));
      },
      "expected labels [2] for logits [2, 3], got [2, 1]");
}

TEST(LossesGiven, CrossEntropyRejectsLogitsThatAreNotTwoDimensional) {
  expect_throw_with<ShapeError>(
      [] {
        cross_entropy(Tensor({1, 2, 3}), Tensor({0}));
      },
      "cross_entropy: expected 2-D logits [N, C], got [3]");
  expect_throw_with<ShapeError>(
      [] {
        cross_entropy(Tensor::zeros({2, 3, 4}), Tensor({0, 1}));
      },
      "expected 2-D logits [N, C], got [2, 3, 4]");
}

TEST(LossesGiven, CrossEntropyRejectsAnEmptyBatch) {
  expect_throw_with<ShapeError>(
      [] {
        cross_entropy(Tensor::zeros({0, 3}), Tensor::zeros({0}));
      },
      "cross_entropy: empty batch");
}

// ---- binary cross-entropy -----------------------------------------------------------------

TEST(Losses, BinaryCrossEntropyMatchesTheKnownValue) {
  // −(ln 0.9 + ln 0.9 + ln 0.7 + ln 0.7)/4 = 0.231018
  const Tensor loss =
      BinaryCrossEntropyLoss()(Tensor({0.9f, 0.1f, 0.7f, 0.3f}), Tensor({1, 0, 1, 0}));
  EXPECT_EQ(loss.shape(), Shape{});
  EXPECT_NEAR(loss.item(), 0.231018f, 1e-6f);
}

TEST(Losses, BinaryCrossEntropyIsSmallWhenRightAndLargeWhenInverted) {
  const Tensor targets({1, 0, 1, 0});
  EXPECT_LT(binary_cross_entropy(Tensor({0.9999f, 0.0001f, 0.9999f, 0.0001f}), targets).item(),
            0.01f);
  EXPECT_GT(binary_cross_entropy(Tensor({0.0001f, 0.9999f, 0.0001f, 0.9999f}), targets).item(),
            5.0f);
}

TEST(Losses, BinaryCrossEntropyOfOneHalfIsLogTwo) {
  EXPECT_NEAR(binary_cross_entropy(Tensor::full({6}, 0.5f), Tensor({1, 0, 1, 1, 0, 0})).item(),
              0.693147f, 1e-6f);
}

TEST(Losses, BinaryCrossEntropyOfExactZerosAndOnesIsFinite) {
  // Clamped to [1e-7, 1 − 1e-7]: a certain wrong answer costs about −log(1e-7) ≈ 16.1, not inf
  // (in float32 1 − 1e-7 rounds to 1 − 1.19e-7, so the second term is −log(1.19e-7) ≈ 15.9).
  const float right = binary_cross_entropy(Tensor({1, 0}), Tensor({1, 0})).item();
  const float wrong = binary_cross_entropy(Tensor({0, 1}), Tensor({1, 0})).item();
  EXPECT_TRUE(std::isfinite(right));
  EXPECT_TRUE(std::isfinite(wrong));
  EXPECT_NEAR(right, 0.0f, 1e-6f);
  EXPECT_GT(wrong, 15.9f);
  EXPECT_LT(wrong, 16.2f);
}

TEST(LossesGiven, BinaryCrossEntropyRejectsMismatchedShapes) {
  expect_throw_with<ShapeError>(
      [] {
        binary_cross_entropy(Tensor({{0.5f}, {0.5f}}), Tensor({1, 0}));
      },
      "binary_cross_entropy: probabilities [2, 1] and targets [2] must have the same shape");
}

// As in PyTorch, a prediction must be a probability; the clamp is for the log of exact 0 and 1
// only, not a way to accept logits. The check runs before the loss is computed.
TEST(LossesGiven, BinaryCrossEntropyRejectsAPredictionOutsideZeroToOneOrNaN) {
  const Tensor targets({1, 0, 1, 0});
  expect_throw_with<std::invalid_argument>(
      [&] {
        binary_cross_entropy(Tensor({0.5f, 0.0f, 1.0f, 1.5f}), targets);
      },
      "binary_cross_entropy: every prediction must be in [0, 1], got 1.5 at index 3");
  expect_throw_with<std::invalid_argument>(
      [&] {
        binary_cross_entropy(Tensor({-0.25f, 0.5f, 0.5f, 0.5f}), targets);
      },
      "binary_cross_entropy: every prediction must be in [0, 1], got -0.25 at index 0");
  expect_throw_with<std::invalid_argument>(
      [&] {
        binary_cross_entropy(Tensor({0.5f, std::nanf(""), 0.5f, 0.5f}), targets);
      },
      "binary_cross_entropy: every prediction must be in [0, 1], got nan at index 1");
}

// Soft targets in [0, 1] are data; a target outside it (PyTorch does not check) is a mistake
// such as labels 1/2 or logits passed as targets, and would make the loss unbounded below.
TEST(LossesGiven, BinaryCrossEntropyRejectsATargetOutsideZeroToOneOrNaN) {
  const Tensor probs = Tensor::full({3}, 0.5f);
  expect_throw_with<std::invalid_argument>(
      [&] {
        binary_cross_entropy(probs, Tensor({1, 2, 1}));
      },
      "binary_cross_entropy: every target must be in [0, 1], got 2 at index 1");
  expect_throw_with<std::invalid_argument>(
      [&] {
        binary_cross_entropy(probs, Tensor({0.0f, 0.0f, std::nanf("")}));
      },
      "binary_cross_entropy: every target must be in [0, 1], got nan at index 2");
}

TEST(Losses, BinaryCrossEntropyAcceptsSoftTargetsAndTheEndsOfZeroToOne) {
  const float loss =
      binary_cross_entropy(Tensor({0.0f, 1.0f, 0.5f}), Tensor({0.0f, 1.0f, 0.25f})).item();
  EXPECT_NEAR(loss, -(0.25f * std::log(0.5f) + 0.75f * std::log(0.5f)) / 3.0f, 1e-5f);
}

// ---- the course's integration ranges ------------------------------------------------------

TEST(Losses, LossesOfSmallRandomProblemsFallInTheCourseRanges) {
  manual_seed(12);
  const float mse = mse_loss(Tensor::randn({8, 1}) * 10.0f, Tensor::randn({8, 1}) * 10.0f).item();
  EXPECT_GT(mse, 0.0f);
  EXPECT_LT(mse, 1000.0f);
  const float ce = cross_entropy(Tensor::randn({8, 3}), Tensor({0, 1, 2, 0, 1, 2, 0, 1})).item();
  EXPECT_GT(ce, 0.0f);
  EXPECT_LT(ce, 5.0f);
  const float bce =
      binary_cross_entropy(sigmoid(Tensor::randn({8})), Tensor({1, 0, 0, 1, 1, 0, 1, 0})).item();
  EXPECT_GT(bce, 0.0f);
  EXPECT_LT(bce, 5.0f);
}

}  // namespace
}  // namespace tinytorch
