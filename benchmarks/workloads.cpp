#include "workloads.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <tinytorch/detail/blas.hpp>
#include <tinytorch/detail/rows.hpp>
#include <tinytorch/detail/small_gemm.hpp>
#include <zlib.h>

namespace bench {

using namespace tinytorch;

std::vector<Workload> workloads() {
  return {
      {"mlp-digits", "MLP 64-32-10, 1437 digits, batch 32, 20 epochs", 20, 32, 0.01f, 0.0f},
      {"cnn-digits", "SimpleCNN (milestone 04), 1437 digits, batch 32, 50 epochs", 50, 32, 0.01f,
       0.0f},
      {"lenet-fashion",
       "LeNet-5, 60 000 Fashion-MNIST images, batch 64, 3 epochs, SGD 0.05 momentum 0.9", 3, 64,
       0.05f, 0.9f},
  };
}

Workload find_workload(const std::string& name) {
  std::vector<std::string> names;
  for (const Workload& w : workloads()) {
    if (w.name == name) return w;
    names.push_back(w.name);
  }
  throw std::invalid_argument(
      fmt::format("unknown workload '{}'; expected one of {}", name, fmt::join(names, ", ")));
}

// ---- data ----------------------------------------------------------------------------------

namespace {

std::uint32_t read_be32(gzFile f, const std::string& path) {
  unsigned char b[4];
  if (gzread(f, b, 4) != 4) throw std::runtime_error("truncated IDX header in " + path);
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
         b[3];
}

// The bytes of an IDX file (MNIST layout, gzip): magic, dims, then one byte per value.
// tinytorch's own read_idx returns float32; the benchmarks keep the bytes (see ByteImages).
std::vector<std::uint8_t> read_idx_bytes(const std::string& path, std::vector<std::size_t>& dims,
                                         std::size_t limit) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open " + path);
  const std::uint32_t magic = read_be32(f, path);
  const std::size_t rank = magic & 0xff;
  if ((magic >> 8) != 0x08 || rank < 1 || rank > 3) {
    gzclose(f);
    throw std::runtime_error("not an IDX byte file: " + path);
  }
  dims.clear();
  for (std::size_t i = 0; i < rank; ++i) dims.push_back(read_be32(f, path));
  if (limit > 0) dims[0] = std::min(dims[0], limit);
  std::size_t count = 1;
  for (std::size_t d : dims) count *= d;
  std::vector<std::uint8_t> bytes(count);
  const int got = gzread(f, bytes.data(), static_cast<unsigned>(count));
  gzclose(f);
  if (got < 0 || static_cast<std::size_t>(got) != count) {
    throw std::runtime_error("truncated IDX data in " + path);
  }
  return bytes;
}

Split read_fashion(const std::string& dir, const std::string& prefix, std::size_t limit) {
  Split split;
  std::vector<std::size_t> dims;
  split.images.pixels = read_idx_bytes(dir + "/" + prefix + "-images-idx3-ubyte.gz", dims, limit);
  split.images.count = dims[0];
  split.images.height = dims[1];
  split.images.width = dims[2];
  split.images.divisor = 255.0f;
  const std::vector<std::uint8_t> labels =
      read_idx_bytes(dir + "/" + prefix + "-labels-idx1-ubyte.gz", dims, limit);
  Array y = Array::from_shape({labels.size()});
  std::copy(labels.begin(), labels.end(), y.data());
  split.labels = Tensor(std::move(y));
  return split;
}

// The digits come as floats in steps of 1/16 from tinytorch's reader: back to bytes.
Split digits_split(const LabeledImages& d) {
  Split split;
  split.images.count = d.images.dim(0);
  split.images.height = d.images.dim(2);
  split.images.width = d.images.dim(3);
  split.images.divisor = 16.0f;
  for (float v : d.images.data()) {
    split.images.pixels.push_back(static_cast<std::uint8_t>(std::lround(v * 16.0f)));
  }
  split.labels = d.labels;
  return split;
}

}  // namespace

Data load_data(const Workload& w, std::size_t fashion_limit) {
  if (w.name == "lenet-fashion") {
    const std::string dir = "/usr/share/datasets/fashion-mnist";
    if (!std::filesystem::exists(dir + "/train-images-idx3-ubyte.gz")) return {};
    return {read_fashion(dir, "train", fashion_limit), read_fashion(dir, "t10k", 0)};
  }
  const DigitsSplit d = load_digits();
  return {digits_split(d.train), digits_split(d.test)};
}

Tensor to_tensor(const ByteImages& images, const std::vector<std::size_t>& rows) {
  const std::size_t pixels = images.height * images.width;
  Array x = Array::from_shape({rows.size(), 1, images.height, images.width});
  float* out = x.data();
  for (std::size_t r : rows) {
    const std::uint8_t* in = images.pixels.data() + r * pixels;
    for (std::size_t i = 0; i < pixels; ++i) *out++ = static_cast<float>(in[i]) / images.divisor;
  }
  return Tensor(std::move(x));
}

Tensor to_tensor(const ByteImages& images, std::size_t begin, std::size_t end) {
  std::vector<std::size_t> rows(end - begin);
  std::iota(rows.begin(), rows.end(), begin);
  return to_tensor(images, rows);
}

