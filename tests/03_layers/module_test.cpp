// Module 03 — Module, Sequential and Flatten: parameters, dotted names, modes, reprs.
#include <memory>
#include <string>
#include <vector>

#include <tinytorch/core/activations.hpp>
#include <tinytorch/core/layers.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_near;
using testing::expect_throw_with;

std::vector<std::string> names_of(const Module& m) {
  std::vector<std::string> names;
  for (const auto& [name, tensor] : m.named_parameters()) names.push_back(name);
  return names;
}

TEST(Sequential, RunsItsChildrenInOrder) {
  auto fc = std::make_shared<Linear>(2, 2);
  fc->weight.data() = Array{{1.0f, -1.0f}, {0.0f, 1.0f}};
  Sequential net({fc, std::make_shared<ReLU>()});
  // [3, 1]·W = [3, -2] -> relu -> [3, 0]
  expect_near(net(Tensor({{3, 1}})), Tensor({{3, 0}}));
  EXPECT_EQ(net.size(), 2u);
  EXPECT_EQ(net[1].name(), "ReLU");
}

TEST(Sequential, NamedParametersUseDottedChildIndices) {
  Sequential net(
      {std::make_shared<Linear>(4, 3), std::make_shared<ReLU>(), std::make_shared<Linear>(3, 2)});
  EXPECT_EQ(names_of(net), (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"}));
}

TEST(Sequential, NestedContainersGiveLongerDottedNames) {
  auto inner = std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
      std::make_shared<Linear>(2, 2, false), std::make_shared<Tanh>()});
  Sequential outer({std::make_shared<Linear>(2, 2), inner});
  EXPECT_EQ(names_of(outer), (std::vector<std::string>{"0.weight", "0.bias", "1.0.weight"}));
}

TEST(Sequential, ParametersAreTheSameHandlesAsTheLayers) {
  auto fc1 = std::make_shared<Linear>(4, 3);
  auto fc2 = std::make_shared<Linear>(3, 2);
  Sequential net({fc1, std::make_shared<ReLU>(), fc2});
  const auto params = net.parameters();
  ASSERT_EQ(params.size(), 4u);
  EXPECT_TRUE(params[0].same(fc1->weight));
  EXPECT_TRUE(params[1].same(fc1->bias));
  EXPECT_TRUE(params[2].same(fc2->weight));
  EXPECT_TRUE(params[3].same(fc2->bias));
  const auto named = net.named_parameters();
  EXPECT_TRUE(named[2].second.same(fc2->weight));
}

TEST(Sequential, PushBackAppendsUnderTheNextIndex) {
  Sequential net;
  EXPECT_EQ(net.size(), 0u);
  net.push_back(std::make_shared<Linear>(2, 3));
  net.push_back(std::make_shared<Linear>(3, 1, false));
  EXPECT_EQ(names_of(net), (std::vector<std::string>{"0.weight", "0.bias", "1.weight"}));
  expect_near(Sequential()(Tensor({1, 2})), Tensor({1, 2}));  // empty: identity
}

TEST(SequentialGiven, NullChildAndIndexOutOfRangeAreRejected) {
  expect_throw_with<std::invalid_argument>([] { Sequential({nullptr}); },
                                           "Sequential: module 0 is null");
  Sequential net({std::make_shared<ReLU>()});
  expect_throw_with<std::out_of_range>([&] { net[1]; },
                                       "Sequential: index 1 out of range for 1 modules");
}

TEST(Sequential, ReprListsChildrenOnePerLine) {
  Sequential net(
      {std::make_shared<Linear>(2, 4), std::make_shared<ReLU>(), std::make_shared<Dropout>(0.5f)});
  EXPECT_EQ(net.repr(),
            "Sequential(\n"
            "  (0): Linear(in_features=2, out_features=4, bias=true)\n"
            "  (1): ReLU()\n"
            "  (2): Dropout(p=0.5)\n"
            ")");
}

TEST(SequentialGiven, NestedReprIsIndented) {
  auto inner = std::make_shared<Sequential>(
      std::vector<std::shared_ptr<Module>>{std::make_shared<Sigmoid>()});
  Sequential outer({inner});
  EXPECT_EQ(outer.repr(),
            "Sequential(\n"
            "  (0): Sequential(\n"
            "    (0): Sigmoid()\n"
            "  )\n"
            ")");
}

