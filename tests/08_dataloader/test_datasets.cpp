// Module 08 — dataset readers: the bundled digits, IDX files, and what bad files report.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <tinytorch/data/datasets.hpp>
#include <tinytorch/data/loader.hpp>

#include "support/scratch_dir.hpp"
#include "support/testing.hpp"

namespace tinytorch {
namespace {

namespace fs = std::filesystem;
using testing::expect_near;
using testing::expect_throw_with;

const std::string kBundledDigits = std::string(TINYTORCH_SOURCE_DIR) + "/datasets/digits.csv.gz";
const std::string kFashionDir = "/usr/share/datasets/fashion-mnist";

// The first row of the bundled file (zcat datasets/digits.csv.gz | head -1): a zero.
const std::vector<float> kFirstDigitPixels = {0, 0, 5,  13, 9,  1,  0, 0,  //
                                              0, 0, 13, 15, 10, 15, 5, 0,  //
                                              0, 3, 15, 2,  0,  11, 8, 0,  //
                                              0, 4, 12, 0,  0,  8,  8, 0,  //
                                              0, 5, 8,  0,  0,  9,  8, 0,  //
                                              0, 4, 11, 0,  1,  12, 7, 0,  //
                                              0, 2, 14, 5,  10, 12, 0, 0,  //
                                              0, 0, 6,  13, 10, 0,  0, 0};
const char* const kFirstDigitRow =
    "0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,0,3,15,2,0,11,8,0,0,4,12,0,0,8,8,0,0,5,8,0,0,9,8,0,"
    "0,4,11,0,1,12,7,0,0,2,14,5,10,12,0,0,0,0,6,13,10,0,0,0,0";

/// A fresh directory under the system temp dir, removed with everything in it at the end.
class TempDir {
 public:
  TempDir() {
    std::random_device entropy;
    path_ = fs::temp_directory_path() /
            ("tinytorch_08_" + std::to_string(entropy()) + "_" + std::to_string(entropy()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string path() const { return path_.string(); }
  std::string write(const std::string& name, const std::string& bytes) const {
    const fs::path file = path_ / name;
    std::ofstream(file, std::ios::binary) << bytes;
    return file.string();
  }

 private:
  fs::path path_;
};

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// A CSV row of 64 pixels all equal to `pixel`, then `label`.
std::string digit_row(int pixel, int label) {
  std::string row;
  for (int i = 0; i < 64; ++i) row += std::to_string(pixel) + ",";
  return row + std::to_string(label) + "\n";
}

// ---- IDX files written by hand ----------------------------------------------------------

void put_be32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}

std::string idx_images(std::uint32_t count, std::uint32_t rows, std::uint32_t cols,
                       const std::string& pixels, std::uint32_t magic = 0x00000803) {
  std::string out;
  put_be32(out, magic);
  put_be32(out, count);
  put_be32(out, rows);
  put_be32(out, cols);
  return out + pixels;
}

std::string idx_labels(std::uint32_t count, const std::string& labels,
                       std::uint32_t magic = 0x00000801) {
  std::string out;
  put_be32(out, magic);
  put_be32(out, count);
  return out + labels;
}

/// Three 2x3 images with pixels 0, 1, ..., 17 and labels 7, 0, 9.
std::string three_images() {
  std::string pixels;
  for (int i = 0; i < 18; ++i) pixels.push_back(static_cast<char>(i * 15));
  return idx_images(3, 2, 3, pixels);
}
std::string three_labels() {
  return idx_labels(3, std::string{7, 0, 9});
}

// ---- the bundled digits -----------------------------------------------------------------

/// Sets (or, with nullptr, unsets) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    const char* old = std::getenv(name);
    if (old) saved_ = std::string(old);
    if (value) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (saved_) {
      setenv(name_, saved_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> saved_;
};

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(DigitsGiven, DefaultPathIsTheBuildTreeCopyNotTheSourceTree) {
  const ScopedEnv no_variable("TINYTORCH_DIGITS", nullptr);
  const std::string path = default_digits_path();
  EXPECT_EQ(fs::path(path),
            fs::path(std::string(TINYTORCH_BINARY_DIR) + "/share/tinytorch/digits.csv.gz"));
  EXPECT_EQ(file_bytes(path), file_bytes(kBundledDigits));  // a copy of the bundled file
}

TEST(DigitsGiven, SearchOrderIsVariableThenBesideTheProgramThenInstallThenBuildTree) {
  const ScopedEnv variable("TINYTORCH_DIGITS", "/somewhere/else.csv.gz");
  const std::vector<std::string> places = digits_search_paths();
  ASSERT_GE(places.size(), 4u);
  EXPECT_EQ(places.front(), "/somewhere/else.csv.gz");
  // The test program lives in <build>/tests: "beside the program" is <build>/share/tinytorch.
  EXPECT_EQ(fs::path(places[1]),
            fs::path(std::string(TINYTORCH_BINARY_DIR) + "/share/tinytorch/digits.csv.gz"));
  EXPECT_EQ(fs::path(places.back()),
            fs::path(std::string(TINYTORCH_BINARY_DIR) + "/share/tinytorch/digits.csv.gz"));
  const std::string install = places[places.size() - 2];
  EXPECT_EQ(fs::path(install).filename(), "digits.csv.gz");
  EXPECT_EQ(fs::path(install).parent_path().filename(), "tinytorch");
  for (const std::string& p : places) {
    EXPECT_NE(fs::path(p), fs::path(kBundledDigits)) << "the source tree's copy is never used";
  }
  const ScopedEnv unset("TINYTORCH_DIGITS", nullptr);
  EXPECT_EQ(digits_search_paths().size(), places.size() - 1);
}

TEST(Digits, EnvironmentVariableOverridesThePath) {
  testing::ScratchDir dir;
  const std::string copy = dir.file("my_digits.csv.gz");
  fs::copy_file(kBundledDigits, copy);
  const ScopedEnv variable("TINYTORCH_DIGITS", copy.c_str());
  EXPECT_EQ(default_digits_path(), copy);
  EXPECT_EQ(load_digits().train.size(), 1437u);
}

TEST(Digits, EnvironmentVariableNamingNoFileIsAnErrorThatSaysSo) {
  const ScopedEnv variable("TINYTORCH_DIGITS", "/no/such/digits.csv.gz");
  expect_throw_with<DatasetError>(
      [] { load_digits(); },
      "load_digits: TINYTORCH_DIGITS is set to '/no/such/digits.csv.gz', but there is no file "
      "there");
  // An explicit path does not consult the variable.
  EXPECT_EQ(load_digits(kBundledDigits).test.size(), 360u);
}

// The variable is the only place searched when it is set: the message names it, the path it
// gave and the way back to the bundled file, and the search itself runs no exercise.
TEST(DigitsGiven, DefaultPathWithTheVariableNamingNoFileSaysWhereItLookedAndWhatToDo) {
  testing::ScratchDir dir;
  const std::string missing = dir.file("gone.csv.gz");
  const ScopedEnv variable("TINYTORCH_DIGITS", missing.c_str());
  expect_throw_with<DatasetError>(
      [] { default_digits_path(); },
      "load_digits: TINYTORCH_DIGITS is set to '" + missing + "', but there is no file there");
  expect_throw_with<DatasetError>([] { default_digits_path(); },
                                  "or unset it to use the bundled digits.csv.gz");
  // A directory is not a digits file either.
  const ScopedEnv folder("TINYTORCH_DIGITS", dir.path().c_str());
  expect_throw_with<DatasetError>([] { default_digits_path(); },
                                  "TINYTORCH_DIGITS is set to '" + dir.path().string() + "'");
}

TEST(Digits, BundledFileHas1797Rows) {
  const LabeledImages all = read_digits_csv(kBundledDigits);
  EXPECT_EQ(all.size(), 1797u);
  EXPECT_EQ(all.images.shape(), (Shape{1797, 1, 8, 8}));
  EXPECT_EQ(all.labels.shape(), (Shape{1797}));
}

TEST(Digits, CourseSplitShapes) {
  const DigitsSplit digits = load_digits(kBundledDigits);
  EXPECT_EQ(digits.train.images.shape(), (Shape{1437, 1, 8, 8}));
  EXPECT_EQ(digits.train.labels.shape(), (Shape{1437}));
  EXPECT_EQ(digits.test.images.shape(), (Shape{360, 1, 8, 8}));
  EXPECT_EQ(digits.test.labels.shape(), (Shape{360}));
}

TEST(Digits, PixelsAreSixteenthsInZeroToOne) {
  const LabeledImages all = read_digits_csv(kBundledDigits);
  const Array& x = all.images.data();
  EXPECT_EQ(*std::min_element(x.begin(), x.end()), 0.0f);
  EXPECT_EQ(*std::max_element(x.begin(), x.end()), 1.0f);
  for (float v : x) ASSERT_EQ(v * 16.0f, std::round(v * 16.0f)) << "pixel " << v;
}

TEST(Digits, LabelCountsArePlausible) {
  const DigitsSplit digits = load_digits(kBundledDigits);
  std::vector<int> counts(10, 0), train_counts(10, 0);
  for (float y : digits.train.labels.data()) {
    ASSERT_EQ(y, std::round(y));
    ASSERT_GE(y, 0.0f);
    ASSERT_LE(y, 9.0f);
    ++train_counts[static_cast<int>(y)];
    ++counts[static_cast<int>(y)];
  }
  for (float y : digits.test.labels.data()) ++counts[static_cast<int>(y)];
  for (int c = 0; c < 10; ++c) {
    EXPECT_GE(counts[c], 170) << "class " << c;  // the file holds 174..183 of each
    EXPECT_LE(counts[c], 190) << "class " << c;
    EXPECT_GE(train_counts[c], 135) << "class " << c;  // 141..146 in the first 1437 rows
  }
}

TEST(Digits, FirstRowMatchesTheFile) {
  const DigitsSplit digits = load_digits(kBundledDigits);
  Tensor expected = Tensor::zeros({1, 8, 8});
  for (std::size_t i = 0; i < 64; ++i) expected.data().data()[i] = kFirstDigitPixels[i] / 16.0f;
  expect_near(digits.train.images[0], expected, 0.0f);
  EXPECT_EQ(digits.train.labels.data()(0), 0.0f);
  EXPECT_EQ(digits.train.labels.data()(1), 1.0f);
  EXPECT_EQ(digits.test.labels.data()(359), 8.0f);  // the file's last row is an 8
}

TEST(Digits, TrainBatchesThroughADataLoader) {
  const DigitsSplit digits = load_digits(kBundledDigits);
  auto ds = std::make_shared<TensorDataset>(
      std::vector<Tensor>{digits.train.images, digits.train.labels});
  DataLoader loader(ds, DataLoaderOptions(32).shuffle(true).seed(1));
  EXPECT_EQ(loader.size(), 45u);  // ceil(1437 / 32)
  const Batch first = *loader.begin();
  EXPECT_EQ(first[0].shape(), (Shape{32, 1, 8, 8}));
  EXPECT_EQ(first[1].shape(), (Shape{32}));
}

// ---- digits CSV: plain files and what bad files report ----------------------------------

TEST(DigitsCsv, ReadsPlainTextWithCrlfAndTrailingBlankLines) {
  TempDir dir;
  const std::string path =
      dir.write("digits.csv", std::string(kFirstDigitRow) + "\r\n" + digit_row(16, 3) + "\n\n");
  const LabeledImages d = read_digits_csv(path);
  EXPECT_EQ(d.images.shape(), (Shape{2, 1, 8, 8}));
  expect_near(d.labels, Tensor({0, 3}));
  EXPECT_EQ(d.images.data()(0, 0, 0, 2), 5.0f / 16.0f);
  EXPECT_EQ(d.images.data()(1, 0, 7, 7), 1.0f);
}

TEST(DigitsCsvGiven, MissingFileSaysSo) {
  TempDir dir;
  const std::string path = dir.path() + "/nope.csv.gz";
  expect_throw_with<DatasetError>([&] { read_digits_csv(path); },
                                  "read_digits_csv: file '" + path + "' is missing");
}

// Read line by line, the rows before the cut are parsed (an exercise) before it is found.
TEST(DigitsCsv, TruncatedGzipIsReported) {
  TempDir dir;
  const std::string whole = read_bytes(kBundledDigits);
  const std::string path = dir.write("cut.csv.gz", whole.substr(0, whole.size() / 2));
  expect_throw_with<DatasetError>([&] { read_digits_csv(path); },
                                  "file '" + path + "' is damaged or truncated");
}

TEST(DigitsCsv, TruncatedPlainFileNamesTheLastLine) {
  TempDir dir;
  const std::string path = dir.write("cut.csv", std::string(kFirstDigitRow) + "\n0,0,5,13");
  expect_throw_with<DatasetError>(
      [&] { read_digits_csv(path); },
      "file '" + path +
          "', line 2: expected 65 comma-separated integers (64 pixels, then the "
          "label), found 4 fields");
}

TEST(DigitsCsv, WrongFieldCountNamesTheLine) {
  TempDir dir;
  std::string short_row = digit_row(1, 2);
  short_row.erase(0, 2);  // drop the first pixel: 64 fields
  const std::string path = dir.write("short.csv", digit_row(0, 1) + short_row);
  expect_throw_with<DatasetError>([&] { read_digits_csv(path); },
                                  "file '" + path + "', line 2: expected 65");
  expect_throw_with<DatasetError>([&] { read_digits_csv(path); }, "found 64 fields");
}

TEST(DigitsCsv, BadLabelsAreReported) {
  TempDir dir;
  const std::string ten = dir.write("ten.csv", digit_row(0, 10));
  expect_throw_with<DatasetError>(
      [&] { read_digits_csv(ten); },
      "file '" + ten + "', line 1, field 65: expected an integer label in 0..9, found '10'");
  std::string fraction_row = digit_row(0, 3);
  fraction_row.insert(fraction_row.size() - 1, ".5");
  const std::string fraction = dir.write("fraction.csv", digit_row(0, 1) + fraction_row);
  expect_throw_with<DatasetError>(
      [&] { read_digits_csv(fraction); },
      "line 2, field 65: expected an integer label in 0..9, found '3.5'");
}

TEST(DigitsCsv, BadPixelsAreReported) {
  TempDir dir;
  const std::string big = dir.write("big.csv", digit_row(17, 0));
  expect_throw_with<DatasetError>(
      [&] { read_digits_csv(big); },
      "file '" + big + "', line 1, field 1: expected an integer pixel in 0..16, found '17'");
  const std::string negative = dir.write("neg.csv", digit_row(-1, 0));
  expect_throw_with<DatasetError>([&] { read_digits_csv(negative); }, "found '-1'");
  const std::string word = dir.write("word.csv", "x" + digit_row(0, 0));
  expect_throw_with<DatasetError>([&] { read_digits_csv(word); },
                                  "field 1: expected an integer pixel");
}

TEST(DigitsCsv, EmptyFilesAndEmptyLinesAreReported) {
  TempDir dir;
  const std::string empty = dir.write("empty.csv", "");
  expect_throw_with<DatasetError>([&] { read_digits_csv(empty); },
                                  "read_digits_csv: file '" + empty + "' is empty");
  const std::string gap = dir.write("gap.csv", digit_row(0, 0) + "\n" + digit_row(0, 1));
  expect_throw_with<DatasetError>([&] { read_digits_csv(gap); },
                                  "file '" + gap + "', line 2 is empty");
}

TEST(DigitsCsv, LoadDigitsKeepsTheLast360ForTesting) {
  TempDir dir;
  std::string rows;
  for (int i = 0; i < 400; ++i) rows += digit_row(0, i < 40 ? 1 : 2);
  const DigitsSplit split = load_digits(dir.write("400.csv", rows));
  EXPECT_EQ(split.train.size(), 40u);
  EXPECT_EQ(split.test.size(), 360u);
  EXPECT_EQ(split.train.labels.max().item(), 1.0f);
  EXPECT_EQ(split.test.labels.sum().item(), 2.0f * 360.0f);  // every test row is a 2
}

TEST(DigitsCsv, LoadDigitsNeedsMoreThan360Rows) {
  TempDir dir;
  std::string rows;
  for (int i = 0; i < 360; ++i) rows += digit_row(0, 0);
  const std::string path = dir.write("360.csv", rows);
  expect_throw_with<DatasetError>([&] { load_digits(path); },
                                  "load_digits: file '" + path + "' has 360 rows");
}

// ---- IDX --------------------------------------------------------------------------------

TEST(IdxGiven, ReadsImagesAndLabels) {
  TempDir dir;
  const LabeledImages d =
      read_idx(dir.write("images", three_images()), dir.write("labels", three_labels()));
  EXPECT_EQ(d.images.shape(), (Shape{3, 1, 2, 3}));
  expect_near(d.labels, Tensor({7, 0, 9}));
  EXPECT_EQ(d.images.data()(0, 0, 0, 0), 0.0f);
  EXPECT_EQ(d.images.data()(0, 0, 0, 1), 15.0f / 255.0f);
  EXPECT_EQ(d.images.data()(2, 0, 1, 2), 255.0f / 255.0f);  // pixel 17 is 17 * 15 = 255
}

TEST(IdxGiven, LimitKeepsTheFirstExamples) {
  TempDir dir;
  const std::string images = dir.write("images", three_images());
  const std::string labels = dir.write("labels", three_labels());
  const LabeledImages two = read_idx(images, labels, 2);
  EXPECT_EQ(two.images.shape(), (Shape{2, 1, 2, 3}));
  expect_near(two.labels, Tensor({7, 0}));
  EXPECT_EQ(read_idx(images, labels, 10).size(), 3u);  // a limit past the end keeps all
}

TEST(IdxGiven, WrongMagicNamesTheFileAndBothNumbers) {
  TempDir dir;
  const std::string labels = dir.write("labels", three_labels());
  const std::string swapped = dir.write("swapped", three_labels());
  expect_throw_with<DatasetError>(
      [&] { read_idx(swapped, labels); },
      "read_idx: file '" + swapped +
          "' is not an IDX image file: magic number at byte 0 is "
          "0x00000801, expected 0x00000803 (images and labels swapped?)");
  const std::string images = dir.write("images", three_images());
  const std::string junk = dir.write("junk", idx_labels(3, std::string{7, 0, 9}, 0x12345678));
  expect_throw_with<DatasetError>([&] { read_idx(images, junk); },
                                  "file '" + junk +
                                      "' is not an IDX label file: magic number at "
                                      "byte 0 is 0x12345678, expected 0x00000801");
}

TEST(IdxGiven, TruncatedPixelsNameTheByte) {
  TempDir dir;
  const std::string whole = three_images();
  const std::string images = dir.write("images", whole.substr(0, 16 + 10));
  const std::string labels = dir.write("labels", three_labels());
  expect_throw_with<DatasetError>([&] { read_idx(images, labels); },
                                  "read_idx: file '" + images +
                                      "' ends early: 3 images of 2x3 "
                                      "should fill bytes 16..34, but the data ends at byte 26");
}

TEST(IdxGiven, TruncatedHeaderNamesTheByte) {
  TempDir dir;
  const std::string images = dir.write("images", three_images().substr(0, 6));
  const std::string labels = dir.write("labels", three_labels());
  expect_throw_with<DatasetError>([&] { read_idx(images, labels); },
                                  "file '" + images +
                                      "' ends early: the image count should fill "
                                      "bytes 4..8, but the data ends at byte 6");
}

TEST(IdxGiven, TruncatedLabelsNameTheByte) {
  TempDir dir;
  const std::string images = dir.write("images", three_images());
  const std::string labels = dir.write("labels", idx_labels(3, std::string{7}));
  expect_throw_with<DatasetError>([&] { read_idx(images, labels); },
                                  "file '" + labels +
                                      "' ends early: 3 labels should fill bytes "
                                      "8..11, but the data ends at byte 9");
}

TEST(IdxGiven, ImageAndLabelCountsMustAgree) {
  TempDir dir;
  const std::string images = dir.write("images", three_images());
  const std::string labels = dir.write("labels", idx_labels(2, std::string{1, 2}));
  expect_throw_with<DatasetError>([&] { read_idx(images, labels); },
                                  "read_idx: image file '" + images +
                                      "' holds 3 images but label "
                                      "file '" +
                                      labels + "' holds 2 labels");
}

TEST(IdxGiven, ImplausibleImageSizeIsReported) {
  TempDir dir;
  const std::string images = dir.write("images", idx_images(1, 0, 3, ""));
  const std::string labels = dir.write("labels", idx_labels(1, std::string{1}));
  expect_throw_with<DatasetError>([&] { read_idx(images, labels); },
                                  "file '" + images + "' declares images of 0x3");
}

// ---- load_mnist_like --------------------------------------------------------------------

TEST(MnistLikeGiven, FindsPlainFilesByTheirMnistNames) {
  TempDir dir;
  dir.write("t10k-images-idx3-ubyte", three_images());
  dir.write("t10k-labels-idx1-ubyte", three_labels());
  const LabeledImages test = load_mnist_like(dir.path(), "test");
  EXPECT_EQ(test.images.shape(), (Shape{3, 1, 2, 3}));
  expect_throw_with<DatasetError>([&] { load_mnist_like(dir.path(), "train"); },
                                  "load_mnist_like: found neither '" + dir.path() +
                                      "/train-images-idx3-ubyte' nor '" + dir.path() +
                                      "/train-images-idx3-ubyte.gz'");
}

TEST(MnistLikeGiven, MissingDirectorySaysWhereToGetTheData) {
  TempDir dir;
  const std::string missing = dir.path() + "/fashion";
  expect_throw_with<DatasetError>([&] { load_mnist_like(missing, "train"); },
                                  "load_mnist_like: directory '" + missing + "' does not exist");
  expect_throw_with<DatasetError>([&] { load_mnist_like(missing, "train"); },
                                  "dataset-fashion-mnist");
  expect_throw_with<DatasetError>([&] { load_mnist_like(dir.path(), "train"); },
                                  "/usr/share/datasets/fashion-mnist");
}

TEST(MnistLikeGiven, SplitMustBeTrainOrTest) {
  expect_throw_with<std::invalid_argument>(
      [] { load_mnist_like(kFashionDir, "valid"); },
      "load_mnist_like: split must be \"train\" or \"test\", got \"valid\"");
}

// ---- Fashion-MNIST (Debian's dataset-fashion-mnist, when installed) ---------------------

TEST(FashionMnistGiven, ReadsTheFirst100TestImages) {
  if (!fs::is_directory(kFashionDir)) {
    GTEST_SKIP() << kFashionDir << " is missing (apt install dataset-fashion-mnist)";
  }
  const LabeledImages test = load_mnist_like(kFashionDir, "test", 100);
  EXPECT_EQ(test.images.shape(), (Shape{100, 1, 28, 28}));
  EXPECT_EQ(test.labels.shape(), (Shape{100}));
  const Array& x = test.images.data();
  EXPECT_GE(*std::min_element(x.begin(), x.end()), 0.0f);
  EXPECT_EQ(*std::max_element(x.begin(), x.end()), 1.0f);
  std::set<float> classes;
  for (float y : test.labels.data()) {
    ASSERT_EQ(y, std::round(y));
    ASSERT_LE(y, 9.0f);
    classes.insert(y);
  }
  EXPECT_EQ(classes.size(), 10u);
  // The first ten test labels: ankle boot, pullover, trouser, trouser, shirt, ...
  expect_near(test.labels.slice(0, 10), Tensor({9, 2, 1, 1, 6, 1, 4, 6, 5, 7}));
  EXPECT_NEAR(test.images[0].sum().item(), 33456.0f / 255.0f, 1e-2f);
}

TEST(FashionMnistGiven, TruncatedGzipIsReported) {
  const std::string labels_gz = kFashionDir + "/t10k-labels-idx1-ubyte.gz";
  if (!fs::exists(labels_gz)) {
    GTEST_SKIP() << labels_gz << " is missing (apt install dataset-fashion-mnist)";
  }
  TempDir dir;
  const std::string whole = read_bytes(labels_gz);
  const std::string labels = dir.write("labels.gz", whole.substr(0, whole.size() / 2));
  const std::string images = dir.write("images", idx_images(10000, 1, 1, std::string(10000, '\0')));
  expect_throw_with<DatasetError>([&] { read_idx(images, labels); },
                                  "read_idx: file '" + labels + "' is damaged or truncated");
}

}  // namespace
}  // namespace tinytorch
