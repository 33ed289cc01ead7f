// Distributed — gradient averaging. Fast mode (GradientAverager) against one process training
// on the whole batch; deterministic mode (DeterministicDataParallel): equal on every rank,
// its errors, and (the AcrossWorlds tests, run by compare_np.sh) a record of the weights that
// must be the same bit for bit at every process and thread count.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <tinytorch/core/activations.hpp>
#include <tinytorch/core/batchnorm.hpp>
#include <tinytorch/core/layers.hpp>
#include <tinytorch/core/losses.hpp>
#include <tinytorch/core/models.hpp>
#include <tinytorch/core/optimizers.hpp>
#include <tinytorch/data/datasets.hpp>
#include <tinytorch/distributed/broadcast.hpp>
#include <tinytorch/distributed/data_parallel.hpp>

#include "distributed/world.hpp"
#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_throw_with;
using testing::world;

const char* const kFashion = "/usr/share/datasets/fashion-mnist";

// The first 256 digits of the training split, loaded once.
const LabeledImages& digits() {
  static const LabeledImages all = load_digits().train;
  static const LabeledImages first{all.images.slice(0, 256), all.labels.slice(0, 256)};
  return first;
}

// The largest relative difference between two models' parameters: max|a − b| / max|b|, per
// tensor.
double max_relative_difference(const Module& a, const Module& b) {
  const auto pa = a.parameters(), pb = b.parameters();
  double worst = 0.0;
  for (std::size_t t = 0; t < pa.size(); ++t) {
    const std::vector<float> va = pa[t].to_vector(), vb = pb[t].to_vector();
    double diff = 0.0, scale = 0.0;
    for (std::size_t i = 0; i < va.size(); ++i) {
      diff = std::max(diff, std::abs(double(va[i]) - vb[i]));
      scale = std::max(scale, std::abs(double(vb[i])));
    }
    worst = std::max(worst, diff / std::max(scale, 1e-12));
  }
  return worst;
}

// ---- fast mode ----------------------------------------------------------------------------

TEST(GradientAverager, MatchesOneProcessTrainingOnTheWholeBatch) {
  const std::size_t world_size = world().world_size(), rank = world().rank(), batch = 32;
  manual_seed(11);
  SimpleCNN model, reference;
  for (std::size_t i = 0; i < model.parameters().size(); ++i) {
    reference.parameters()[i].data() = model.parameters()[i].data();
  }
  broadcast_parameters(model, world());
  SGD optimizer(model.parameters(), 0.1f, 0.9f),
      reference_optimizer(reference.parameters(), 0.1f, 0.9f);
  // Small buckets: several allreduces in flight during backward.
  GradientAverager averager(model.parameters(), world(),
                            GradientAveragerOptions().bucket_bytes(512));
  ASSERT_GT(averager.buckets().size(), 1u);
  EXPECT_EQ(averager.buckets().front().front(), model.parameters().size() - 1);  // last first
  const std::size_t steps = 4, mine = batch / world_size;
  for (std::size_t step = 0; step < steps; ++step) {
    const Tensor x = digits().images.slice(step * batch, (step + 1) * batch);
    const Tensor y = digits().labels.slice(step * batch, (step + 1) * batch);
    const Tensor loss = cross_entropy(model(x.slice(rank * mine, (rank + 1) * mine)),
                                      y.slice(rank * mine, (rank + 1) * mine));
    optimizer.zero_grad();
    loss.backward();
    averager.finish();
    optimizer.step();

    const Tensor whole = cross_entropy(reference(x), y);
    reference_optimizer.zero_grad();
    whole.backward();
    reference_optimizer.step();
    EXPECT_NEAR(world().all_reduce_mean(loss.item()), whole.item(), 1e-5);
  }
  EXPECT_LT(max_relative_difference(model, reference), 1e-5);
  const CommStats& stats = averager.stats();
  EXPECT_EQ(stats.steps, steps);
  EXPECT_EQ(stats.allreduces, steps * averager.buckets().size());
  EXPECT_EQ(stats.bytes, steps * model.parameter_count() * sizeof(float));
  EXPECT_GE(stats.hidden_share(), 0.0);
  EXPECT_LE(stats.hidden_share(), 1.0);
}

