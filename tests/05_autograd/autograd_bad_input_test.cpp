// Module 05 — bad input to the autograd API: gradcheck settings that cannot measure anything
// are errors naming the call (backward's own checks are in engine_test.cpp).
#include <limits>

#include <tinytorch/core/autograd.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_throw_with;

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
