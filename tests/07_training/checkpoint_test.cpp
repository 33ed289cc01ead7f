// Module 07: Trainer checkpoints — contents, exact resume, and mismatches.
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <tinytorch/tinytorch.hpp>

#include "support/testing.hpp"
#include "training_fixtures.hpp"

namespace tinytorch {
namespace {

using testing::batches_of;
using testing::expect_throw_with;
using testing::same_bits;
using testing::ScratchDir;
using testing::shuffled_batches;
using testing::small_mlp;
using testing::snapshot;
using testing::three_blobs;

using MakeOptimizer = std::function<std::unique_ptr<Optimizer>(std::vector<Tensor>)>;

std::unique_ptr<Optimizer> make_sgd(std::vector<Tensor> params) {
  return std::make_unique<SGD>(std::move(params), 0.05f, /*momentum=*/0.9f);
}

std::unique_ptr<Optimizer> make_adam(std::vector<Tensor> params) {
  return std::make_unique<Adam>(std::move(params), 0.01f);
}

/// Epoch e's batches: the 30 blobs in batches of 8, in an order drawn for that epoch.
std::vector<Batch> epoch_batches(std::uint32_t epoch) {
  return shuffled_batches(three_blobs(30), 8, 21 + epoch);
}

TEST(Checkpoint, SaveSetEpochLoadRestoresTheEpoch) {
  ScratchDir dir;
  manual_seed(1);
  auto model = small_mlp();
  SGD opt(model->parameters(), 0.1f);
  Trainer trainer(*model, opt, cross_entropy);
  const std::vector<Batch> loader = batches_of(three_blobs(6), 3);
  trainer.train_epoch(loader);
  trainer.save_checkpoint(dir.file("ckpt.safetensors"));
  trainer.set_epoch(999);
  trainer.load_checkpoint(dir.file("ckpt.safetensors"));
  EXPECT_EQ(trainer.epoch(), 1u);
}

TEST(Checkpoint, HoldsParametersOptimizerStateAndMetadata) {
  ScratchDir dir;
  const std::string path = dir.file("run/ckpt.safetensors");
  manual_seed(2);
  auto model = small_mlp();
  SGD opt(model->parameters(), 0.1f, 0.9f);
  Trainer trainer(*model, opt, cross_entropy, CosineSchedule(0.1f, 0.01f, 10));
  const std::vector<Batch> loader = batches_of(three_blobs(6), 3);
  trainer.train_epoch(loader);
  trainer.evaluate(loader);
  trainer.save_checkpoint(path);

  Metadata meta;
  const TensorMap tensors = load_safetensors(path, &meta);
  for (const auto& [name, p] : model->named_parameters()) {
    ASSERT_EQ(tensors.count("model." + name), 1u) << name;
    EXPECT_TRUE(same_bits(tensors.at("model." + name), p)) << name;
  }
  for (const auto& [key, t] : opt.state_dict()) {
    ASSERT_EQ(tensors.count("optimizer." + key), 1u) << key;
    EXPECT_TRUE(same_bits(tensors.at("optimizer." + key), t)) << key;
  }
  EXPECT_EQ(tensors.count("optimizer.momentum.0"), 1u);
  EXPECT_EQ(meta.at("format"), "tinytorch-checkpoint-1");
  EXPECT_EQ(meta.at("epoch"), "1");
  EXPECT_EQ(meta.at("step"), "2");
  EXPECT_EQ(meta.at("training_mode"), "true");
  const auto scheduler = nlohmann::json::parse(meta.at("scheduler"));
  EXPECT_EQ(scheduler.at("total_epochs"), 10);
  EXPECT_FLOAT_EQ(scheduler.at("max_lr").get<float>(), 0.1f);
  const auto history = nlohmann::json::parse(meta.at("history"));
  EXPECT_EQ(history.at("train_loss").get<std::vector<float>>(), trainer.history().train_loss);
  EXPECT_EQ(history.at("eval_loss").get<std::vector<float>>(), trainer.history().eval_loss);
  EXPECT_EQ(history.at("learning_rates").get<std::vector<float>>(),
            trainer.history().learning_rates);
}

TEST(Checkpoint, LoadRestoresEverythingIntoTheExistingTensors) {
  ScratchDir dir;
  const std::string path = dir.file("ckpt.safetensors");
  manual_seed(3);
  auto model = small_mlp();
  SGD opt(model->parameters(), 0.1f, 0.9f);
  Trainer trainer(*model, opt, cross_entropy, CosineSchedule(0.1f, 0.01f, 10));
  const std::vector<Batch> loader = batches_of(three_blobs(6), 3);
  trainer.train_epoch(loader);
  trainer.train_epoch(loader);
  trainer.evaluate(loader);
  model->eval();
  trainer.save_checkpoint(path);
  const auto saved_params = snapshot(*model);

  manual_seed(4);
  auto fresh = small_mlp();
  const auto handles = fresh->parameters();
  SGD fresh_opt(fresh->parameters(), 0.7f, 0.9f);
  Trainer resumed(*fresh, fresh_opt, cross_entropy, CosineSchedule(1.0f, 0.5f, 3));
  resumed.load_checkpoint(path);

  EXPECT_EQ(resumed.epoch(), 2u);
  EXPECT_EQ(resumed.step(), 4u);
  EXPECT_FALSE(fresh->is_training());
  EXPECT_EQ(fresh_opt.lr(), opt.lr());
  EXPECT_EQ(fresh_opt.step_count(), opt.step_count());
  EXPECT_EQ(resumed.history().train_loss, trainer.history().train_loss);
  EXPECT_EQ(resumed.history().eval_loss, trainer.history().eval_loss);
  EXPECT_EQ(resumed.history().eval_accuracy, trainer.history().eval_accuracy);
  EXPECT_EQ(resumed.history().learning_rates, trainer.history().learning_rates);
  const auto params = fresh->parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(params[i].same(handles[i])) << "parameter " << i << " was replaced, not filled";
    EXPECT_TRUE(params[i].same(fresh_opt.params()[i]));
    EXPECT_TRUE(same_bits(params[i], saved_params[i])) << "parameter " << i;
  }
  const auto momentum = fresh_opt.get_momentum_state();
  const auto expected_momentum = opt.get_momentum_state();
  for (std::size_t i = 0; i < momentum.size(); ++i)
    EXPECT_TRUE(same_bits(momentum[i], expected_momentum[i]));
  // The saved schedule replaced the resumed Trainer's own one.
  resumed.train_epoch(loader);
  EXPECT_EQ(fresh_opt.lr(), CosineSchedule(0.1f, 0.01f, 10).get_lr(2));
}

/// Train 2 epochs, save, train 1 more; then resume a fresh model from the checkpoint and train
/// the same epoch: every parameter must match bit for bit.
void expect_resume_is_bit_exact(const MakeOptimizer& make_optimizer) {
  set_num_threads(1);  // single-thread BLAS is deterministic
  ScratchDir dir;
  const std::string path = dir.file("resume.safetensors");

  manual_seed(11);
  auto model = small_mlp();
  auto opt = make_optimizer(model->parameters());
  Trainer trainer(*model, *opt, cross_entropy);
  trainer.train_epoch(epoch_batches(0));
  trainer.train_epoch(epoch_batches(1));
  trainer.save_checkpoint(path);
  trainer.train_epoch(epoch_batches(2));
  const auto expected = snapshot(*model);

  manual_seed(999);  // a different initialisation: all state must come from the checkpoint
  auto fresh = small_mlp();
  auto fresh_opt = make_optimizer(fresh->parameters());
  Trainer resumed(*fresh, *fresh_opt, cross_entropy);
  resumed.load_checkpoint(path);
  resumed.train_epoch(epoch_batches(2));

  EXPECT_EQ(resumed.epoch(), trainer.epoch());
  EXPECT_EQ(resumed.step(), trainer.step());
  EXPECT_EQ(resumed.history().train_loss, trainer.history().train_loss);
  const auto params = fresh->parameters();
  ASSERT_EQ(params.size(), expected.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(same_bits(params[i], expected[i]))
        << "parameter " << i << " differs after resuming";
  }
}

TEST(Checkpoint, ResumeIsBitExactWithSgdMomentum) {
  expect_resume_is_bit_exact(make_sgd);
}

TEST(Checkpoint, ResumeIsBitExactWithAdam) {
  expect_resume_is_bit_exact(make_adam);
}

TEST(Checkpoint, ResumeWithoutOptimizerStateWouldDiffer) {
  // Guards the test above: momentum really matters here, so restoring it is what made the
  // resume exact.
  set_num_threads(1);
  manual_seed(11);
  auto model = small_mlp();
  SGD opt(model->parameters(), 0.05f, 0.9f);
  Trainer trainer(*model, opt, cross_entropy);
  trainer.train_epoch(epoch_batches(0));
  const auto at_save = snapshot(*model);
  trainer.train_epoch(epoch_batches(1));
  const auto expected = snapshot(*model);

  manual_seed(11);
  auto copy = small_mlp();
  auto params = copy->parameters();
  for (std::size_t i = 0; i < params.size(); ++i) params[i].data() = at_save[i].data();
  SGD cold(copy->parameters(), 0.05f, 0.9f);  // momentum buffers start at zero
  Trainer cold_trainer(*copy, cold, cross_entropy);
  cold_trainer.train_epoch(epoch_batches(1));
  EXPECT_FALSE(same_bits(copy->parameters()[0], expected[0]));
}

// ---- mismatches -------------------------------------------------------------------------

class CheckpointMismatchGiven : public ::testing::Test {
 protected:
  void SetUp() override {
    manual_seed(5);
    auto model = small_mlp(8);
    SGD opt(model->parameters(), 0.1f);
    Trainer(*model, opt, cross_entropy).save_checkpoint(path_);
  }
  /// Loading into `model` throws naming the fragment, and leaves the model's values alone.
  void expect_load_fails(Module& model, const std::string& fragment) {
    const auto before = snapshot(model);
    SGD opt(model.parameters(), 0.1f);
    Trainer trainer(model, opt, cross_entropy);
    expect_throw_with<std::runtime_error>([&] { trainer.load_checkpoint(path_); }, fragment);
    expect_throw_with<std::runtime_error>([&] { trainer.load_checkpoint(path_); }, path_);
    const auto after = model.parameters();
    for (std::size_t i = 0; i < after.size(); ++i) EXPECT_TRUE(same_bits(after[i], before[i]));
    EXPECT_EQ(trainer.epoch(), 0u);
  }
  ScratchDir dir_;
  std::string path_ = dir_.file("mlp8.safetensors");
};

TEST_F(CheckpointMismatchGiven, DifferentLayerSizesNameTheParameterAndBothShapes) {
  auto wider = small_mlp(16);
  expect_load_fails(*wider,
                    "tensor '0.weight' has shape [4, 8] in the file but [4, 16] in the model");
}

TEST_F(CheckpointMismatchGiven, MissingParameter) {
  auto deeper = std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
      std::make_shared<Linear>(4, 8), std::make_shared<ReLU>(), std::make_shared<Linear>(8, 3),
      std::make_shared<Linear>(3, 3)});
  expect_load_fails(*deeper,
                    "2 tensors of the model missing from the file: '3.weight' [3, 3], "
                    "'3.bias' [3]");
}

