// Module 07: every field of a checkpoint is checked before a load changes anything — counts
// that are no whole numbers, optimizer state that does not fit, tensors that belong to no one —
// and a load that fails leaves model, optimizer and Trainer exactly as they were.
#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <tinytorch/tinytorch.hpp>

#include "support/testing.hpp"
#include "training_fixtures.hpp"

namespace tinytorch {
namespace {

using nlohmann::json;
using testing::expect_throw_with;
using testing::same_bits;
using testing::ScratchDir;
using testing::small_mlp;

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

/// Replaces tensors[key] by a copy whose element `i` is `value` (the map's tensors share their
/// storage with the fixture's, which must stay as it is).
void with_value(TensorMap& tensors, const std::string& key, std::size_t i, float value) {
  Tensor copy = tensors.at(key).clone();
  copy.data().data()[i] = value;
  tensors[key] = copy;
}

/// A checkpoint of an MLP with Adam (with moments, a step count of 3 and a schedule), and a
/// second Trainer over another MLP and Adam with state of their own, to load it into.
class CheckpointFieldsGiven : public ::testing::Test {
 protected:
  void SetUp() override {
    manual_seed(21);
    auto source = small_mlp();
    Adam source_opt(source->parameters(), 0.01f);
    source_opt.load_state_dict(state_of(source_opt, 1.0f, 3));
    Trainer(*source, source_opt, cross_entropy, CosineSchedule(0.1f, 0.01f, 10))
        .save_checkpoint(path_);
    tensors_ = load_safetensors(path_, &metadata_);

    model_ = small_mlp();
    opt_ = std::make_unique<Adam>(model_->parameters(), 0.5f);
    opt_->load_state_dict(state_of(*opt_, 7.0f, 40));
    trainer_ =
        std::make_unique<Trainer>(*model_, *opt_, cross_entropy, CosineSchedule(1.0f, 0.5f, 3));
    trainer_->set_epoch(5);
  }

  /// A full Adam state: every m and v filled with `fill`, step count `steps`.
  static OptimizerState state_of(const Optimizer& opt, float fill, int steps) {
    OptimizerState state = opt.state_dict();
    for (std::size_t i = 0; i < opt.params().size(); ++i) {
      state[fmt::format("m.{}", i)] = Tensor::full(opt.params()[i].shape(), fill);
      state[fmt::format("v.{}", i)] = Tensor::full(opt.params()[i].shape(), fill);
    }
    state["step_count"] = Tensor::scalar(static_cast<float>(steps));
    return state;
  }

  /// Writes the checkpoint again with `change` applied to its tensors and metadata, loads it,
  /// and expects an error containing `fragment` and the file's path, with nothing changed.
  void expect_rejected(const std::function<void(TensorMap&, Metadata&)>& change,
                       const std::string& fragment) {
    TensorMap tensors = tensors_;
    Metadata metadata = metadata_;
    change(tensors, metadata);
    save_safetensors(path_, tensors, metadata);
    const auto params = testing::snapshot(*model_);
    const OptimizerState state = opt_->state_dict();
    expect_throw_with<SerializationError>([&] { trainer_->load_checkpoint(path_); }, fragment);
    expect_throw_with<SerializationError>([&] { trainer_->load_checkpoint(path_); },
                                          "load_checkpoint: " + path_ + ": ");
    const auto after = model_->parameters();
    for (std::size_t i = 0; i < after.size(); ++i) EXPECT_TRUE(same_bits(after[i], params[i]));
    const OptimizerState state_after = opt_->state_dict();
    ASSERT_EQ(state_after.size(), state.size());
    for (const auto& [key, t] : state) {
      EXPECT_TRUE(same_bits(state_after.at(key), t)) << "optimizer state '" << key << "' changed";
    }
    EXPECT_EQ(trainer_->epoch(), 5u);
    EXPECT_EQ(trainer_->step(), 0u);
    EXPECT_TRUE(model_->is_training());
  }

  void expect_metadata_rejected(const std::string& key, const std::string& value,
                                const std::string& fragment) {
    expect_rejected([&](TensorMap&, Metadata& m) { m[key] = value; }, fragment);
  }

