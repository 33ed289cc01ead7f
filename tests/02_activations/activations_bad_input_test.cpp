// Module 02 — bad input to the activations: an axis that does not exist or a tensor without
// one is an error naming the op; a NaN goes through, as in PyTorch, so the loss shows it.
#include <cmath>
#include <limits>

#include <tinytorch/core/activations.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_throw_with;

TEST(ActivationsGiven, SoftmaxAndLogSoftmaxRejectAnAxisOutOfRange) {
  const Tensor x = Tensor::zeros({2, 3});
  expect_throw_with<ShapeError>([&] { softmax(x, 2); },
                                "softmax: axis 2 is out of range for a tensor of rank 2");
  expect_throw_with<ShapeError>([&] { log_softmax(x, -3); },
                                "log_softmax: axis -3 is out of range for a tensor of rank 2");
  expect_throw_with<ShapeError>([&] { Softmax(5)(x); },
                                "softmax: axis 5 is out of range for a tensor of rank 2");
  expect_throw_with<ShapeError>([] { log_softmax(Tensor::scalar(1.0f)); },
                                "log_softmax: expected at least 1-D input, got a 0-d tensor");
}

TEST(Activations, EveryActivationLetsNaNThrough) {
  const Tensor x({std::numeric_limits<float>::quiet_NaN(), 1.0f});
  for (const Tensor& y : {relu(x), sigmoid(x), tanh(x), gelu(x), softmax(x), log_softmax(x)}) {
    EXPECT_TRUE(std::isnan(y.data()(0))) << y;
  }
}

}  // namespace
}  // namespace tinytorch
