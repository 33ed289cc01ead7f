// Module 08 — a DataLoader with a Sampler: each pass takes its order from the sampler.
#include <memory>
#include <utility>
#include <vector>

#include <tinytorch/data/loader.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_throw_with;

// n samples whose label is their index.
std::shared_ptr<TensorDataset> numbered(std::size_t n) {
  return std::make_shared<TensorDataset>(
      std::vector<Tensor>{Tensor::zeros({n, 2}), Tensor::arange(0.0f, static_cast<float>(n))});
}

std::vector<float> labels_of_pass(DataLoader& loader) {
  std::vector<float> labels;
  for (const Batch& batch : loader) {
    const std::vector<float> y = batch[1].to_vector();
    labels.insert(labels.end(), y.begin(), y.end());
  }
  return labels;
}

// Gives the even indices, backwards, and counts the passes it was asked for.
class EvenBackwards : public Sampler {
 public:
  std::size_t size(std::size_t n) const override { return (n + 1) / 2; }
  std::vector<std::size_t> indices(std::size_t n) override {
    ++passes;
    std::vector<std::size_t> out;
    for (std::size_t i = size(n); i-- > 0;) out.push_back(2 * i);
    return out;
  }
  int passes = 0;
};

// Gives whatever it is told to, whatever it claims its size is.
class Scripted : public Sampler {
 public:
  Scripted(std::size_t claimed, std::vector<std::size_t> given)
      : claimed_(claimed), given_(std::move(given)) {}
  std::size_t size(std::size_t) const override { return claimed_; }
  std::vector<std::size_t> indices(std::size_t) override { return given_; }

 private:
  std::size_t claimed_;
  std::vector<std::size_t> given_;
};

TEST(DataLoaderSampler, EachPassTakesTheSamplersIndicesInItsOrder) {
  auto sampler = std::make_shared<EvenBackwards>();
  DataLoader loader(numbered(7), DataLoaderOptions(3).sampler(sampler));
  EXPECT_EQ(loader.size(), 2u);   // 4 indices in batches of 3
  EXPECT_EQ(sampler->passes, 0);  // size() needs no pass
  EXPECT_EQ(labels_of_pass(loader), (std::vector<float>{6, 4, 2, 0}));
  EXPECT_EQ(labels_of_pass(loader), (std::vector<float>{6, 4, 2, 0}));
  EXPECT_EQ(sampler->passes, 2);
}

TEST(DataLoaderSampler, DropLastAppliesToTheSamplersCount) {
  DataLoader loader(
      numbered(7), DataLoaderOptions(3).drop_last(true).sampler(std::make_shared<EvenBackwards>()));
  EXPECT_EQ(loader.size(), 1u);
  EXPECT_EQ(labels_of_pass(loader), (std::vector<float>{6, 4, 2}));
}

TEST(DataLoaderSamplerGiven, ShuffleAndASamplerExcludeEachOther) {
  expect_throw_with<std::invalid_argument>(
      [] {
        DataLoader(numbered(4),
                   DataLoaderOptions(2).shuffle(true).sampler(std::make_shared<EvenBackwards>()));
      },
      "DataLoader: shuffle(true) and a sampler exclude each other");
}

TEST(DataLoaderSamplerGiven, ASamplerThatBreaksItsWordIsAClearError) {
  DataLoader miscounted(numbered(4), DataLoaderOptions(2).sampler(std::make_shared<Scripted>(
                                         3, std::vector<std::size_t>{0, 1})));
  expect_throw_with<std::logic_error>([&] { miscounted.begin(); },
                                      "DataLoader: the sampler gave 2 indices for a pass, but its "
                                      "size() said 3");
  DataLoader outside(numbered(4), DataLoaderOptions(2).sampler(std::make_shared<Scripted>(
                                      2, std::vector<std::size_t>{0, 4})));
  expect_throw_with<std::logic_error>([&] { outside.begin(); },
                                      "DataLoader: the sampler gave index 4 for a dataset of 4 "
                                      "examples");
}

TEST(DataLoaderSamplerGiven, BatchBeforeAPassOrAnEmptySamplerSaySo) {
  DataLoader loader(numbered(4), DataLoaderOptions(2).sampler(std::make_shared<EvenBackwards>()));
  expect_throw_with<std::logic_error>([&] { loader.batch(0); },
                                      "DataLoader: batch() with a sampler before a pass began");
  DataLoader empty(numbered(4), DataLoaderOptions(2).sampler(
                                    std::make_shared<Scripted>(0, std::vector<std::size_t>{})));
  expect_throw_with<std::invalid_argument>(
      [&] { empty.check_has_batches("train_epoch"); },
      "train_epoch: the DataLoader gives no batches: its sampler gives no indices for a dataset "
      "of 4 examples");
}

}  // namespace
}  // namespace tinytorch
