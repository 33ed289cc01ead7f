// tinytorch against PyTorch's C++ frontend (Debian's libtorch) on the same models, data,
// batch order and hyper-parameters (workloads.hpp).
//
//   ./build/benchmarks/compare_libtorch --repeats 5 --threads 1,2            # W1 and W2
//   ./build/benchmarks/compare_libtorch --repeats 5 --threads 1,2 --markdown # README tables
//
// Every run is a process of its own, so that each framework's peak RSS is its own: tinytorch
// runs are train_bench (next to this program, which does not link libtorch), libtorch runs are
// this program started again with --worker. Runs alternate between the frameworks (tinytorch,
// then each libtorch configuration, at each thread count in turn, repeat), so that a noisy
// machine slows both alike; the table shows medians and the median of the per-pair ratios.
// The digits workloads, whose runs last tens of milliseconds, get three times the repeats. With n threads, libtorch runs
// with n intra-op threads and OpenBLAS held to 1 thread, and (n > 1) also with OpenBLAS at n;
// its better configuration is reported. tinytorch always holds OpenBLAS to 1 thread itself.
// Both frameworks' runs get the same OpenBLAS kernels: by default OpenBLAS's own pick for this
// CPU, even where the environment forces others (--openblas-core); each run's configuration
// names the kernels it ran. And both keep freed memory in the heap: tinytorch sets glibc's
// malloc thresholds for itself (detail/workspace.hpp), libtorch's runs get the same ones
// through MALLOC_* variables (--libtorch-malloc); with glibc's defaults libtorch returns its
// activations to the system every step and page-faults them back.
#include <torch/torch.h>

#include <cctype>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <tinytorch/detail/blas.hpp>
#include <tinytorch/detail/workspace.hpp>

#include "workloads.hpp"

namespace {

// ---- the libtorch run -----------------------------------------------------------------------

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
  // The same order as tinytorch's lenet5(): each block pools before its ReLU.
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 6, 5).padding(2)),
                        nn::MaxPool2d(nn::MaxPool2dOptions(2)), nn::ReLU(),
                        nn::Conv2d(nn::Conv2dOptions(6, 16, 5)),
                        nn::MaxPool2d(nn::MaxPool2dOptions(2)), nn::ReLU(), nn::Flatten(),
                        nn::Linear(400, 120),
                        nn::ReLU(), nn::Linear(120, 84), nn::ReLU(), nn::Linear(84, 10));
}

// The same bytes without a copy: the torch tensor views the benchmark's storage.
torch::Tensor byte_images(const bench::ByteImages& images) {
  return torch::from_blob(const_cast<std::uint8_t*>(images.pixels.data()),
                          {static_cast<int64_t>(images.count), 1,
                           static_cast<int64_t>(images.height), static_cast<int64_t>(images.width)},
                          torch::kUInt8);
}

torch::Tensor labels_of(const bench::Split& split) {
  const tinytorch::Array& y = split.labels.data();
  return torch::from_blob(const_cast<float*>(y.data()), {static_cast<int64_t>(y.size())},
                          torch::kFloat32)
      .to(torch::kLong);
}

// The images at `rows` as float32, pixel / divisor (the tinytorch side: bench::to_tensor).
torch::Tensor to_float(const torch::Tensor& bytes, const torch::Tensor& rows, float divisor) {
  return bytes.index_select(0, rows).to(torch::kFloat32).div_(divisor);
}

