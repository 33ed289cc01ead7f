// Module 05 — the backward nodes: every op records the node documented in autograd.hpp,
// nodes can be applied directly (as the course's tests do), and they free their buffers.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <tinytorch/core/activations.hpp>
#include <tinytorch/core/internal/nodes.hpp>
#include <tinytorch/core/autograd.hpp>
#include <tinytorch/core/layers.hpp>
#include <tinytorch/core/losses.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_near;

struct NamedOp {
  const char* node;
  std::function<Tensor(const Tensor& x, const Tensor& y)> op;  // x [2, 3], y [2, 3], both need grad
};

TEST(NodesGiven, EveryOpRecordsItsDocumentedNode) {
  const std::vector<NamedOp> ops = {
      {"AddBackward", [](auto& x, auto& y) { return x + y; }},
      {"AddBackward", [](auto& x, auto&) { return x + 1.0f; }},
      {"AddBackward", [](auto& x, auto&) { return 1.0f + x; }},
      {"SubBackward", [](auto& x, auto& y) { return x - y; }},
      {"SubBackward", [](auto& x, auto&) { return 1.0f - x; }},
      {"MulBackward", [](auto& x, auto& y) { return x * y; }},
      {"MulBackward", [](auto& x, auto&) { return 2.0f * x; }},
      {"DivBackward", [](auto& x, auto& y) { return x / y; }},
      {"DivBackward", [](auto& x, auto&) { return 1.0f / x; }},
      {"NegBackward", [](auto& x, auto&) { return -x; }},
      {"MatmulBackward", [](auto& x, auto& y) { return x.matmul(y.transpose()); }},
      {"TransposeBackward", [](auto& x, auto&) { return x.transpose(); }},
      {"ReshapeBackward",
       [](auto& x, auto&) {
         return x.reshape({3, 2});
       }},
      {"ReshapeBackward", [](auto& x, auto&) { return x.flatten(); }},
      {"SliceBackward", [](auto& x, auto&) { return x[0]; }},
      {"SliceBackward", [](auto& x, auto&) { return x.slice(0, 1); }},
      {"SliceBackward",
       [](auto& x, auto&) {
         return x.index_select({1, 1});
       }},
      {"SumBackward", [](auto& x, auto&) { return x.sum(); }},
      {"SumBackward", [](auto& x, auto&) { return x.sum({1}, true); }},
      {"MeanBackward", [](auto& x, auto&) { return x.mean({0}); }},
      {"MaxBackward", [](auto& x, auto&) { return x.max({-1}); }},
      {"ExpBackward", [](auto& x, auto&) { return x.exp(); }},
      {"LogBackward", [](auto& x, auto&) { return x.log(); }},
      {"SqrtBackward", [](auto& x, auto&) { return x.sqrt(); }},
      {"PowBackward", [](auto& x, auto&) { return x.pow(3.0f); }},
      {"ReluBackward", [](auto& x, auto&) { return relu(x); }},
      {"SigmoidBackward", [](auto& x, auto&) { return sigmoid(x); }},
      {"TanhBackward", [](auto& x, auto&) { return tanh(x); }},
      {"GeluBackward", [](auto& x, auto&) { return gelu(x); }},
      {"SoftmaxBackward", [](auto& x, auto&) { return softmax(x, -1); }},
      {"LogSoftmaxBackward", [](auto& x, auto&) { return log_softmax(x, 0); }},
      {"LinearBackward", [](auto& x, auto& y) { return linear(x, y.transpose()); }},
      {"LinearBackward",
       [](auto& x, auto& y) {
         return linear(x, y.transpose(), Tensor({1, 2}, true));
       }},
      {"MseBackward", [](auto& x, auto& y) { return mse_loss(x, y); }},
      {"BceBackward",
       [](auto& x, auto&) {
         return binary_cross_entropy(x * 0.1f, Tensor::ones({2, 3}));
       }},
      {"CrossEntropyBackward",
       [](auto& x, auto&) {
         return cross_entropy(x, Tensor({0, 2}));
       }},
      {"DropoutBackward", [](auto& x, auto&) { return dropout(x, 0.5f); }},
  };
  const Tensor x = Tensor::full({2, 3}, 0.5f, true), y = Tensor::full({2, 3}, 2.0f, true);
  for (const NamedOp& named : ops) {
    const Tensor out = named.op(x, y);
    ASSERT_NE(out.grad_fn(), nullptr) << named.node;
    EXPECT_STREQ(out.grad_fn()->name(), named.node);
    EXPECT_TRUE(out.requires_grad()) << named.node;
  }
}

