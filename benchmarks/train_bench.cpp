// End-to-end training speed of the course's models (see workloads.hpp), median of --repeats.
//
//   ./build/benchmarks/train_bench --repeats 5 --threads 1
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "workloads.hpp"

int main(int argc, char** argv) {
  CLI::App app{"tinytorch end-to-end training benchmark"};
  int repeats = 5, threads = 1;
  std::size_t fashion_limit = 10000;
  std::string only;
  app.add_option("--repeats", repeats, "timed runs per workload (median reported)")
      ->capture_default_str();
  app.add_option("--threads", threads, "BLAS threads")->capture_default_str();
  app.add_option("--fashion-limit", fashion_limit, "Fashion-MNIST training images")
      ->capture_default_str();
  app.add_option("--only", only, "run just this workload (mlp-digits, cnn-digits, lenet-fashion)");
  CLI11_PARSE(app, argc, argv);
  tinytorch::set_num_threads(threads);

  fmt::print("{:<14} {:>7} {:>6} {:>12} {:>12} {:>12} {:>10}\n", "workload", "epochs", "batch",
             "median s", "ms/epoch", "images/s", "last loss");
  for (const bench::Workload& w : bench::workloads()) {
    if (!only.empty() && w.name != only) continue;
    const bench::Data data = bench::load_data(w, fashion_limit);
    if (!data.labels.defined()) {
      fmt::print("{:<14} skipped: dataset not installed\n", w.name);
      continue;
    }
    std::vector<double> times;
    float loss = 0.0f;
    for (int r = 0; r < repeats; ++r) times.push_back(bench::train_tinytorch(w, data, &loss));
    const double t = bench::median(times);
    const double images = static_cast<double>(data.labels.size()) * w.epochs;
    fmt::print("{:<14} {:>7} {:>6} {:>12.3f} {:>12.2f} {:>12.0f} {:>10.4f}\n", w.name, w.epochs,
               w.batch_size, t, 1000.0 * t / w.epochs, images / t, loss);
  }
  return 0;
}
