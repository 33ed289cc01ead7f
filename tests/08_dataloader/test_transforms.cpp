// Module 08: data augmentation — flips, crops, composition, and a transformed dataset.
#include <tinytorch/tinytorch.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_near;
using testing::expect_throw_with;

TEST(TransformsGiven, FlipWithProbabilityOneReversesEachRow) {
  const Tensor image({{1, 2, 3}, {4, 5, 6}});
  expect_near(RandomHorizontalFlip(1.0f)(image), Tensor({{3, 2, 1}, {6, 5, 4}}));
  expect_near(image, Tensor({{1, 2, 3}, {4, 5, 6}}));  // the input is not modified
  const Tensor chw({{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}});
  expect_near(RandomHorizontalFlip(1.0f)(chw), Tensor({{{2, 1}, {4, 3}}, {{6, 5}, {8, 7}}}));
}

TEST(TransformsGiven, FlipWithProbabilityZeroNeverFlips) {
  const Tensor image({{1, 2, 3}});
  for (int i = 0; i < 50; ++i) expect_near(RandomHorizontalFlip(0.0f)(image), image);
}

TEST(TransformsGiven, FlipWithProbabilityHalfFlipsAboutHalfTheTime) {
  manual_seed(42);
  const Tensor image({{1, 2}});
  int flipped = 0;
  for (int i = 0; i < 100; ++i) flipped += RandomHorizontalFlip(0.5f)(image).data()(0, 0) == 2.0f;
  EXPECT_GE(flipped, 20);
  EXPECT_LE(flipped, 80);
}

TEST(TransformsGiven, CropKeepsTheRequestedShape) {
  manual_seed(1);
  EXPECT_EQ(RandomCrop(32)(Tensor::randn({3, 32, 32})).shape(), (Shape{3, 32, 32}));
  EXPECT_EQ(RandomCrop(28)(Tensor::randn({28, 28})).shape(), (Shape{28, 28}));
  EXPECT_EQ(RandomCrop(4, 6, 0)(Tensor::randn({2, 8, 8})).shape(), (Shape{2, 4, 6}));
}

TEST(TransformsGiven, CropWithoutPaddingAtFullSizeIsTheIdentity) {
  const Tensor image = Tensor::arange(0, 12).reshape({3, 4});
  expect_near(RandomCrop(3, 4, 0)(image), image);
}

TEST(TransformsGiven, CropIsAWindowOfTheZeroPaddedImage) {
  manual_seed(7);
  const Tensor ones = Tensor::ones({1, 4, 4});
  bool saw_padding = false;
  for (int i = 0; i < 30; ++i) {
    const Tensor crop = RandomCrop(4, 2)(ones);
    float total = 0.0f;
    for (float v : crop.data()) {
      EXPECT_TRUE(v == 0.0f || v == 1.0f);
      total += v;
    }
    // A 4x4 window of a 4x4 block of ones inside 2 pixels of zeros holds a rectangle of ones.
    EXPECT_GE(total, 4.0f);
    saw_padding = saw_padding || total < 16.0f;
  }
  EXPECT_TRUE(saw_padding);
}

TEST(TransformsGiven, ComposeAppliesInOrder) {
  const Transform add_one = [](const Tensor& t) { return t + 1.0f; };
  const Transform twice = [](const Tensor& t) { return t * 2.0f; };
  expect_near(Compose({add_one, twice})(Tensor({1, 2})), Tensor({4, 6}));
  expect_near(Compose({twice, add_one})(Tensor({1, 2})), Tensor({3, 5}));
}

TEST(Transforms, TransformDatasetAugmentsInputsThatBatchAsUsual) {
  manual_seed(3);
  auto base = std::make_shared<TensorDataset>(
      std::vector<Tensor>{Tensor::randn({10, 3, 8, 8}), Tensor::arange(0, 10)});
  auto augmented = std::make_shared<TransformDataset>(
      base, Compose({RandomHorizontalFlip(0.5f), RandomCrop(8, 2)}));
  DataLoader loader(augmented, DataLoaderOptions(4));
  std::size_t seen = 0;
  for (const Batch& batch : loader) {
    EXPECT_EQ(batch[0].shape(), (Shape{batch[1].size(), 3, 8, 8}));
    seen += batch[1].size();
  }
  EXPECT_EQ(seen, 10u);
  expect_near(augmented->get(4)[1], Tensor::scalar(4.0f));  // labels pass through untouched
}

TEST(Transforms, BadInputGivesClearErrors) {
  expect_throw_with<std::invalid_argument>(
      [] { RandomHorizontalFlip(1.5f); },
      "RandomHorizontalFlip: probability must be between 0 and 1, got 1.5");
  expect_throw_with<ShapeError>([] { RandomCrop(4)(Tensor::zeros({4})); },
                                "RandomCrop: expected an image [H, W] or [C, H, W], got [4]");
  expect_throw_with<ShapeError>(
      [] {
        RandomCrop(10, 1)(Tensor::zeros({4, 4}));
      },
      "RandomCrop: crop 10x10 is larger than the padded image 6x6");
  auto base = std::make_shared<TensorDataset>(std::vector<Tensor>{Tensor::zeros({2, 2})});
  expect_throw_with<std::invalid_argument>(
      [&] { TransformDataset(base, RandomHorizontalFlip(), 3).get(0); }, "field 3 does not exist");
}

TEST(TransformsGiven, CropPaddingWhoseDoubleOverflowsIsRejected) {
  // 3 + 2 * (2^63 + 1) wraps to 5 in 64 bits: a 2x2 crop used to "fit" and index far outside.
  const std::size_t padding = (std::size_t{1} << 63) + 1;
  expect_throw_with<ShapeError>(
      [&] {
        RandomCrop(2, 2, padding)(Tensor::zeros({3, 3}));
      },
      "RandomCrop: padding 9223372036854775809 on a side of 3 is too large");
  expect_throw_with<ShapeError>(
      [] {
        RandomCrop(2, 2, std::size_t{1} << 62)(Tensor::zeros({1, 3, 3}));
      },
      "RandomCrop: padding 4611686018427387904 on a side of 3 is too large");
}

}  // namespace
}  // namespace tinytorch