TEST(NodesGiven, OpsOnTensorsWithoutGradRecordNothing) {
  const Tensor x = Tensor::full({2, 3}, 0.5f);
  EXPECT_EQ((x * x).grad_fn(), nullptr);
  EXPECT_EQ(relu(x).grad_fn(), nullptr);
  EXPECT_EQ(cross_entropy(x, Tensor({0, 1})).grad_fn(), nullptr);
  EXPECT_EQ(linear(x, Tensor::ones({3, 2})).grad_fn(), nullptr);
}

TEST(NodesGiven, NodeInputsAreTheOperandHandles) {
  const Tensor a({1, 2}, true), b({3, 4}, true);
  const Tensor c = a * b;
  ASSERT_EQ(c.grad_fn()->inputs().size(), 2u);
  EXPECT_TRUE(c.grad_fn()->inputs()[0].same(a));
  EXPECT_TRUE(c.grad_fn()->inputs()[1].same(b));
  EXPECT_TRUE(c.grad_fn()->needs_grad(0));
}

TEST(Nodes, AddBackwardAppliedDirectlyPassesTheGradientToBoth) {
  const Tensor a({1, 2}, true), b({3, 4}, true);
  detail::AddBackward node(a, b);
  const std::vector<Array> grads = node.apply(Array{1.0f, 1.0f});
  ASSERT_EQ(grads.size(), 2u);
  expect_near(Tensor(grads[0]), Tensor({1, 1}));
  expect_near(Tensor(grads[1]), Tensor({1, 1}));
}

TEST(Nodes, MulBackwardAppliedDirectlyGivesTheOtherFactor) {
  const Tensor a = Tensor::scalar(3.0f, true), b = Tensor::scalar(2.0f, true);
  detail::MulBackward node(a, b);
  const std::vector<Array> grads = node.apply(Tensor::scalar(1.0f).data());
  expect_near(Tensor(grads[0]), Tensor::scalar(2.0f));
  expect_near(Tensor(grads[1]), Tensor::scalar(3.0f));
}

TEST(Nodes, MatmulBackwardAppliedDirectlyGivesTransposedProducts) {
  const Tensor a({{1, 2}}, true), b({{3}, {4}}, true);
  detail::MatmulBackward node(a, b);
  const std::vector<Array> grads = node.apply(Tensor({{1}}).data());
  expect_near(Tensor(grads[0]), Tensor({{3, 4}}));
  expect_near(Tensor(grads[1]), Tensor({{1}, {2}}));
}

TEST(Nodes, NodeSkipsInputsThatNeedNoGradient) {
  const Tensor a({1, 2}, true), b({3, 4});
  detail::MulBackward node(a, b);
  EXPECT_FALSE(node.needs_grad(1));
  const std::vector<Array> grads = node.apply(Array{1.0f, 1.0f});
  expect_near(Tensor(grads[0]), Tensor({3, 4}));
  EXPECT_EQ(grads[1].size(), 0u);  // "no gradient"
}

TEST(Nodes, BackwardReleasesSavedBuffersAndEdges) {
  Tensor x({1, 2, 3}, true);
  const Tensor y = x.exp();
  const Tensor loss = y.sum();
  const std::shared_ptr<Node> exp_node = y.grad_fn();
  loss.backward();
  EXPECT_TRUE(exp_node->released());
  EXPECT_TRUE(exp_node->inputs().empty());
  EXPECT_LE(static_cast<detail::ExpBackward&>(*exp_node).out.size(), 1u);  // a default Array is 0-d
}

