// Module 07 — bad input to the training API: settings that are NaN, paths that are empty or
// name no file, and files that are not checkpoints are errors naming the call and the file.
#include <filesystem>
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

TEST(CheckpointGiven, AnEmptyPathAMissingFileAndADirectoryAreNamed) {
  ScratchDir dir;
  auto model = small_mlp();
  SGD opt(model->parameters());
  Trainer trainer(*model, opt, cross_entropy);
  expect_throw_with<std::invalid_argument>([&] { trainer.save_checkpoint(""); },
                                           "save_safetensors: the path is empty");
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

}  // namespace
}  // namespace tinytorch
