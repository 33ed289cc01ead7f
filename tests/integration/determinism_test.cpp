// Integration: training is deterministic — the same seed gives the same loss curve bit for
// bit, at a fixed thread count and across thread counts (kernels split their work the same
// way for every count and sum partial results in a fixed order; see detail/threads.hpp).
#include <cstring>

#include <tinytorch/tinytorch.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

struct TrainingRun {
  std::vector<float> losses;
  std::vector<float> parameters;  // every parameter, flattened, after the last step
};

// LeNet-5 (convolutions, pooling, Linear and ReLU: every batch kernel) for a few SGD steps
// with momentum on fixed random images, batches large enough to be cut into several tasks.
TrainingRun train_lenet(int threads) {
  set_num_threads(threads);
  manual_seed(3);
  const Tensor images = Tensor::rand({96, 1, 28, 28});
  Tensor labels = Tensor::zeros({96});
  for (std::size_t i = 0; i < 96; ++i) labels.data()(i) = static_cast<float>((i * 7) % 10);
  auto model = lenet5();
  SGD optimizer(model->parameters(), 0.05f, 0.9f);
  TrainingRun run;
  for (std::size_t step = 0; step < 6; ++step) {
    const std::size_t start = (step % 3) * 32;
    Tensor loss =
        cross_entropy((*model)(images.slice(start, start + 32)), labels.slice(start, start + 32));
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    run.losses.push_back(loss.item());
  }
  for (const Tensor& p : model->parameters()) {
    run.parameters.insert(run.parameters.end(), p.data().begin(), p.data().end());
  }
  set_num_threads(1);
  return run;
}

// Bitwise equality: EXPECT_EQ on floats would also accept -0 == 0.
void expect_identical(const TrainingRun& a, const TrainingRun& b) {
  ASSERT_EQ(a.losses.size(), b.losses.size());
  ASSERT_EQ(a.parameters.size(), b.parameters.size());
  EXPECT_EQ(std::memcmp(a.losses.data(), b.losses.data(), a.losses.size() * sizeof(float)), 0)
      << "loss curves differ; first losses " << a.losses.front() << " vs " << b.losses.front();
  EXPECT_EQ(
      std::memcmp(a.parameters.data(), b.parameters.data(), a.parameters.size() * sizeof(float)), 0)
      << "parameters differ after training";
}

TEST(Determinism, SameSeedSameLossCurveOnOneThread) {
  expect_identical(train_lenet(1), train_lenet(1));
}

TEST(Determinism, SameSeedSameLossCurveOnTwoThreads) {
  expect_identical(train_lenet(2), train_lenet(2));
}

TEST(Determinism, OneTwoAndThreeThreadsGiveIdenticalResults) {
  const TrainingRun one = train_lenet(1);
  EXPECT_LT(one.losses[3], one.losses[0]);  // it did train: batch 0 again, three steps later
  expect_identical(one, train_lenet(2));
  expect_identical(one, train_lenet(3));
}

}  // namespace
}  // namespace tinytorch
