// The end-to-end workloads of the benchmarks, what one measured run reports, and how a run
// travels from a worker process to the program that compares frameworks.
//
//   W1  mlp-digits     MLP 64-32-10 on the bundled 8×8 digits, 20 epochs, batch 32, SGD 0.01
//       cnn-digits     SimpleCNN (conv 1→8 3×3, pool 2, linear 72→10), 50 epochs, same data
//   W2  lenet-fashion  LeNet-5 on Fashion-MNIST: 60,000 images, 3 epochs, batch 64, SGD lr 0.05
//                      momentum 0.9 (the lenet5_fashion milestone's recipe)
//
// A run trains a fresh model (seed kSeed) on batches in fixed shuffled orders that both frameworks
// share, then evaluates on the test split in eval mode without a graph, in batches of 1000.
// Training time covers each batch's conversion to float32, forward, backward and update (no
// file reading, no evaluation); inference is timed over three passes of the test split after
// training, conversion included.
#pragma once

#include <chrono>
#include <cstdint>
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

/// The three workloads.
std::vector<Workload> workloads();
/// The workload called `name`; throws std::invalid_argument listing the names otherwise.
Workload find_workload(const std::string& name);

/// Images kept as bytes, as the files store them (PyTorch's datasets do the same): both
/// frameworks convert each batch to float32 (pixel / divisor) when they use it, so that the
/// dataset adds tens of MB, not hundreds, to the peak RSS either framework is measured at.
struct ByteImages {
  std::vector<std::uint8_t> pixels;  ///< [count, height, width]
  std::size_t count = 0, height = 0, width = 0;
  float divisor = 1.0f;  ///< 255 for IDX files, 16 for the digits (as tinytorch's readers)
};

struct Split {
  ByteImages images;
  tinytorch::Tensor labels;  ///< [count] class indices
};

/// Train and test splits; `train.labels` is undefined when the dataset is not installed.
struct Data {
  Split train, test;
  bool available() const { return train.labels.defined(); }
};

/// The digits split, or Fashion-MNIST (the first `fashion_limit` training images; 0 = all).
Data load_data(const Workload& w, std::size_t fashion_limit = 0);

/// Images `rows` as float32 [rows.size(), 1, height, width], pixel / divisor.
tinytorch::Tensor to_tensor(const ByteImages& images, const std::vector<std::size_t>& rows);
/// Images [begin, end) as float32 [end − begin, 1, height, width].
tinytorch::Tensor to_tensor(const ByteImages& images, std::size_t begin, std::size_t end);

/// The seed of every run: the milestones' default --seed.
constexpr std::uint64_t kSeed = 42;

/// The fixed batch orders both frameworks use, one per epoch: the orders of the milestones'
/// DataLoader (one std::mt19937_64 seeded with kSeed, a new shuffle every epoch), cut in
/// batches. With the model initialised after manual_seed(kSeed), a tinytorch run is the
/// milestone's training run.
std::vector<std::vector<std::vector<std::size_t>>> batch_orders(std::size_t n,
                                                                std::size_t batch_size, int epochs);

/// Batches a throwaway model trains on before the timed run, so that one-time set-up (thread
/// pools, JIT-compiled kernels, allocator caches) is not counted in either framework.
constexpr int kWarmupSteps = 5;

/// The batch size and number of timed passes of the inference measurement.
constexpr std::size_t kInferenceBatch = 1000;
constexpr int kInferencePasses = 3;

/// What one run measured.
struct Result {
  std::string workload, framework, config;  ///< config: threads and BLAS threads, in words
  double train_seconds = 0;
  double train_images_per_second = 0;
  double inference_images_per_second = 0;  ///< batch 1000, eval mode, no graph
  double test_accuracy = 0;                ///< on the test split, after training
  double final_loss = 0;                   ///< mean training loss of the last epoch
  double peak_rss_mb = 0;                  ///< the process's high-water mark (VmHWM)
};

/// One line, `result key=value ...`, that a parent process reads back with parse_result.
std::string format_result(const Result& r);
/// Parses a line written by format_result; false if `line` is not one.
bool parse_result(const std::string& line, Result& r);

/// Trains and evaluates a fresh tinytorch model on `data` with `threads` threads.
Result run_tinytorch(const Workload& w, const Data& data, int threads, int epochs);

/// Peak resident set size of this process so far, in MiB (VmHWM of /proc/self/status).
double peak_rss_mb();

inline double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// Median of a few measurements (the machine is shared and noisy).
double median(std::vector<double> values);

}  // namespace bench
