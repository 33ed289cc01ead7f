// Module 07: the Trainer loop (train_epoch, evaluate, accumulation, schedule, NaN guard) and
// the course's autograd-through-training checks.
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include <tinytorch/tinytorch.hpp>

#include "support/testing.hpp"
#include "training_fixtures.hpp"

namespace tinytorch {
namespace {

using testing::batches_of;
using testing::expect_near;
using testing::expect_throw_with;
using testing::shuffled_batches;
using testing::small_mlp;
using testing::three_blobs;

TEST(TrainerGiven, StartsAtEpochAndStepZero) {
  Linear model(2, 1);
  SGD opt(model.parameters());
  const Trainer trainer(model, opt, mse_loss);
  EXPECT_EQ(trainer.epoch(), 0u);
  EXPECT_EQ(trainer.step(), 0u);
  EXPECT_TRUE(trainer.history().train_loss.empty());
}

TEST(Trainer, TrainEpochOnTwoBatchesReturnsLossAndAdvancesEpoch) {
  manual_seed(1);
  auto model = small_mlp();
  SGD opt(model->parameters(), 0.1f);
  Trainer trainer(*model, opt, cross_entropy);
  const std::vector<Batch> loader = batches_of(three_blobs(8), 4);  // two batches
  const float loss = trainer.train_epoch(loader);
  EXPECT_TRUE(std::isfinite(loss));
  EXPECT_GT(loss, 0.0f);
  EXPECT_EQ(trainer.epoch(), 1u);
  EXPECT_EQ(trainer.step(), 2u);
  ASSERT_EQ(trainer.history().train_loss.size(), 1u);
  EXPECT_EQ(trainer.history().train_loss[0], loss);
  EXPECT_TRUE(trainer.history().learning_rates.empty());  // no scheduler, nothing logged
}

TEST(Trainer, TrainEpochReturnsTheMeanBatchLoss) {
  // With lr 0 the parameters never move, so the epoch loss is the mean of fixed batch losses.
  manual_seed(2);
  auto model = small_mlp();
  SGD opt(model->parameters(), 0.0f);
  Trainer trainer(*model, opt, cross_entropy);
  auto data = three_blobs(8);
  const std::vector<Batch> loader = batches_of(data, 4);
  const Tensor x = data->tensors()[0], y = data->tensors()[1];
  const float first = cross_entropy((*model)(x.slice(0, 4)), y.slice(0, 4)).item();
  const float second = cross_entropy((*model)(x.slice(4, 8)), y.slice(4, 8)).item();
  EXPECT_NEAR(trainer.train_epoch(loader), (first + second) / 2, 1e-6f);
  EXPECT_NEAR(trainer.train_epoch(loader, 2), (first + second) / 2, 1e-6f);  // one update of both
}

TEST(Trainer, TrainingReducesTheLoss) {
  manual_seed(3);
  auto model = small_mlp();
  SGD opt(model->parameters(), 0.1f, 0.9f);
  Trainer trainer(*model, opt, cross_entropy);
  const std::vector<Batch> loader = batches_of(three_blobs(60), 10);
  const float first = trainer.train_epoch(loader);
  float last = first;
  for (int e = 0; e < 9; ++e) last = trainer.train_epoch(loader);
  EXPECT_LT(last, first * 0.5f);
  const std::vector<Batch> eval_loader = batches_of(three_blobs(60, 99), 16);
  EXPECT_GT(trainer.evaluate(eval_loader).accuracy, 0.9f);
}

TEST(Trainer, TrainEpochSetsTrainingMode) {
  manual_seed(4);
  auto model = small_mlp();
  model->eval();
  SGD opt(model->parameters());
  Trainer trainer(*model, opt, cross_entropy);
  const std::vector<Batch> loader = batches_of(three_blobs(6), 3);
  trainer.train_epoch(loader);
  EXPECT_TRUE(model->is_training());
}

// ---- gradient accumulation --------------------------------------------------------------

TEST(Trainer, AccumulatedBatchesGiveOneUpdateOfTheSummedGradient) {
  manual_seed(5);
  auto data = three_blobs(8);
  const Tensor x = data->tensors()[0], y = data->tensors()[1];

  Linear by_hand(4, 3);
  Linear trained(4, 3);
  trained.weight.data() = by_hand.weight.data();
  trained.bias.data() = by_hand.bias.data();

  // By hand: two backward passes add up, then one step.
  SGD hand_opt(by_hand.parameters(), 0.5f);
  cross_entropy(by_hand(x.slice(0, 4)), y.slice(0, 4)).backward();
  cross_entropy(by_hand(x.slice(4, 8)), y.slice(4, 8)).backward();
  hand_opt.step();

  SGD opt(trained.parameters(), 0.5f);
  Trainer trainer(trained, opt, cross_entropy);
  const std::vector<Batch> loader = batches_of(data, 4);
  trainer.train_epoch(loader, /*accumulation_steps=*/2);
  EXPECT_EQ(trainer.step(), 1u);
  expect_near(trained.weight, by_hand.weight, 1e-6f);
  expect_near(trained.bias, by_hand.bias, 1e-6f);
  EXPECT_FALSE(trained.weight.grad().defined());  // zero_grad after the update
}

TEST(Trainer, LeftOverBatchesGetAFinalUpdate) {
  manual_seed(6);
  auto model = small_mlp();
  SGD opt(model->parameters(), 0.1f);
  Trainer trainer(*model, opt, cross_entropy);
  const std::vector<Batch> loader = batches_of(three_blobs(10), 2);  // five batches
  trainer.train_epoch(loader, 2);  // updates after batches 2, 4 and the left-over 5
  EXPECT_EQ(trainer.step(), 3u);
  EXPECT_EQ(opt.step_count(), 3u);
  trainer.train_epoch(loader, 10);  // all five in one update
  EXPECT_EQ(trainer.step(), 4u);
}

TEST(Trainer, CallsTheBatchCallbackAfterEveryBatch) {
  manual_seed(7);
  auto model = small_mlp();
  SGD opt(model->parameters(), 0.1f);
  Trainer trainer(*model, opt, cross_entropy);
  std::vector<std::size_t> indices;
  std::vector<float> losses;
  trainer.on_batch([&](std::size_t i, std::size_t total, float loss) {
    EXPECT_EQ(total, 3u);
    indices.push_back(i);
    losses.push_back(loss);
  });
  const std::vector<Batch> loader = batches_of(three_blobs(9), 3);
  const float mean = trainer.train_epoch(loader);
  EXPECT_EQ(indices, (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_NEAR(mean, (losses[0] + losses[1] + losses[2]) / 3, 1e-6f);
}

// ---- scheduler and clipping -------------------------------------------------------------

TEST(Trainer, SchedulerSetsTheLearningRateAtTheEndOfEachEpoch) {
  manual_seed(8);
  auto model = small_mlp();
  SGD opt(model->parameters(), 0.5f);
  const CosineSchedule schedule(0.1f, 0.01f, 4);
  Trainer trainer(*model, opt, cross_entropy, schedule);
  const std::vector<Batch> loader = batches_of(three_blobs(6), 3);
  EXPECT_EQ(opt.lr(), 0.5f);  // epoch 0 runs with the optimizer's own lr
  trainer.train_epoch(loader);
  EXPECT_EQ(opt.lr(), schedule.get_lr(0));
  trainer.train_epoch(loader);
  EXPECT_EQ(opt.lr(), schedule.get_lr(1));
  EXPECT_EQ(trainer.history().learning_rates,
            (std::vector<float>{schedule.get_lr(0), schedule.get_lr(1)}));
}

TEST(Trainer, GradientClippingLimitsTheUpdate) {
  // Loss = 1000·sum(w): gradient 1000 per element; clipped to norm 1 the step is lr/√n each.
  Linear model(2, 2, /*bias=*/false);
  model.weight.data().fill(0.0f);
  SGD opt(model.parameters(), 1.0f);
  LossFn huge = [](const Tensor& out, const Tensor&) { return out.sum() * 1000.0f; };
  Trainer trainer(model, opt, huge, std::nullopt, /*grad_clip_norm=*/1.0f);
  auto data = std::make_shared<TensorDataset>(std::vector<Tensor>{Tensor({{1, 0}}), Tensor({0})});
  const std::vector<Batch> loader = batches_of(data, 1);
  trainer.train_epoch(loader);
  // d(loss)/dW[i][j] = 1000·x_i: only row 0 has a gradient, norm 1000·√2 → each becomes 1/√2.
  expect_near(model.weight, Tensor({{-0.70710678f, -0.70710678f}, {0.0f, 0.0f}}), 1e-6f);
}

// ---- evaluate ---------------------------------------------------------------------------

TEST(Trainer, EvaluateReturnsSampleWeightedLossAndAccuracy) {
  manual_seed(9);
  auto model = small_mlp();
  SGD opt(model->parameters());
  Trainer trainer(*model, opt, cross_entropy);
  auto data = three_blobs(7);
  const std::vector<Batch> loader =
      batches_of(data, 3);  // batches of 3, 3 and 1: a plain mean of batch means would differ
  const EvalResult r = trainer.evaluate(loader);
  const Tensor outputs = (*model)(data->tensors()[0]);
  EXPECT_NEAR(r.loss, cross_entropy(outputs, data->tensors()[1]).item(), 1e-5f);
  EXPECT_FLOAT_EQ(r.accuracy, accuracy(outputs, data->tensors()[1]));
  EXPECT_EQ(trainer.history().eval_loss, std::vector<float>{r.loss});
  EXPECT_EQ(trainer.history().eval_accuracy, std::vector<float>{r.accuracy});
  EXPECT_EQ(trainer.epoch(), 0u);
  EXPECT_EQ(trainer.step(), 0u);
}

TEST(Trainer, EvaluateRecordsNoGraphAndChangesNothing) {
  manual_seed(10);
  auto model = small_mlp();
  SGD opt(model->parameters(), 0.1f);
  Trainer trainer(*model, opt, cross_entropy);
  const auto before = testing::snapshot(*model);
  LossFn spy = [](const Tensor& out, const Tensor& y) {
    EXPECT_FALSE(out.requires_grad());  // no node was recorded under evaluate
    return cross_entropy(out, y);
  };
  Trainer spying(*model, opt, spy);
  const std::vector<Batch> loader = batches_of(three_blobs(6), 2);
  spying.evaluate(loader);
  trainer.evaluate(loader);
  const auto params = model->parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(testing::same_bits(params[i], before[i]));
    EXPECT_FALSE(params[i].grad().defined());
  }
}

TEST(Trainer, EvaluateRestoresTheModelsMode) {
  manual_seed(11);
  auto model = small_mlp();
  SGD opt(model->parameters());
  bool saw_training = true;
  LossFn spy = [&](const Tensor& out, const Tensor& y) {
    saw_training = model->is_training();
    return cross_entropy(out, y);
  };
  Trainer trainer(*model, opt, spy);
  const std::vector<Batch> loader = batches_of(three_blobs(3), 3);
  trainer.evaluate(loader);
  EXPECT_FALSE(saw_training);
  EXPECT_TRUE(model->is_training());
  model->eval();
  trainer.evaluate(loader);
  EXPECT_FALSE(model->is_training());
}

TEST(Trainer, EvaluateWorksForRegressionModels) {
  Linear model(1, 2);
  SGD opt(model.parameters());
  Trainer trainer(model, opt, mse_loss);
  auto data = std::make_shared<TensorDataset>(
      std::vector<Tensor>{Tensor({{1}, {2}}), Tensor({{1, 2}, {3, 4}})});
  const std::vector<Batch> loader = batches_of(data, 2);
  const EvalResult r = trainer.evaluate(loader);
  EXPECT_TRUE(std::isfinite(r.loss));
  EXPECT_GE(r.accuracy, 0.0f);
  EXPECT_LE(r.accuracy, 1.0f);
}

// ---- errors -----------------------------------------------------------------------------

TEST(Trainer, NanLossNamesEpochAndStep) {
  manual_seed(12);
  auto model = small_mlp();
  SGD opt(model->parameters(), 0.1f);
  int calls = 0;
  LossFn poisoned = [&](const Tensor& out, const Tensor& y) {
    return ++calls == 4 ? Tensor::scalar(std::numeric_limits<float>::quiet_NaN())
                        : cross_entropy(out, y);
  };
  Trainer trainer(*model, opt, poisoned);
  const std::vector<Batch> loader = batches_of(three_blobs(6), 2);  // three batches per epoch
  trainer.train_epoch(loader);
  expect_throw_with<std::runtime_error>([&] { trainer.train_epoch(loader); },
                                        "train_epoch: loss is nan at epoch 1, step 3 (batch 0)");
}

TEST(Trainer, InfiniteLossFromHugeWeightsIsCaughtBeforeTheUpdate) {
  Linear model(2, 1);
  model.weight.data().fill(3e38f);
  SGD opt(model.parameters(), 0.1f);
  Trainer trainer(model, opt, mse_loss);
  auto data = std::make_shared<TensorDataset>(
      std::vector<Tensor>{Tensor({{1, 1}, {2, 2}}), Tensor({{0}, {1}})});
  const std::vector<Batch> loader = batches_of(data, 2);
  try {
    trainer.train_epoch(loader);
    ADD_FAILURE() << "no error for an infinite loss";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("loss is inf"), std::string::npos) << what;
    EXPECT_NE(what.find("epoch 0, step 0"), std::string::npos) << what;
  }
  EXPECT_EQ(model.weight.data()(0, 0), 3e38f);  // no step was taken
  EXPECT_EQ(trainer.step(), 0u);
}

TEST(Trainer, RejectsBadArguments) {
  manual_seed(13);
  auto model = small_mlp();
  SGD opt(model->parameters());
  Trainer trainer(*model, opt, cross_entropy);
  const std::vector<Batch> loader = batches_of(three_blobs(6), 2);
  expect_throw_with<std::invalid_argument>([&] { trainer.train_epoch(loader, 0); },
                                           "accumulation_steps");

  auto empty = std::make_shared<TensorDataset>(
      std::vector<Tensor>{Tensor::zeros({0, 4}), Tensor::zeros({0})});
  const std::vector<Batch> empty_loader = batches_of(empty, 2);
  expect_throw_with<std::invalid_argument>([&] { trainer.train_epoch(empty_loader); },
                                           "no batches");
  expect_throw_with<std::invalid_argument>([&] { trainer.evaluate(empty_loader); }, "no batches");

  auto inputs_only = std::make_shared<TensorDataset>(std::vector<Tensor>{Tensor::zeros({2, 4})});
  const std::vector<Batch> inputs_loader = batches_of(inputs_only, 2);
  expect_throw_with<std::invalid_argument>([&] { trainer.train_epoch(inputs_loader); },
                                           "(input, target)");

  expect_throw_with<std::invalid_argument>([&] { Trainer(*model, opt, LossFn()); },
                                           "loss function");
  expect_throw_with<std::invalid_argument>(
      [&] { Trainer(*model, opt, cross_entropy, std::nullopt, 0.0f); }, "grad_clip_norm");
  EXPECT_EQ(trainer.epoch(), 0u);
}

// ---- the course's autograd-through-training checks --------------------------------------

TEST(TrainingAutograd, TenSgdStepsReduceTheErrorOnYEquals2X) {
  manual_seed(15);
  Linear model(1, 1);
  SGD opt(model.parameters(), 0.01f);
  Trainer trainer(model, opt, mse_loss);
  const Tensor x({{1}, {2}, {3}, {4}});
  const Tensor y = x * 2.0f;
  auto sse = [&] {
    NoGradGuard guard;
    const Tensor diff = model(x) - y;
    return (diff * diff).sum().item();
  };
  const float before = sse();
  const std::vector<Batch> loader =
      batches_of(std::make_shared<TensorDataset>(std::vector<Tensor>{x, y}), 4);
  for (int i = 0; i < 10; ++i) trainer.train_epoch(loader);
  EXPECT_EQ(trainer.step(), 10u);
  EXPECT_LT(sse(), before);
}

}  // namespace
}  // namespace tinytorch

namespace tinytorch {
namespace {

// An optimizer made over another model's parameters steps that model: this one would train for
// epochs at a constant loss without a word.
TEST(TrainerGiven, AnOptimizerOfAnotherModelIsRefused) {
  Linear model(4, 3), other(4, 3);
  SGD optimizer(other.parameters(), 0.1f);
  testing::expect_throw_with<std::invalid_argument>(
      [&] { Trainer trainer(model, optimizer, cross_entropy); },
      "Trainer: the optimizer holds none of the model's 2 parameters (was it made with another "
      "model's parameters()?)");
  SGD own(model.parameters(), 0.1f);
  Trainer trainer(model, own, cross_entropy);  // the model's own parameters: fine
}

}  // namespace
}  // namespace tinytorch
