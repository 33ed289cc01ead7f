// Module 08 — what the data API says about odd input: reader paths with a NUL byte, a CSV that
// starts with a byte-order mark or holds bytes that are no number, crops of empty images,
// transforms given no tensor, and loaders that give no batch.
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <tinytorch/tinytorch.hpp>

#include "support/scratch_dir.hpp"
#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_near;
using testing::expect_throw_with;
using testing::ScratchDir;

std::string write_file(const ScratchDir& dir, const std::string& name, const std::string& bytes) {
  const std::string path = dir.file(name);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

/// A CSV row of 64 pixels all equal to `pixel`, then `label`.
std::string digit_row(int pixel, int label) {
  std::string row;
  for (int i = 0; i < 64; ++i) row += std::to_string(pixel) + ",";
  return row + std::to_string(label) + "\n";
}

TEST(DigitsCsvGiven, ReaderPathsWithANulByteAreRefusedNamingTheReader) {
  ScratchDir dir;
  const std::string cut = dir.file("digits.csv");
  write_file(dir, "digits.csv", digit_row(0, 0));  // what the path cut at its NUL would read
  const std::string path = cut + std::string(1, '\0') + ".gz";
  const std::string shown = cut + "\\0.gz";
  expect_throw_with<std::invalid_argument>(
      [&] { read_digits_csv(path); },
      "read_digits_csv: the path contains a NUL byte: '" + shown + "'");
  expect_throw_with<std::invalid_argument>(
      [&] { load_digits(path); }, "load_digits: the path contains a NUL byte: '" + shown + "'");
  expect_throw_with<std::invalid_argument>(
      [&] { read_idx(path, cut); },
      "read_idx: the image path contains a NUL byte: '" + shown + "'");
  expect_throw_with<std::invalid_argument>(
      [&] { read_idx(cut, path); },
      "read_idx: the label path contains a NUL byte: '" + shown + "'");
  expect_throw_with<std::invalid_argument>(
      [&] { load_mnist_like(dir.path().string() + '\0', "train"); },
      "load_mnist_like: the directory path contains a NUL byte: '" + dir.path().string() + "\\0'");
}

// Spreadsheets save "CSV UTF-8" with a byte-order mark in front; it used to be quoted,
// invisibly, as the bad first pixel: found '0'.
TEST(DigitsCsv, AFileThatStartsWithAUtf8ByteOrderMarkReadsLikeOneWithout) {
  ScratchDir dir;
  const std::string rows = digit_row(4, 7) + digit_row(16, 2);
  const LabeledImages plain = read_digits_csv(write_file(dir, "plain.csv", rows));
  const LabeledImages marked = read_digits_csv(write_file(dir, "bom.csv", "\xef\xbb\xbf" + rows));
  expect_near(marked.images, plain.images, 0.0f);
  expect_near(marked.labels, Tensor({7, 2}), 0.0f);
}

TEST(DigitsCsv, TextThatIsNoNumberIsShownEscaped) {
  ScratchDir dir;
  // A mark anywhere but at the very start is no part of the format.
  const std::string late =
      write_file(dir, "late.csv", digit_row(0, 1) + "\xef\xbb\xbf" + digit_row(0, 1));
  expect_throw_with<DatasetError>(
      [&] { read_digits_csv(late); },
      "line 2, field 1: expected an integer pixel in 0..16, found '\\xef\\xbb\\xbf0'");
  // An escape sequence that would clear the terminal and a NUL that would cut the message,
  // in place of the first pixel.
  const std::string control =
      write_file(dir, "control.csv", std::string("1\x1b[2J") + '\0' + digit_row(0, 1).substr(1));
  expect_throw_with<DatasetError>([&] { read_digits_csv(control); },
                                  "line 1, field 1: expected an integer pixel in 0..16, found "
                                  "'1\\x1b[2J\\0'");
  const std::string latin1 =
      write_file(dir, "latin1.csv", digit_row(0, 1) + "caf\xe9" + digit_row(0, 1));
  expect_throw_with<DatasetError>([&] { read_digits_csv(latin1); },
                                  "line 2, field 1: expected an integer pixel in 0..16, found "
                                  "'caf\\xe90'");
}

TEST(TransformsGiven, ACropOfAnEmptyImageIsRejectedLikeAConvolution) {
  // It used to return a crop of zeros: padding only, passed on as if it were an image.
  const RandomCrop crop(2, 1);
  expect_throw_with<ShapeError>(
      [&] {
        crop(Tensor::zeros({3, 0, 4}));
      },
      "RandomCrop: input [3, 0, 4] has an empty 0x4 image; expected H and W >= 1");
  expect_throw_with<ShapeError>(
      [&] {
        crop(Tensor::zeros({0, 0}));
      },
      "RandomCrop: input [0, 0] has an empty 0x0 image");
  // The same words conv2d uses.
  expect_throw_with<ShapeError>(
      [] {
        conv2d(Tensor::zeros({1, 3, 0, 4}), Tensor::zeros({1, 3, 1, 1}));
      },
      "conv2d: input [1, 3, 0, 4] has an empty 0x4 image; expected H and W >= 1");
}

/// Two samples of `input` and a label, as a user's Dataset might give them. (Not a
/// TensorDataset: its get() is an exercise, and these tests are of code the course hands out.)
class FixedDataset : public Dataset {
 public:
  explicit FixedDataset(Tensor input) : input_(std::move(input)) {}
  std::size_t size() const override { return 2; }
  Sample get(std::size_t) const override { return {input_, Tensor::scalar(1.0f)}; }

 private:
  Tensor input_;
};

TEST(TransformsGiven, ATransformGivenAnUndefinedTensorNamesItself) {
  // These used to end in "Tensor: use of an undefined tensor", naming nothing.
  expect_throw_with<std::invalid_argument>(
      [] { RandomCrop(2, 0)(Tensor()); },
      "RandomCrop: the image is undefined; expected a tensor [H, W] or [C, H, W]");
  expect_throw_with<std::invalid_argument>([] { RandomHorizontalFlip()(Tensor()); },
                                           "RandomHorizontalFlip: the image is undefined");
  const TransformDataset hollow(std::make_shared<FixedDataset>(Tensor()), RandomHorizontalFlip());
  expect_throw_with<std::invalid_argument>(
      [&] { hollow.get(1); },
      "TransformDataset: field 0 of sample 1 is undefined; the transform needs a tensor");
  const TransformDataset lost(std::make_shared<FixedDataset>(Tensor::zeros({2, 2})),
                              [](const Tensor&) { return Tensor(); });
  expect_throw_with<std::invalid_argument>(
      [&] { lost.get(0); },
      "TransformDataset: the transform returned an undefined tensor for sample 0");
}

TEST(DataLoaderGiven, ALoaderWithoutBatchesSaysWhy) {
  auto five = std::make_shared<TensorDataset>(std::vector<Tensor>{Tensor::zeros({5, 2})});
  // As torch.utils.data.DataLoader: drop_last drops the only, partial batch; a pass is empty.
  const DataLoader dropped(five, DataLoaderOptions(8).drop_last(true));
  EXPECT_EQ(dropped.size(), 0u);
  expect_throw_with<std::invalid_argument>(
      [&] { dropped.check_has_batches("train_epoch"); },
      "train_epoch: the DataLoader gives no batches: drop_last drops the last, partial batch, "
      "and the dataset has 5 examples, fewer than one batch of 8; lower the batch size or set "
      "drop_last(false)");
  auto none = std::make_shared<TensorDataset>(std::vector<Tensor>{Tensor::zeros({0, 2})});
  expect_throw_with<std::invalid_argument>(
      [&] { DataLoader(none, 4).check_has_batches("evaluate"); },
      "evaluate: the DataLoader gives no batches: the dataset is empty");
  EXPECT_NO_THROW(DataLoader(five, DataLoaderOptions(5).drop_last(true)).check_has_batches("x"));
}

}  // namespace
}  // namespace tinytorch
