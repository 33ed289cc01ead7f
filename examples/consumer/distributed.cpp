// A program outside the tinytorch tree that trains one SimpleCNN over every process mpirun
// starts (tinytorch::distributed), and checks that every process ends with the same weights:
//   mpirun -np 2 ./consumer_distributed
#include <cstdio>
#include <memory>
#include <vector>

#include <tinytorch/distributed/distributed.hpp>
#include <tinytorch/tinytorch.hpp>

using namespace tinytorch;

int main(int argc, char** argv) {
  return run_distributed(argc, argv, [](ProcessGroup& group) {
    manual_seed(static_cast<std::uint64_t>(group.rank()));  // equal only after the broadcast
    const DigitsSplit digits = load_digits();
    auto train_set = std::make_shared<TensorDataset>(
        std::vector<Tensor>{digits.train.images, digits.train.labels});
    auto sampler = std::make_shared<DistributedSampler>(group);
    DataLoader loader(train_set, DataLoaderOptions(16).sampler(sampler));

    SimpleCNN model;
    SGD optimizer(model.parameters(), SGDOptions(0.05f).momentum(0.9f));
    Trainer trainer(model, optimizer, cross_entropy);
    trainer.set_parallel(data_parallel(model, group));
    float loss = 0.0f;
    for (std::size_t epoch = 0; epoch < 5; ++epoch) {
      sampler->set_epoch(epoch);
      loss = trainer.train_epoch(loader);
    }
    // The same weights everywhere: every rank's sum of its weights equals rank 0's.
    double total = 0.0;
    for (const Tensor& p : model.parameters()) total += p.sum().item();
    const double spread = group.all_reduce_sum(total) / group.world_size() - total;
    const double accuracy = tinytorch::accuracy(model(digits.test.images), digits.test.labels);
    if (group.is_primary()) {
      std::printf("%d processes: loss %.4f, test accuracy %.1f%%, weights equal: %s\n",
                  group.world_size(), loss, 100.0 * accuracy, spread == 0.0 ? "yes" : "no");
    }
    return spread == 0.0 && accuracy > 0.8 ? 0 : 1;
  });
}
