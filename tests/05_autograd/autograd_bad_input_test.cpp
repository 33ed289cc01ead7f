// Module 05 — bad input to the autograd API: a seed gradient of the wrong shape and gradcheck
// settings that cannot measure anything are errors naming the call.
#include <limits>

#include <tinytorch/core/autograd.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_throw_with;

TEST(AutogradGiven, BackwardWithAGradientOfTheWrongShapeIsRejected) {
  const Tensor x({1.0f, 2.0f}, true);
  expect_throw_with<ShapeError>(
      [&] {
        x.backward(Tensor({1.0f, 2.0f, 3.0f}));
      },
      "backward: gradient of shape [3] for a tensor of shape [2]");
}

TEST(AutogradGiven, GradcheckRejectsSettingsThatCannotMeasureAGradient) {
  const auto identity = [](const std::vector<Tensor>& in) { return in[0]; };
  const Tensor x({1.0f}, true);
  expect_throw_with<std::invalid_argument>([&] { gradcheck(identity, {x}, 0.0f); },
                                           "gradcheck: eps must be finite and > 0, got 0");
  expect_throw_with<std::invalid_argument>(
      [&] { gradcheck(identity, {x}, std::numeric_limits<float>::quiet_NaN()); },
      "gradcheck: eps must be finite and > 0, got nan");
  expect_throw_with<std::invalid_argument>([&] { gradcheck(identity, {x}, 1e-3f, -1.0); },
                                           "gradcheck: atol and rtol must be >= 0, got -1 and");
  expect_throw_with<std::invalid_argument>(
      [&] {
        gradcheck(identity, {x, Tensor()});
      },
      "gradcheck: input 1 is undefined");
  expect_throw_with<std::invalid_argument>([&] { gradcheck(nullptr, {x}); },
                                           "gradcheck: the function is empty");
}

}  // namespace
}  // namespace tinytorch