TEST(Nodes, RetainGraphKeepsSavedBuffers) {
  Tensor x({1, 2, 3}, true);
  const Tensor y = x.exp();
  y.sum().backward(/*retain_graph=*/true);
  EXPECT_FALSE(y.grad_fn()->released());
  EXPECT_EQ(y.grad_fn()->inputs().size(), 1u);
}

TEST(Nodes, DropoutGradientIsTheScaledMaskOfTheForwardPass) {
  manual_seed(21);
  Tensor x = Tensor::full({50}, 2.0f, true);
  const Tensor y = dropout(x, 0.3f);
  y.sum().backward();
  // y = x·mask/(1 − p) with x = 2, so the gradient mask/(1 − p) equals y/2 element-wise.
  int dropped = 0;
  for (std::size_t i = 0; i < 50; ++i) {
    EXPECT_FLOAT_EQ(x.grad().data()(i), y.data()(i) / 2.0f);
    dropped += y.data()(i) == 0.0f;
  }
  EXPECT_GT(dropped, 0);
  EXPECT_LT(dropped, 50);
}

TEST(Nodes, CrossEntropySendsNoGradientToClassIndexLabels) {
  Tensor logits({{1, 2, 3}}, true);
  Tensor labels({2}, true);
  cross_entropy(logits, labels).backward();
  EXPECT_TRUE(logits.grad().defined());
  EXPECT_FALSE(labels.grad().defined());
}

// As in PyTorch (and as mse_loss does): a target that requires grad gets its gradient.
TEST(Nodes, BceGivesATargetThatRequiresGradItsGradient) {
  Tensor p({0.3f, 0.8f}, true), t({0, 1}, true);
  binary_cross_entropy(p, t).backward();
  EXPECT_TRUE(p.grad().defined());
  // (log(1 − p) − log p)/n: (log 0.7 − log 0.3)/2 and (log 0.2 − log 0.8)/2
  expect_near(t.grad(), Tensor({0.423649f, -0.693147f}), 1e-5f);
}

TEST(Nodes, BceTargetGradientAloneLeavesTheProbabilitiesAlone) {
  const Tensor p({0.5f, 0.25f});
  Tensor t({1, 0}, true);
  binary_cross_entropy(p, t).backward();
  EXPECT_FALSE(p.grad().defined());
  expect_near(t.grad(), Tensor({0.0f, 0.549306f}), 1e-5f);  // (log 0.75 − log 0.25)/2
}

TEST(Nodes, CrossEntropyGradientIsSoftmaxMinusOneHotOverBatch) {
  Tensor logits({{1, 2, 3}, {0, 0, 0}}, true);
  cross_entropy(logits, Tensor({2, 0})).backward();
  const float s0 = 0.090031f, s1 = 0.244728f, s2 = 0.665241f, third = 1.0f / 3.0f;
  expect_near(logits.grad(),
              Tensor({{s0 / 2, s1 / 2, (s2 - 1) / 2}, {(third - 1) / 2, third / 2, third / 2}}),
              1e-6f);
}

TEST(Nodes, MseGradientIsTwiceTheResidualOverN) {
  Tensor p({1, 2, 3}, true);
  mse_loss(p, Tensor({1.5f, 2.5f, 2.8f})).backward();
  expect_near(p.grad(), Tensor({2 * -0.5f / 3, 2 * -0.5f / 3, 2 * 0.2f / 3}), 1e-6f);
}

TEST(Nodes, BceGradientIsResidualOverVarianceAndN) {
  Tensor p({0.9f, 0.2f}, true);
  binary_cross_entropy(p, Tensor({1, 0})).backward();
  // (p − y)/(p(1 − p)·n): (−0.1)/(0.09·2) and 0.2/(0.16·2)
  expect_near(p.grad(), Tensor({-0.555556f, 0.625f}), 1e-5f);
}

}  // namespace
}  // namespace tinytorch
