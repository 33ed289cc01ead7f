// Module 06 — optimizer state: state_dict/load_state_dict round trips give identical later
// steps, and the SGD momentum accessors used by checkpointing.
#include <functional>
#include <limits>
#include <memory>
#include <vector>

#include <tinytorch/core/optimizers.hpp>

#include "optimizer_fixtures.hpp"
#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_near;
using testing::expect_throw_with;

// Two parameters of different shapes, each given the gradient g(step) before every step.
struct Problem {
  Tensor a = Tensor({1, -2, 3}, true);
  Tensor b = Tensor({{0.5f, 0.25f}, {-1, 2}}, true);
  std::vector<Tensor> params() const { return {a, b}; }
  Problem copy() const {
    Problem p;
    p.a.data() = a.data();
    p.b.data() = b.data();
    return p;
  }
  void set_grads(int step) {
    const float s = static_cast<float>(step + 1);
    a.set_grad(Tensor({0.1f * s, -0.3f, 0.2f / s}));
    b.set_grad(Tensor({{s, -s}, {0.5f, 0.05f * s}}));
  }
};

// Runs `steps` steps of `opt` on `p`, starting at step index `first`.
void run(Optimizer& opt, Problem& p, int first, int steps) {
  for (int i = first; i < first + steps; ++i) {
    p.set_grads(i);
    opt.step();
  }
}

template <class Opt>
void expect_round_trip_continues_identically(
    const std::function<Opt(const std::vector<Tensor>&)>& make) {
  Problem original;
  Opt opt = make(original.params());
  run(opt, original, 0, 3);

  Problem restored = original.copy();
  Opt fresh = make(restored.params());
  fresh.load_state_dict(opt.state_dict());
  EXPECT_EQ(fresh.step_count(), 3u);

  run(opt, original, 3, 4);
  run(fresh, restored, 3, 4);
  expect_near(restored.a, original.a, 0.0f);
  expect_near(restored.b, original.b, 0.0f);
}

TEST(OptimizerState, SgdMomentumRoundTripContinuesIdentically) {
  expect_round_trip_continues_identically<SGD>(
      [](const std::vector<Tensor>& p) { return SGD(p, 0.1f, 0.9f, 0.01f); });
}

TEST(OptimizerState, AdamRoundTripContinuesIdentically) {
  expect_round_trip_continues_identically<Adam>([](const std::vector<Tensor>& p) {
    return Adam(p, 0.01f, {0.9f, 0.999f}, 1e-8f, 0.01f);
  });
}

TEST(OptimizerState, AdamWRoundTripContinuesIdentically) {
  expect_round_trip_continues_identically<AdamW>(
      [](const std::vector<Tensor>& p) { return AdamW(p, 0.01f); });
}

TEST(OptimizerState, WithoutLoadingTheStateTheStepsDiffer) {
  // The control for the round-trip tests: a fresh Adam restarts its bias correction.
  Problem original;
  Adam opt(original.params(), 0.01f);
  run(opt, original, 0, 3);
  Problem restarted = original.copy();
  Adam fresh(restarted.params(), 0.01f);
  run(opt, original, 3, 1);
  run(fresh, restarted, 3, 1);
  EXPECT_NE(restarted.a.data()(0), original.a.data()(0));
}

TEST(OptimizerState, StateDictHoldsCopiesNotTheLiveBuffers) {
  Problem p;
  SGD opt(p.params(), 0.1f, 0.9f);
  run(opt, p, 0, 1);
  const OptimizerState saved = opt.state_dict();
  const Tensor momentum = saved.at("momentum.0").clone();
  run(opt, p, 1, 1);
  expect_near(saved.at("momentum.0"), momentum, 0.0f);
  EXPECT_FLOAT_EQ(saved.at("step_count").item(), 1.0f);
  EXPECT_FLOAT_EQ(saved.at("lr").item(), 0.1f);
}

TEST(OptimizerStateGiven, LoadingRestoresTheLearningRate) {
  Problem p;
  SGD a(p.params(), 0.25f);
  SGD b(p.params(), 0.01f);
  b.load_state_dict(a.state_dict());
  EXPECT_FLOAT_EQ(b.lr(), 0.25f);
}

TEST(OptimizerStateGiven, StateOfTheWrongShapeIsRejected) {
  Problem p;
  SGD opt(p.params(), 0.1f, 0.9f);
  OptimizerState state = opt.state_dict();
  state["momentum.0"] = Tensor::zeros({4});
  state["momentum.1"] = Tensor::zeros({2, 2});
  expect_throw_with<ShapeError>([&] { opt.load_state_dict(state); },
                                "optimizer: state 'momentum.0' has shape [4], parameter 0 has [3]");
}

TEST(OptimizerStateGiven, StateWithAMissingEntryIsRejected) {
  Problem p;
  Adam opt(p.params());
  OptimizerState state;
  state["m.0"] = Tensor::zeros({3});
  expect_throw_with<std::invalid_argument>([&] { opt.load_state_dict(state); },
                                           "state has no entry 'm.1'");
}

