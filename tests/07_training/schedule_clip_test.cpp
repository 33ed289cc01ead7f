// Module 07: CosineSchedule, clip_grad_norm and accuracy.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include <tinytorch/tinytorch.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_near;
using testing::expect_throw_with;

// ---- CosineSchedule ---------------------------------------------------------------------

TEST(CosineSchedule, KnownValuesOfTheDefaults) {
  const CosineSchedule s;
  EXPECT_NEAR(s.get_lr(0), 0.1f, 1e-6f);
  EXPECT_NEAR(s.get_lr(25), 0.086820f, 1e-6f);
  EXPECT_NEAR(s.get_lr(50), 0.055f, 1e-6f);
  EXPECT_NEAR(s.get_lr(100), 0.01f, 1e-6f);
  EXPECT_EQ(s.get_lr(100), s.min_lr());
  EXPECT_EQ(s.get_lr(1000), s.min_lr());
}

TEST(CosineSchedule, DecreasesFromMaxToMin) {
  const CosineSchedule s(0.1f, 0.01f, 100);
  EXPECT_GT(s.get_lr(0), s.get_lr(1));
  EXPECT_GT(s.get_lr(25), s.get_lr(50));
  const float middle = s.get_lr(50);
  EXPECT_GT(middle, 0.01f);
  EXPECT_LT(middle, 0.1f);
  for (std::size_t e = 0; e < 100; ++e) EXPECT_GE(s.get_lr(e), s.get_lr(e + 1)) << "epoch " << e;
}

TEST(CosineSchedule, KeepsItsSettings) {
  const CosineSchedule s(0.5f, 0.05f, 7);
  EXPECT_EQ(s.max_lr(), 0.5f);
  EXPECT_EQ(s.min_lr(), 0.05f);
  EXPECT_EQ(s.total_epochs(), 7u);
  EXPECT_NEAR(s.get_lr(0), 0.5f, 1e-6f);
  EXPECT_EQ(s.get_lr(7), 0.05f);
}

TEST(CosineScheduleGiven, RejectsBadArguments) {
  expect_throw_with<std::invalid_argument>([] { CosineSchedule(0.1f, 0.01f, 0); },
                                           "CosineSchedule");
  expect_throw_with<std::invalid_argument>([] { CosineSchedule(0.01f, 0.1f, 10); },
                                           "CosineSchedule");
  expect_throw_with<std::invalid_argument>([] { CosineSchedule(0.1f, -0.1f, 10); },
                                           "CosineSchedule");
  expect_throw_with<std::invalid_argument>(
      [] { CosineSchedule(std::numeric_limits<float>::quiet_NaN(), 0.01f, 10); }, "CosineSchedule");
}

// ---- clip_grad_norm ---------------------------------------------------------------------

Tensor param_with_grad(const Tensor& grad) {
  Tensor p = Tensor::zeros(grad.shape(), /*requires_grad=*/true);
  p.set_grad(grad);
  return p;
}

double grad_norm(const std::vector<Tensor>& params) {
  double sum = 0.0;
  for (const Tensor& p : params) {
    if (!p.grad().defined()) continue;
    for (float g : p.grad().data()) sum += static_cast<double>(g) * g;
  }
  return std::sqrt(sum);
}

TEST(ClipGradNorm, CourseExampleClipsToMaxNorm) {
  const std::vector<Tensor> params{param_with_grad(Tensor({3, 4})),
                                   param_with_grad(Tensor({6, 8}))};
  const float norm = clip_grad_norm(params, 1.0f);
  EXPECT_NEAR(norm, 11.1803f, 1e-4f);  // √(9 + 16 + 36 + 64) = √125
  EXPECT_NEAR(grad_norm(params), 1.0, 1e-6);
  // Every gradient is scaled by the same factor: directions are kept.
  expect_near(params[0].grad(), Tensor({3 / 11.180340f, 4 / 11.180340f}), 1e-6f);
  expect_near(params[1].grad(), Tensor({6 / 11.180340f, 8 / 11.180340f}), 1e-6f);
}

