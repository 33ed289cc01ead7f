// Module 07 — bad input to the training API: settings that are NaN, batches without a target,
// losses that are not one value, paths that are empty, name no file or cannot be written, and
// files that are not checkpoints are errors naming the call and the file.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include <tinytorch/tinytorch.hpp>

#include "support/testing.hpp"
#include "training_fixtures.hpp"

namespace tinytorch {
namespace {

using testing::expect_throw_with;
using testing::ScratchDir;
using testing::small_mlp;

const float kNaN = std::numeric_limits<float>::quiet_NaN();

TEST(ClipGradNorm, RejectsAMaxNormThatIsNaN) {
  expect_throw_with<std::invalid_argument>([] { clip_grad_norm({}, kNaN); },
                                           "clip_grad_norm: max_norm must be > 0, got nan");
}

TEST(TrainerGiven, RejectsAGradientClipNormThatIsNaN) {
  auto model = small_mlp();
  SGD opt(model->parameters());
  expect_throw_with<std::invalid_argument>(
      [&] { Trainer(*model, opt, cross_entropy, std::nullopt, kNaN); },
      "Trainer: grad_clip_norm must be > 0, got nan");
}

// The batch check and the loss run inside the train_epoch and evaluate exercises.
TEST(Trainer, EvaluateRejectsABatchWithoutATarget) {
  auto model = small_mlp();
  SGD opt(model->parameters());
  Trainer trainer(*model, opt, cross_entropy);
  const std::vector<Batch> batches = {{Tensor::zeros({2, 4})}};
  expect_throw_with<std::invalid_argument>(
      [&] { trainer.evaluate(batches); },
      "evaluate: a batch needs (input, target) tensors, got 1 tensor(s)");
  EXPECT_TRUE(model->is_training());  // evaluation put the mode back
}

TEST(Trainer, ALossFunctionThatReturnsMoreThanOneValueIsNamedAsTheCause) {
  auto model = small_mlp();
  SGD opt(model->parameters());
  const LossFn per_row = [](const Tensor& outputs, const Tensor&) { return outputs.sum({1}); };
  Trainer trainer(*model, opt, per_row);
  const std::vector<Batch> batches = {{Tensor::zeros({2, 4}), Tensor({0, 1})}};
  const std::string message =
      "Trainer: the loss function must return one value (a scalar), got shape [2]; reduce it";
  expect_throw_with<ShapeError>([&] { trainer.train_epoch(batches); }, message);
  expect_throw_with<ShapeError>([&] { trainer.evaluate(batches); }, message);
  Trainer undefined(*model, opt, [](const Tensor&, const Tensor&) { return Tensor(); });
  expect_throw_with<std::invalid_argument>(
      [&] { undefined.evaluate(batches); },
      "Trainer: the loss function returned an undefined tensor");
}

TEST(CheckpointGiven, AnEmptyPathAMissingFileAndADirectoryAreNamed) {
  ScratchDir dir;
  auto model = small_mlp();
  SGD opt(model->parameters());
  Trainer trainer(*model, opt, cross_entropy);
  expect_throw_with<std::invalid_argument>([&] { trainer.save_checkpoint(""); },
                                           "save_checkpoint: the path is empty");
  expect_throw_with<std::invalid_argument>([&] { trainer.load_checkpoint(""); },
                                           "load_checkpoint: the path is empty");
  const std::string missing = dir.file("missing.safetensors");
  expect_throw_with<SerializationError>([&] { trainer.load_checkpoint(missing); },
                                        "load_safetensors: " + missing + ": no such file");
  expect_throw_with<SerializationError>(
      [&] { trainer.load_checkpoint(dir.path().string()); },
      "load_safetensors: " + dir.path().string() + ": is a directory, expected a safetensors file");
  const std::string weights = dir.file("weights.safetensors");
  save(*model, weights);
  expect_throw_with<SerializationError>([&] { trainer.load_checkpoint(weights); },
                                        "load_checkpoint: " + weights +
                                            ": not a tinytorch checkpoint (metadata 'format' "
                                            "should be 'tinytorch-checkpoint-1')");
}

// Saving where a file cannot go gives the system's reason; what was there is left alone.
TEST(CheckpointGiven, SavingOverADirectoryOrBelowAFileGivesTheSystemsReason) {
  ScratchDir dir;
  auto model = small_mlp();
  SGD opt(model->parameters());
  Trainer trainer(*model, opt, cross_entropy);
  const std::string folder = dir.file("folder");
  std::filesystem::create_directories(std::filesystem::path(folder) / "inside");
  expect_throw_with<SerializationError>(
      [&] { trainer.save_checkpoint(folder); },
      "save_checkpoint: " + folder +
          ": is a directory; cannot replace it with a file: " + std::strerror(EISDIR));
  EXPECT_TRUE(std::filesystem::is_directory(std::filesystem::path(folder) / "inside"));
  const std::string file = dir.file("plain");
  std::ofstream(file) << "x";
  expect_throw_with<SerializationError>(
      [&] { trainer.save_checkpoint(file + "/last.safetensors"); },
      "save_checkpoint: " + file + "/last.safetensors: cannot create directory '" + file + "': ");
}

}  // namespace
}  // namespace tinytorch
