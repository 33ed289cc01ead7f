// Module 05 — the backward engine: chain rule on hand-computed examples, accumulation,
// shared sub-graphs, deep graphs, retain_graph, grad mode and requires_grad propagation.
#include <cmath>
#include <memory>

#include <tinytorch/core/activations.hpp>
#include <tinytorch/core/autograd.hpp>
#include <tinytorch/core/internal/nodes.hpp>
#include <tinytorch/core/tensor.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_near;
using testing::expect_throw_with;

// ---- the course's hand-computed gradients -------------------------------------------------

TEST(Autograd, LinearFunctionHasItsSlopeAsGradient) {
  Tensor x = Tensor::scalar(2.0f, true);
  const Tensor z = x * 3.0f + 1.0f;
  EXPECT_EQ(z.item(), 7.0f);
  z.backward();
  EXPECT_EQ(x.grad().item(), 3.0f);
}

TEST(Autograd, SquareAtTwoHasGradientFour) {
  Tensor x = Tensor::scalar(2.0f, true);
  (x * x).backward();
  EXPECT_EQ(x.grad().item(), 4.0f);
}

TEST(Autograd, SquareOfXPlusOneAtTwoHasGradientSix) {
  Tensor x = Tensor::scalar(2.0f, true);
  const Tensor y = x + 1.0f;
  (y * y).backward();
  EXPECT_EQ(x.grad().item(), 6.0f);
  Tensor x2 = Tensor::scalar(2.0f, true);
  (x2 + 1.0f).pow(2.0f).backward();
  EXPECT_EQ(x2.grad().item(), 6.0f);
}

TEST(Autograd, RepeatedScalingMultipliesTheGradient) {
  Tensor x = Tensor::scalar(1.5f, true);
  (x * 2.0f * 2.0f * 2.0f).backward();
  EXPECT_EQ(x.grad().item(), 8.0f);
}

TEST(Autograd, MatmulGradientsAreTheOtherOperandTransposed) {
  Tensor a({{1, 2}}, true);
  Tensor b({{3}, {4}}, true);
  a.matmul(b).sum().backward();
  expect_near(a.grad(), Tensor({{3, 4}}));
  expect_near(b.grad(), Tensor({{1}, {2}}));
}

TEST(Autograd, SumOfDoubledVectorHasGradientTwo) {
  Tensor x({1, 2}, true);
  (x * 2.0f).sum().backward();
  expect_near(x.grad(), Tensor({2, 2}));
}

TEST(Autograd, AddGivesOneToBothAndMulGivesTheOtherFactor) {
  Tensor a = Tensor::scalar(3.0f, true), b = Tensor::scalar(2.0f, true);
  (a + b).backward();
  EXPECT_EQ(a.grad().item(), 1.0f);
  EXPECT_EQ(b.grad().item(), 1.0f);
  Tensor c = Tensor::scalar(3.0f, true), d = Tensor::scalar(2.0f, true);
  (c * d).backward();
  EXPECT_EQ(c.grad().item(), 2.0f);
  EXPECT_EQ(d.grad().item(), 3.0f);
}

TEST(Autograd, SubGivesPlusAndMinusOne) {
  Tensor a({5, 6}, true), b({1, 2}, true);
  (a - b).sum().backward();
  expect_near(a.grad(), Tensor({1, 1}));
  expect_near(b.grad(), Tensor({-1, -1}));
}

TEST(Autograd, DivGivesReciprocalAndMinusQuotientOverDivisor) {
  Tensor a({6, 1}, true), b({2, 4}, true);
  (a / b).sum().backward();
  expect_near(a.grad(), Tensor({0.5f, 0.25f}));      // 1/b
  expect_near(b.grad(), Tensor({-1.5f, -0.0625f}));  // −a/b²
}

TEST(Autograd, SquaredErrorSumHasGradientTwiceTheResidual) {
  Tensor x({{1}, {2}, {3}}, true);
  const Tensor d = x - 2.0f;
  (d * d).sum().backward();
  expect_near(x.grad(), Tensor({{-2}, {0}, {2}}));
}

