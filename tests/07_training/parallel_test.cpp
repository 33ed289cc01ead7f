// Module 07: the Trainer over several processes, through train/parallel.hpp, with a stand-in
// for the other processes (the MPI one is tested under mpirun in tests/distributed). The
// stand-in's sum() adds what the other processes would add, and its average_gradients() can
// replace the gradients, so each test can tell whether the Trainer used what came back.
#include <cmath>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <tinytorch/tinytorch.hpp>

#include "support/scratch_dir.hpp"
#include "support/testing.hpp"
#include "training_fixtures.hpp"

namespace tinytorch {
namespace {

using testing::batches_of;
using testing::expect_throw_with;
using testing::small_mlp;
using testing::three_blobs;

class StandIn : public TrainerParallel {
 public:
  StandIn(int rank, int world) : rank_(rank), world_(world) {}
  int rank() const override { return rank_; }
  int world_size() const override { return world_; }
  void average_gradients() override {
    ++averages;
    if (on_average) on_average();
  }
  // A sum of as many values as `others` adds them; any other sum (the batch-count check) sees
  // processes identical to this one.
  void sum(std::vector<double>& values) override {
    for (std::size_t i = 0; i < values.size(); ++i)
      values[i] += values.size() == others.size() ? others[i] : (world_ - 1) * values[i];
  }
  void barrier() override { ++barriers; }

  std::vector<double> others;        ///< what the other processes add to a sum of as many values
  std::function<void()> on_average;  ///< what "the others' gradients" do to ours
  int averages = 0, barriers = 0;

