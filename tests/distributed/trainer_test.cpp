// The Trainer over the ranks of mpirun (data_parallel, train/parallel.hpp): every rank ends
// with the same weights and reports the same figures, rank 0 alone writes the checkpoint, and a
// run resumed from its checkpoint ends where the uninterrupted run ends, bit for bit.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

#include <tinytorch/distributed/distributed.hpp>
#include <tinytorch/tinytorch.hpp>

#include "distributed/world.hpp"

namespace tinytorch {
namespace {

using testing::all_gather;
using testing::state_hash;
using testing::world;

// 96 digits: every rank's part of an epoch, in batches of 8.
std::shared_ptr<TensorDataset> digits_part() {
  const DigitsSplit digits = load_digits();
  return std::make_shared<TensorDataset>(std::vector<Tensor>{
      digits.train.images.slice(0, 96), digits.train.labels.slice(0, 96)});
}

// A SimpleCNN trained by a Trainer over every rank, with momentum (the optimizer's state must
// survive a resume too); its weights start from a different seed on every rank.
struct TrainingRun {
  explicit TrainingRun(std::uint64_t seed) {
    manual_seed(seed + static_cast<std::uint64_t>(world().rank()));
    model = std::make_shared<SimpleCNN>();
    optimizer = std::make_shared<SGD>(model->parameters(), 0.05f, 0.9f);
    trainer = std::make_shared<Trainer>(*model, *optimizer, cross_entropy);
    trainer->set_parallel(data_parallel(*model, world()));
    sampler = std::make_shared<DistributedSampler>(world(), DistributedSamplerOptions().seed(3));
    loader = std::make_shared<DataLoader>(digits_part(), DataLoaderOptions(8).sampler(sampler));
  }
  float epoch() {
    sampler->set_epoch(trainer->epoch());
    return trainer->train_epoch(*loader);
  }

  std::shared_ptr<SimpleCNN> model;
  std::shared_ptr<SGD> optimizer;
  std::shared_ptr<Trainer> trainer;
  std::shared_ptr<DistributedSampler> sampler;
  std::shared_ptr<DataLoader> loader;
};

std::uint64_t bits(float v) {
  std::uint32_t u = 0;
  std::memcpy(&u, &v, sizeof u);
  return u;
}

TEST(DistributedTrainer, EveryRankEndsWithTheSameWeightsAndReportsTheSameFigures) {
  TrainingRun run(11);
  const float loss = run.epoch();
  DataLoader part_of_the_test(digits_part(), DataLoaderOptions(16));  // here: the same on all
  const EvalResult eval = run.trainer->evaluate(part_of_the_test);
  for (std::uint64_t v : all_gather(state_hash(*run.model))) EXPECT_EQ(v, state_hash(*run.model));
  for (std::uint64_t v : all_gather(bits(loss))) EXPECT_EQ(v, bits(loss));
  for (std::uint64_t v : all_gather(bits(eval.accuracy))) EXPECT_EQ(v, bits(eval.accuracy));
  EXPECT_TRUE(std::isfinite(loss));
}

TEST(DistributedTrainer, AResumedRunEndsWhereTheUninterruptedOneEnds) {
  const std::string path =
      (std::filesystem::temp_directory_path() /
       ("tinytorch-distributed-resume-" + std::to_string(all_gather(std::uint64_t(getpid()))[0]) +
        ".safetensors"))
          .string();
  TrainingRun whole(21);
  whole.epoch();
  whole.epoch();

  TrainingRun first(21);
  first.epoch();
  first.trainer->save_checkpoint(path);  // rank 0 writes; every rank returns once it is there
  TrainingRun resumed(99);                       // other weights, until the checkpoint is loaded
  resumed.trainer->load_checkpoint(path);
  EXPECT_EQ(resumed.trainer->epoch(), 1u);
  resumed.epoch();
  EXPECT_EQ(state_hash(*resumed.model), state_hash(*whole.model));
  EXPECT_EQ(resumed.trainer->history().train_loss, whole.trainer->history().train_loss);
  world().barrier();
  if (world().is_primary()) std::filesystem::remove(path);
}

}  // namespace
}  // namespace tinytorch
