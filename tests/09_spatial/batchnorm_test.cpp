// Module 09: BatchNorm2d — statistics, running averages, modes, gradients and checkpoints.
#include <cmath>
#include <filesystem>

#include <tinytorch/tinytorch.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_gradcheck;
using testing::expect_near;
using testing::expect_throw_with;

TEST(BatchNormGiven, NormalisesAHandComputedChannel) {
  BatchNorm2d bn(1);
  // mean 2.5, biased variance 1.25: x̂ = (x − 2.5)/√1.25001
  const Tensor y = bn(Tensor({{{{1, 2}, {3, 4}}}}));
  expect_near(y, Tensor({{{{-1.341635f, -0.447212f}, {0.447212f, 1.341635f}}}}), 1e-5f);
  EXPECT_NEAR(bn.running_mean.data()(0), 0.25f, 1e-6f);  // 0.9·0 + 0.1·2.5
  // The running variance takes the unbiased 1.25·4/3, as torch.nn.BatchNorm2d does.
  EXPECT_NEAR(bn.running_var.data()(0), 1.0666667f, 1e-6f);  // 0.9·1 + 0.1·5/3
}

TEST(BatchNormGiven, TrainingOutputHasZeroMeanAndUnitStdPerChannel) {
  manual_seed(1);
  BatchNorm2d bn(3);
  Tensor x = Tensor::randn({8, 3, 5, 5}) * 4.0f + 7.0f;
  const Tensor y = bn(x);
  EXPECT_EQ(y.shape(), x.shape());
  const Tensor mean = y.mean({0, 2, 3});
  const Tensor std = (y - y.mean({0, 2, 3}, true)).pow(2.0f).mean({0, 2, 3}).sqrt();
  for (std::size_t c = 0; c < 3; ++c) {
    EXPECT_NEAR(mean.data()(c), 0.0f, 0.1f);
    EXPECT_NEAR(std.data()(c), 1.0f, 0.1f);
  }
}

TEST(BatchNormGiven, RunningStatisticsMoveOnlyInTraining) {
  manual_seed(2);
  BatchNorm2d bn(2);
  const Tensor x = Tensor::randn({4, 2, 3, 3}) + 5.0f;
  bn(x);
  const Tensor after_train = bn.running_mean.clone();
  EXPECT_GT(after_train.data()(0), 0.3f);
  bn.eval();
  bn(x);
  expect_near(bn.running_mean, after_train, 0.0f);
  // Eval uses the running statistics, so one sample works.
  EXPECT_EQ(bn(Tensor::randn({1, 2, 3, 3})).shape(), (Shape{1, 2, 3, 3}));
}

TEST(BatchNormGiven, EvalUsesRunningStatistics) {
  BatchNorm2d bn(1);
  bn.running_mean.data()(0) = 2.0f;
  bn.running_var.data()(0) = 4.0f;
  bn.gamma.data()(0) = 3.0f;
  bn.beta.data()(0) = 1.0f;
  bn.eval();
  // 3·(x − 2)/√(4 + 1e-5) + 1
  expect_near(bn(Tensor({{{{2, 4}}}})), Tensor({{{{1.0f, 3.999996f}}}}), 1e-5f);
}

TEST(BatchNormGiven, ParametersAndBuffersAreNamedLikePyTorch) {
  BatchNorm2d bn(4);
  ASSERT_EQ(bn.parameters().size(), 2u);
  EXPECT_EQ(bn.parameters()[0].shape(), (Shape{4}));
  const auto names = bn.state_dict();
  ASSERT_EQ(names.size(), 4u);
  EXPECT_EQ(names[0].first, "weight");
  EXPECT_EQ(names[1].first, "bias");
  EXPECT_EQ(names[2].first, "running_mean");
  EXPECT_EQ(names[3].first, "running_var");
  EXPECT_FALSE(bn.running_mean.requires_grad());
  EXPECT_EQ(bn.repr(), "BatchNorm2d(4, eps=1e-05, momentum=0.1)");
}

TEST(GradcheckGiven, BatchNorm2dTraining) {
  manual_seed(3);
  Tensor rm = Tensor::zeros({3}), rv = Tensor::ones({3});
  expect_gradcheck(
      [&](const std::vector<Tensor>& t) { return batch_norm2d(t[0], t[1], t[2], rm, rv, true); },
      {Tensor::randn({2, 3, 3, 3}, true), Tensor::randn({3}, true), Tensor::randn({3}, true)},
      1e-3f, 2e-3, 2e-2);
}

TEST(GradcheckGiven, BatchNorm2dEval) {
  manual_seed(4);
  Tensor rm = Tensor::randn({2}), rv = Tensor::rand({2}) + 0.5f;
  expect_gradcheck(
      [&](const std::vector<Tensor>& t) { return batch_norm2d(t[0], t[1], t[2], rm, rv, false); },
      {Tensor::randn({2, 2, 3, 2}, true), Tensor::randn({2}, true), Tensor::randn({2}, true)});
}

TEST(BatchNorm, CheckpointsKeepTheRunningStatistics) {
  manual_seed(5);
  auto make = [] {
    return std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
        std::make_shared<Conv2d>(1, 2, 3), std::make_shared<BatchNorm2d>(2),
        std::make_shared<Flatten>(), std::make_shared<Linear>(8, 2)});
  };
  auto model = make();
  SGD optimizer(model->parameters(), 0.1f);
  Trainer trainer(*model, optimizer, cross_entropy);
  model->train();
  (*model)(Tensor::randn({8, 1, 4, 4}));  // a forward in training mode moves the statistics
  const std::string path =
      (std::filesystem::temp_directory_path() / "tinytorch_bn_checkpoint.safetensors").string();
  trainer.save_checkpoint(path);

  auto restored = make();
  SGD restored_optimizer(restored->parameters(), 0.1f);
  Trainer restored_trainer(*restored, restored_optimizer, cross_entropy);
  restored_trainer.load_checkpoint(path);
  std::filesystem::remove(path);
  const auto& bn = dynamic_cast<const BatchNorm2d&>((*restored)[1]);
  const auto& original = dynamic_cast<const BatchNorm2d&>((*model)[1]);
  expect_near(bn.running_mean, original.running_mean, 0.0f);
  expect_near(bn.running_var, original.running_var, 0.0f);
  EXPECT_NE(bn.running_var.data()(0), 1.0f);
}

TEST(BatchNormGiven, BadInputGivesClearErrors) {
  BatchNorm2d bn(3);
  expect_throw_with<ShapeError>(
      [&] {
        bn(Tensor::zeros({2, 4, 3, 3}));
      },
      "BatchNorm2d: expected 3 channels, got input [2, 4, 3, 3]");
  expect_throw_with<ShapeError>(
      [&] {
        bn(Tensor::zeros({2, 3}));
      },
      "batch_norm2d: expected 4-D input [N, C, H, W], got [2, 3]");
  expect_throw_with<ShapeError>(
      [&] {
        bn(Tensor::zeros({1, 3, 1, 1}));
      },
      "training needs more than one value per channel");
  expect_throw_with<std::invalid_argument>([] { BatchNorm2d(0); }, "num_features must be >= 1");
}

}  // namespace
}  // namespace tinytorch
