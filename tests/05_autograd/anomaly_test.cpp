// Module 05 — anomaly detection (DetectAnomalyGuard): the first op or backward node that makes
// a NaN or infinity is named, with the input it came from and the position, before a
// hand-written loop's optimizer writes it into the weights.
#include <cmath>
#include <limits>

#include <tinytorch/core/autograd.hpp>
#include <tinytorch/core/losses.hpp>
#include <tinytorch/core/optimizers.hpp>
#include <tinytorch/core/tensor.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_throw_with;

const float kNaN = std::numeric_limits<float>::quiet_NaN();

TEST(AutogradGiven, DetectAnomalyNamesTheOpThatMadeANaNFromFiniteInputs) {
  const Tensor x({-1.0f, 2.0f}, true);
  DetectAnomalyGuard anomaly;
  expect_throw_with<NonFiniteError>(
      [&] { x.log(); },
      "detect_anomaly: op Log produced nan at element 0 of its output [2] from finite inputs");
}

TEST(AutogradGiven, DetectAnomalyNamesTheInputThatBroughtTheNaNAndItsPosition) {
  const Tensor w({1.0f, kNaN, 3.0f}, true);
  DetectAnomalyGuard anomaly;
  expect_throw_with<NonFiniteError>(
      [&] { w.pow(2.0f); },
      "detect_anomaly: op Pow got nan at element 1 of input 0 [3] (a leaf tensor that requires "
      "grad)");
  anomaly.set_names({{"layer.weight", w}});
  anomaly.set_position(3, 17);
  expect_throw_with<NonFiniteError>(
      [&] { w.exp(); },
      "detect_anomaly at epoch 3, step 17: op Exp got nan at element 1 of input 0 [3] "
      "(parameter 'layer.weight')");
}

TEST(AutogradGiven, WithoutTheGuardNothingIsCheckedAndGuardsNest) {
  const Tensor x({-1.0f}, true);
  EXPECT_FALSE(anomaly_detection_enabled());
  EXPECT_TRUE(std::isnan(x.log().item()));  // as in PyTorch: off by default
  {
    DetectAnomalyGuard outer;
    {
      DetectAnomalyGuard inner;
      EXPECT_TRUE(anomaly_detection_enabled());
    }
    EXPECT_TRUE(anomaly_detection_enabled());
    expect_throw_with<NonFiniteError>([&] { x.log(); }, "op Log produced nan");
  }
  EXPECT_FALSE(anomaly_detection_enabled());
}

TEST(AutogradGiven, DetectAnomalyRefusesToStartBackwardFromANaN) {
  const Tensor loss = Tensor::scalar(kNaN, true);
  DetectAnomalyGuard anomaly;
  expect_throw_with<NonFiniteError>([&] { loss.backward(); },
                                    "detect_anomaly: backward from a value of nan");
  expect_throw_with<NonFiniteError>(
      [&] {
        Tensor({1.0f, 2.0f}, true).backward(Tensor({1.0f, kNaN}));
      },
      "detect_anomaly: backward with a gradient holding nan");
}

TEST(Autograd, DetectAnomalyNamesTheBackwardNodeThatReturnedAnInfinity) {
  // sqrt is finite at 0, its slope 1/(2·√x) is not.
  const Tensor x({0.0f, 4.0f}, true);
  DetectAnomalyGuard anomaly;
  anomaly.set_names({{"x", x}});
  const Tensor y = (x.sqrt() * 2.0f).sum();
  expect_throw_with<NonFiniteError>(
      [&] { y.backward(); },
      "detect_anomaly: backward of SqrtBackward returned inf at element 0 of the gradient for "
      "input 0 [2] (parameter 'x'), from a finite incoming gradient");
}

TEST(Autograd, AHandWrittenLoopUnderTheGuardStopsBeforeTheOptimizerWritesTheWeights) {
  // Without the guard, backward writes inf into w's gradient and SGD puts it into w.
  Tensor w({0.0f, 1.0f}, true);
  const Tensor x({{1.0f, 2.0f}, {3.0f, 4.0f}});
  const Tensor y({{1.0f, 1.0f}, {1.0f, 1.0f}});
  SGD optimizer({w}, 0.1f);
  {
    const Tensor loss = mse_loss(x * w.sqrt(), y);
    loss.backward();
    EXPECT_TRUE(std::isinf(w.grad().data()(0)));  // what an unchecked loop would step with
    optimizer.zero_grad();
  }
  DetectAnomalyGuard anomaly;
  anomaly.set_names({{"w", w}});
  for (std::size_t step = 0; step < 3; ++step) {
    anomaly.set_position(0, step);
    try {
      const Tensor loss = mse_loss(x * w.sqrt(), y);
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      ADD_FAILURE() << "no error at step " << step;
    } catch (const NonFiniteError& e) {
      EXPECT_NE(std::string(e.what()).find(
                    "detect_anomaly at epoch 0, step 0: backward of SqrtBackward returned -inf "
                    "at element 0 of the gradient for input 0 [2] (parameter 'w')"),
                std::string::npos)
          << e.what();
      break;
    }
  }
  EXPECT_EQ(w.data()(0), 0.0f);  // the weights never saw it
  EXPECT_EQ(w.data()(1), 1.0f);
  EXPECT_EQ(optimizer.step_count(), 0u);
}

}  // namespace
}  // namespace tinytorch