std::vector<std::vector<std::vector<std::size_t>>> batch_orders(std::size_t n,
                                                                std::size_t batch_size,
                                                                int epochs) {
  std::vector<std::vector<std::vector<std::size_t>>> orders;
  std::mt19937_64 generator(kSeed);  // as DataLoaderOptions(b).shuffle(true).seed(kSeed)
  for (int epoch = 0; epoch < epochs; ++epoch) {
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), generator);
    std::vector<std::vector<std::size_t>> batches;
    for (std::size_t start = 0; start < n; start += batch_size) {
      batches.emplace_back(order.begin() + static_cast<long>(start),
                           order.begin() + static_cast<long>(std::min(n, start + batch_size)));
    }
    orders.push_back(std::move(batches));
  }
  return orders;
}

// ---- results as one line ------------------------------------------------------------------

std::string format_result(const Result& r) {
  return fmt::format(
      "result workload={} framework={} config={} train_s={:.4f} train_images_per_s={:.1f} "
      "inference_images_per_s={:.1f} test_accuracy={:.5f} final_loss={:.5f} peak_rss_mb={:.1f}",
      r.workload, r.framework, r.config, r.train_seconds, r.train_images_per_second,
      r.inference_images_per_second, r.test_accuracy, r.final_loss, r.peak_rss_mb);
}

bool parse_result(const std::string& line, Result& r) {
  std::istringstream in(line);
  std::string word;
  if (!(in >> word) || word != "result") return false;
  while (in >> word) {
    const auto eq = word.find('=');
    if (eq == std::string::npos) return false;
    const std::string key = word.substr(0, eq), value = word.substr(eq + 1);
    if (key == "workload")
      r.workload = value;
    else if (key == "framework")
      r.framework = value;
    else if (key == "config")
      r.config = value;
    else if (key == "train_s")
      r.train_seconds = std::stod(value);
    else if (key == "train_images_per_s")
      r.train_images_per_second = std::stod(value);
    else if (key == "inference_images_per_s")
      r.inference_images_per_second = std::stod(value);
    else if (key == "test_accuracy")
      r.test_accuracy = std::stod(value);
    else if (key == "final_loss")
      r.final_loss = std::stod(value);
    else if (key == "peak_rss_mb")
      r.peak_rss_mb = std::stod(value);
  }
  return true;
}

// ---- the tinytorch run ----------------------------------------------------------------------

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

// Trains for `epochs` epochs over the fixed batch orders (the first `max_steps` batches only,
// when given); returns the seconds spent and the mean loss of the last epoch.
std::pair<double, double> train(Module& model, const Workload& w, const Data& data, int epochs,
                                std::size_t max_steps = 0) {
  SGD optimizer(model.parameters(), w.lr, w.momentum);
  const auto orders = batch_orders(data.train.images.count, w.batch_size, epochs);
  double loss_sum = 0.0;
  std::size_t steps = 0;
  const double start = now();
  for (const auto& batches : orders) {
    loss_sum = 0.0;
    for (const auto& rows : batches) {
      const Tensor x = to_tensor(data.train.images, rows);
      const Tensor y = data.train.labels.index_select(rows);
      Tensor loss = cross_entropy(model(x), y);
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      loss_sum += loss.item();
      if (++steps == max_steps) return {now() - start, 0.0};
    }
  }
  return {now() - start, loss_sum / static_cast<double>(orders.back().size())};
}

// Test accuracy (first pass), then images/s over kInferencePasses timed passes.
std::pair<double, double> evaluate(Module& model, const Data& data) {
  NoGradGuard no_grad;
  model.eval();
  const std::size_t n = data.test.images.count;
  double correct = 0.0;
  for (std::size_t start = 0; start < n; start += kInferenceBatch) {
    const std::size_t end = std::min(n, start + kInferenceBatch);
    const Tensor predicted = model(to_tensor(data.test.images, start, end)).argmax(1);
    for (std::size_t i = 0; i < predicted.size(); ++i) {
      correct += predicted.data().data()[i] == data.test.labels.data().data()[start + i];
    }
  }
  const double start_time = now();
  for (int pass = 0; pass < kInferencePasses; ++pass) {
    for (std::size_t start = 0; start < n; start += kInferenceBatch) {
      model(to_tensor(data.test.images, start, std::min(n, start + kInferenceBatch)));
    }
  }
  const double seconds = now() - start_time;
  return {correct / static_cast<double>(n), kInferencePasses * static_cast<double>(n) / seconds};
}

}  // namespace

Result run_tinytorch(const Workload& w, const Data& data, int threads, int epochs) {
  set_num_threads(threads);
  train(*make_model(w.name), w, data, 1, kWarmupSteps);
  manual_seed(kSeed);
  const std::shared_ptr<Module> model = make_model(w.name);
  Result r;
  r.workload = w.name;
  r.framework = "tinytorch";
  r.config = fmt::format("threads={},kernels={},products={},rows={}", threads,
                         tinytorch::detail::blas_kernels(), tinytorch::detail::gemm_kernel(),
                         tinytorch::detail::rows_kernel());
  const auto [seconds, loss] = train(*model, w, data, epochs);
  r.train_seconds = seconds;
  r.final_loss = loss;
  r.train_images_per_second = static_cast<double>(data.train.images.count) * epochs / seconds;
  const auto [accuracy, images_per_second] = evaluate(*model, data);
  r.test_accuracy = accuracy;
  r.inference_images_per_second = images_per_second;
  r.peak_rss_mb = peak_rss_mb();
  return r;
}

double peak_rss_mb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // kB
  }
  return 0.0;
}

double median(std::vector<double> values) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

}  // namespace bench