TEST(Autograd, SumOverAnAxisBroadcastsTheGradientBack) {
  // The Python reference fails here (its SumBackward ignores the axis).
  Tensor x = Tensor::ones({2, 3}, true);
  const Tensor w({{1, 2}});
  (x.sum({1}) * w).sum().backward();
  expect_near(x.grad(), Tensor({{1, 1, 1}, {2, 2, 2}}));
}

TEST(Autograd, MeanSpreadsTheGradientEvenly) {
  Tensor x = Tensor::ones({2, 4}, true);
  x.mean().backward();
  expect_near(x.grad(), Tensor::full({2, 4}, 0.125f));
}

TEST(Autograd, MaxSendsTheGradientToTheMaximum) {
  Tensor x({{1, 5, 2}, {7, 0, 3}}, true);
  x.max({1}).sum().backward();
  expect_near(x.grad(), Tensor({{0, 1, 0}, {1, 0, 0}}));
}

TEST(Autograd, MaxSharesTheGradientEquallyAmongTies) {
  Tensor x({1, 3, 3}, true);
  x.max().backward();
  expect_near(x.grad(), Tensor({0, 0.5f, 0.5f}));
}

TEST(Autograd, ActivationGradientsMatchTheirFormulas) {
  Tensor x({-1, 0.5f, 2}, true);
  relu(x).sum().backward();
  expect_near(x.grad(), Tensor({0, 1, 1}));
  Tensor s = Tensor::scalar(0.0f, true);
  sigmoid(s).backward();
  EXPECT_FLOAT_EQ(s.grad().item(), 0.25f);
  Tensor t = Tensor::scalar(0.0f, true);
  tanh(t).backward();
  EXPECT_FLOAT_EQ(t.grad().item(), 1.0f);
}

TEST(Autograd, ReluGradientAtZeroIsZero) {
  Tensor x = Tensor::scalar(0.0f, true);
  relu(x).backward();
  EXPECT_EQ(x.grad().item(), 0.0f);
}

TEST(Autograd, GeluGradientIsTheExactDerivativeOfItsForward) {
  // d/dx x·σ(1.702x) at 1 = s + 1.702·s·(1 − s), s = σ(1.702) → 1.067781 (the Python course's
  // tanh-based rule gives 1.083, which does not match its own forward).
  Tensor x = Tensor::scalar(1.0f, true);
  const Tensor y = gelu(x);
  EXPECT_NE(y.grad_fn(), nullptr);
  y.backward();
  EXPECT_NEAR(x.grad().item(), 1.067781f, 1e-5f);
  EXPECT_NE(x.grad().item(), 0.0f);
}

TEST(Autograd, SoftmaxGradientOfASingleEntryIsSTimesOneMinusS) {
  Tensor x({1, 2, 3}, true);
  softmax(x)[2].backward();
  const float s2 = 0.665241f, s0 = 0.090031f, s1 = 0.244728f;
  expect_near(x.grad(), Tensor({-s2 * s0, -s2 * s1, s2 * (1 - s2)}), 1e-6f);
}

// ---- the course's structural checks -------------------------------------------------------

TEST(AutogradGiven, ResultsOfDifferentiableOpsRequireGradAndHaveANode) {
  const Tensor a({1, 2}, true), b({3, 4}, true);
  for (const Tensor& out : {a + b, a - b, a * b, a / b, a.reshape({2, 1}), gelu(a)}) {
    EXPECT_TRUE(out.requires_grad());
    EXPECT_NE(out.grad_fn(), nullptr);
    EXPECT_FALSE(out.is_leaf());
  }
}

TEST(Autograd, ReshapeGradientHasTheInputShape) {
  Tensor x = Tensor::randn({2, 3}, true);
  x.reshape({3, 2}).sum().backward();
  EXPECT_EQ(x.grad().shape(), (Shape{2, 3}));
  expect_near(x.grad(), Tensor::ones({2, 3}));
}

