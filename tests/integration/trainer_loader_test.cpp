// Modules 07 and 08 together: the Trainer walking a shuffling DataLoader. (Module 07's tests
// hand the Trainer plain lists of batches, so that they do not need the DataLoader.)
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <tinytorch/tinytorch.hpp>

#include "07_training/training_fixtures.hpp"
#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::same_bits;
using testing::ScratchDir;
using testing::small_mlp;
using testing::snapshot;
using testing::three_blobs;

DataLoader shuffled_loader() {
  return DataLoader(three_blobs(30), DataLoaderOptions(8).shuffle(true).seed(21));
}

TEST(TrainerWithLoader, TrainingOnAShuffledLoaderReducesTheLoss) {
  manual_seed(2);
  auto model = small_mlp();
  SGD opt(model->parameters(), 0.1f);
  Trainer trainer(*model, opt, cross_entropy);
  DataLoader loader(three_blobs(60), DataLoaderOptions(10).shuffle(true).seed(4));
  const float first = trainer.train_epoch(loader);
  float last = first;
  for (int e = 0; e < 9; ++e) last = trainer.train_epoch(loader);
  EXPECT_LT(last, 0.5f * first);
  DataLoader eval_loader(three_blobs(60, 99), 16);
  EXPECT_GT(trainer.evaluate(eval_loader).accuracy, 0.9f);
}

// Train 2 epochs, save, train 1 more; resume a fresh model and a fresh loader advanced by the
// same two passes (the loader's order is not part of the checkpoint): bit-exact parameters.
TEST(TrainerWithLoader, ResumeWithAShuffledLoaderIsBitExact) {
  set_num_threads(1);
  ScratchDir dir;
  const std::string path = dir.file("resume.safetensors");
  manual_seed(11);
  auto model = small_mlp();
  SGD opt(model->parameters(), 0.05f, 0.9f);
  Trainer trainer(*model, opt, cross_entropy);
  DataLoader loader = shuffled_loader();
  trainer.train_epoch(loader);
  trainer.train_epoch(loader);
  trainer.save_checkpoint(path);
  trainer.train_epoch(loader);
  const auto expected = snapshot(*model);

  manual_seed(999);
  auto fresh = small_mlp();
  SGD fresh_opt(fresh->parameters(), 0.05f, 0.9f);
  Trainer resumed(*fresh, fresh_opt, cross_entropy);
  resumed.load_checkpoint(path);
  DataLoader fresh_loader = shuffled_loader();
  for (int pass = 0; pass < 2; ++pass) {
    for (auto it = fresh_loader.begin(); it != fresh_loader.end(); ++it) {
    }
  }
  resumed.train_epoch(fresh_loader);
  const auto params = fresh->parameters();
  ASSERT_EQ(params.size(), expected.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(same_bits(params[i], expected[i])) << "parameter " << i;
  }
}

}  // namespace
}  // namespace tinytorch