TEST(Sequential, TrainAndEvalReachEveryDescendant) {
  auto drop = std::make_shared<Dropout>(0.5f);
  auto inner = std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{drop});
  Sequential net({std::make_shared<Linear>(3, 3), inner});
  EXPECT_TRUE(net.is_training());
  EXPECT_TRUE(drop->is_training());
  net.eval();
  EXPECT_FALSE(net.is_training());
  EXPECT_FALSE(inner->is_training());
  EXPECT_FALSE(drop->is_training());
  const Tensor x = Tensor::ones({2, 3});
  expect_near(net(x), net(x), 0.0f);  // no dropout in eval: deterministic
  net.train();
  EXPECT_TRUE(drop->is_training());
}

TEST(Sequential, MnistSizedStackMapsBatchToTenLogitsWithSixParameters) {
  Sequential net({std::make_shared<Linear>(784, 128), std::make_shared<ReLU>(),
                  std::make_shared<Dropout>(0.2f), std::make_shared<Linear>(128, 64),
                  std::make_shared<ReLU>(), std::make_shared<Dropout>(0.2f),
                  std::make_shared<Linear>(64, 10)});
  EXPECT_EQ(net(Tensor::randn({16, 784})).shape(), (Shape{16, 10}));
  EXPECT_EQ(net.parameters().size(), 6u);
}

// ---- a custom module --------------------------------------------------------------------

struct TwoLayer : Module {
  std::shared_ptr<Linear> fc1 = register_module("fc1", std::make_shared<Linear>(2, 4));
  std::shared_ptr<Linear> fc2 = register_module("fc2", std::make_shared<Linear>(4, 1));
  Tensor scale = register_parameter("scale", Tensor::ones({1}));
  Tensor forward(const Tensor& x) override { return (*fc2)(relu((*fc1)(x))) * scale; }
  std::string name() const override { return "TwoLayer"; }
};

TEST(Module, CustomModuleListsOwnParametersBeforeChildren) {
  TwoLayer net;
  EXPECT_EQ(names_of(net), (std::vector<std::string>{"scale", "fc1.weight", "fc1.bias",
                                                     "fc2.weight", "fc2.bias"}));
  EXPECT_EQ(net(Tensor::ones({5, 2})).shape(), (Shape{5, 1}));
}

TEST(Module, RegisterParameterMakesItRequireGrad) {
  TwoLayer net;
  EXPECT_TRUE(net.scale.requires_grad());
  EXPECT_TRUE(net.parameters()[0].same(net.scale));
}

TEST(Module, ReprOfACustomModuleNamesItsChildren) {
  EXPECT_EQ(TwoLayer().repr(),
            "TwoLayer(\n"
            "  (fc1): Linear(in_features=2, out_features=4, bias=true)\n"
            "  (fc2): Linear(in_features=4, out_features=1, bias=true)\n"
            ")");
}

// ---- flatten ----------------------------------------------------------------------------

TEST(Flatten, KeepsTheBatchAxisAndCollapsesTheRest) {
  Flatten flatten;
  const Tensor x = Tensor::arange(0, 120).reshape({2, 3, 4, 5});
  const Tensor y = flatten(x);
  EXPECT_EQ(y.shape(), (Shape{2, 60}));
  EXPECT_EQ(y.data()(1, 0), 60.0f);
  EXPECT_EQ(Flatten(0)(x).shape(), (Shape{120}));
  EXPECT_TRUE(flatten.parameters().empty());
  EXPECT_EQ(flatten.repr(), "Flatten()");
}

TEST(Activations, ActivationModulesHaveNoParametersAndCourseReprs) {
  const std::vector<std::shared_ptr<Module>> activations = {
      std::make_shared<ReLU>(), std::make_shared<Sigmoid>(), std::make_shared<Tanh>(),
      std::make_shared<GELU>(), std::make_shared<Softmax>(), std::make_shared<LogSoftmax>()};
  for (const auto& act : activations) EXPECT_TRUE(act->parameters().empty()) << act->name();
  EXPECT_EQ(ReLU().repr(), "ReLU()");
  EXPECT_EQ(Sigmoid().repr(), "Sigmoid()");
  EXPECT_EQ(Tanh().repr(), "Tanh()");
  EXPECT_EQ(GELU().repr(), "GELU()");
  EXPECT_EQ(Softmax().repr(), "Softmax(dim=-1)");
  EXPECT_EQ(Softmax(0).repr(), "Softmax(dim=0)");
  EXPECT_EQ(LogSoftmax(1).repr(), "LogSoftmax(dim=1)");
}

}  // namespace
}  // namespace tinytorch