 private:
  int rank_, world_;
};

TEST(ParallelTrainer, GradientsAreAveragedOnceBeforeEveryStep) {
  manual_seed(4);
  auto model = small_mlp();
  SGD opt(model->parameters(), 0.5f);
  Trainer trainer(*model, opt, cross_entropy);
  auto standin = std::make_shared<StandIn>(0, 2);
  // The other process's gradients cancel ours: the mean is 0, so no step may move anything.
  standin->on_average = [&] {
    for (Tensor p : model->parameters()) p.set_grad(Tensor::zeros(p.shape()));
  };
  standin->others = {0.0};
  trainer.set_parallel(standin);
  const std::vector<Tensor> before = testing::snapshot(*model);
  trainer.train_epoch(batches_of(three_blobs(9), 3));  // three batches, three steps
  EXPECT_EQ(standin->averages, 3);
  const std::vector<Tensor> after = model->parameters();
  for (std::size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(after[i].to_vector(), before[i].to_vector()) << "parameter " << i;
  }
}

TEST(ParallelTrainer, TheEpochLossIsTheMeanOverTheProcesses) {
  manual_seed(5);
  auto model = small_mlp();
  SGD opt(model->parameters(), 0.0f);
  const std::vector<Batch> batches = batches_of(three_blobs(6), 3);
  Trainer alone(*model, opt, cross_entropy);
  const float local = alone.train_epoch(batches);  // lr 0: the same loss again below
  Trainer trainer(*model, opt, cross_entropy);
  auto standin = std::make_shared<StandIn>(1, 2);
  standin->others = {3.0};  // the other process's mean loss
  trainer.set_parallel(standin);
  const float global = trainer.train_epoch(batches);
  EXPECT_FLOAT_EQ(global, static_cast<float>((static_cast<double>(local) + 3.0) / 2.0));
  EXPECT_EQ(trainer.history().train_loss, std::vector<float>{global});
}

TEST(ParallelTrainer, EvaluationIsWeightedByEachProcesssSamples) {
  manual_seed(6);
  auto model = small_mlp();
  SGD opt(model->parameters());
  const std::vector<Batch> batches = batches_of(three_blobs(7), 3);
  Trainer alone(*model, opt, cross_entropy);
  const EvalResult local = alone.evaluate(batches);
  Trainer trainer(*model, opt, cross_entropy);
  auto standin = std::make_shared<StandIn>(0, 2);
  // The other process: 13 samples at loss 2.0, 4 of them right.
  standin->others = {13 * 2.0, 4.0, 13.0};
  trainer.set_parallel(standin);
  const EvalResult global = trainer.evaluate(batches);
  EXPECT_NEAR(global.loss, (7.0 * local.loss + 26.0) / 20.0, 1e-6);
  EXPECT_NEAR(global.accuracy, (7.0 * local.accuracy + 4.0) / 20.0, 1e-6);
  EXPECT_EQ(trainer.history().eval_loss, std::vector<float>{global.loss});
  EXPECT_EQ(trainer.history().eval_accuracy, std::vector<float>{global.accuracy});
}

TEST(ParallelTrainer, EvaluationOverADataLoaderCountsWhatItsPassGives) {
  manual_seed(7);
  auto model = small_mlp();
  SGD opt(model->parameters());
  auto data = three_blobs(10);
  DataLoader loader(data, DataLoaderOptions(4).drop_last(true));  // 8 of the 10 samples
  EXPECT_EQ(loader.samples_per_pass(), 8u);
  Trainer alone(*model, opt, cross_entropy);
  const EvalResult local = alone.evaluate(loader);
  Trainer trainer(*model, opt, cross_entropy);
  auto standin = std::make_shared<StandIn>(0, 2);
  standin->others = {8 * 1.0, 8.0, 8.0};  // 8 samples at loss 1.0, all right
  trainer.set_parallel(standin);
  const EvalResult global = trainer.evaluate(loader);
  EXPECT_NEAR(global.loss, (local.loss + 1.0) / 2.0, 1e-6);
  EXPECT_NEAR(global.accuracy, (local.accuracy + 1.0) / 2.0, 1e-6);
}

TEST(ParallelTrainerGiven, OnlyThePrimaryWritesACheckpointAndEveryProcessWaitsForIt) {
  manual_seed(8);
  auto model = small_mlp();
  SGD opt(model->parameters());
  Trainer trainer(*model, opt, cross_entropy);
  testing::ScratchDir dir;
  auto second = std::make_shared<StandIn>(1, 2);
  trainer.set_parallel(second);
  trainer.save_checkpoint(dir.file("ck.safetensors"));
  EXPECT_FALSE(std::filesystem::exists(dir.file("ck.safetensors")));
  EXPECT_EQ(second->barriers, 1);
  auto primary = std::make_shared<StandIn>(0, 2);
  trainer.set_parallel(primary);
  trainer.save_checkpoint(dir.file("ck.safetensors"));
  EXPECT_EQ(primary->barriers, 1);
  Metadata meta;
  load_safetensors(dir.file("ck.safetensors"), &meta);
  EXPECT_EQ(meta.at("world_size"), "2");
}

TEST(ParallelTrainerGiven, ACheckpointOfAnotherNumberOfProcessesIsRefused) {
  manual_seed(9);
  auto model = small_mlp();
  SGD opt(model->parameters());
  Trainer trainer(*model, opt, cross_entropy);
  trainer.set_parallel(std::make_shared<StandIn>(0, 2));
  testing::ScratchDir dir;
  const std::string path = dir.file("ck.safetensors");
  trainer.save_checkpoint(path);
  Trainer alone(*model, opt, cross_entropy);
  expect_throw_with<SerializationError>([&] { alone.load_checkpoint(path); },
                                        "written by a run over 2 processes, this one has 1");
  Trainer four(*model, opt, cross_entropy);
  four.set_parallel(std::make_shared<StandIn>(3, 4));
  expect_throw_with<SerializationError>([&] { four.load_checkpoint(path); },
                                        "written by a run over 2 processes, this one has 4");
  Trainer two(*model, opt, cross_entropy);
  two.set_parallel(std::make_shared<StandIn>(1, 2));
  EXPECT_NO_THROW(two.load_checkpoint(path));
  // And a checkpoint of a run alone does not resume over two processes.
  alone.save_checkpoint(dir.file("alone.safetensors"));
  expect_throw_with<SerializationError>([&] { two.load_checkpoint(dir.file("alone.safetensors")); },
                                        "written by a run over 1 process, this one has 2");
}

TEST(ParallelTrainerGiven, GradientAccumulationIsRefusedOverSeveralProcesses) {
  manual_seed(10);
  auto model = small_mlp();
  SGD opt(model->parameters());
  Trainer trainer(*model, opt, cross_entropy);
  trainer.set_parallel(std::make_shared<StandIn>(0, 2));
  expect_throw_with<std::invalid_argument>(
      [&] { trainer.train_epoch(batches_of(three_blobs(6), 3), 2); },
      "train_epoch: accumulation_steps must be 1 when training over 2 processes, got 2");
  EXPECT_EQ(trainer.step(), 0u);
}

TEST(ParallelTrainerGiven, ProcessesWithDifferentNumbersOfBatchesAreRefusedBeforeAnyStep) {
  manual_seed(11);
  auto model = small_mlp();
  SGD opt(model->parameters());
  Trainer trainer(*model, opt, cross_entropy);
  auto standin = std::make_shared<StandIn>(0, 2);
  standin->others = {3.0, 9.0};  // the other process: 3 batches; this one has 2
  trainer.set_parallel(standin);
  expect_throw_with<std::invalid_argument>(
      [&] { trainer.train_epoch(batches_of(three_blobs(6), 3)); },
      "train_epoch: the 2 processes have different numbers of batches this epoch (this one 2, "
      "2.5 on average)");
  EXPECT_EQ(trainer.step(), 0u);
  EXPECT_EQ(standin->averages, 0);
}

}  // namespace
}  // namespace tinytorch
