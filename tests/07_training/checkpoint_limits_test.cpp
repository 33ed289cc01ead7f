// Module 07: what save_checkpoint writes, load_checkpoint reads. A count the loader refuses (an
// epoch past 2^53) is refused when the file is written, in the loader's words, instead of
// turning up when the run is resumed; and a path with a NUL byte is refused by both.
#include <cstdint>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include <tinytorch/tinytorch.hpp>

#include "support/testing.hpp"
#include "training_fixtures.hpp"

namespace tinytorch {
namespace {

using testing::expect_throw_with;
using testing::ScratchDir;
using testing::small_mlp;

constexpr std::uint64_t k2to53 = std::uint64_t{1} << 53;

TEST(CheckpointGiven, SaveRefusesAnEpochTheLoaderWouldRefuseInTheLoadersWords) {
  ScratchDir dir;
  const std::string path = dir.file("last.safetensors");
  auto model = small_mlp();
  SGD opt(model->parameters());
  Trainer trainer(*model, opt, cross_entropy);
  const std::string wording =
      "metadata 'epoch' must be a whole number in [0, 2^53], got 9007199254740993";

  trainer.set_epoch(k2to53 + 1);
  expect_throw_with<SerializationError>(
      [&] { trainer.save_checkpoint(path); },
      "save_checkpoint: " + path + ": " + wording + " (load_checkpoint would refuse the file)");
  EXPECT_FALSE(std::filesystem::exists(path));

  // 2^53 itself is the last count both take ...
  trainer.set_epoch(k2to53);
  trainer.save_checkpoint(path);
  Trainer resumed(*model, opt, cross_entropy);
  resumed.load_checkpoint(path);
  EXPECT_EQ(resumed.epoch(), k2to53);
  // ... and one past it, written by other means, the loader refuses with the same words.
  Metadata metadata;
  const TensorMap tensors = load_safetensors(path, &metadata);
  metadata["epoch"] = "9007199254740993";
  save_safetensors(path, tensors, metadata);
  expect_throw_with<SerializationError>([&] { resumed.load_checkpoint(path); },
                                        "load_checkpoint: " + path + ": " + wording);
}

TEST(CheckpointGiven, SaveRefusesAScheduleLengthTheLoaderWouldRefuse) {
  ScratchDir dir;
  const std::string path = dir.file("last.safetensors");
  auto model = small_mlp();
  SGD opt(model->parameters());
  Trainer trainer(*model, opt, cross_entropy, CosineSchedule(0.1f, 0.01f, k2to53 + 1));
  expect_throw_with<SerializationError>(
      [&] { trainer.save_checkpoint(path); },
      "save_checkpoint: " + path +
          ": metadata 'scheduler.total_epochs' must be a whole number in [0, 2^53], got "
          "9007199254740993");
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(CheckpointGiven, APathWithANulByteIsRefusedBySaveAndLoad) {
  ScratchDir dir;
  const std::string path = dir.file("last") + std::string(1, '\0') + "x";
  auto model = small_mlp();
  SGD opt(model->parameters());
  Trainer trainer(*model, opt, cross_entropy);
  expect_throw_with<std::invalid_argument>(
      [&] { trainer.save_checkpoint(path); },
      "save_checkpoint: the path contains a NUL byte: '" + dir.file("last") + "\\0x'");
  expect_throw_with<std::invalid_argument>(
      [&] { trainer.load_checkpoint(path); },
      "load_checkpoint: the path contains a NUL byte: '" + dir.file("last") + "\\0x'");
  EXPECT_FALSE(std::filesystem::exists(dir.file("last")));
}

TEST(CheckpointGiven, ATensorNameWithControlBytesIsShownEscaped) {
  ScratchDir dir;
  const std::string path = dir.file("last.safetensors");
  auto model = small_mlp();
  SGD opt(model->parameters());
  Trainer trainer(*model, opt, cross_entropy);
  trainer.save_checkpoint(path);
  Metadata metadata;
  TensorMap tensors = load_safetensors(path, &metadata);
  tensors["stray\nname"] = Tensor({1.0f});
  save_safetensors(path, tensors, metadata);
  expect_throw_with<SerializationError>([&] { trainer.load_checkpoint(path); },
                                        "tensor 'stray\\nname' belongs to neither the model");
  tensors.erase("stray\nname");
  tensors[std::string("optimizer.lr") + '\0'] = Tensor({1.0f});
  save_safetensors(path, tensors, metadata);
  expect_throw_with<SerializationError>(
      [&] { trainer.load_checkpoint(path); },
      "load_checkpoint: " + path + ": tensor 'optimizer.lr\\0' is no state an optimizer has");
}

}  // namespace
}  // namespace tinytorch