std::pair<double, double> train_torch(torch::nn::Sequential& model, const bench::Workload& w,
                                      const bench::Data& data, int epochs,
                                      std::size_t max_steps = 0) {
  torch::optim::SGD optimizer(model->parameters(),
                              torch::optim::SGDOptions(w.lr).momentum(w.momentum));
  const torch::Tensor images = byte_images(data.train.images), labels = labels_of(data.train);
  const float divisor = data.train.images.divisor;
  std::vector<std::vector<torch::Tensor>> orders;
  for (const auto& batches : bench::batch_orders(data.train.images.count, w.batch_size, epochs)) {
    orders.emplace_back();
    for (const auto& rows : batches) {
      const std::vector<int64_t> r(rows.begin(), rows.end());
      orders.back().push_back(torch::tensor(r, torch::kLong));
    }
  }
  double loss_sum = 0.0;
  std::size_t steps = 0;
  const double start = bench::now();
  for (const auto& batches : orders) {
    loss_sum = 0.0;
    for (const torch::Tensor& rows : batches) {
      const torch::Tensor x = to_float(images, rows, divisor), y = labels.index_select(0, rows);
      torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(x), y);
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      loss_sum += loss.item<float>();
      if (++steps == max_steps) return {bench::now() - start, 0.0};
    }
  }
  return {bench::now() - start, loss_sum / static_cast<double>(orders.back().size())};
}

std::pair<double, double> evaluate_torch(torch::nn::Sequential& model, const bench::Data& data) {
  torch::NoGradGuard no_grad;
  model->eval();
  const torch::Tensor images = byte_images(data.test.images), labels = labels_of(data.test);
  const float divisor = data.test.images.divisor;
  const int64_t n = labels.size(0), batch = static_cast<int64_t>(bench::kInferenceBatch);
  std::vector<torch::Tensor> rows;
  for (int64_t start = 0; start < n; start += batch) {
    rows.push_back(torch::arange(start, std::min(n, start + batch), torch::kLong));
  }
  int64_t correct = 0;
  for (const torch::Tensor& r : rows) {
    const torch::Tensor logits = model->forward(to_float(images, r, divisor));
    correct += logits.argmax(1).eq(labels.index_select(0, r)).sum().item<int64_t>();
  }
  const double start = bench::now();
  for (int pass = 0; pass < bench::kInferencePasses; ++pass) {
    for (const torch::Tensor& r : rows) model->forward(to_float(images, r, divisor));
  }
  const double seconds = bench::now() - start;
  return {static_cast<double>(correct) / static_cast<double>(n),
          bench::kInferencePasses * static_cast<double>(n) / seconds};
}

bench::Result run_torch(const bench::Workload& w, const bench::Data& data, int threads,
                        int epochs) {
  torch::set_num_threads(threads);
  {
    auto warmup = torch_model(w.name);
    train_torch(warmup, w, data, 1, bench::kWarmupSteps);
  }
  torch::manual_seed(bench::kSeed);
  auto model = torch_model(w.name);
  bench::Result r;
  r.workload = w.name;
  r.framework = "libtorch";
  const char* blas = std::getenv("OPENBLAS_NUM_THREADS");
  r.config = fmt::format("threads={},blas={},kernels={},malloc={}", threads,
                         blas ? blas : "default", tinytorch::detail::blas_kernels(),
                         std::getenv("MALLOC_TRIM_THRESHOLD_") ? "kept" : "default");
  const auto [seconds, loss] = train_torch(model, w, data, epochs);
  r.train_seconds = seconds;
  r.final_loss = loss;
  r.train_images_per_second = static_cast<double>(data.train.images.count) * epochs / seconds;
  const auto [accuracy, images_per_second] = evaluate_torch(model, data);
  r.test_accuracy = accuracy;
  r.inference_images_per_second = images_per_second;
  r.peak_rss_mb = bench::peak_rss_mb();
  return r;
}

// ---- the comparison ---------------------------------------------------------------------------

struct Options {
  int repeats = 5, epochs = 0;
  std::size_t fashion_limit = 0;
  std::vector<int> threads{1};
  std::vector<std::string> workloads;
  bool markdown = false;
  std::string openblas_core = "auto";  ///< --openblas-core: auto, env or a core name
  std::string libtorch_malloc = "kept";  ///< --libtorch-malloc: kept, default or both
};