TEST(OptimizerStateGiven, AStepCountThatIsNoWholeNumberIsRejected) {
  // -1 used to become 2^64 - 1 (and 1e30 or NaN undefined behaviour) in the cast to size_t.
  Problem p;
  Adam opt(p.params());
  for (const float bad : {-1.0f, 0.5f, 1e30f, std::numeric_limits<float>::quiet_NaN()}) {
    OptimizerState state = opt.state_dict();
    state["step_count"] = Tensor::scalar(bad);
    expect_throw_with<std::invalid_argument>(
        [&] { opt.load_state_dict(state); },
        fmt::format("optimizer: state 'step_count' must be a whole number in [0, 2^53], got {}",
                    bad));
  }
  EXPECT_EQ(opt.step_count(), 0u);
}

TEST(OptimizerStateGiven, ALearningRateThatIsNegativeOrNotFiniteIsRejected) {
  Problem p;
  SGD opt(p.params(), 0.1f);
  OptimizerState state = opt.state_dict();
  state["lr"] = Tensor::scalar(-0.5f);
  expect_throw_with<std::invalid_argument>(
      [&] { opt.load_state_dict(state); },
      "optimizer: state 'lr' must be finite and >= 0, got -0.5");
  state["lr"] = Tensor::zeros({2});
  expect_throw_with<std::invalid_argument>(
      [&] { opt.check_state_dict(state); },
      "optimizer: state 'lr' must hold one number, got shape [2]");
  EXPECT_EQ(opt.lr(), 0.1f);
}

TEST(OptimizerStateGiven, AStateThatFailsChangesNothingEvenWhenItsFirstEntriesFit) {
  // step_count, lr and m are fine, v is not: they used to be set before v was checked.
  Problem p;
  Adam opt(p.params(), 0.01f);
  OptimizerState bad;
  bad["step_count"] = Tensor::scalar(9.0f);
  bad["lr"] = Tensor::scalar(0.5f);
  bad["m.0"] = Tensor::ones({3});
  bad["m.1"] = Tensor::ones({2, 2});
  bad["v.0"] = Tensor({1.0f, -1.0f, 1.0f});  // a second moment is never negative
  bad["v.1"] = Tensor::ones({2, 2});
  expect_throw_with<std::invalid_argument>(
      [&] { opt.load_state_dict(bad); },
      "optimizer: state 'v.0' holds -1 at element 1; expected finite values >= 0");
  EXPECT_EQ(opt.step_count(), 0u);
  EXPECT_EQ(opt.lr(), 0.01f);
  EXPECT_EQ(opt.state_dict().count("m.0"), 0u);  // still no moments at all
}

TEST(OptimizerStateGiven, EntriesThisOptimizerDoesNotKeepAreRejected) {
  Problem p;
  Adam adam(p.params());
  OptimizerState state;
  state["momentum.0"] = Tensor::zeros({3});
  expect_throw_with<std::invalid_argument>(
      [&] { adam.load_state_dict(state); },
      "optimizer: state has an entry 'momentum.0' that this optimizer does not keep (it keeps "
      "'step_count', 'lr', 'm.<i>', 'v.<i>'); is it the state of another optimizer?");
  state.clear();
  state["m.2"] = Tensor::zeros({3});
  expect_throw_with<std::invalid_argument>(
      [&] { adam.load_state_dict(state); },
      "optimizer: state has 'm.2' but the optimizer has 2 parameters");
  state.clear();
  state["m.01"] = Tensor::zeros({3});
  expect_throw_with<std::invalid_argument>([&] { adam.load_state_dict(state); },
                                           "entry 'm.01' that this optimizer does not keep");
  state.clear();
  state["m.0"] = Tensor();
  expect_throw_with<std::invalid_argument>([&] { adam.load_state_dict(state); },
                                           "optimizer: state 'm.0' is an undefined tensor");
}

// ---- SGD momentum accessors ---------------------------------------------------------------

TEST(OptimizerStateGiven, MomentumStateIsUndefinedBeforeTheFirstStep) {
  Problem p;
  SGD opt(p.params(), 0.1f, 0.9f);
  EXPECT_TRUE(opt.has_momentum());
  const auto state = opt.get_momentum_state();
  ASSERT_EQ(state.size(), 2u);
  EXPECT_FALSE(state[0].defined());
  EXPECT_FALSE(state[1].defined());
}