TEST(ClipGradNorm, SmallGradientsAreNotClipped) {
  const std::vector<Tensor> params{param_with_grad(Tensor({0.1f, 0.2f})),
                                   param_with_grad(Tensor({{0.3f}}))};
  const float norm = clip_grad_norm(params, 1.0f);
  EXPECT_LT(norm, 1.0f);
  EXPECT_NEAR(norm, std::sqrt(0.01f + 0.04f + 0.09f), 1e-6f);
  // Untouched, bit for bit.
  EXPECT_EQ(params[0].grad().data()(0), 0.1f);
  EXPECT_EQ(params[0].grad().data()(1), 0.2f);
  EXPECT_EQ(params[1].grad().data()(0, 0), 0.3f);
}

TEST(ClipGradNorm, ParametersWithoutGradientsAreSkipped) {
  const Tensor no_grad = Tensor::ones({3}, /*requires_grad=*/true);
  const std::vector<Tensor> params{no_grad, param_with_grad(Tensor({3, 4}))};
  EXPECT_NEAR(clip_grad_norm(params, 2.5f), 5.0f, 1e-6f);
  EXPECT_FALSE(no_grad.grad().defined());
  expect_near(params[1].grad(), Tensor({1.5f, 2.0f}), 1e-6f);
}

TEST(ClipGradNorm, EmptyListAndNoGradientsGiveZero) {
  EXPECT_EQ(clip_grad_norm({}), 0.0f);
  EXPECT_EQ(clip_grad_norm({Tensor::ones({2}, true)}), 0.0f);
}

TEST(ClipGradNorm, ScalesTheParametersOwnGradient) {
  // The clipped values must be what the optimizer then reads from the parameter.
  Tensor w = Tensor::ones({2}, true);
  (w * Tensor({30.0f, 40.0f})).sum().backward();
  clip_grad_norm({w}, 5.0f);
  expect_near(w.grad(), Tensor({3.0f, 4.0f}), 1e-5f);
}

TEST(ClipGradNorm, RejectsNonPositiveMaxNorm) {
  expect_throw_with<std::invalid_argument>([] { clip_grad_norm({}, 0.0f); }, "clip_grad_norm");
  expect_throw_with<std::invalid_argument>([] { clip_grad_norm({}, -1.0f); }, "max_norm");
}

// ---- accuracy ---------------------------------------------------------------------------

TEST(Accuracy, ArgmaxAgainstClassIndices) {
  const Tensor outputs(
      {{0.1f, 0.7f, 0.2f}, {0.9f, 0.05f, 0.05f}, {0.2f, 0.3f, 0.5f}, {0.4f, 0.4f, 0.2f}});
  // Row 3 is a tie: the first maximum (class 0) is the prediction.
  EXPECT_FLOAT_EQ(accuracy(outputs, Tensor({1, 0, 1, 0})), 0.75f);
  EXPECT_FLOAT_EQ(accuracy(outputs, Tensor({{1}, {0}, {2}, {0}})), 1.0f);
}

TEST(Accuracy, ArgmaxAgainstOneHotLabels) {
  const Tensor outputs({{2, 1}, {0, 3}, {5, 4}});
  EXPECT_FLOAT_EQ(accuracy(outputs, Tensor({{1, 0}, {0, 1}, {0, 1}})), 2.0f / 3.0f);
}

TEST(Accuracy, ThresholdForOneOutput) {
  EXPECT_FLOAT_EQ(accuracy(Tensor({0.9f, 0.2f, 0.6f, 0.4f}), Tensor({1, 0, 0, 0})), 0.75f);
  EXPECT_FLOAT_EQ(accuracy(Tensor({{0.9f}, {0.2f}}), Tensor({{1}, {1}})), 0.5f);
}

TEST(AccuracyGiven, EmptyBatchIsZeroAndBadShapesThrow) {
  EXPECT_EQ(accuracy(Tensor::zeros({0, 3}), Tensor::zeros({0})), 0.0f);
  expect_throw_with<ShapeError>(
      [] {
        accuracy(Tensor::zeros({4, 3}), Tensor::zeros({5}));
      },
      "accuracy");
  expect_throw_with<ShapeError>(
      [] {
        accuracy(Tensor::zeros({4, 3}), Tensor::zeros({4, 2}));
      },
      "[4, 2]");
  expect_throw_with<ShapeError>(
      [] {
        accuracy(Tensor::zeros({2, 3, 4}), Tensor::zeros({2}));
      },
      "[2, 3, 4]");
}

}  // namespace
}  // namespace tinytorch