TEST(Autograd, BatchedMatmulBackwardGivesInputShapedGradients) {
  manual_seed(1);
  Tensor a = Tensor::randn({2, 4, 8}, true), b = Tensor::randn({2, 8, 4}, true);
  const Tensor c = a.matmul(b);
  ASSERT_EQ(c.shape(), (Shape{2, 4, 4}));
  c.backward(Tensor::ones({2, 4, 4}));
  EXPECT_EQ(a.grad().shape(), (Shape{2, 4, 8}));
  EXPECT_EQ(b.grad().shape(), (Shape{2, 8, 4}));
  // With g = ones, da[n, i, k] = Σ_j b[n, k, j].
  EXPECT_NEAR(a.grad().data()(1, 2, 5), b.sum({2}).data()(1, 5), 1e-4f);
}

TEST(Autograd, AttentionPatternBackwardGivesInputShapedGradients) {
  manual_seed(2);
  Tensor q = Tensor::randn({2, 4, 8, 64}, true), k = Tensor::randn({2, 4, 8, 64}, true);
  const Tensor scores = q.matmul(k.transpose());
  ASSERT_EQ(scores.shape(), (Shape{2, 4, 8, 8}));
  scores.backward(Tensor::ones({2, 4, 8, 8}));
  EXPECT_EQ(q.grad().shape(), (Shape{2, 4, 8, 64}));
  EXPECT_EQ(k.grad().shape(), (Shape{2, 4, 8, 64}));
}

TEST(Autograd, TwoLayerGraphWithRowBiasGivesEveryLeafItsOwnShape) {
  manual_seed(3);
  Tensor x = Tensor::randn({4, 2}, true);
  Tensor w1 = Tensor::randn({2, 3}, true), b1 = Tensor::randn({1, 3}, true);
  Tensor w2 = Tensor::randn({3, 1}, true), b2 = Tensor::randn({1}, true);
  (relu(x.matmul(w1) + b1).matmul(w2) + b2).sum().backward();
  for (const Tensor* t : {&x, &w1, &b1, &w2, &b2}) {
    ASSERT_TRUE(t->grad().defined());
    EXPECT_EQ(t->grad().shape(), t->shape());
  }
}

TEST(Autograd, LeafUsedTwiceInOneExpressionGetsBothContributions) {
  // f = Σ((a@b) + a)·b:  both leaves appear twice.
  Tensor a({{1, 2}, {3, 4}}, true), b({{0.5f, -1}, {2, 1}}, true);
  ((a.matmul(b) + a) * b).sum().backward();
  // The upstream gradient of u = a@b + a is b, so d/da = b·bᵀ + b and d/db = aᵀ·b + u.
  //   b·bᵀ = [[1.25, 0], [0, 5]];  aᵀ·b = [[6.5, 2], [9, 2]];  u = [[5.5, 3], [12.5, 5]]
  expect_near(a.grad(), Tensor({{1.75f, -1}, {2, 6}}));
  expect_near(b.grad(), Tensor({{12, 5}, {21.5f, 7}}));
}

// ---- accumulation and graph lifetime ------------------------------------------------------

TEST(Autograd, GradientsAccumulateAcrossBackwardCallsUntilZeroGrad) {
  Tensor x({1, 2}, true);
  (x * 3.0f).sum().backward();
  expect_near(x.grad(), Tensor({3, 3}));
  (x * 3.0f).sum().backward();
  expect_near(x.grad(), Tensor({6, 6}));
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
  (x * 2.0f).sum().backward();
  expect_near(x.grad(), Tensor({2, 2}));
}

TEST(Autograd, DiamondSharedSubgraphSumsBothPaths) {
  // y = 2x, z = y² + y  ⇒  dz/dx = (2y + 1)·2 = 26 at x = 3.
  Tensor x = Tensor::scalar(3.0f, true);
  const Tensor y = x * 2.0f;
  (y * y + y).backward();
  EXPECT_EQ(x.grad().item(), 26.0f);
}

