// Hidden tests of module 05: `tito release` leaves tests/hidden/ out of student copies, and
// `tito grade` runs them with the rest, so a student cannot tune code to them. A teacher
// writes their own here; these two show the form, with values worked out by hand.
#include <tinytorch/tinytorch.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_near;

// L = Σ (a·b): ∂L/∂a = b, ∂L/∂b = a.
TEST(AutogradHidden, ProductGradientsAreTheOtherFactor) {
  Tensor a({1.0f, -2.0f, 3.0f}, true), b({4.0f, 5.0f, -6.0f}, true);
  (a * b).sum().backward();
  expect_near(a.grad(), Tensor({4.0f, 5.0f, -6.0f}));
  expect_near(b.grad(), Tensor({1.0f, -2.0f, 3.0f}));
}

// L = Σ (a + c) with c [3] broadcast over the two rows of a: ∂L/∂c = 2 per element.
TEST(AutogradHidden, BroadcastAdditionSumsTheGradientOverRows) {
  Tensor a({{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}}, true), c({0.5f, 0.5f, 0.5f}, true);
  (a + c).sum().backward();
  expect_near(a.grad(), Tensor({{1.0f, 1.0f, 1.0f}, {1.0f, 1.0f, 1.0f}}));
  expect_near(c.grad(), Tensor({2.0f, 2.0f, 2.0f}));
}

}  // namespace
}  // namespace tinytorch