TEST(GradientAverager, ParametersWithoutGradientCountAsZerosAndNobodyWaits) {
  const int rank = world().rank();
  const double w = world().world_size();
  Tensor a({1, 1}, true), b({1, 1}, true), unused({1}, true);
  // One parameter per bucket, the unused one first in line (it is the last parameter).
  GradientAverager averager({a, b, unused}, world(), GradientAveragerOptions().bucket_bytes(1));
  ASSERT_EQ(averager.buckets().size(), 3u);
  Tensor loss = (a * static_cast<float>(rank + 1)).sum();
  if (rank == 0) loss = loss + (b * 2.0f).sum();  // only rank 0 gives b a gradient
  loss.backward();
  averager.finish();
  EXPECT_EQ(a.grad().to_vector(), std::vector<float>(2, static_cast<float>((w + 1) / 2)));
  EXPECT_EQ(b.grad().to_vector(), std::vector<float>(2, static_cast<float>(2 / w)));
  EXPECT_EQ(unused.grad().to_vector(), std::vector<float>{0.0f});
}

TEST(GradientAverager, ASecondBackwardBeforeFinishIsAnError) {
  Tensor a({1, 2}, true);
  GradientAverager averager({a}, world());
  (a * 2.0f).sum().backward();
  expect_throw_with<std::logic_error>(
      [&] { (a * 2.0f).sum().backward(); },
      "GradientAverager: parameter 0 got a second gradient before finish(); call finish() after "
      "every backward");
  averager.finish();  // every rank is in the same state: the step completes
  // The first backward's gradient was on its way already; that is what was averaged.
  EXPECT_EQ(a.grad().to_vector(), (std::vector<float>{2, 2}));
}

TEST(GradientAverager, BadArgumentsAreRefused) {
  Tensor a({1}, true);
  expect_throw_with<std::invalid_argument>([] { GradientAverager({}, world()); },
                                           "GradientAverager: got an empty parameter list");
  expect_throw_with<std::invalid_argument>(
      [&] { GradientAverager({a}, world(), GradientAveragerOptions().bucket_bytes(0)); },
      "GradientAverager: bucket_bytes must be positive, got 0");
  expect_throw_with<std::invalid_argument>(
      [&] {
        GradientAverager({a, a}, world());
      },
      "GradientAverager: parameter 1 is the same tensor as parameter 0");
}

// ---- deterministic mode -------------------------------------------------------------------

// Conv → BatchNorm → ReLU → Dropout → Linear on [N, 1, 8, 8]: buffers and random draws.
std::shared_ptr<Sequential> batch_norm_net() {
  auto net = std::make_shared<Sequential>();
  net->push_back(std::make_shared<Conv2d>(1, 4, 3));
  net->push_back(std::make_shared<BatchNorm2d>(4));
  net->push_back(std::make_shared<ReLU>());
  net->push_back(std::make_shared<Dropout>(0.25f));
  net->push_back(std::make_shared<Flatten>());
  net->push_back(std::make_shared<Linear>(4 * 6 * 6, 10));
  return net;
}

// Trains `model` from seed 5 with `shards` shards over `steps` global batches of `batch` rows of
// `data`; returns one line per step (the loss as a hex float) and the final weights' hash.
std::string train_deterministic(Module& model, const LabeledImages& data, std::size_t batch,
                                std::size_t steps, std::size_t shards) {
  broadcast_parameters(model, world());
  SGD optimizer(model.parameters(), 0.05f, 0.9f);
  DeterministicDataParallel ddp(model, world(), shards, /*seed=*/5);
  std::string record;
  for (std::size_t step = 0; step < steps; ++step) {
    const double loss =
        ddp.step(data.images.slice(step * batch, (step + 1) * batch),
                 data.labels.slice(step * batch, (step + 1) * batch), cross_entropy, optimizer);
    char line[64];
    std::snprintf(line, sizeof line, "step %zu loss %a\n", step, loss);
    record += line;
  }
  return record + fmt::format("weights and buffers {:016x}\n", testing::state_hash(model));
}

// The record, written by rank 0 into $TINYTORCH_DETERMINISM_OUT/<name>.txt for compare_np.sh
// to hold against the other process and thread counts' records.
void write_record(const std::string& name, const std::string& record) {
  const char* folder = std::getenv("TINYTORCH_DETERMINISM_OUT");
  if (!folder || world().rank() != 0) return;
  std::ofstream(std::string(folder) + "/" + name + ".txt") << record;
}

void use_test_threads() {
  const char* threads = std::getenv("TINYTORCH_TEST_THREADS");
  set_num_threads(threads ? std::atoi(threads) : 1);
}

