// Module 08 — bad input to the data API: transforms without a dataset or function, crops of
// nothing, and reader paths that name a directory or no file.
#include <filesystem>

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
