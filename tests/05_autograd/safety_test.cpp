// Autograd that cannot be silently wrong: values written after the forward pass, a non-leaf
// cut off from its history, gradient checks of NaN, empty batches. Where PyTorch defines the
// behaviour the test follows it and says so.
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include <tinytorch/core/internal/nodes.hpp>
#include <tinytorch/tinytorch.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_near;
using testing::expect_throw_with;

// ---- version counters ---------------------------------------------------------------------

TEST(AutogradSafetyGiven, AWriteThroughTheNonConstDataCountsAsANewVersion) {
  Tensor a({1.0f, 2.0f});
  const std::uint64_t v0 = a.version();
  const Tensor& read_only = a;
  (void)read_only.data();  // reading leaves the version alone
  EXPECT_EQ(a.version(), v0);
  a.data()(0) = 3.0f;
  EXPECT_EQ(a.version(), v0 + 1);
  Tensor alias = a.detach();  // the same values: the same version counter (as in PyTorch)
  alias.data()(1) = 4.0f;
  EXPECT_EQ(a.version(), v0 + 2);
  EXPECT_EQ(alias.version(), a.version());
  EXPECT_EQ(a.clone().version(), 0u) << "a clone is new storage";
}

// PyTorch: "one of the variables needed for gradient computation has been modified by an
// inplace operation: [torch.FloatTensor [3]] is at version 1; expected version 0 instead".
TEST(AutogradSafety, WritingThroughADetachedHandleBeforeBackwardIsAnError) {
  Tensor a({1.0f, 2.0f, 3.0f}, true), b({4.0f, 5.0f, 6.0f}, true);
  Tensor loss = (a * b).sum();
  Tensor view = b.detach();
  view.data()(0) = 100.0f;  // MulBackward would compute da = g·b with the new b
  expect_throw_with<std::runtime_error>(
      [&] { loss.backward(); },
      "backward: one of the variables needed for gradient computation has been modified by an "
      "inplace operation: input 1 of MulBackward (shape [3]) is at version");
}

TEST(AutogradSafety, AnOptimizerStepBetweenForwardAndBackwardIsAnError) {
  Linear layer(3, 2);
  SGD optimizer(layer.parameters(), 0.1f);
  Tensor loss = layer(Tensor({{1.0f, 2.0f, 3.0f}})).sum();
  loss.backward(/*retain_graph=*/true);
  optimizer.step();  // writes the weight that LinearBackward reads
  expect_throw_with<std::runtime_error>([&] { loss.backward(); },
                                        "has been modified by an inplace operation: input 1 of "
                                        "LinearBackward");
}

// PyTorch saves nothing for an addition, so writing its inputs afterwards is allowed.
TEST(AutogradSafety, RulesThatReadNoValuesDoNotMindWrites) {
  Tensor a({1.0f, 2.0f}, true), b({3.0f, 4.0f}, true);
  Tensor loss = (a + b).reshape({2, 1}).sum();
  b.detach().data()(0) = 9.0f;
  loss.backward();
  expect_near(a.grad(), Tensor({1.0f, 1.0f}));
  expect_near(b.grad(), Tensor({1.0f, 1.0f}));
}

TEST(AutogradSafety, ALayerUsedTwiceInOneGraphStillBackpropagates) {
  Linear layer(2, 2);
  Tensor x({{1.0f, -1.0f}});
  Tensor loss = (layer(x) + layer(layer(x))).sum();  // forward passes read, never write
  loss.backward();
  EXPECT_TRUE(layer.weight.grad().defined());
}

// ---- requires_grad_ ---------------------------------------------------------------------------

// A computed tensor made without any exercise: out = x, recorded by a node that does nothing.
struct IdentityBackward : Node {
  explicit IdentityBackward(const Tensor& x) : Node({x}) {}
  const char* name() const override { return "IdentityBackward"; }
  std::vector<Array> apply(const Array& g) override { return detail::gradients(Array(g)); }
};

// PyTorch: "you can only change requires_grad flags of leaf variables".
TEST(AutogradSafetyGiven, TurningOffRequiresGradOfAComputedTensorIsRefused) {
  Tensor a({1.0f, 2.0f}, true);
  Tensor y = detail::attach(Tensor(Array(a.numpy())), std::make_shared<IdentityBackward>(a));
  expect_throw_with<std::logic_error>(
      [&] { y.requires_grad_(false); },
      "requires_grad_: can only turn off requires_grad of a leaf tensor; this one was computed "
      "by IdentityBackward. For its values without the history use detach()");
  EXPECT_TRUE(y.requires_grad());
  y.requires_grad_(true);   // already on: allowed
  a.requires_grad_(false);  // a leaf: allowed
  EXPECT_FALSE(a.requires_grad());
}

