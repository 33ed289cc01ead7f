// Module 07: the Trainer stops at the first NaN or infinity — in the loss, in a gradient, or in
// a parameter after a step — naming epoch, step, batch, parameter and the op or backward node
// it came from, before the optimizer writes it into the weights.
#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include <tinytorch/tinytorch.hpp>

#include "support/testing.hpp"
#include "training_fixtures.hpp"

namespace tinytorch {
namespace {

using testing::batches_of;
using testing::same_bits;
using testing::small_mlp;
using testing::snapshot;
using testing::three_blobs;

const float kNaN = std::numeric_limits<float>::quiet_NaN();

/// The message of the NonFiniteError that `fn` throws ("" and a failure if it throws none).
std::string non_finite_error(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const NonFiniteError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no NonFiniteError";
  return "";
}

void expect_contains(const std::string& text, const std::string& fragment) {
  EXPECT_NE(text.find(fragment), std::string::npos)
      << "message was: " << text << "\nexpected to contain: " << fragment;
}

void expect_unchanged(const Module& model, const std::vector<Tensor>& before) {
  const auto after = model.parameters();
  for (std::size_t i = 0; i < after.size(); ++i) {
    EXPECT_TRUE(same_bits(after[i], before[i])) << "parameter " << i << " changed";
  }
}

/// y = Σ_j x_j·√w_j per row: finite at w_0 = 0, where the gradient 1/(2√w) is infinite. A
/// buffer counts the forward passes (a stand-in for BatchNorm's running statistics).
struct SqrtModel : Module {
  Tensor w = register_parameter("w", Tensor({0.0f, 1.0f}));
  Tensor calls = register_buffer("calls", Tensor::zeros({1}));
  Tensor forward(const Tensor& x) override {
    calls.data()(0) += 1.0f;
    return (x * w.sqrt()).sum({1}, /*keepdims=*/true);
  }
  std::string name() const override { return "SqrtModel"; }
};

TEST(Trainer, ANaNInTheInputIsReportedWithTheOpItEnteredAndNoWeightChanges) {
  // relu used to turn the NaN into 0: the loss stayed finite and backward put NaN into the
  // first layer's weights while training went on with a constant loss.
  manual_seed(31);
  auto model = small_mlp();
  SGD opt(model->parameters(), 0.1f);
  Trainer trainer(*model, opt, cross_entropy);
  std::vector<Batch> batches = batches_of(three_blobs(6), 2);
  Tensor poisoned = batches[1][0].clone();
  poisoned.data()(1, 2) = kNaN;
  batches[1][0] = poisoned;
  const auto before = snapshot(*model);
  std::vector<Tensor> after_first;
  trainer.on_batch([&](std::size_t b, std::size_t, float) {
    if (b == 0) after_first = snapshot(*model);
  });
  const std::string message = non_finite_error([&] { trainer.train_epoch(batches); });
  expect_contains(message,
                  "train_epoch: loss is nan at epoch 0, step 1 (batch 1); replayed with "
                  "detect_anomaly at epoch 0, step 1: op Linear got nan at element 6 of input 0 "
                  "[2, 4] (data: a tensor without grad); the optimizer did not step");
  expect_unchanged(*model, after_first);
  EXPECT_FALSE(same_bits(model->parameters()[0], before[0]));  // batch 0 did train
  EXPECT_EQ(trainer.step(), 1u);
}

TEST(Trainer, NonFiniteGradientsFromAFiniteLossAreStoppedBeforeTheStep) {
  SqrtModel model;
  SGD opt(model.parameters(), 0.1f);
  Trainer trainer(model, opt, mse_loss);
  const std::vector<Batch> batches{{Tensor({{1.0f, 2.0f}}), Tensor({{0.0f}})}};
  const auto before = snapshot(model);
  const std::string message = non_finite_error([&] { trainer.train_epoch(batches); });
  expect_contains(message,
                  "train_epoch: gradient of parameter 'w' [2] holds inf at element 0 at epoch 0, "
                  "step 0 (batch 0); replayed with detect_anomaly at epoch 0, step 0: backward of "
                  "SqrtBackward returned inf at element 0 of the gradient for input 0 [2] "
                  "(parameter 'w'), from a finite incoming gradient; the optimizer did not step");
  expect_unchanged(model, before);
  EXPECT_EQ(opt.step_count(), 0u);
}

TEST(Trainer, TheReplayLeavesBuffersGradientsAndTheGeneratorAsTheBatchLeftThem) {
  SqrtModel model;
  SGD opt(model.parameters(), 0.1f);
  Trainer trainer(model, opt, mse_loss);
  const std::vector<Batch> batches{{Tensor({{1.0f, 2.0f}}), Tensor({{0.0f}})}};
  manual_seed(5);
  non_finite_error([&] { trainer.train_epoch(batches); });
  EXPECT_EQ(model.calls.data()(0), 1.0f);  // one forward pass counted, not two
  ASSERT_TRUE(model.w.grad().defined());   // the batch's gradient, for inspection
  EXPECT_TRUE(std::isinf(model.w.grad().data()(0)));
  const float next = Tensor::rand({1}).item();
  manual_seed(5);
  EXPECT_EQ(Tensor::rand({1}).item(), next);  // the replay drew nothing from the generator
}

TEST(Trainer, AStepThatOverflowsAParameterIsReportedRightAfterIt) {
  Linear model(2, 1);
  model.weight.data().fill(1.0f);
  SGD opt(model.parameters(), 3e38f);
  Trainer trainer(model, opt, mse_loss);
  const std::vector<Batch> batches{{Tensor({{1.0f, 1.0f}}), Tensor({{-10.0f}})}};
  const std::string message = non_finite_error([&] { trainer.train_epoch(batches); });
  expect_contains(message, "train_epoch: the optimizer step at epoch 0, step 0 left parameter ");
  expect_contains(message, "holds -inf at element 0 (from finite gradients; lr is 3e+38)");
}

}  // namespace
}  // namespace tinytorch
