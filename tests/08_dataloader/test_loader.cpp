// Module 08 — Dataset, TensorDataset, default_collate and DataLoader.
#include <algorithm>
#include <limits>
#include <memory>
#include <numeric>
#include <type_traits>
#include <vector>

#include <tinytorch/data/loader.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_near;
using testing::expect_throw_with;

// The course's three-sample dataset: features [[1,2],[3,4],[5,6]], labels [0,1,2].
std::shared_ptr<TensorDataset> three_samples() {
  return std::make_shared<TensorDataset>(
      std::vector<Tensor>{Tensor({{1, 2}, {3, 4}, {5, 6}}), Tensor({0, 1, 2})});
}

// n samples whose features are [i, 10 i] and whose label is i, so a batch says which rows it holds.
std::shared_ptr<TensorDataset> numbered(std::size_t n) {
  Tensor labels = Tensor::arange(0.0f, static_cast<float>(n));
  Tensor features = Tensor::zeros({n, 2});
  for (std::size_t i = 0; i < n; ++i) {
    features.data()(i, 0) = static_cast<float>(i);
    features.data()(i, 1) = 10.0f * static_cast<float>(i);
  }
  return std::make_shared<TensorDataset>(std::vector<Tensor>{features, labels});
}

/// The labels of every batch of one pass, in order.
std::vector<float> labels_of_pass(DataLoader& loader) {
  std::vector<float> labels;
  for (const Batch& batch : loader) {
    const Array& y = batch[1].data();
    labels.insert(labels.end(), y.begin(), y.end());
  }
  return labels;
}

std::vector<float> iota_floats(std::size_t n) {
  std::vector<float> v(n);
  std::iota(v.begin(), v.end(), 0.0f);
  return v;
}

// A user's own dataset: sample i is {[i, i*i], i}.
class SquaresDataset : public Dataset {
 public:
  explicit SquaresDataset(std::size_t n) : n_(n) {}
  std::size_t size() const override { return n_; }
  Sample get(std::size_t i) const override {
    const auto x = static_cast<float>(i);
    return {Tensor({x, x * x}), Tensor::scalar(x)};
  }

 private:
  std::size_t n_;
};

// ---- Dataset / TensorDataset ------------------------------------------------------------

TEST(DatasetGiven, IsAbstract) {
  static_assert(std::is_abstract_v<Dataset>);
}

TEST(TensorDataset, ThreeSamplesIndexLikeTheCourse) {
  auto ds = three_samples();
  EXPECT_EQ(ds->size(), 3u);
  const Sample first = ds->get(0);
  ASSERT_EQ(first.size(), 2u);
  expect_near(first[0], Tensor({1, 2}));
  EXPECT_EQ(first[1].ndim(), 0u);
  EXPECT_EQ(first[1].item(), 0.0f);
  EXPECT_EQ(ds->get(1)[1].item(), 1.0f);
  expect_near(ds->get(2)[0], Tensor({5, 6}));
}

TEST(TensorDataset, IndexOutOfRangeThrows) {
  auto ds = three_samples();
  expect_throw_with<std::out_of_range>(
      [&] { ds->get(10); }, "TensorDataset: index 10 out of range for dataset of size 3");
  expect_throw_with<std::out_of_range>([&] { ds->get(3); }, "index 3 out of range");
  expect_throw_with<std::out_of_range>([&] { ds->get_batch({0, 3}); }, "index 3 out of range");
}

TEST(TensorDatasetGiven, MismatchedFirstDimensionsThrow) {
  expect_throw_with<std::invalid_argument>(
      [] {
        TensorDataset(std::vector<Tensor>{Tensor::zeros({3, 2}), Tensor::zeros({2})});
      },
      "TensorDataset: all tensors must have the same size in the first dimension; "
      "tensor 0: 3, tensor 1: 2");
}

TEST(TensorDatasetGiven, NeedsAtLeastOneTensorWithAFirstDimension) {
  expect_throw_with<std::invalid_argument>([] { TensorDataset(std::vector<Tensor>{}); },
                                           "TensorDataset: expected at least one tensor");
  expect_throw_with<std::invalid_argument>(
      [] {
        TensorDataset(std::vector<Tensor>{Tensor::zeros({2}), Tensor::scalar(1)});
      },
      "tensor 1 has no first dimension");
}

