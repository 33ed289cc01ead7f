// tinytorch against PyTorch's C++ frontend (Debian's libtorch) on the same models, data,
// batch order and hyper-parameters. Runs alternate between the two frameworks so that noise
// on a shared machine hits both alike; medians and their ratio are printed.
//
//   ./build/benchmarks/compare_libtorch --repeats 5 --threads 1
#include <torch/torch.h>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "workloads.hpp"

namespace {

torch::nn::Sequential torch_model(const std::string& name) {
  namespace nn = torch::nn;
  if (name == "mlp-digits") {
    return nn::Sequential(nn::Flatten(), nn::Linear(64, 32), nn::ReLU(), nn::Linear(32, 10));
  }
  if (name == "cnn-digits") {
    return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 8, 3)), nn::ReLU(),
                          nn::MaxPool2d(nn::MaxPool2dOptions(2)), nn::Flatten(),
                          nn::Linear(72, 10));
  }
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 6, 5).padding(2)), nn::ReLU(),
                        nn::MaxPool2d(nn::MaxPool2dOptions(2)),
                        nn::Conv2d(nn::Conv2dOptions(6, 16, 5)), nn::ReLU(),
                        nn::MaxPool2d(nn::MaxPool2dOptions(2)), nn::Flatten(), nn::Linear(400, 120),
                        nn::ReLU(), nn::Linear(120, 84), nn::ReLU(), nn::Linear(84, 10));
}

torch::Tensor to_torch(const tinytorch::Tensor& t) {
  const tinytorch::Shape dims = t.shape();
  const std::vector<int64_t> shape(dims.begin(), dims.end());
  return torch::from_blob(const_cast<float*>(t.data().data()), shape, torch::kFloat32).clone();
}

double train_torch(const bench::Workload& w, const torch::Tensor& images,
                   const torch::Tensor& labels, float* final_loss) {
  torch::manual_seed(0);
  auto model = torch_model(w.name);
  torch::optim::SGD optimizer(model->parameters(),
                              torch::optim::SGDOptions(w.lr).momentum(w.momentum));
  std::vector<torch::Tensor> index;
  for (const auto& rows :
       bench::batch_order(static_cast<std::size_t>(labels.size(0)), w.batch_size, 1)) {
    std::vector<int64_t> r(rows.begin(), rows.end());
    index.push_back(torch::tensor(r, torch::kLong));
  }
  double loss_sum = 0.0;
  const double start = bench::now();
  for (int epoch = 0; epoch < w.epochs; ++epoch) {
    loss_sum = 0.0;
    for (const torch::Tensor& rows : index) {
      const torch::Tensor x = images.index_select(0, rows), y = labels.index_select(0, rows);
      torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(x), y);
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      loss_sum += loss.item<float>();
    }
  }
  const double seconds = bench::now() - start;
  if (final_loss) *final_loss = static_cast<float>(loss_sum / static_cast<double>(index.size()));
  return seconds;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tinytorch vs libtorch: end-to-end training time on the course's models"};
  int repeats = 5, threads = 1;
  std::size_t fashion_limit = 10000;
  app.add_option("--repeats", repeats, "alternating timed runs per framework")
      ->capture_default_str();
  app.add_option("--threads", threads, "threads for both frameworks")->capture_default_str();
  app.add_option("--fashion-limit", fashion_limit, "Fashion-MNIST training images")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  tinytorch::set_num_threads(threads);
  torch::set_num_threads(threads);

  fmt::print("libtorch {}, {} thread(s), median of {} alternating runs\n", TORCH_VERSION, threads,
             repeats);
  fmt::print("{:<14} {:>14} {:>14} {:>16} {:>12} {:>12}\n", "workload", "tinytorch s", "libtorch s",
             "libtorch/tiny", "tiny loss", "torch loss");
  for (const bench::Workload& w : bench::workloads()) {
    const bench::Data data = bench::load_data(w, fashion_limit);
    if (!data.labels.defined()) {
      fmt::print("{:<14} skipped: dataset not installed\n", w.name);
      continue;
    }
    const torch::Tensor images = to_torch(data.images),
                        labels = to_torch(data.labels).to(torch::kLong);
    std::vector<double> tiny, ref;
    float tiny_loss = 0.0f, torch_loss = 0.0f;
    for (int r = 0; r < repeats; ++r) {
      tiny.push_back(bench::train_tinytorch(w, data, &tiny_loss));
      ref.push_back(train_torch(w, images, labels, &torch_loss));
    }
    const double t = bench::median(tiny), p = bench::median(ref);
    fmt::print("{:<14} {:>14.3f} {:>14.3f} {:>15.2f}x {:>12.4f} {:>12.4f}\n", w.name, t, p, p / t,
               tiny_loss, torch_loss);
  }
  return 0;
}