// The environment prefixes libtorch's runs get for glibc's malloc (--libtorch-malloc):
//   kept     the thresholds tinytorch sets for itself (freed memory stays in the heap)
//   default  glibc's own (blocks over 128 KB are mmap-ed and returned when freed)
//   both     a run with each; the better one is reported, as for OpenBLAS's threads.
std::vector<std::string> malloc_envs(const std::string& choice) {
  const std::string kept =
      fmt::format("MALLOC_MMAP_THRESHOLD_={} MALLOC_TRIM_THRESHOLD_={} ",
                  tinytorch::detail::kKeptMmapThreshold, tinytorch::detail::kKeptTrimThreshold);
  if (choice == "kept") return {kept};
  if (choice == "default") return {""};
  if (choice == "both") return {kept, ""};
  throw std::invalid_argument("--libtorch-malloc: expected kept, default or both, got '" +
                              choice + "'");
}

// The environment prefix that sets OpenBLAS's kernels for both frameworks' runs (--openblas-core):
//   auto  OpenBLAS's own pick for this CPU: OPENBLAS_CORETYPE is removed from the runs'
//         environment. libtorch's convolutions (oneDNN) use every instruction the CPU has
//         whatever that variable says; only OpenBLAS's products, which are most of tinytorch's
//         time, follow it: a machine that forces older kernels would compare tinytorch on an
//         older CPU than libtorch.
//   env   as this process's environment says.
//   NAME  OPENBLAS_CORETYPE=NAME (Haswell, SkylakeX, Cooperlake, ...).
std::string openblas_env(const std::string& choice) {
  if (choice == "auto") return "env -u OPENBLAS_CORETYPE ";
  if (choice == "env") return "";
  for (const char c : choice) {  // it goes into a shell command line
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      throw std::invalid_argument("--openblas-core: expected auto, env or a core name, got '" +
                                  choice + "'");
    }
  }
  return "OPENBLAS_CORETYPE=" + choice + " ";
}

// Runs `command` (through the shell, with `env` in front) and returns its result lines.
std::vector<bench::Result> run_process(const std::string& env, const std::string& command) {
  const std::string line = env + " " + command;
  std::FILE* pipe = popen(line.c_str(), "r");
  if (!pipe) throw std::runtime_error("compare_libtorch: cannot start: " + line);
  std::vector<bench::Result> results;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe)) {
    bench::Result r;
    if (bench::parse_result(buffer, r)) results.push_back(r);
  }
  const int status = pclose(pipe);
  if (status != 0 || results.empty()) {
    throw std::runtime_error(
        fmt::format("compare_libtorch: '{}' failed (status {})", line, status));
  }
  return results;
}

std::string shared_flags(const bench::Workload& w, int threads, const Options& o) {
  return fmt::format("--workload {} --threads {} --epochs {} --fashion-limit {}", w.name, threads,
                     o.epochs > 0 ? o.epochs : w.epochs, o.fashion_limit);
}

// One row of the comparison: the runs of tinytorch and of each libtorch configuration.
struct Row {
  bench::Workload workload;
  int threads;
  std::vector<bench::Result> tiny;
  std::map<std::string, std::vector<bench::Result>> torch;  // by configuration
};

// The runs of one repeat: tinytorch, then every libtorch configuration, at `threads`.
void measure_once(Row& row, const Options& o, const std::string& self) {
  const std::filesystem::path dir = std::filesystem::path(self).parent_path();
  const std::string tiny_cmd =
      fmt::format("'{}' --result-line --repeats 1 {}", (dir / "train_bench").string(),
                  shared_flags(row.workload, row.threads, o));
  const std::string torch_cmd =
      fmt::format("'{}' --worker {}", self, shared_flags(row.workload, row.threads, o));
  std::vector<int> blas_configs{1};
  if (row.threads > 1) blas_configs.push_back(row.threads);
  const std::string core = openblas_env(o.openblas_core);
  row.tiny.push_back(run_process(core + "OPENBLAS_NUM_THREADS=1", tiny_cmd).front());
  for (const std::string& heap : malloc_envs(o.libtorch_malloc)) {
    for (int blas : blas_configs) {
      const bench::Result t =
          run_process(fmt::format("{}{}OPENBLAS_NUM_THREADS={}", core, heap, blas), torch_cmd)
              .front();
      row.torch[t.config].push_back(t);
    }
  }
}

