// End-to-end training and inference speed of the course's models (see workloads.hpp):
// median of --repeats runs in this process.
//
//   ./build/benchmarks/train_bench --workload lenet-fashion --threads 1   # the full W2
//   ./build/benchmarks/train_bench --repeats 3                             # every workload
//
// With --result-line each run also prints one machine-readable line; compare_libtorch starts
// this program once per run that way, so that each run has a process (and a peak RSS) of its
// own.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "workloads.hpp"

namespace {

void print_header() {
  fmt::print("{:<14} {:>8} {:>10} {:>12} {:>14} {:>10} {:>10} {:>9}\n", "workload", "threads",
             "train s", "train img/s", "infer img/s", "test acc", "last loss", "peak MiB");
}

void print_row(const bench::Workload& w, int threads, const std::vector<bench::Result>& runs) {
  auto med = [&](double bench::Result::*field) {
    std::vector<double> v;
    for (const bench::Result& r : runs) v.push_back(r.*field);
    return bench::median(v);
  };
  fmt::print(
      "{:<14} {:>8} {:>10.3f} {:>12.0f} {:>14.0f} {:>9.2f}% {:>10.4f} {:>9.1f}\n", w.name, threads,
      med(&bench::Result::train_seconds), med(&bench::Result::train_images_per_second),
      med(&bench::Result::inference_images_per_second), 100.0 * med(&bench::Result::test_accuracy),
      med(&bench::Result::final_loss), med(&bench::Result::peak_rss_mb));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tinytorch end-to-end training and inference benchmark"};
  int repeats = 1, threads = 1, epochs = 0;
  std::size_t fashion_limit = 0;
  std::string only;
  bool result_line = false;
  app.add_option("--workload,--only", only, "run just this workload (default: all)");
  app.add_option("--repeats", repeats, "runs per workload (medians are printed)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--threads", threads, "library threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--epochs", epochs, "override the workload's epochs (0 = as defined)");
  app.add_option("--fashion-limit", fashion_limit, "Fashion-MNIST training images (0 = all)");
  app.add_flag("--result-line", result_line, "also print one `result ...` line per run");
  CLI11_PARSE(app, argc, argv);

  std::vector<bench::Workload> selected;
  try {
    selected = only.empty() ? bench::workloads()
                            : std::vector<bench::Workload>{bench::find_workload(only)};
  } catch (const std::exception& e) {
    fmt::print(stderr, "train_bench: {}\n", e.what());
    return 2;
  }
  if (!result_line) print_header();
  for (const bench::Workload& w : selected) {
    const bench::Data data = bench::load_data(w, fashion_limit);
    if (!data.available()) {
      fmt::print("{:<14} skipped: dataset not installed\n", w.name);
      continue;
    }
    std::vector<bench::Result> runs;
    for (int r = 0; r < repeats; ++r) {
      runs.push_back(bench::run_tinytorch(w, data, threads, epochs > 0 ? epochs : w.epochs));
      if (result_line) fmt::print("{}\n", bench::format_result(runs.back()));
    }
    if (!result_line) print_row(w, threads, runs);
  }
  return 0;
}
