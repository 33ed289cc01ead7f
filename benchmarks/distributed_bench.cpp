// Distributed training, measured. Two jobs, both under mpirun (alone it is one process):
//
//   distributed_bench allreduce          MPI_Allreduce of 4 B .. 16 MiB of floats: the median
//                                        time per size, for docs/distributed.md's α–β fit
//   distributed_bench train [options]    LeNet-5 on Fashion-MNIST (the lenet5_fashion recipe:
//                                        global batch 64 (--batch), SGD lr 0.05 momentum 0.9), one
//                                        `result` line with the training time, the test
//                                        accuracy and what averaging cost
//
//   mpirun -np 2 --mca btl self,vader ./build/benchmarks/distributed_bench train --epochs 3
//   bash benchmarks/distributed.sh       # the README's table: alternating configurations
//
// Modes: fast (Trainer + data_parallel: buckets allreduced during backward), fast-no-overlap
// (the same, allreduced after backward), deterministic (DeterministicDataParallel, --shards),
// independent (each process trains alone on its shard, nothing averaged: not a training, the
// ceiling that averaging is measured against — what the same work costs without waiting for
// the other processes).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <mpi.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <tinytorch/distributed/distributed.hpp>
#include <tinytorch/tinytorch.hpp>

using namespace tinytorch;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int allreduce_sweep(ProcessGroup& group) {
  if (group.is_primary()) {
    fmt::print("# MPI_Allreduce (sum of floats) over {} processes: median of the repeats\n",
               group.world_size());
    fmt::print("{:>12} {:>10} {:>12}\n", "bytes", "repeats", "median us");
  }
  for (std::size_t bytes = 4; bytes <= (std::size_t{16} << 20); bytes *= 4) {
    const std::size_t n = bytes / sizeof(float);
    std::vector<float> in(n, 1.0f), out(n);
    const int repeats = bytes <= (std::size_t{1} << 16) ? 400 : bytes <= (std::size_t{1} << 20) ? 100 : 20;
    std::vector<double> times;
    for (int r = -5; r < repeats; ++r) {
      group.barrier();
      const double start = now();
      MPI_Allreduce(in.data(), out.data(), static_cast<int>(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
      // The slowest rank's time is the collective's time.
      double took = now() - start;
      MPI_Allreduce(MPI_IN_PLACE, &took, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
      if (r >= 0) times.push_back(took);
    }
    std::nth_element(times.begin(), times.begin() + static_cast<long>(times.size() / 2), times.end());
    if (group.is_primary()) {
      fmt::print("{:>12} {:>10} {:>12.2f}\n", bytes, repeats, 1e6 * times[times.size() / 2]);
    }
  }
  return 0;
}

struct TrainOptions {
  std::string mode = "fast", data = "/usr/share/datasets/fashion-mnist";
  int epochs = 3, threads = 1;
  std::size_t limit = 0, batch = 64, shards = 0;
};

// Test accuracy over the whole test set: each rank scores its part, the counts are summed.
double test_accuracy(Module& model, const LabeledImages& test, ProcessGroup& group) {
  NoGradGuard no_grad;
  model.eval();
  const std::size_t n = test.size(), w = static_cast<std::size_t>(group.world_size()),
                    r = static_cast<std::size_t>(group.rank());
  double correct = 0.0;
  for (std::size_t begin = n * r / w, end = n * (r + 1) / w; begin < end; begin += 1000) {
    const std::size_t stop = std::min(end, begin + 1000);
    correct += accuracy(model(test.images.slice(begin, stop)), test.labels.slice(begin, stop)) *
               static_cast<double>(stop - begin);
  }
  model.train();
  return group.all_reduce_sum(correct) / static_cast<double>(n);
}

int train(ProcessGroup& group, const TrainOptions& o) {
  set_num_threads(o.threads);
  const LabeledImages train_set = load_mnist_like(o.data, "train", o.limit);
  const LabeledImages test = load_mnist_like(o.data, "test", o.limit ? o.limit / 6 : 0);
  auto data = std::make_shared<TensorDataset>(std::vector<Tensor>{train_set.images, train_set.labels});
  const std::size_t world = static_cast<std::size_t>(group.world_size());
  manual_seed(42);
  auto model = lenet5();
  SGD optimizer(model->parameters(), 0.05f, 0.9f);
  double seconds = 0.0, loss = 0.0;
  CommStats stats;
  std::size_t steps = 0;

  if (o.mode == "deterministic") {
    const std::size_t shards = o.shards ? o.shards : world;
    broadcast_parameters(*model, group);
    DeterministicDataParallel ddp(*model, group, shards, 42);
    const std::size_t n = train_set.size(), per_epoch = n / o.batch;
    for (int e = 0; e < o.epochs; ++e) {
      const std::vector<std::size_t> order = epoch_permutation(n, 42, static_cast<std::size_t>(e));
      const double start = now();
      for (std::size_t b = 0; b < per_epoch; ++b) {
        const std::vector<std::size_t> rows(order.begin() + static_cast<long>(b * o.batch),
                                            order.begin() + static_cast<long>((b + 1) * o.batch));
        loss = ddp.step(train_set.images.index_select(rows), train_set.labels.index_select(rows),
                        cross_entropy, optimizer);
        ++steps;
      }
      seconds += now() - start;
    }
  } else {
    if (o.batch % world != 0) throw std::invalid_argument("--batch must be a multiple of the processes");
    Trainer trainer(*model, optimizer, cross_entropy);
    std::shared_ptr<TrainerDataParallel> parallel;
    std::shared_ptr<DistributedSampler> sampler;
    DataLoaderOptions options(o.batch / world);
    if (world > 1) {
      if (o.mode != "independent") {
        parallel = data_parallel(*model, group,
                                 GradientAveragerOptions().overlap(o.mode != "fast-no-overlap"));
        trainer.set_parallel(parallel);
      }
      sampler = std::make_shared<DistributedSampler>(group, DistributedSamplerOptions().seed(42));
      options.sampler(sampler);
    } else {
      options.shuffle(true).seed(42);
    }
    DataLoader loader(data, options);
    for (int e = 0; e < o.epochs; ++e) {
      if (sampler) sampler->set_epoch(static_cast<std::size_t>(e));
      const double start = now();
      loss = trainer.train_epoch(loader);
      seconds += now() - start;
      steps += loader.size();
    }
    if (parallel) stats = parallel->stats();
  }
  const double acc = test_accuracy(*model, test, group);
  // The job took as long as its slowest process (the independent processes finish apart).
  MPI_Allreduce(MPI_IN_PLACE, &seconds, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  // Every process waits for the others at each step; rank 0's wait alone hides the steps where
  // rank 0 was the slow one. The mean over the processes of each one's wait per step:
  const double wait_all = group.all_reduce_sum(stats.wait_seconds) / static_cast<double>(world);
  if (group.is_primary()) {
    const double per_step = stats.steps ? 1e3 / static_cast<double>(stats.steps) : 0.0;
    fmt::print(
        "result processes={} threads={} mode={} shards={} train_s={:.3f} test_accuracy={:.4f} "
        "final_loss={:.4f} steps={} bytes_per_step={} allreduce_ms_per_step={:.3f} "
        "wait_ms_per_step={:.3f} wait_ms_per_step_all={:.3f} backward_ms_per_step={:.3f} "
        "hidden_share={:.3f}\n",
        world, o.threads, o.mode, o.mode == "deterministic" ? (o.shards ? o.shards : world) : 0,
        seconds, acc, loss, steps, stats.steps ? stats.bytes / stats.steps : 0,
        stats.allreduce_seconds * per_step, stats.wait_seconds * per_step, wait_all * per_step,
        stats.backward_seconds * per_step, stats.hidden_share());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tinytorch distributed benchmarks (run under mpirun)"};
  app.require_subcommand(1);
  CLI::App* sweep = app.add_subcommand("allreduce", "allreduce time per message size");
  CLI::App* run = app.add_subcommand("train", "LeNet-5 on Fashion-MNIST over the processes");
  TrainOptions o;
  run->add_option("--mode", o.mode,
                  "fast, fast-no-overlap, deterministic or independent (nothing averaged)")
      ->check(CLI::IsMember({"fast", "fast-no-overlap", "deterministic", "independent"}));
  run->add_option("--epochs", o.epochs, "epochs")->check(CLI::Range(1, 100));
  run->add_option("--threads", o.threads, "threads per process")->check(CLI::Range(1, 64));
  run->add_option("--batch", o.batch, "global batch (a multiple of the processes)")
      ->check(CLI::Range(1, 4096));
  run->add_option("--limit", o.limit, "training images (0 = all 60,000)");
  run->add_option("--shards", o.shards, "deterministic mode's shards (0 = the processes)");
  run->add_option("--data", o.data, "folder with the Fashion-MNIST IDX files");
  CLI11_PARSE(app, argc, argv);
  return run_distributed(argc, argv, [&](ProcessGroup& group) {
    return sweep->parsed() ? allreduce_sweep(group) : train(group, o);
  });
}