TEST(DeterministicDataParallel, EveryRankEndsWithTheSameWeightsAndLoss) {
  manual_seed(21 + world().rank());  // different starting weights: broadcast makes them equal
  SimpleCNN model;
  const std::string record = train_deterministic(model, digits(), 32, 2, 4);
  const std::vector<std::uint64_t> hashes = testing::all_gather(testing::state_hash(model));
  for (std::uint64_t h : hashes) EXPECT_EQ(h, hashes[0]);
  EXPECT_EQ(std::hash<std::string>()(record),
            testing::all_gather(std::hash<std::string>()(record))[0]);
}

TEST(DeterministicDataParallel, GradientsAreTheMeanOfTheShardsGradients) {
  // A linear model whose gradient is known: out = x·w for rows x = [i, 1], i = 0..7, and a
  // shard's loss is the mean of its outputs.
  Tensor w({{1.0f}, {2.0f}}, true);
  struct Affine : Module {
    Tensor w;
    explicit Affine(const Tensor& weight) { w = register_parameter("w", weight); }
    Tensor forward(const Tensor& x) override { return x.matmul(w); }
    std::string name() const override { return "Affine"; }
  } model(w);
  std::vector<float> rows;
  for (int i = 0; i < 8; ++i) rows.insert(rows.end(), {static_cast<float>(i), 1.0f});
  const Tensor x = Tensor::from(rows, {8, 2}), targets = Tensor::zeros({8});
  DeterministicDataParallel ddp(model, world(), 4);
  const double loss = ddp.compute_gradients(
      x, targets, [](const Tensor& out, const Tensor&) { return out.mean(); });
  // Shard s holds rows 2s, 2s+1: loss 2s + 0.5 + 2, gradient [2s + 0.5, 1]; their means are
  // 5.5 and [3.5, 1], exact in float.
  EXPECT_DOUBLE_EQ(loss, 5.5);
  EXPECT_EQ(w.grad().to_vector(), (std::vector<float>{3.5f, 1.0f}));
}

TEST(DeterministicDataParallel, ShardsMustSplitOverTheRanksAndTheBatchOverTheShards) {
  SimpleCNN model;
  const std::size_t w = world().world_size();
  expect_throw_with<std::invalid_argument>(
      [&] { DeterministicDataParallel(model, world(), 0); },
      fmt::format("DeterministicDataParallel: 0 shards cannot be split evenly over {} ranks", w));
  if (w > 1) {
    expect_throw_with<std::invalid_argument>(
        [&] { DeterministicDataParallel(model, world(), w + 1); },
        fmt::format("DeterministicDataParallel: {} shards cannot be split evenly over {} ranks",
                    w + 1, w));
  }
  DeterministicDataParallel ddp(model, world(), 4);
  expect_throw_with<std::invalid_argument>(
      [&] {
        ddp.compute_gradients(digits().images.slice(0, 30), digits().labels.slice(0, 30),
                              cross_entropy);
      },
      "DeterministicDataParallel: a batch of 30 examples cannot be cut into 4 equal shards");
  expect_throw_with<ShapeError>(
      [&] {
        ddp.compute_gradients(digits().images.slice(0, 8), digits().labels.slice(0, 4),
                              cross_entropy);
      },
      "DeterministicDataParallel: inputs have 8 rows, targets 4");
}

// ---- the same weights at every process count: records for compare_np.sh -----------------

TEST(DeterministicAcrossWorlds, SimpleCNN) {
  use_test_threads();
  manual_seed(1);
  SimpleCNN model;
  write_record("simple_cnn", train_deterministic(model, digits(), 64, 4, 4));
}

TEST(DeterministicAcrossWorlds, BatchNormAndDropout) {
  use_test_threads();
  manual_seed(2);
  auto model = batch_norm_net();
  write_record("batch_norm_dropout", train_deterministic(*model, digits(), 32, 4, 4));
}

TEST(DeterministicAcrossWorlds, LeNet5OnFashionMnist) {
  std::ifstream probe(std::string(kFashion) + "/train-images-idx3-ubyte.gz");
  if (!probe) GTEST_SKIP() << "no Fashion-MNIST in " << kFashion << " (dataset-fashion-mnist)";
  use_test_threads();
  static const LabeledImages fashion = load_mnist_like(kFashion, "train", 192);
  manual_seed(3);
  auto model = lenet5();
  write_record("lenet5_fashion", train_deterministic(*model, fashion, 64, 3, 4));
}

}  // namespace
}  // namespace tinytorch