TEST_F(CheckpointMismatchGiven, ExtraParameterInTheCheckpoint) {
  auto no_bias = std::make_shared<Sequential>(
      std::vector<std::shared_ptr<Module>>{std::make_shared<Linear>(4, 8), std::make_shared<ReLU>(),
                                           std::make_shared<Linear>(8, 3, /*bias=*/false)});
  expect_load_fails(*no_bias, "1 tensor in the file that the model does not have: '2.bias' [3]");
}

TEST(CheckpointGiven, PlainSafetensorsFileIsNotACheckpoint) {
  ScratchDir dir;
  const std::string path = dir.file("plain.safetensors");
  save_safetensors(path, {{"model.weight", Tensor({1.0f})}}, {{"format", "pt"}});
  Linear model(1, 1);
  SGD opt(model.parameters());
  Trainer trainer(model, opt, mse_loss);
  expect_throw_with<std::runtime_error>([&] { trainer.load_checkpoint(path); },
                                        "not a tinytorch checkpoint");
}

TEST(CheckpointGiven, MissingFileNamesThePath) {
  ScratchDir dir;
  const std::string path = dir.file("never_written.safetensors");
  Linear model(1, 1);
  SGD opt(model.parameters());
  Trainer trainer(model, opt, mse_loss);
  expect_throw_with<std::runtime_error>([&] { trainer.load_checkpoint(path); }, path);
}

TEST(CheckpointGiven, SaveLeavesNoTemporaryFiles) {
  ScratchDir dir;
  Linear model(2, 2);
  SGD opt(model.parameters());
  Trainer trainer(model, opt, mse_loss);
  trainer.save_checkpoint(dir.file("a.safetensors"));
  trainer.save_checkpoint(dir.file("a.safetensors"));
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"a.safetensors"});
}

}  // namespace
}  // namespace tinytorch
