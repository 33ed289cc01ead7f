// Data-parallel training of SimpleCNN on the bundled 8x8 digits, one process per rank:
//
//   mpirun -np 2 ./distributed_cnn              (./distributed_cnn alone: a world of one)
//   mpirun -np 2 ./distributed_cnn --no-overlap (average after backward, to compare)
//
// Every rank trains on its own part of each epoch (DistributedSampler); gradients are averaged
// over the ranks while backward runs (GradientAverager), so every rank takes the same step;
// rank 0 prints. For weights that are bit-identical whatever the number of processes, use
// DeterministicDataParallel instead (tinytorch/distributed/data_parallel.hpp).
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include <tinytorch/distributed/distributed.hpp>
#include <tinytorch/tinytorch.hpp>

using namespace tinytorch;

int main(int argc, char** argv) {
  const bool overlap = !(argc > 1 && std::strcmp(argv[1], "--no-overlap") == 0);
  // An exception on any rank ends every process with "rank R: <message>", never a hang.
  return run_distributed(argc, argv, [&](ProcessGroup& group) {
    manual_seed(group.rank());  // different weights per rank, until the broadcast below
    const DigitsSplit digits = load_digits();
    auto train_set = std::make_shared<TensorDataset>(
        std::vector<Tensor>{digits.train.images, digits.train.labels});
    auto sampler = std::make_shared<DistributedSampler>(group, DistributedSamplerOptions().seed(0));
    DataLoader loader(train_set, DataLoaderOptions(32).sampler(sampler));  // 32 per rank

    SimpleCNN model;
    broadcast_parameters(model, group);  // rank 0's initial weights on every rank
    SGD optimizer(model.parameters(), /*lr=*/0.05f, /*momentum=*/0.9f);
    GradientAverager averager(model.parameters(), group,
                              GradientAveragerOptions().overlap(overlap));

    for (std::size_t epoch = 0; epoch < 10; ++epoch) {
      sampler->set_epoch(epoch);  // a new split of a new permutation, the same on every rank
      double loss_sum = 0.0;
      for (const Batch& batch : loader) {
        Tensor loss = cross_entropy(model(batch[0]), batch[1]);
        optimizer.zero_grad();
        loss.backward();    // buckets are averaged as soon as backward has finished them
        averager.finish();  // the rest: every rank now holds the same mean gradients
        optimizer.step();
        loss_sum += loss.item();
      }
      const double loss = group.all_reduce_mean(loss_sum / static_cast<double>(loader.size()));
      if (group.is_primary()) std::printf("epoch %2zu  loss %.4f\n", epoch + 1, loss);
    }

    // Each rank scores its slice of the test set; the correct answers are summed.
    NoGradGuard no_grad;
    const std::size_t n = digits.test.size(), ranks = group.world_size(), r = group.rank();
    const std::size_t begin = r * n / ranks, end = (r + 1) * n / ranks;
    const Tensor logits = model(digits.test.images.slice(begin, end));
    const double correct = group.all_reduce_sum(
        accuracy(logits, digits.test.labels.slice(begin, end)) * static_cast<double>(end - begin));
    const CommStats& stats = averager.stats();
    if (group.is_primary()) {
      std::printf("test accuracy %.1f%% on %d process(es)\n", 100.0 * correct / n,
                  group.world_size());
      std::printf(
          "allreduce: %zu bucket(s) per step, %.3f ms per step, %.3f ms of it waited "
          "for in finish()\n",
          stats.allreduces / stats.steps, 1e3 * stats.allreduce_seconds / stats.steps,
          1e3 * stats.wait_seconds / stats.steps);
    }
    return correct / n > 0.8 ? 0 : 1;
  });
}
