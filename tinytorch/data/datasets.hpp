// Module 08 — dataset readers: the bundled 8×8 digits and IDX files (MNIST, Fashion-MNIST).
//
//   digits.csv.gz  1797 rows of 65 integers: 64 pixels in 0..16 (row-major 8×8), then the
//                  label 0..9. Pixels are scaled to [0, 1] by /16.
//   IDX            big-endian magic 0x00000803 (images: count, rows, cols, then bytes) or
//                  0x00000801 (labels: count, then bytes), plain or gzip. Pixels /255.
//
//   DigitsSplit digits = load_digits();          // train: 1437 images, test: 360
//                                                // (or load_digits("path/to/digits.csv.gz"))
//   digits.train.images.shape();                 // [1437, 1, 8, 8]
//   digits.train.labels.shape();                 // [1437]
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

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

/// Where the bundled digits file (digits.csv.gz, installed with the library) is looked for
/// when load_digits() gets no path, in this order:
///   1. $TINYTORCH_DIGITS, when set (it must then name an existing file)
///   2. share/tinytorch/ of the prefix the running program or shared library sits in, so a
///      moved install keeps working
///   3. share/tinytorch/ of the prefix the library was configured to install into
///   4. share/tinytorch/ of the build tree (a copy made at configure time: programs run from
///      the build tree and add_subdirectory() users need no install, nor the source tree)
std::vector<std::string> digits_search_paths();

/// The first file of digits_search_paths() that exists. If none does, a DatasetError lists
/// every place looked in and names TINYTORCH_DIGITS.
std::string default_digits_path();

/// Reads every row of a digits CSV (plain or .gz): images [N, 1, 8, 8] /16, labels [N]. A
/// UTF-8 byte-order mark in front of the first row (spreadsheets write one) is skipped. The
/// readers here throw std::invalid_argument for a path with a NUL byte, and for an empty one
/// (but load_digits, where "" means the bundled file).
LabeledImages read_digits_csv(const std::string& path);

/// The course split of the digits at `path` (default: the bundled file, found by
/// default_digits_path()): first N − 360 rows train (1437 for the bundled file), last 360 test.
DigitsSplit load_digits(const std::string& path = "");

/// Reads an IDX image file and its label file (plain or .gz). `limit` > 0 keeps the first
/// `limit` examples. Images [N, 1, rows, cols] /255, labels [N].
LabeledImages read_idx(const std::string& images_path, const std::string& labels_path,
                       std::size_t limit = 0);

/// Reads <dir>/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] (the MNIST file names).
/// `split` is "train" or "test".
LabeledImages load_mnist_like(const std::string& dir, const std::string& split,
                              std::size_t limit = 0);

}  // namespace tinytorch