TEST(Autograd, WideDiamondVisitsEachNodeOnce) {
  // 30 stacked diamonds: y ← y + y doubles the gradient each level. A per-path traversal
  // would take 2^30 visits; the topological engine takes 60.
  Tensor x = Tensor::scalar(1.0f, true);
  Tensor y = x;
  for (int i = 0; i < 30; ++i) y = y + y;
  y.backward();
  EXPECT_EQ(x.grad().item(), std::ldexp(1.0f, 30));
}

TEST(Autograd, TenThousandOpChainRunsBackwardWithoutStackOverflow) {
  Tensor x = Tensor::scalar(1.0f, true);
  Tensor y = x;
  for (int i = 0; i < 10000; ++i) y = y * 1.0001f;
  y.backward();
  EXPECT_NEAR(x.grad().item(), std::pow(1.0001f, 10000.0f), 1e-2f);  // ≈ e
}

TEST(AutogradGiven, DeepChainCanBeDroppedWithoutBackward) {
  // Destroying the tape must not recurse once per node either (100k nodes used to crash).
  Tensor x = Tensor::ones({2}, true);
  {
    Tensor y = x;
    for (int i = 0; i < 200000; ++i) y = y + 1.0f;
    EXPECT_EQ(y.data()(0), 200001.0f);
  }  // the whole tape is destroyed here
  EXPECT_EQ(x.data()(0), 1.0f);
}

TEST(AutogradGiven, DeepChainOfSquaresCanBeDroppedWithoutBackward) {
  // Every node lists its input twice (y * y).
  Tensor x = Tensor::ones({2}, true);
  {
    Tensor y = x;
    for (int i = 0; i < 200000; ++i) y = y * y;
  }
  EXPECT_EQ(x.data()(0), 1.0f);
}

TEST(Autograd, DeepChainKeptByRetainGraphCanBeDropped) {
  Tensor x = Tensor::scalar(1.0f, true);
  {
    Tensor y = x;
    for (int i = 0; i < 200000; ++i) y = y - 1.0f;
    y.backward(/*retain_graph=*/true);
  }
  EXPECT_EQ(x.grad().item(), 1.0f);
}

TEST(Autograd, DroppingTheOutputKeepsSubgraphsStillInUse) {
  Tensor x({1, 2}, true);
  Tensor shared = x * 2.0f;
  { const Tensor dropped = (shared * shared).sum(); }
  (shared * 3.0f).sum().backward();
  expect_near(x.grad(), Tensor({6, 6}));
}

TEST(AutogradGiven, BackwardOnANonScalarWithoutGradientIsRejected) {
  Tensor x({1, 2}, true);
  expect_throw_with<ShapeError>(
      [&] { (x * 2.0f).backward(); },
      "backward: called on a non-scalar tensor of shape [2] without a gradient");
}

TEST(AutogradGiven, BackwardOnATensorThatNeedsNoGradSaysWhy) {
  const Tensor x({1, 2});
  const Tensor loss = (x * 2.0f).sum();
  expect_throw_with<std::logic_error>(
      [&] { loss.backward(); },
      "backward: this tensor does not require grad, so there is nothing to differentiate");
  expect_throw_with<std::logic_error>([&] { loss.backward(); }, "requires_grad=true");
  expect_throw_with<std::logic_error>(
      [&] {
        (x * 2.0f).backward(Tensor({1, 1}));
      },
      "does not require grad");
}

TEST(AutogradGiven, BackwardOfALossComputedUnderNoGradNamesTheGuard) {
  Tensor w({1, 2}, true);
  Tensor loss;
  {
    NoGradGuard guard;
    loss = (w * w).sum();
    expect_throw_with<std::logic_error>([&] { loss.backward(); }, "a NoGradGuard is active");
  }
  expect_throw_with<std::logic_error>([&] { loss.backward(); }, "does not require grad");
}

