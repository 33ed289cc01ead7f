// Module 05 — LeafGradientHook: backward tells a watcher when each leaf's gradient is final
// (what data-parallel training uses to start averaging a layer's gradients early).
#include <stdexcept>
#include <vector>

#include <tinytorch/core/autograd.hpp>
#include <tinytorch/core/tensor.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_near;
using testing::expect_throw_with;

TEST(AutogradLeafHook, ReportsALeafUsedTwiceOnceWithItsWholeGradient) {
  Tensor x({1, 2}, true);
  std::vector<std::vector<float>> seen;
  LeafGradientHook hook([&](const Tensor& leaf) {
    EXPECT_TRUE(leaf.same(x));
    seen.push_back(leaf.grad().to_vector());
  });
  (x * x + x * 3.0f).sum().backward();  // d/dx = 2x + 3
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], (std::vector<float>{5, 7}));
}

TEST(AutogradLeafHook, ReportsTheLastLayerFirst) {
  Tensor x({{1, 2}});
  Tensor w1({{1}, {1}}, true), w2({{2}}, true);
  std::vector<Tensor> order;
  LeafGradientHook hook([&](const Tensor& leaf) { order.push_back(leaf); });
  x.matmul(w1).matmul(w2).sum().backward();
  ASSERT_EQ(order.size(), 2u);
  EXPECT_TRUE(order[0].same(w2));
  EXPECT_TRUE(order[1].same(w1));
  expect_near(w1.grad(), Tensor({{2}, {4}}));
}

TEST(AutogradLeafHook, SkipsLeavesWithoutGradientAndStopsWithTheHook) {
  Tensor a({1, 2}, true), b({3, 4}, true), unused({5}, true);
  int calls = 0;
  {
    LeafGradientHook hook([&](const Tensor& leaf) {
      EXPECT_FALSE(leaf.same(unused));
      ++calls;
    });
    (a * b).sum().backward();
  }
  EXPECT_EQ(calls, 2);
  (a * b).sum().backward();  // no hook alive: nobody is told
  EXPECT_EQ(calls, 2);
  expect_near(a.grad(), Tensor({6, 8}));  // accumulated over both passes
}

TEST(AutogradLeafHook, HooksRunInTheOrderTheyWereMade) {
  Tensor x({1, 2}, true);
  std::vector<int> calls;
  LeafGradientHook first([&](const Tensor&) { calls.push_back(1); });
  LeafGradientHook second([&](const Tensor&) { calls.push_back(2); });
  (x * 2.0f).sum().backward();
  EXPECT_EQ(calls, (std::vector<int>{1, 2}));
}

TEST(AutogradLeafHook, AThrowingHookStopsBackwardWithItsError) {
  Tensor x({1, 2}, true);
  LeafGradientHook hook([](const Tensor&) { throw std::runtime_error("hook says no"); });
  expect_throw_with<std::runtime_error>([&] { (x * 2.0f).sum().backward(); }, "hook says no");
}

TEST(AutogradLeafHookGiven, AnEmptyCallbackIsRefused) {
  expect_throw_with<std::invalid_argument>([] { LeafGradientHook hook{LeafGradientCallback()}; },
                                           "LeafGradientHook: the callback is empty");
}

}  // namespace
}  // namespace tinytorch