// ---- gradcheck cannot pass on NaN or infinity -------------------------------------------------

TEST(AutogradSafety, GradcheckFailsWhereTheGradientIsNaN) {
  // √x at negative points: NaN values and NaN gradients on both sides.
  const GradcheckResult r = gradcheck([](const std::vector<Tensor>& in) { return in[0].sqrt(); },
                                      {Tensor({-1.0f, -4.0f}, true)});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("not finite: a NaN or infinity never passes a gradient check"),
            std::string::npos)
      << r.message;
  EXPECT_TRUE(std::isinf(r.max_abs_error));
}

// out = x on the way forward; backward returns g with one element replaced by `poison`.
struct PoisonBackward : Node {
  PoisonBackward(const Tensor& x, std::size_t at, float poison)
      : Node({x}), at(at), poison(poison) {}
  const char* name() const override { return "PoisonBackward"; }
  std::vector<Array> apply(const Array& g) override {
    Array dx = g;
    dx.data()[at] = poison;
    return detail::gradients(std::move(dx));
  }
  std::size_t at;
  float poison;
};

Tensor poisoned_backward(const Tensor& x, std::size_t at, float poison) {
  Tensor out(Array(x.data()));
  if (!detail::should_record({&x})) return out;
  return detail::attach(out, std::make_shared<PoisonBackward>(x, at, poison));
}

// A property of the checker: whatever the op and the shape, a NaN or infinity injected into
// the analytic gradient or into the numerical one (a function that goes non-finite as soon as
// an input moves) makes it fail, and says why.
TEST(AutogradSafety, GradcheckFailsOnEveryInjectedNaNOrInfinity) {
  std::mt19937 rng(20);
  const std::vector<std::function<Tensor(const Tensor&)>> ops = {
      [](const Tensor& x) { return x * x; },
      [](const Tensor& x) { return x.exp(); },
      [](const Tensor& x) { return (x * 3.0f).sum({0}, true) + x; },
      [](const Tensor& x) { return x.matmul(x.transpose()); },
  };
  const float poisons[] = {std::numeric_limits<float>::quiet_NaN(),
                           std::numeric_limits<float>::infinity(),
                           -std::numeric_limits<float>::infinity()};
  for (int trial = 0; trial < 24; ++trial) {
    const std::size_t rows = 1 + rng() % 3, cols = 1 + rng() % 4;
    const auto& op = ops[rng() % ops.size()];
    const float poison = poisons[rng() % 3];
    const std::size_t at = rng() % (rows * cols);
    Tensor x = Tensor::randn({rows, cols}, true);
    const Array original = x.data();
    const bool analytic = trial % 2 == 0;
    SCOPED_TRACE(::testing::Message()
                 << "trial " << trial << " [" << rows << ", " << cols << "] poison " << poison
                 << " at " << at << (analytic ? " (analytic)" : " (numerical)"));
    const GradcheckResult r = gradcheck(
        [&](const std::vector<Tensor>& in) {
          if (analytic) return op(poisoned_backward(in[0], at, poison));
          // Numerical side: the value turns non-finite once the input has been moved.
          Tensor y = op(in[0]);
          const bool moved = !std::equal(original.begin(), original.end(), in[0].data().begin());
          if (!moved) return y;
          Array poisoned = y.data();
          poisoned.data()[0] = poison;
          return y + Tensor(Array(poisoned - y.data()));
        },
        {x});
    EXPECT_FALSE(r.ok) << r.message;
    EXPECT_NE(r.message.find("not finite"), std::string::npos) << r.message;
  }
}

// ---- empty batches: gradients of the right shape, zeros for the weights (as in PyTorch) -------

TEST(AutogradSafety, AnEmptyBatchThroughLinearGivesZeroGradients) {
  Linear layer(3, 2);
  Tensor x = Tensor::zeros({0, 3}, true);
  layer(x).sum().backward();
  ASSERT_TRUE(layer.weight.grad().defined());
  ASSERT_TRUE(layer.bias.grad().defined());
  ASSERT_TRUE(x.grad().defined());
  expect_near(layer.weight.grad(), Tensor::zeros({3, 2}));
  expect_near(layer.bias.grad(), Tensor::zeros({2}));
  EXPECT_EQ(x.grad().shape(), (Shape{0, 3}));
}

}  // namespace
}  // namespace tinytorch
