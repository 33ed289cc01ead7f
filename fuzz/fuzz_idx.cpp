// read_idx on an image file and a label file cut from one input (its first byte picks the
// cut). Bit 0 of the second byte gzips both files first, so the .gz path is fuzzed with
// valid compression around hostile content. Only DatasetError may escape.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <zlib.h>

#include <tinytorch/data/datasets.hpp>

#include "fuzz_input.hpp"

namespace {

std::vector<std::uint8_t> gzip(const std::uint8_t* data, std::size_t size) {
  z_stream z{};
  deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);  // gzip wrapper
  std::vector<std::uint8_t> out(deflateBound(&z, static_cast<uLong>(size)) + 32);
  z.next_in = const_cast<Bytef*>(data);
  z.avail_in = static_cast<uInt>(size);
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t cut = std::min<std::size_t>(size - 2, data[0] * (size - 2) / 255);
  const bool compressed = data[1] & 1;
  const std::uint8_t* images = data + 2;
  const std::uint8_t* labels = data + 2 + cut;
  const std::size_t labels_size = size - 2 - cut;
  std::vector<std::uint8_t> gz_images, gz_labels;
  if (compressed) {
    gz_images = gzip(images, cut);
    gz_labels = gzip(labels, labels_size);
  }
  const fuzz::MemoryFile image_file(compressed ? gz_images.data() : images,
                                    compressed ? gz_images.size() : cut);
  const fuzz::MemoryFile label_file(compressed ? gz_labels.data() : labels,
                                    compressed ? gz_labels.size() : labels_size);
  try {
    const tinytorch::LabeledImages set = tinytorch::read_idx(image_file.path(), label_file.path());
    (void)set;
  } catch (const tinytorch::DatasetError&) {
  }
  return 0;
}
