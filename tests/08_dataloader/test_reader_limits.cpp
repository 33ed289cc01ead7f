// Module 08: the readers check what a file can hold before they read it — an endless stream is
// refused at its first overlong line, an IDX header that promises more than its (gzip) file can
// inflate to is refused before anything is inflated, and data past what a header declares is
// an error.
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>

#include <zlib.h>

#include <tinytorch/data/datasets.hpp>

#include "support/scratch_dir.hpp"
#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_throw_with;
using testing::ScratchDir;

void write_file(const std::string& path, const std::string& bytes, bool gzip = false) {
  if (gzip) {
    gzFile out = gzopen(path.c_str(), "wb9");
    ASSERT_NE(out, nullptr);
    ASSERT_EQ(gzwrite(out, bytes.data(), static_cast<unsigned>(bytes.size())),
              static_cast<int>(bytes.size()));
    gzclose(out);
    return;
  }
  FILE* out = std::fopen(path.c_str(), "wb");
  ASSERT_NE(out, nullptr);
  std::fwrite(bytes.data(), 1, bytes.size(), out);
  std::fclose(out);
}

std::string be32(std::uint32_t v) {
  std::string out;
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
  return out;
}

std::string idx_images(std::uint32_t count, std::uint32_t rows, std::uint32_t cols) {
  return be32(0x00000803) + be32(count) + be32(rows) + be32(cols);
}

std::string idx_labels(std::uint32_t count) {
  return be32(0x00000801) + be32(count);
}

TEST(DigitsCsvGiven, AnEndlessStreamIsRefusedAtItsFirstOverlongLine) {
  // /dev/zero used to be read into memory until it ran out.
  expect_throw_with<DatasetError>(
      [] { read_digits_csv("/dev/zero"); },
      "read_digits_csv: file '/dev/zero', line 1 is longer than 65536 bytes; a row is 65 small "
      "integers");
}

TEST(DigitsCsvGiven, EndlessBlankLinesAreRefused) {
  ScratchDir dir;
  const std::string path = dir.file("blank.csv");
  write_file(path, std::string((std::size_t{1} << 21) + 1, '\n'));
  expect_throw_with<DatasetError>(
      [&] { read_digits_csv(path); },
      "read_digits_csv: file '" + path + "' has more than 2097152 lines; the digits have 1797");
}

TEST(IdxGiven, AGzipFileTooShortForItsHeaderIsRefusedBeforeItIsInflated) {
  // 1 MiB of zeros compresses to about 1 KiB, which can inflate to 1 MiB or so, not to the
  // 784 MiB of images the header promises: the reader used to inflate everything there was
  // before it noticed.
  ScratchDir dir;
  const std::string images = dir.file("images.gz");
  const std::string labels = dir.file("labels");
  write_file(images, idx_images(1u << 20, 28, 28) + std::string(std::size_t{1} << 20, '\0'), true);
  write_file(labels, idx_labels(1u << 20) + std::string(std::size_t{1} << 20, '\0'));
  const auto size = std::filesystem::file_size(images);
  expect_throw_with<DatasetError>(
      [&] { read_idx(images, labels); },
      fmt::format("read_idx: file '{}' is too short: 1048576 images of 28x28 should fill bytes "
                  "16..822083600, but {} bytes of gzip data inflate to at most {} bytes",
                  images, size, size * 1032));
}

TEST(IdxGiven, DataAfterWhatTheHeaderDeclaresIsRefused) {
  ScratchDir dir;
  const std::string images = dir.file("images");
  const std::string labels = dir.file("labels");
  write_file(images, idx_images(2, 2, 2) + std::string(8, '\1') + "junk");
  write_file(labels, idx_labels(2) + std::string(2, '\1'));
  expect_throw_with<DatasetError>(
      [&] { read_idx(images, labels); },
      "read_idx: file '" + images +
          "' goes on after 2 images of 2x2, which end at byte 24; is its header right?");
  // Asking for fewer examples than the file has reads only those: the rest is not looked at.
  EXPECT_EQ(read_idx(images, labels, 1).size(), 1u);
}

}  // namespace
}  // namespace tinytorch