TEST(AutogradGiven, BackwardWithAGradientOfTheWrongShapeIsRejected) {
  Tensor x({1, 2}, true);
  expect_throw_with<ShapeError>(
      [&] {
        (x * 2.0f).backward(Tensor({1, 1, 1}));
      },
      "backward: gradient of shape [3] for a tensor of shape [2]");
}

TEST(AutogradGiven, BackwardWithAnUndefinedGradientIsRejected) {
  const Tensor x({1, 2}, true);
  expect_throw_with<std::invalid_argument>(
      [&] { x.backward(Tensor()); },
      "backward: the gradient is undefined; expected a tensor of shape [2]");
  EXPECT_FALSE(x.grad().defined());
}

TEST(Autograd, BackwardWithAnExplicitGradientWeightsTheOutputs) {
  Tensor x({1, 2, 3}, true);
  (x * x).backward(Tensor({1, 0, -1}));
  expect_near(x.grad(), Tensor({2, 0, -6}));
}

TEST(Autograd, SecondBackwardThroughAFreedGraphIsAClearError) {
  Tensor x({1, 2}, true);
  const Tensor loss = (x * x).sum();
  loss.backward();
  EXPECT_TRUE(loss.grad_fn()->released());
  expect_throw_with<std::logic_error>([&] { loss.backward(); }, "retain_graph");
}

TEST(Autograd, BackwardThroughAFreedSharedSubgraphIsAClearError) {
  Tensor x({1, 2}, true);
  const Tensor shared = x * 2.0f;
  shared.sum().backward();
  const Tensor later = (shared * 3.0f).sum();
  expect_throw_with<std::logic_error>([&] { later.backward(); }, "MulBackward was already freed");
}

TEST(Autograd, RetainGraphAllowsASecondBackward) {
  Tensor x({1, 2}, true);
  const Tensor loss = (x * x).sum();
  loss.backward(/*retain_graph=*/true);
  EXPECT_FALSE(loss.grad_fn()->released());
  loss.backward();
  expect_near(x.grad(), Tensor({4, 8}));  // 2x, twice
  expect_throw_with<std::logic_error>([&] { loss.backward(); }, "retain_graph");
}

// ---- grad mode and requires_grad ----------------------------------------------------------

TEST(AutogradGiven, NoGradGuardStopsRecording) {
  Tensor x({1, 2}, true);
  EXPECT_TRUE(grad_mode_enabled());
  {
    NoGradGuard guard;
    EXPECT_FALSE(grad_mode_enabled());
    const Tensor y = x * 2.0f + x.exp();
    EXPECT_EQ(y.grad_fn(), nullptr);
    EXPECT_FALSE(y.requires_grad());
    expect_near(y, Tensor({2 + 2.718282f, 4 + 7.389056f}));
  }
  EXPECT_TRUE(grad_mode_enabled());
  EXPECT_NE((x * 2.0f).grad_fn(), nullptr);
}

TEST(AutogradGiven, NestedNoGradGuardsRestoreThePreviousMode) {
  {
    NoGradGuard outer;
    {
      NoGradGuard inner;
      EXPECT_FALSE(grad_mode_enabled());
    }
    EXPECT_FALSE(grad_mode_enabled());
  }
  EXPECT_TRUE(grad_mode_enabled());
}

TEST(AutogradGiven, RequiresGradPropagatesFromAnyInput) {
  Tensor a({1, 2}, true);
  const Tensor b({3, 4});
  const Tensor c = a * b;
  EXPECT_TRUE(c.requires_grad());
  const Tensor d = b * 2.0f;
  EXPECT_FALSE(d.requires_grad());
  EXPECT_EQ(d.grad_fn(), nullptr);
  EXPECT_TRUE((d + c).requires_grad());
}

TEST(Autograd, TensorsThatDoNotRequireGradGetNoGradient) {
  Tensor a({1, 2}, true);
  Tensor b({3, 4});
  (a * b).sum().backward();
  expect_near(a.grad(), Tensor({3, 4}));
  EXPECT_FALSE(b.grad().defined());
}