TEST(TensorDataset, SamplesAreCopiesWithoutGrad) {
  Tensor x = Tensor({{1, 2}, {3, 4}});
  x.requires_grad_();
  TensorDataset ds(std::vector<Tensor>{x});
  Tensor row = ds.get(1)[0];
  EXPECT_FALSE(row.requires_grad());
  EXPECT_EQ(row.grad_fn(), nullptr);
  row.data()(0) = 100.0f;  // writing to the sample leaves the dataset alone
  EXPECT_EQ(x.data()(1, 0), 3.0f);
  EXPECT_FALSE(ds.get_batch({0, 1})[0].requires_grad());
}

TEST(TensorDatasetGiven, GetBatchGathersRowsInTheGivenOrder) {
  auto ds = three_samples();
  const Batch batch = ds->get_batch({2, 0});
  expect_near(batch[0], Tensor({{5, 6}, {1, 2}}));
  expect_near(batch[1], Tensor({2, 0}));
}

// ---- default_collate --------------------------------------------------------------------

TEST(DefaultCollate, StacksEachFieldAlongANewAxis) {
  const Batch batch =
      default_collate({{Tensor({1, 2}), Tensor::scalar(0)}, {Tensor({3, 4}), Tensor::scalar(1)}});
  ASSERT_EQ(batch.size(), 2u);
  expect_near(batch[0], Tensor({{1, 2}, {3, 4}}));
  expect_near(batch[1], Tensor({0, 1}));
}

TEST(DefaultCollate, EmptyListGivesEmptyBatch) {
  EXPECT_TRUE(default_collate({}).empty());
}

TEST(DefaultCollate, MismatchedSamplesNameSampleAndField) {
  expect_throw_with<ShapeError>(
      [] {
        default_collate({{Tensor({1, 2})}, {Tensor({1, 2, 3})}});
      },
      "default_collate: field 0 of sample 1 has shape [3], sample 0 has [2]");
  expect_throw_with<std::invalid_argument>(
      [] {
        default_collate({{Tensor({1}), Tensor({2})}, {Tensor({1})}});
      },
      "default_collate: sample 1 has 1 fields, sample 0 has 2");
}

// ---- DataLoader: batching ---------------------------------------------------------------

TEST(DataLoader, FiveSamplesInBatchesOfTwo) {
  auto ds = std::make_shared<TensorDataset>(std::vector<Tensor>{
      Tensor({{1, 2}, {3, 4}, {5, 6}, {7, 8}, {9, 10}}), Tensor({0, 1, 0, 1, 0})});
  DataLoader loader(ds, 2);
  EXPECT_EQ(loader.size(), 3u);
  EXPECT_EQ(loader.batch_size(), 2u);
  std::vector<Batch> batches;
  for (const Batch& b : loader) batches.push_back(b);
  ASSERT_EQ(batches.size(), 3u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(batches[i][0].shape(), (Shape{2, 2}));
    EXPECT_EQ(batches[i][1].shape(), (Shape{2}));
  }
  EXPECT_EQ(batches[2][0].shape(), (Shape{1, 2}));
  EXPECT_EQ(batches[2][1].shape(), (Shape{1}));
  expect_near(batches[0][0], Tensor({{1, 2}, {3, 4}}));  // first sample [1, 2] / 0 kept
  EXPECT_EQ(batches[0][1].data()(0), 0.0f);
  expect_near(batches[2][0], Tensor({{9, 10}}));
}

TEST(DataLoader, WithoutShuffleVisitsInOrder) {
  DataLoader loader(numbered(10), 3);
  EXPECT_EQ(labels_of_pass(loader), iota_floats(10));
  EXPECT_EQ(labels_of_pass(loader), iota_floats(10));
}