// Repeats of a workload take the thread counts in turn (1, 2, 1, 2, ...), so that a drift of
// the machine's speed touches every count alike and the thread ratios can be paired. A
// workload whose runs last well under a second gets three times the repeats: one busy moment
// moves such a run by a tenth.
std::vector<Row> measure(const bench::Workload& w, const std::vector<int>& threads,
                         const Options& o, const std::string& self) {
  std::vector<Row> rows;
  for (int t : threads) rows.push_back(Row{w, t, {}, {}});
  const int repeats = w.name == "lenet-fashion" ? o.repeats : 3 * o.repeats;
  for (int r = 0; r < repeats; ++r) {
    for (Row& row : rows) measure_once(row, o, self);
    fmt::print(stderr, "  {} run {}/{} done\n", w.name, r + 1, repeats);
  }
  return rows;
}

double med(const std::vector<bench::Result>& runs, double bench::Result::*field) {
  std::vector<double> v;
  for (const bench::Result& r : runs) v.push_back(r.*field);
  return bench::median(v);
}

// Median over run pairs of a/b (the pairs were measured one after the other).
double paired_ratio(const std::vector<bench::Result>& a, const std::vector<bench::Result>& b,
                    double bench::Result::*field) {
  std::vector<double> ratios;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    ratios.push_back(a[i].*field / b[i].*field);
  return bench::median(ratios);
}

// libtorch's configuration with the shortest median training time.
const std::vector<bench::Result>& best_torch(const Row& row) {
  const std::vector<bench::Result>* best = nullptr;
  for (const auto& [config, runs] : row.torch) {
    if (!best ||
        med(runs, &bench::Result::train_seconds) < med(*best, &bench::Result::train_seconds))
      best = &runs;
  }
  return *best;
}

void print_plain(const std::vector<Row>& rows) {
  fmt::print(
      "\n{:<14} {:>3} | {:>9} {:>9} {:>7} | {:>9} {:>9} {:>7} | {:>7} {:>7} | {:>7} {:>7} "
      "{:>6} | {}\n",
      "workload", "thr", "tiny s", "torch s", "speedup", "tiny inf", "torch inf", "ratio",
      "tiny acc", "torch acc", "tiny MB", "torch MB", "ratio", "libtorch config");
  for (const Row& row : rows) {
    for (const auto& [config, torch] : row.torch) {
      const auto& t = row.tiny;
      fmt::print(
          "{:<14} {:>3} | {:>9.3f} {:>9.3f} {:>6.2f}x | {:>9.0f} {:>9.0f} {:>6.2f}x | {:>6.2f}% "
          "{:>6.2f}% | {:>7.1f} {:>7.1f} {:>6.2f} | {}{}\n",
          row.workload.name, row.threads, med(t, &bench::Result::train_seconds),
          med(torch, &bench::Result::train_seconds),
          paired_ratio(torch, t, &bench::Result::train_seconds),
          med(t, &bench::Result::inference_images_per_second),
          med(torch, &bench::Result::inference_images_per_second),
          paired_ratio(t, torch, &bench::Result::inference_images_per_second),
          100 * med(t, &bench::Result::test_accuracy),
          100 * med(torch, &bench::Result::test_accuracy), med(t, &bench::Result::peak_rss_mb),
          med(torch, &bench::Result::peak_rss_mb),
          paired_ratio(t, torch, &bench::Result::peak_rss_mb), config,
          &torch == &best_torch(row) ? " (best)" : "");
    }
  }
}

// "1.234–2.345 s": the fastest and slowest training time of some runs (a noisy machine shows).
std::string spread(const std::vector<bench::Result>& runs) {
  double low = runs.front().train_seconds, high = low;
  for (const bench::Result& r : runs) {
    low = std::min(low, r.train_seconds);
    high = std::max(high, r.train_seconds);
  }
  return fmt::format("{:.3f}–{:.3f} s", low, high);
}

