#include "workloads.hpp"

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <random>

namespace bench {

using namespace tinytorch;

std::vector<Workload> workloads() {
  return {
      {"mlp-digits", "MLP 64-32-10 on 8x8 digits (1437 images)", 20, 32, 0.01f, 0.0f},
      {"cnn-digits", "SimpleCNN (conv 1-8 3x3, pool, linear 72-10) on 8x8 digits", 50, 32, 0.01f,
       0.0f},
      {"lenet-fashion", "LeNet-5 on 28x28 Fashion-MNIST (first N training images)", 1, 64, 0.05f,
       0.9f},
  };
}

Data load_data(const Workload& w, std::size_t fashion_limit) {
  if (w.name == "lenet-fashion") {
    const std::string dir = "/usr/share/datasets/fashion-mnist";
    if (!std::filesystem::exists(dir)) return {};
    const LabeledImages d = load_mnist_like(dir, "train", fashion_limit);
    return {d.images, d.labels};
  }
  const DigitsSplit d = load_digits();
  return {d.train.images, d.train.labels};
}

std::vector<std::vector<std::size_t>> batch_order(std::size_t n, std::size_t batch_size,
                                                  unsigned seed) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937(seed));
  std::vector<std::vector<std::size_t>> batches;
  for (std::size_t start = 0; start < n; start += batch_size) {
    batches.emplace_back(order.begin() + static_cast<long>(start),
                         order.begin() + static_cast<long>(std::min(n, start + batch_size)));
  }
  return batches;
}

namespace {

std::shared_ptr<Module> make_model(const std::string& name) {
  if (name == "mlp-digits") {
    return std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
        std::make_shared<Flatten>(), std::make_shared<Linear>(64, 32), std::make_shared<ReLU>(),
        std::make_shared<Linear>(32, 10)});
  }
  if (name == "cnn-digits") return std::make_shared<SimpleCNN>();
  return lenet5();
}

}  // namespace

double train_tinytorch(const Workload& w, const Data& data, float* final_loss) {
  manual_seed(0);
  auto model = make_model(w.name);
  SGD optimizer(model->parameters(), w.lr, w.momentum);
  const auto batches = batch_order(data.labels.size(), w.batch_size, 1);
  double loss_sum = 0.0;
  const double start = now();
  for (int epoch = 0; epoch < w.epochs; ++epoch) {
    loss_sum = 0.0;
    for (const auto& rows : batches) {
      const Tensor x = data.images.index_select(rows), y = data.labels.index_select(rows);
      Tensor loss = cross_entropy((*model)(x), y);
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      loss_sum += loss.item();
    }
  }
  const double seconds = now() - start;
  if (final_loss) *final_loss = static_cast<float>(loss_sum / static_cast<double>(batches.size()));
  return seconds;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

}  // namespace bench