TEST(DataLoader, EverySampleExactlyOncePerPass) {
  DataLoader loader(numbered(800), DataLoaderOptions(32).shuffle(true).seed(3));
  EXPECT_EQ(loader.size(), 25u);
  for (int pass = 0; pass < 2; ++pass) {
    std::size_t batches = 0;
    std::vector<float> seen;
    for (const Batch& b : loader) {
      ++batches;
      EXPECT_EQ(b[0].shape(), (Shape{32, 2}));
      seen.insert(seen.end(), b[1].data().begin(), b[1].data().end());
    }
    EXPECT_EQ(batches, 25u);
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen, iota_floats(800));
  }
}

TEST(DataLoader, BatchesKeepFeaturesWithTheirLabels) {
  DataLoader loader(numbered(50), DataLoaderOptions(8).shuffle(true).seed(11));
  for (const Batch& b : loader) {
    for (std::size_t r = 0; r < b[1].size(); ++r) {
      EXPECT_EQ(b[0].data()(r, 0), b[1].data()(r));
      EXPECT_EQ(b[0].data()(r, 1), 10.0f * b[1].data()(r));
    }
  }
}

TEST(DataLoader, ShuffleChangesOrderBetweenPassesAndKeepsTheSet) {
  DataLoader loader(numbered(100), DataLoaderOptions(10).shuffle(true).seed(42));
  const std::vector<float> first = labels_of_pass(loader);
  const std::vector<float> second = labels_of_pass(loader);
  EXPECT_NE(first, iota_floats(100));
  EXPECT_NE(first, second);
  std::vector<float> a = first, b = second;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  EXPECT_EQ(a, iota_floats(100));
  EXPECT_EQ(b, iota_floats(100));
}

TEST(DataLoader, SameSeedGivesIdenticalBatches) {
  DataLoader a(numbered(64), DataLoaderOptions(16).shuffle(true).seed(42));
  DataLoader b(numbered(64), DataLoaderOptions(16).shuffle(true).seed(42));
  for (int pass = 0; pass < 3; ++pass) EXPECT_EQ(labels_of_pass(a), labels_of_pass(b));
}

TEST(DataLoader, DifferentSeedsGiveDifferentOrders) {
  DataLoader a(numbered(64), DataLoaderOptions(16).shuffle(true).seed(42));
  DataLoader b(numbered(64), DataLoaderOptions(16).shuffle(true).seed(123));
  EXPECT_NE(labels_of_pass(a), labels_of_pass(b));
}

TEST(DataLoader, UnseededLoaderFollowsManualSeed) {
  manual_seed(7);
  DataLoader a(numbered(64), 16, /*shuffle=*/true);
  manual_seed(7);
  DataLoader b(numbered(64), 16, /*shuffle=*/true);
  EXPECT_EQ(labels_of_pass(a), labels_of_pass(b));
}

TEST(DataLoader, DropLastSkipsThePartialBatch) {
  DataLoader loader(numbered(5), DataLoaderOptions(2).drop_last(true));
  EXPECT_EQ(loader.size(), 2u);
  std::size_t batches = 0;
  for (const Batch& b : loader) {
    EXPECT_EQ(b[1].shape(), (Shape{2}));
    ++batches;
  }
  EXPECT_EQ(batches, 2u);
  EXPECT_EQ(DataLoader(numbered(3), DataLoaderOptions(4).drop_last(true)).size(), 0u);
}

TEST(DataLoader, BatchLargerThanDatasetGivesOneBatch) {
  DataLoader loader(numbered(3), 10);
  EXPECT_EQ(loader.size(), 1u);
  EXPECT_EQ(labels_of_pass(loader), iota_floats(3));
}

TEST(DataLoader, EmptyDatasetGivesNoBatches) {
  DataLoader loader(std::make_shared<TensorDataset>(std::vector<Tensor>{Tensor::zeros({0, 2})}), 4);
  EXPECT_EQ(loader.size(), 0u);
  EXPECT_TRUE(loader.begin() == loader.end());
}