// How each framework's training time changes with the threads (tinytorch: the median over
// repeats of the 1-thread time / the n-thread time of the same repeat; libtorch: the ratio of
// its best configurations' medians), and every libtorch configuration that was tried.
void print_scaling(const std::vector<Row>& rows) {
  fmt::print("\n");
  for (const Row& row : rows) {
    if (row.threads == 1) continue;
    for (const Row& one : rows) {
      if (one.workload.name != row.workload.name || one.threads != 1) continue;
      fmt::print(
          "- `{}`: tinytorch with {} threads is {:.2f}× as fast as with 1; libtorch's best "
          "{}-thread configuration {:.2f}× as fast as its 1-thread one.\n",
          row.workload.name, row.threads,
          paired_ratio(one.tiny, row.tiny, &bench::Result::train_seconds),
          row.threads,
          med(best_torch(one), &bench::Result::train_seconds) /
              med(best_torch(row), &bench::Result::train_seconds));
    }
  }
  for (const Row& row : rows) {
    std::vector<std::string> configs;
    for (const auto& [config, runs] : row.torch) {
      configs.push_back(fmt::format("{} {:.3f} s (runs {})", config,
                                    med(runs, &bench::Result::train_seconds), spread(runs)));
    }
    fmt::print("- `{}`, {} thread(s): tinytorch's runs {}; libtorch, each configuration: {}.\n",
               row.workload.name, row.threads, spread(row.tiny), fmt::join(configs, "; "));
  }
}

void print_markdown(const std::vector<Row>& rows, const Options& o) {
  fmt::print(
      "\nTraining (median of {} alternating runs, {} for the digits workloads, the thread counts "
      "taken in turn; speed-up = median over run pairs of libtorch time / tinytorch time):\n\n",
      o.repeats, 3 * o.repeats);
  fmt::print("| workload | threads | tinytorch | libtorch (best config) | speed-up |\n");
  fmt::print("| --- | ---: | ---: | ---: | ---: |\n");
  for (const Row& row : rows) {
    const auto& torch = best_torch(row);
    fmt::print("| `{}` | {} | {:.3f} s | {:.3f} s ({}) | **{:.2f}×** |\n", row.workload.name,
               row.threads, med(row.tiny, &bench::Result::train_seconds),
               med(torch, &bench::Result::train_seconds), torch.front().config,
               paired_ratio(torch, row.tiny, &bench::Result::train_seconds));
  }
  print_scaling(rows);
  fmt::print(
      "\nAfter training, same runs (inference: test split in batches of {}, eval mode, no "
      "graph; peak RSS: the whole process, dataset included):\n\n",
      bench::kInferenceBatch);
  fmt::print(
      "| workload | threads | inference img/s tinytorch | libtorch | ratio | test accuracy "
      "tinytorch | libtorch | peak RSS tinytorch | libtorch | ratio |\n");
  fmt::print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  for (const Row& row : rows) {
    const auto& t = row.tiny;
    const auto& torch = best_torch(row);
    fmt::print(
        "| `{}` | {} | {:.0f} | {:.0f} | {:.2f}× | {:.2f} % | {:.2f} % | {:.0f} MiB | {:.0f} "
        "MiB | {:.2f} |\n",
        row.workload.name, row.threads, med(t, &bench::Result::inference_images_per_second),
        med(torch, &bench::Result::inference_images_per_second),
        paired_ratio(t, torch, &bench::Result::inference_images_per_second),
        100 * med(t, &bench::Result::test_accuracy),
        100 * med(torch, &bench::Result::test_accuracy), med(t, &bench::Result::peak_rss_mb),
        med(torch, &bench::Result::peak_rss_mb),
        paired_ratio(t, torch, &bench::Result::peak_rss_mb));
  }
}