TEST(Autograd, IntermediateTensorsGetNoGradient) {
  Tensor x({1, 2}, true);
  const Tensor y = x * 2.0f;
  (y * y).sum().backward();
  EXPECT_FALSE(y.grad().defined());
  expect_near(x.grad(), Tensor({8, 16}));  // d(4x²)/dx
}

TEST(Autograd, DetachedTensorsCutTheGraph) {
  Tensor x({1, 2}, true);
  const Tensor y = (x * 2.0f).detach();
  const Tensor z = y * x;
  z.sum().backward();
  expect_near(x.grad(), Tensor({2, 4}));  // y is a constant
}

TEST(Autograd, GradientIsAPlainTensorWithoutHistory) {
  Tensor x({1, 2}, true);
  (x * x).sum().backward();
  EXPECT_FALSE(x.grad().requires_grad());
  EXPECT_EQ(x.grad().grad_fn(), nullptr);
}

// ---- unbroadcast ------------------------------------------------------------------------

TEST(Autograd, UnbroadcastSumsOverBroadcastAxes) {
  const Array g = {{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}};
  expect_near(Tensor(detail::unbroadcast(g, {3})), Tensor({5, 7, 9}));
  expect_near(Tensor(detail::unbroadcast(g, {2, 1})), Tensor({{6}, {15}}));
  expect_near(Tensor(detail::unbroadcast(g, {1, 3})), Tensor({{5, 7, 9}}));
  expect_near(Tensor(detail::unbroadcast(g, {})), Tensor::scalar(21.0f));
  expect_near(Tensor(detail::unbroadcast(g, {2, 3})), Tensor(g));
}

TEST(Autograd, BroadcastOperandsReceiveSummedGradients) {
  Tensor a = Tensor::ones({2, 3}, true);
  Tensor row({10, 20, 30}, true);
  Tensor col({{1}, {2}}, true);
  ((a * row) + col).sum().backward();
  expect_near(row.grad(), Tensor({2, 2, 2}));
  expect_near(col.grad(), Tensor({{3}, {3}}));
  expect_near(a.grad(), Tensor({{10, 20, 30}, {10, 20, 30}}));
}

// ---- gradcheck itself ---------------------------------------------------------------------

// x² with a deliberately wrong backward (g·x instead of 2·g·x).
struct WrongSquareBackward : Node {
  explicit WrongSquareBackward(const Tensor& x) : Node({x}) {}
  const char* name() const override { return "WrongSquareBackward"; }
  std::vector<Array> apply(const Array& g) override { return {Array(g * inputs()[0].data())}; }
};

Tensor wrong_square(const Tensor& x) {
  Tensor out(Array(x.data() * x.data()));
  if (detail::should_record({&x}))
    return detail::attach(out, std::make_shared<WrongSquareBackward>(x));
  return out;
}

TEST(Autograd, GradcheckCatchesAWrongBackwardRule) {
  manual_seed(4);
  const GradcheckResult r =
      gradcheck([](const std::vector<Tensor>& in) { return wrong_square(in[0]); },
                {Tensor::randn({3}, true)});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("input 0 element"), std::string::npos) << r.message;
}

TEST(Autograd, GradcheckReportsAnAllZeroGradient) {
  const GradcheckResult r = gradcheck([](const std::vector<Tensor>& in) { return in[0] * 0.0f; },
                                      {Tensor::ones({3}, true)});
  EXPECT_TRUE(r.ok);
  EXPECT_FALSE(r.all_grads_nonzero);
}

TEST(Autograd, GradcheckLeavesInputsUnchanged) {
  manual_seed(5);
  Tensor x = Tensor::randn({2, 3}, true);
  const Tensor before = x.clone();
  (void)gradcheck([](const std::vector<Tensor>& in) { return in[0].exp(); }, {x});
  expect_near(x, before, 0.0f);
}

}  // namespace
}  // namespace tinytorch

