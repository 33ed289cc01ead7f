// Module 08 — dataset readers: the bundled 8×8 digits and IDX files (MNIST, Fashion-MNIST).
//
//   digits.csv.gz  1797 rows of 65 integers: 64 pixels in 0..16 (row-major 8×8), then the
//                  label 0..9. Pixels are scaled to [0, 1] by /16.
//   IDX            big-endian magic 0x00000803 (images: count, rows, cols, then bytes) or
//                  0x00000801 (labels: count, then bytes), plain or gzip. Pixels /255.
//
//   DigitsSplit digits = load_digits();          // train: 1437 images, test: 360
//   digits.train.images.shape();                 // [1437, 1, 8, 8]
//   digits.train.labels.shape();                 // [1437]
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include <tinytorch/core/tensor.hpp>

namespace tinytorch {

/// A file that is missing, truncated or not in the expected format; the message names the
/// file and, where it applies, the byte offset or line.
class DatasetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Images [N, 1, H, W] in [0, 1] and labels [N] holding class indices.
struct LabeledImages {
  Tensor images;
  Tensor labels;
  std::size_t size() const { return labels.defined() ? labels.size() : 0; }
};

struct DigitsSplit {
  LabeledImages train;  ///< the first 1437 rows
  LabeledImages test;   ///< the last 360 rows
};

/// Path of the digits file bundled in the source tree (datasets/digits.csv.gz).
std::string default_digits_path();

/// Reads every row of a digits CSV (plain or .gz): images [N, 1, 8, 8] /16, labels [N].
LabeledImages read_digits_csv(const std::string& path);

/// The course split of the bundled digits: first 1437 rows train, last 360 test.
DigitsSplit load_digits(const std::string& path = default_digits_path());

/// Reads an IDX image file and its label file (plain or .gz). `limit` > 0 keeps the first
/// `limit` examples. Images [N, 1, rows, cols] /255, labels [N].
LabeledImages read_idx(const std::string& images_path, const std::string& labels_path,
                       std::size_t limit = 0);

/// Reads <dir>/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] (the MNIST file names).
/// `split` is "train" or "test".
LabeledImages load_mnist_like(const std::string& dir, const std::string& split,
                              std::size_t limit = 0);

}  // namespace tinytorch