TEST(DataLoader, CustomCollateReceivesTheSamplesOfEachBatch) {
  std::vector<std::size_t> sizes;
  auto sum_features = [&](const std::vector<Sample>& samples) {
    sizes.push_back(samples.size());
    float total = 0.0f;
    for (const Sample& s : samples) total += s[0].sum().item();
    return Batch{Tensor::scalar(total)};
  };
  DataLoader loader(three_samples(), DataLoaderOptions(2).collate(sum_features));
  std::vector<float> totals;
  for (const Batch& b : loader) totals.push_back(b[0].item());
  EXPECT_EQ(sizes, (std::vector<std::size_t>{2, 1}));
  EXPECT_EQ(totals, (std::vector<float>{1 + 2 + 3 + 4, 5 + 6}));
}

TEST(DataLoader, UserDatasetWorksWithDefaultCollate) {
  DataLoader loader(std::make_shared<SquaresDataset>(5), 2);
  EXPECT_EQ(loader.size(), 3u);
  std::vector<Batch> batches;
  for (const Batch& b : loader) batches.push_back(b);
  ASSERT_EQ(batches.size(), 3u);
  expect_near(batches[0][0], Tensor({{0, 0}, {1, 1}}));
  expect_near(batches[0][1], Tensor({0, 1}));
  expect_near(batches[2][0], Tensor({{4, 16}}));
  EXPECT_EQ(batches[2][1].shape(), (Shape{1}));
}

TEST(DataLoader, TensorDatasetFastPathMatchesCollatingSamples) {
  // Setting a collate turns the gather fast path off; both must give the same batches.
  DataLoader fast(numbered(37), DataLoaderOptions(8).shuffle(true).seed(5));
  DataLoader slow(numbered(37),
                  DataLoaderOptions(8).shuffle(true).seed(5).collate(default_collate));
  for (int pass = 0; pass < 2; ++pass) {
    auto f = fast.begin();
    auto s = slow.begin();
    for (; f != fast.end() && s != slow.end(); ++f, ++s) {
      expect_near((*f)[0], (*s)[0]);
      expect_near((*f)[1], (*s)[1]);
    }
    EXPECT_TRUE(f == fast.end() && s == slow.end());
  }
}

TEST(DataLoader, BatchesCarryNoGradient) {
  Tensor x = Tensor::ones({4, 3}, /*requires_grad=*/true);
  DataLoader loader(std::make_shared<TensorDataset>(std::vector<Tensor>{x}), 2);
  for (const Batch& b : loader) {
    EXPECT_FALSE(b[0].requires_grad());
    EXPECT_EQ(b[0].grad_fn(), nullptr);
  }
}

TEST(DataLoader, BatchOutsideThePassThrows) {
  DataLoader loader(numbered(5), 2);
  EXPECT_EQ(loader.batch(2)[1].size(), 1u);
  expect_throw_with<std::out_of_range>([&] { loader.batch(3); },
                                       "DataLoader: batch 3 out of range for a pass of 3 batches");
}

TEST(DataLoader, ABatchSizeOfSizeMaxGivesOneBatchOfEverySample) {
  // ceil(5 / SIZE_MAX) computed as (5 + SIZE_MAX - 1) / SIZE_MAX wraps to 0 batches.
  const std::size_t huge = std::numeric_limits<std::size_t>::max();
  DataLoader loader(numbered(5), huge);
  EXPECT_EQ(loader.size(), 1u);
  EXPECT_EQ(labels_of_pass(loader), iota_floats(5));
  EXPECT_EQ(DataLoader(numbered(5), DataLoaderOptions(huge).drop_last(true)).size(), 0u);
  DataLoader half(numbered(5), huge / 2 + 1);
  EXPECT_EQ(half.size(), 1u);
  expect_throw_with<std::out_of_range>([&] { half.batch(2); },
                                       "DataLoader: batch 2 out of range for a pass of 1 batches");
}

TEST(DataLoaderGiven, BatchSizeZeroOrNoDatasetThrows) {
  expect_throw_with<std::invalid_argument>([] { DataLoader(three_samples(), 0); },
                                           "DataLoader: batch size must be positive, got 0");
  expect_throw_with<std::invalid_argument>([] { DataLoader(nullptr, 2); },
                                           "DataLoader: dataset is null");
}

}  // namespace
}  // namespace tinytorch