TEST(OptimizerState, MomentumStateRoundTripsThroughTheAccessors) {
  Problem original;
  SGD opt(original.params(), 0.1f, 0.9f);
  run(opt, original, 0, 2);
  const auto momentum = opt.get_momentum_state();
  ASSERT_TRUE(momentum[0].defined());
  EXPECT_EQ(momentum[1].shape(), (Shape{2, 2}));

  Problem restored = original.copy();
  SGD fresh(restored.params(), 0.1f, 0.9f);
  fresh.set_momentum_state(momentum);
  run(opt, original, 2, 2);
  run(fresh, restored, 2, 2);
  expect_near(restored.a, original.a, 0.0f);
  expect_near(restored.b, original.b, 0.0f);
}

TEST(OptimizerState, MomentumStateIsACopy) {
  Problem p;
  SGD opt(p.params(), 0.1f, 0.9f);
  run(opt, p, 0, 1);
  Tensor copy = opt.get_momentum_state()[0];
  copy.data().fill(100.0f);
  EXPECT_NE(opt.get_momentum_state()[0].data()(0), 100.0f);
}

TEST(OptimizerStateGiven, SetMomentumStateWithTheWrongLengthIsRejected) {
  Problem p;
  SGD opt(p.params(), 0.1f, 0.9f);
  expect_throw_with<std::invalid_argument>(
      [&] { opt.set_momentum_state({Tensor::zeros({3})}); },
      "SGD: state length 1 doesn't match optimizer parameters 2");
}

TEST(OptimizerStateGiven, SetMomentumStateIsIgnoredWithoutMomentum) {
  Problem p;
  SGD opt(p.params(), 0.1f);
  EXPECT_FALSE(opt.has_momentum());
  EXPECT_NO_THROW(opt.set_momentum_state({Tensor::zeros({3})}));
  EXPECT_NO_THROW(opt.set_momentum_state({}));
}

TEST(OptimizerStateGiven, UndefinedMomentumEntriesStartFromZero) {
  Problem p;
  SGD opt(p.params(), 0.1f, 0.9f);
  opt.set_momentum_state({Tensor({1, 1, 1}), Tensor()});
  const auto state = opt.get_momentum_state();
  expect_near(state[0], Tensor({1, 1, 1}), 0.0f);
  expect_near(state[1], Tensor::zeros({2, 2}), 0.0f);
}

}  // namespace
}  // namespace tinytorch

namespace tinytorch {
namespace {

// A parameter whose array was swapped for one of another size after the first step: the next
// step would read past the end of its momentum (or Adam moment) buffers.
TEST(OptimizerSafety, AParameterReplacedByAnotherShapeIsRefusedAtTheNextStep) {
  for (int kind = 0; kind < 3; ++kind) {
    Tensor theta = testing::param_with_grad();
    std::unique_ptr<Optimizer> optimizer;
    if (kind == 0) optimizer = std::make_unique<SGD>(std::vector<Tensor>{theta}, 0.1f, 0.9f);
    if (kind == 1) optimizer = std::make_unique<Adam>(std::vector<Tensor>{theta});
    if (kind == 2) optimizer = std::make_unique<AdamW>(std::vector<Tensor>{theta});
    optimizer->step();
    theta.data() = Tensor::zeros({5}).data();
    theta.set_grad(Tensor::ones({5}));
    testing::expect_throw_with<ShapeError>(
        [&] { optimizer->step(); },
        fmt::format("{}.step: parameter 0 has shape [5] but its '{}' state has shape [2]: the "
                    "parameter was replaced by an array of another shape after the first step",
                    optimizer->name(), kind == 0 ? "momentum" : "m"));
  }
}

TEST(OptimizerStateGiven, AStateRemembersWhichOptimizerSavedIt) {
  Tensor theta({1.0f, 2.0f}, true);
  EXPECT_EQ(SGD({theta}).state_dict().count("saved_by.SGD"), 1u);
  EXPECT_EQ(Adam({theta}).state_dict().count("saved_by.Adam"), 1u);
  EXPECT_EQ(AdamW({theta}).state_dict().count("saved_by.AdamW"), 1u);
}

// Plain SGD keeps no buffers, so its state used to pass Adam's checks and hand Adam its lr and
// step count (and so a bias correction for a step it never took).
TEST(OptimizerStateGiven, AdamRefusesAStateSavedBySgdAndStaysAsItWas) {
  Tensor theta({1.0f, 2.0f}, true);
  const OptimizerState sgd_state = SGD({theta}, 0.5f).state_dict();
  Adam adam({theta}, 1e-3f);
  testing::expect_throw_with<std::invalid_argument>(
      [&] { adam.load_state_dict(sgd_state); },
      "Adam.load_state_dict: the state was saved by SGD, not by Adam; load it into a SGD");
  EXPECT_FLOAT_EQ(adam.lr(), 1e-3f);
  EXPECT_EQ(adam.step_count(), 0u);
  OptimizerState old = Adam({theta}, 0.01f).state_dict();
  old.erase("saved_by.Adam");  // a state saved before the entry existed still loads
  adam.load_state_dict(old);
  EXPECT_FLOAT_EQ(adam.lr(), 0.01f);
}

}  // namespace
}  // namespace tinytorch
