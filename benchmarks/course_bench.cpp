// The systems-analysis figures of the course guides (docs/modules/NN_name.md): for each
// module, what its code costs in time and memory on this machine. One thread, medians.
//
//   ./build/benchmarks/course_bench              every module
//   ./build/benchmarks/course_bench --module 09  one module
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <tinytorch/tinytorch.hpp>

using namespace tinytorch;

namespace {

// Median seconds of `fn` over `repeats` runs after one warm-up run.
double seconds(const std::function<void()>& fn, int repeats = 7) {
  fn();
  std::vector<double> times;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    times.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

std::string human_time(double s) {
  if (s >= 1.0) return fmt::format("{:.2f} s", s);
  if (s >= 1e-3) return fmt::format("{:.2f} ms", s * 1e3);
  return fmt::format("{:.2f} µs", s * 1e6);
}

std::string human_bytes(double bytes) {
  if (bytes >= 1 << 20) return fmt::format("{:.1f} MiB", bytes / (1 << 20));
  if (bytes >= 1 << 10) return fmt::format("{:.1f} KiB", bytes / (1 << 10));
  return fmt::format("{:.0f} B", bytes);
}

void heading(const std::string& title) {
  fmt::print("\n## {}\n\n", title);
}

void row(const std::string& what, const std::string& value) {
  fmt::print("  {:<58} {}\n", what, value);
}

// The course's 2-D matmul: one dot product per output element, in plain loops.
Array matmul_loops(const Array& a, const Array& b) {
  const std::size_t n = a.shape()[0], k = a.shape()[1], m = b.shape()[1];
  Array c = Array::from_shape({n, m});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < m; ++j) {
      float total = 0.0f;
      for (std::size_t t = 0; t < k; ++t) total += a.data()[i * k + t] * b.data()[t * m + j];
      c.data()[i * m + j] = total;
    }
  return c;
}

void module01() {
  heading("01 tensor");
  const Tensor big = Tensor::randn({1000, 1000});
  row("memory of a [1000, 1000] float32 tensor", human_bytes(4.0 * big.size()));
  const Tensor row_vec = Tensor::randn({1000});
  const double add_same = seconds([&] { (void)(big + big); });
  const double add_bcast = seconds([&] { (void)(big + row_vec); });
  row("a + b, both [1000, 1000]", human_time(add_same));
  row("a + b, b [1000] broadcast over the rows", human_time(add_bcast));
  row("element-wise add throughput (same shapes)",
      fmt::format("{:.2f} GB/s moved", 3.0 * 4e6 / add_same / 1e9));
  for (std::size_t n : {64, 256}) {
    const Tensor a = Tensor::randn({n, n}), b = Tensor::randn({n, n});
    const double loops = seconds([&] { (void)matmul_loops(a.data(), b.data()); }, 3);
    const double blas = seconds([&] { (void)matmul(a, b); });
    const double flops = 2.0 * n * n * n;
    row(fmt::format("matmul {0}x{0}: explicit loops", n),
        fmt::format("{} ({:.2f} GFLOP/s)", human_time(loops), flops / loops / 1e9));
    row(fmt::format("matmul {0}x{0}: sgemm", n),
        fmt::format("{} ({:.1f} GFLOP/s, {:.0f}x the loops)", human_time(blas), flops / blas / 1e9,
                    loops / blas));
  }
}

void module02() {
  heading("02 activations");
  const Tensor x = Tensor::randn({1000, 1000});
  using Activation = std::function<Tensor(const Tensor&)>;
  const std::vector<std::pair<std::string, Activation>> acts = {
      {"relu", [](const Tensor& t) { return relu(t); }},
      {"sigmoid", [](const Tensor& t) { return sigmoid(t); }},
      {"tanh", [](const Tensor& t) { return tinytorch::tanh(t); }},
      {"gelu", [](const Tensor& t) { return gelu(t); }},
      {"softmax (rows of 1000)", [](const Tensor& t) { return softmax(t, -1); }}};
  for (const auto& [name, fn] : acts) {
    const double s = seconds([&] { (void)fn(x); });
    row(name + " over 1M elements",
        fmt::format("{} ({:.2f} ns/element)", human_time(s), s * 1e9 / 1e6));
  }
}

void module03() {
  heading("03 layers");
  Linear layer(784, 256);
  row("Linear(784, 256) parameters",
      fmt::format("{} ({})", layer.parameter_count(), human_bytes(4.0 * layer.parameter_count())));
  const Tensor x = Tensor::randn({64, 784});
  NoGradGuard no_grad;
  const double s = seconds([&] { (void)layer(x); });
  const double flops = 2.0 * 64 * 784 * 256;
  row("forward of a batch of 64: multiply-adds 64·784·256",
      fmt::format("{:.1f} M in {} ({:.1f} GFLOP/s)", flops / 2e6, human_time(s), flops / s / 1e9));
}

void module04() {
  heading("04 losses");
  const Tensor logits = Tensor::randn({256, 10});
  Tensor labels = Tensor::zeros({256});
  for (std::size_t i = 0; i < 256; ++i) labels.data()(i) = static_cast<float>(i % 10);
  const double fused = seconds([&] { (void)cross_entropy(logits, labels); });
  const double unfused = seconds([&] {
    const Tensor lp = log_softmax(logits, -1);
    double total = 0.0;
    for (std::size_t i = 0; i < 256; ++i) total -= lp.data()(i, i % 10);
    (void)total;
  });
  row("cross-entropy of [256, 10], fused", human_time(fused));
  row("log_softmax, then pick the labels' entries", human_time(unfused));
  const Tensor huge({{1000, 0, -1000}});
  row("cross-entropy of logits [1000, 0, -1000], label 2",
      fmt::format("{:.1f} (finite: the max is subtracted first)",
                  cross_entropy(huge, Tensor({2})).item()));
}

void module05() {
  heading("05 autograd");
  manual_seed(0);
  Sequential mlp({std::make_shared<Linear>(64, 32), std::make_shared<ReLU>(),
                  std::make_shared<Linear>(32, 10)});
  const Tensor x = Tensor::randn({32, 64});
  Tensor y = Tensor::zeros({32});
  const double forward = seconds([&] {
    NoGradGuard g;
    (void)cross_entropy(mlp(x), y);
  });
  const double both = seconds([&] {
    mlp.zero_grad();
    cross_entropy(mlp(x), y).backward();
  });
  row("MLP 64-32-10, batch 32: forward without a graph", human_time(forward));
  row("forward with the graph + backward",
      fmt::format("{} ({:.1f}x the forward)", human_time(both), both / forward));
  Tensor leaf = Tensor::ones({1}, true);
  const int n = 10000;
  const double chain = seconds(
      [&] {
        Tensor t = leaf;
        for (int i = 0; i < n; ++i) t = t * 1.0001f;
        t.sum().backward();
      },
      3);
  row(fmt::format("a chain of {} scalar multiplications: forward + backward", n),
      fmt::format("{} ({:.2f} µs per op)", human_time(chain), chain * 1e6 / n));
}

void module06() {
  heading("06 optimizers");
  auto make = [] { return Tensor::randn({1000, 1000}, true); };
  Tensor p = make();
  p.set_grad(Tensor::randn({1000, 1000}));
  SGD plain({p}, 0.01f);
  SGD momentum({p}, 0.01f, 0.9f);
  Adam adam({p}, 1e-3f);
  const double t_plain = seconds([&] { plain.step(); });
  const double t_momentum = seconds([&] { momentum.step(); });
  const double t_adam = seconds([&] { adam.step(); });
  row("1M parameters, SGD step (no state)", human_time(t_plain));
  row("SGD with momentum (1 buffer: +4 MB)", human_time(t_momentum));
  row("Adam (2 buffers: +8 MB)", human_time(t_adam));
}

void module07() {
  heading("07 training");
  manual_seed(0);
  auto model = lenet5();
  SGD opt(model->parameters(), 0.05f, 0.9f);
  Trainer trainer(*model, opt, cross_entropy);
  const auto dir = std::filesystem::temp_directory_path() / "tinytorch_course_bench";
  const std::string path = (dir / "lenet.safetensors").string();
  const double save = seconds([&] { trainer.save_checkpoint(path); });
  const double load = seconds([&] { trainer.load_checkpoint(path); });
  row(fmt::format("LeNet-5 checkpoint ({} parameters)", model->parameter_count()),
      fmt::format("{} on disk",
                  human_bytes(static_cast<double>(std::filesystem::file_size(path)))));
  row("save (temporary file + rename) / load",
      fmt::format("{} / {}", human_time(save), human_time(load)));
  std::filesystem::remove_all(dir);
  for (Tensor& q : model->parameters()) q.set_grad(Tensor::randn(q.shape()));
  const double clip = seconds([&] { clip_grad_norm(model->parameters(), 1.0f); });
  row("clip_grad_norm over all LeNet-5 gradients", human_time(clip));
}

void module08() {
  heading("08 dataloader");
  const DigitsSplit d = load_digits();
  auto data = std::make_shared<TensorDataset>(std::vector<Tensor>{d.train.images, d.train.labels});
  DataLoader loader(data, DataLoaderOptions(32).shuffle(true).seed(0));
  const double epoch = seconds([&] {
    for (const Batch& b : loader) (void)b;
  });
  row(fmt::format("one shuffled pass over {} digits, batch 32 ({} batches)", data->size(),
                  loader.size()),
      fmt::format("{} ({:.0f} batches/s)", human_time(epoch), loader.size() / epoch));
  const double read = seconds([&] { (void)load_digits(); }, 3);
  row("reading and parsing digits.csv.gz (1797 rows)", human_time(read));
}

void module09() {
  heading("09 spatial");
  struct Case {
    const char* name;
    std::size_t n, c, h, o, k;
  };
  for (const Case& s : {Case{"SimpleCNN conv, batch 32: 1→8, 3x3 on 8x8", 32, 1, 8, 8, 3},
                        Case{"LeNet-5 conv2, batch 64: 6→16, 5x5 on 14x14", 64, 6, 14, 16, 5}}) {
    const Tensor x = Tensor::randn({s.n, s.c, s.h, s.h});
    const Tensor w = Tensor::randn({s.o, s.c, s.k, s.k}), b = Tensor::randn({s.o});
    const std::size_t ho = conv_output_size(s.h, s.k, 1, 0);
    const double macs = static_cast<double>(s.n * s.o * ho * ho * s.c * s.k * s.k);
    NoGradGuard no_grad;
    const double loops =
        seconds([&] { (void)conv2d_reference(x.data(), w.data(), b.data(), 1, 0); }, 3);
    const double fast = seconds([&] { (void)conv2d(x, w, b, 1, 0); });
    fmt::print("  {}\n", s.name);
    row("  multiply-adds N·O·Ho·Wo·C·kh·kw", fmt::format("{:.2f} M", macs / 1e6));
    row("  explicit loops (conv2d_reference)",
        fmt::format("{} ({:.2f} GFLOP/s)", human_time(loops), 2 * macs / loops / 1e9));
    row("  im2col + sgemm (conv2d)",
        fmt::format("{} ({:.1f} GFLOP/s, {:.0f}x the loops)", human_time(fast),
                    2 * macs / fast / 1e9, loops / fast));
  }
  const Tensor act = Tensor::randn({64, 6, 28, 28});
  const Tensor pooled = max_pool2d(act, {2, 2});
  row("MaxPool2d(2) on LeNet-5's [64, 6, 28, 28] activations",
      fmt::format("{} -> {} (4x less to keep and to compute on)", human_bytes(4.0 * act.size()),
                  human_bytes(4.0 * pooled.size())));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Systems-analysis figures of the course modules"};
  int only = 0;
  app.add_option("--module", only, "just this module (1..9)")->check(CLI::Range(0, 9));
  CLI11_PARSE(app, argc, argv);
  set_num_threads(1);
  const std::vector<void (*)()> sections = {module01, module02, module03, module04, module05,
                                            module06, module07, module08, module09};
  fmt::print("# course_bench: one thread, median of 7 runs (3 for the slow loops)\n");
  for (int m = 1; m <= 9; ++m) {
    if (only == 0 || only == m) sections[static_cast<std::size_t>(m - 1)]();
  }
  return 0;
}