// "libtorch 1.13.1, AMD EPYC (2 cores), 2025-01-01, OpenBLAS kernels: ...": what the figures
// were measured on (each run's configuration also names the kernels it ran).
std::string machine_description(const Options& o, const std::vector<Row>& rows) {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, model = "unknown CPU";
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  const std::time_t t = std::time(nullptr);
  char date[16];
  std::strftime(date, sizeof date, "%Y-%m-%d", std::gmtime(&t));
  const char* env = std::getenv("OPENBLAS_CORETYPE");
  const std::string kernels =
      o.openblas_core == "auto"  ? "OpenBLAS's own pick for this CPU"
      : o.openblas_core == "env" ? fmt::format("OPENBLAS_CORETYPE={}", env ? env : "(unset)")
                                 : "OPENBLAS_CORETYPE=" + o.openblas_core;
  std::string ran = "none";  // what tinytorch's runs reported
  for (const Row& row : rows) {
    for (const bench::Result& r : row.tiny) {
      const std::size_t at = r.config.find("kernels=");
      if (at != std::string::npos) ran = r.config.substr(at + 8);
    }
  }
  const std::string heap = o.libtorch_malloc == "kept"      ? "kept in the heap, as tinytorch's"
                           : o.libtorch_malloc == "default" ? "glibc's defaults"
                                                            : "both ways, the better reported";
  return fmt::format("libtorch {}, {} ({} cores), {}, OpenBLAS kernels: {} ({}), libtorch's "
                     "freed memory: {}",
                     TORCH_VERSION, model, std::thread::hardware_concurrency(), date, kernels, ran,
                     heap);
}

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tinytorch vs libtorch: training time, inference, accuracy and memory"};
  Options o;
  std::string threads = "1", workloads = "mlp-digits,cnn-digits,lenet-fashion", only;
  bool worker = false;
  app.add_option("--repeats", o.repeats, "alternating runs per framework")->capture_default_str();
  app.add_option("--threads", threads, "comma-separated thread counts")->capture_default_str();
  app.add_option("--workloads", workloads, "comma-separated workloads")->capture_default_str();
  app.add_option("--epochs", o.epochs, "override the workloads' epochs (0 = as defined)");
  app.add_option("--fashion-limit", o.fashion_limit, "Fashion-MNIST training images (0 = all)");
  app.add_flag("--markdown", o.markdown, "print the README's tables");
  app.add_option("--openblas-core", o.openblas_core,
                 "OpenBLAS kernels for both frameworks: auto (OpenBLAS's own pick for this CPU, "
                 "OPENBLAS_CORETYPE removed), env (as the environment says) or a core name")
      ->capture_default_str();
  app.add_option("--libtorch-malloc", o.libtorch_malloc,
                 "glibc malloc thresholds for libtorch's runs: kept (the ones tinytorch sets for "
                 "itself), default (glibc's) or both (the better is reported)")
      ->capture_default_str();
  app.add_flag("--worker", worker, "internal: one libtorch run, printed as a result line");
  app.add_option("--workload", only, "internal: the worker's workload");
  CLI11_PARSE(app, argc, argv);

  try {
    if (worker) {
      const bench::Workload w = bench::find_workload(only);
      const bench::Data data = bench::load_data(w, o.fashion_limit);
      if (!data.available()) return 2;
      fmt::print("{}\n", bench::format_result(run_torch(w, data, std::stoi(threads),
                                                        o.epochs > 0 ? o.epochs : w.epochs)));
      return 0;
    }
    openblas_env(o.openblas_core);  // rejects a bad name before any run ...
    malloc_envs(o.libtorch_malloc);  // ... or a bad malloc choice
    const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
    std::vector<Row> rows;
    for (const std::string& name : split(workloads)) {
      const bench::Workload w = bench::find_workload(name);
      if (!bench::load_data(w, 1).available()) {
        fmt::print("{}: skipped, dataset not installed\n", name);
        continue;
      }
      std::vector<int> counts;
      for (const std::string& t : split(threads)) counts.push_back(std::stoi(t));
      for (Row& row : measure(w, counts, o, self)) rows.push_back(std::move(row));
    }
    fmt::print("{}\n", machine_description(o, rows));
    if (o.markdown) {
      print_markdown(rows, o);
    } else {
      print_plain(rows);
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "compare_libtorch: {}\n", e.what());
    return 1;
  }
  return 0;
}
