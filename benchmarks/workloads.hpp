// The end-to-end training workloads of the benchmarks: the models the course teaches, with
// the milestones' hyper-parameters. Timings cover optimisation only (forward, backward and
// update over every batch); reading files and evaluation are excluded.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <tinytorch/tinytorch.hpp>

namespace bench {

struct Workload {
  std::string name;         ///< "mlp-digits", "cnn-digits", "lenet-fashion"
  std::string description;  ///< the model and data in words
  int epochs;
  std::size_t batch_size;
  float lr, momentum;
};

/// The three workloads; lenet-fashion is skipped (empty data) when the dataset is absent.
std::vector<Workload> workloads();

/// Training inputs, already in memory: images [N, 1, H, W] and labels [N].
struct Data {
  tinytorch::Tensor images, labels;
};

/// The digits training split, or the first `limit` Fashion-MNIST training images.
Data load_data(const Workload& w, std::size_t fashion_limit);

/// Trains a fresh tinytorch model on `data` (batches in a fixed shuffled order) and returns
/// the seconds spent; `final_loss` receives the mean loss of the last epoch.
double train_tinytorch(const Workload& w, const Data& data, float* final_loss = nullptr);

/// The fixed batch order both frameworks use: shuffled once with `seed`, then cut in batches.
std::vector<std::vector<std::size_t>> batch_order(std::size_t n, std::size_t batch_size,
                                                  unsigned seed);

inline double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// Median of a few timings (the machine is shared and noisy).
double median(std::vector<double> values);

}  // namespace bench