  ScratchDir dir_;
  std::string path_ = dir_.file("ckpt.safetensors");
  TensorMap tensors_;
  Metadata metadata_;
  std::shared_ptr<Sequential> model_;
  std::unique_ptr<Adam> opt_;
  std::unique_ptr<Trainer> trainer_;
};

TEST_F(CheckpointFieldsGiven, TheUntouchedCheckpointLoads) {
  trainer_->load_checkpoint(path_);
  EXPECT_EQ(opt_->step_count(), 3u);
  EXPECT_EQ(trainer_->epoch(), 0u);
}

TEST_F(CheckpointFieldsGiven, AStepCountThatIsNoWholeNumberIsRejected) {
  // -1 used to load as 2^64 - 1, after which one Adam step turned every parameter into NaN.
  for (const float bad : {-1.0f, 2.5f, kNaN, kInf, 1e30f}) {
    expect_rejected(
        [&](TensorMap& t, Metadata&) { t["optimizer.step_count"] = Tensor::scalar(bad); },
        fmt::format("optimizer: state 'step_count' must be a whole number in [0, 2^53], got {}",
                    bad));
  }
  expect_rejected(
      [](TensorMap& t, Metadata&) {
        t["optimizer.step_count"] = Tensor({1.0f, 2.0f});
      },
      "optimizer: state 'step_count' must hold one number, got shape [2]");
}

TEST_F(CheckpointFieldsGiven, ALearningRateThatIsNegativeOrNotFiniteIsRejected) {
  for (const float bad : {-0.1f, kNaN, kInf}) {
    expect_rejected([&](TensorMap& t, Metadata&) { t["optimizer.lr"] = Tensor::scalar(bad); },
                    fmt::format("optimizer: state 'lr' must be finite and >= 0, got {}", bad));
  }
}

TEST_F(CheckpointFieldsGiven, AFailedLoadLeavesTheOptimizerAsItWas) {
  // Step count, lr and m are fine here; only v is wrong, and used to be checked last, after the
  // others had been set.
  expect_rejected([](TensorMap& t, Metadata&) { t["optimizer.v.1"] = Tensor::zeros({2}); },
                  "optimizer: state 'v.1' has shape [2], parameter 1 has [8]");
  expect_rejected([](TensorMap& t, Metadata&) { with_value(t, "optimizer.v.2", 1, -1.0f); },
                  "optimizer: state 'v.2' holds -1 at element 1; expected finite values >= 0");
  expect_rejected([](TensorMap& t, Metadata&) { with_value(t, "optimizer.m.0", 26, kNaN); },
                  "optimizer: state 'm.0' holds nan at element 26; expected finite values");
  expect_rejected([](TensorMap& t, Metadata&) { t.erase("optimizer.m.3"); },
                  "optimizer: state has no entry 'm.3'");
}

TEST_F(CheckpointFieldsGiven, StateThatThisOptimizerDoesNotKeepIsRejected) {
  expect_rejected(
      [](TensorMap& t, Metadata&) {
        t["optimizer.momentum.0"] = Tensor::zeros({4, 8});
      },
      "optimizer: state has an entry 'momentum.0' that this optimizer does not keep");
  expect_rejected([](TensorMap& t, Metadata&) { t["optimizer.m.9"] = Tensor::zeros({3}); },
                  "optimizer: state has 'm.9' but the optimizer has 4 parameters");
  expect_rejected([](TensorMap& t, Metadata&) { t["stray"] = Tensor::zeros({3}); },
                  "tensor 'stray' belongs to neither the model ('model.') nor the optimizer");
}

TEST_F(CheckpointFieldsGiven, EpochAndStepMustBeWholeNumbers) {
  for (const std::string field : {"epoch", "step"}) {
    for (const std::string bad : {"-1", "1e300", "2.5", "18446744073709551616", "9007199254740993",
                                  "\"3\"", "true", "null"}) {
      expect_metadata_rejected(
          field, bad, "metadata '" + field + "' must be a whole number in [0, 2^53], got ");
    }
    expect_metadata_rejected(field, "NaN", "metadata '" + field + "' is not JSON: 'NaN'");
    expect_metadata_rejected(field, "", "metadata '" + field + "' is not JSON");
  }
  expect_rejected([](TensorMap&, Metadata& m) { m.erase("step"); }, "metadata has no 'step'");
}

TEST_F(CheckpointFieldsGiven, TheScheduleMustBeOneThatCosineScheduleAccepts) {
  const auto schedule = [](const std::string& max, const std::string& min,
                           const std::string& total) {
    return R"({"max_lr":)" + max + R"(,"min_lr":)" + min + R"(,"total_epochs":)" + total + "}";
  };
  expect_metadata_rejected("scheduler", schedule("0.1", "0.01", "-1"),
                           "metadata 'scheduler.total_epochs' must be a whole number");
  expect_metadata_rejected("scheduler", schedule("0.1", "0.01", "1e300"),
                           "metadata 'scheduler.total_epochs' must be a whole number");
  expect_metadata_rejected("scheduler", schedule("1e300", "0.01", "10"),
                           "metadata 'scheduler.max_lr' must be a number within float range");
  expect_metadata_rejected("scheduler", schedule("0.1", "\"x\"", "10"),
                           "metadata 'scheduler.min_lr' must be a number");
  expect_metadata_rejected("scheduler", schedule("0.1", "0.2", "10"),
                           "metadata 'scheduler' does not make a schedule: CosineSchedule: need "
                           "0 <= min_lr <= max_lr");
  expect_metadata_rejected("scheduler", schedule("0.1", "0.01", "0"),
                           "CosineSchedule: total_epochs must be >= 1, got 0");
  expect_metadata_rejected("scheduler", "[1, 2]", "metadata 'scheduler' must be null or hold");
}

TEST_F(CheckpointFieldsGiven, HistoryAndModeMustHaveTheirTypes) {
  const std::string ok = R"("eval_loss":[],"eval_accuracy":[],"learning_rates":[])";
  expect_metadata_rejected("history", R"({"train_loss":5,)" + ok + "}",
                           "metadata 'history' must hold a list 'train_loss'");
  expect_metadata_rejected("history", R"({"train_loss":[1,"x"],)" + ok + "}",
                           "metadata 'history.train_loss' must be a number within float range "
                           "or null, got \"x\"");
  expect_metadata_rejected("history", R"({"train_loss":[1e300],)" + ok + "}",
                           "metadata 'history.train_loss' must be a number within float range");
  expect_metadata_rejected("history", "[]", "metadata 'history' must be a JSON object");
  expect_metadata_rejected("training_mode", "1", "metadata 'training_mode' must be true or false");
}

TEST(CosineScheduleGiven, RejectsALearningRateThatIsNotFinite) {
  expect_throw_with<std::invalid_argument>([] { CosineSchedule(kInf, 0.0f, 10); },
                                           "CosineSchedule: max_lr must be finite, got inf");
  expect_throw_with<std::invalid_argument>([] { CosineSchedule(kNaN, 0.0f, 10); },
                                           "CosineSchedule: max_lr must be finite, got nan");
}

}  // namespace
}  // namespace tinytorch