// ---- a backward rule that returns the wrong thing names itself --------------------------------
// Given code (the engine): these pass in a student copy too. PyTorch checks the same
// ("Function MulBackward0 returned an invalid gradient at index 1 - got [2, 3] but expected
// shape compatible with [3]").

namespace tinytorch {
namespace {

// A node whose apply() returns whatever the test hands it.
struct ScriptedBackward : Node {
  ScriptedBackward(std::vector<Tensor> inputs, std::vector<Array> grads)
      : Node(std::move(inputs)), grads(std::move(grads)) {}
  const char* name() const override { return "ScriptedBackward"; }
  std::vector<Array> apply(const Array&) override { return grads; }
  std::vector<Array> grads;
};

Tensor through(std::vector<Tensor> inputs, std::vector<Array> grads, const Shape& out_shape) {
  return detail::attach(Tensor::zeros(out_shape),
                        std::make_shared<ScriptedBackward>(std::move(inputs), std::move(grads)));
}

// backward() with an explicit gradient: no exercise's rule runs before the scripted one.
void backward_with_ones(Tensor& out) {
  out.backward(Tensor::ones(out.shape()));
}

TEST(EngineChecksGiven, AGradientOfTheWrongShapeNamesTheNodeAndTheInput) {
  Tensor a = Tensor::ones({3, 1}, true), b = Tensor::ones({3, 1}, true);
  Tensor out = through({a, b}, {xt::ones<float>({3, 1}), xt::ones<float>({2, 3})}, {3, 1});
  testing::expect_throw_with<ShapeError>(
      [&] { backward_with_ones(out); },
      "backward: ScriptedBackward returned a gradient of shape [2, 3] for input 1, which has "
      "shape [3, 1]");
  EXPECT_FALSE(a.grad().defined()) << "nothing is accumulated from a rule that failed";
}

TEST(EngineChecksGiven, ABroadcastGradientAsksWhetherItWasUnbroadcast) {
  Tensor bias = Tensor::ones({3}, true);
  Tensor out = through({bias}, {xt::ones<float>({2, 3})}, {2, 3});
  testing::expect_throw_with<ShapeError>([&] { backward_with_ones(out); },
                                         "did you unbroadcast the gradient?");
}

TEST(EngineChecksGiven, GradientsInTheWrongOrderAreCaughtAtTheNode) {
  Tensor a = Tensor::ones({2, 3}, true), b = Tensor::ones({3}, true);
  Tensor out = through({a, b}, {xt::ones<float>({3}), xt::ones<float>({2, 3})}, {2, 3});
  testing::expect_throw_with<ShapeError>(
      [&] { backward_with_ones(out); },
      "ScriptedBackward returned a gradient of shape [3] for input 0, which has shape [2, 3]; "
      "each gradient has the shape of its input (are the gradients in the order of inputs()?)");
}

TEST(EngineChecksGiven, AWrongNumberOfGradientsNamesTheNode) {
  Tensor a = Tensor::ones({2}, true), b = Tensor::ones({2}, true);
  Tensor out = through({a, b}, {xt::ones<float>({2})}, {2});
  testing::expect_throw_with<std::logic_error>(
      [&] { backward_with_ones(out); },
      "backward: ScriptedBackward returned 1 gradient for its 2 inputs; apply() returns one "
      "gradient per input, in the order of inputs()");
}

}  // namespace
}  // namespace tinytorch

namespace tinytorch {
namespace {

// A stub's exception says what happened before anything else, so that plain ctest output (and
// a milestone's "error: ..." line) reads "not implemented: ..." and not a bare hint.
TEST(EngineChecksGiven, AStubSaysNotImplementedFirst) {
  const NotImplemented stub("05_autograd: sum_backward: g broadcast back to the input's shape");
  EXPECT_STREQ(stub.what(),
               "not implemented: 05_autograd: sum_backward: g broadcast back to the input's shape");
}

}  // namespace
}  // namespace tinytorch
