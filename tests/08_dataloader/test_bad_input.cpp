// Module 08 — bad input to the data API: transforms without a dataset or function, crops of
// nothing, and reader paths that name a directory or no file.
#include <filesystem>
#include <limits>

#include <tinytorch/tinytorch.hpp>

#include "support/scratch_dir.hpp"
#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_throw_with;
using testing::ScratchDir;

TEST(TransformsGiven, ACropOfNothingAndATransformWithoutDatasetOrFunctionAreRejected) {
  expect_throw_with<std::invalid_argument>([] { RandomCrop(0, 3, 0); },
                                           "RandomCrop: crop size must be >= 1, got 0x3");
  auto data = std::make_shared<TensorDataset>(std::vector<Tensor>{Tensor::zeros({2, 2})});
  expect_throw_with<std::invalid_argument>(
      [] { TransformDataset(nullptr, RandomHorizontalFlip()); },
      "TransformDataset: dataset is null");
  expect_throw_with<std::invalid_argument>([&] { TransformDataset(data, Transform()); },
                                           "TransformDataset: transform is empty");
}

TEST(TransformsGiven, AFlipProbabilityThatIsNegativeOrNaNIsRejected) {
  expect_throw_with<std::invalid_argument>(
      [] { RandomHorizontalFlip(-0.5f); },
      "RandomHorizontalFlip: probability must be between 0 and 1, got -0.5");
  expect_throw_with<std::invalid_argument>(
      [] { RandomHorizontalFlip(-std::numeric_limits<float>::quiet_NaN()); },
      "RandomHorizontalFlip: probability must be between 0 and 1, got nan");
}

TEST(TransformsGiven, AFlipOfSomethingThatIsNotAnImageIsRejected) {
  const RandomHorizontalFlip flip(1.0f);
  expect_throw_with<ShapeError>(
      [&] { flip(Tensor::zeros({4})); },
      "RandomHorizontalFlip: expected an image [H, W] or [C, H, W], got [4]");
  expect_throw_with<ShapeError>(
      [&] {
        flip(Tensor::zeros({1, 1, 2, 2}));
      },
      "RandomHorizontalFlip: expected an image [H, W] or [C, H, W], got [1, 1, 2, 2]");
}

TEST(TransformsGiven, ComposeRejectsAnEmptyTransformWhenBuilt) {
  expect_throw_with<std::invalid_argument>(
      [] {
        Compose({RandomHorizontalFlip(), Transform()});
      },
      "Compose: transform 1 is empty");
  EXPECT_NO_THROW(
      Compose(std::vector<Transform>{}));  // no transforms: the identity, as in torchvision
}

TEST(IdxGiven, ADirectoryOrAMissingFileIsNamed) {
  ScratchDir dir;
  const std::string folder = dir.path().string();
  const std::string missing = dir.file("nope");
  expect_throw_with<DatasetError>([&] { read_idx(folder, missing); },
                                  "read_idx: '" + folder + "' is a directory, expected a file");
  expect_throw_with<DatasetError>([&] { read_idx(missing, folder); },
                                  "read_idx: file '" + missing + "' is missing (no such file)");
  expect_throw_with<DatasetError>([&] { read_digits_csv(folder); },
                                  "read_digits_csv: '" + folder + "' is a directory");
}

}  // namespace
}  // namespace tinytorch
