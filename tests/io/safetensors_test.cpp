// io: the safetensors format itself (layout, round trips, corrupt files).
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <tinytorch/tinytorch.hpp>

#include "support/testing.hpp"
#include "07_training/training_fixtures.hpp"

namespace tinytorch {
namespace {

using nlohmann::json;
using testing::expect_throw_with;
using testing::same_bits;
using testing::ScratchDir;

std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::uint64_t read_u64_le(const std::vector<char>& bytes) {
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i)
    n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  return n;
}

/// A file built by hand: the u64 length of `header`, the header, then `data_bytes` zero bytes.
std::vector<char> hand_made_file(const std::string& header, std::size_t data_bytes) {
  std::string bytes(8, '\0');
  for (std::size_t i = 0; i < 8; ++i)
    bytes[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  bytes += header;
  bytes.append(data_bytes, '\0');
  return {bytes.begin(), bytes.end()};
}

TensorMap sample_tensors() {
  manual_seed(5);
  return {{"scalar", Tensor::scalar(-3.25f)},
          {"vector", Tensor({1.0f, -2.5f, 1e-30f, 3.4e38f})},
          {"images", Tensor::randn({2, 3, 4, 5})},
          {"empty", Tensor::zeros({0, 3})}};
}

TEST(Safetensors, RoundTripIsExact) {
  ScratchDir dir;
  const std::string path = dir.file("tensors.safetensors");
  const TensorMap saved = sample_tensors();
  const Metadata meta{{"format", "pt"}, {"note", "unicode ✓ and \"quotes\""}, {"empty", ""}};
  save_safetensors(path, saved, meta);

  Metadata loaded_meta;
  const TensorMap loaded = load_safetensors(path, &loaded_meta);
  EXPECT_EQ(loaded_meta, meta);
  ASSERT_EQ(loaded.size(), saved.size());
  for (const auto& [name, t] : saved) {
    ASSERT_EQ(loaded.count(name), 1u) << name;
    EXPECT_TRUE(same_bits(loaded.at(name), t)) << name;
    EXPECT_FALSE(loaded.at(name).requires_grad());
  }
  EXPECT_EQ(loaded.at("scalar").ndim(), 0u);
  EXPECT_EQ(loaded.at("images").shape(), (Shape{2, 3, 4, 5}));
}

TEST(Safetensors, LoadsWithoutAskingForMetadata) {
  ScratchDir dir;
  save_safetensors(dir.file("t.safetensors"), {{"a", Tensor({1, 2})}});
  const TensorMap loaded = load_safetensors(dir.file("t.safetensors"));
  EXPECT_TRUE(same_bits(loaded.at("a"), Tensor({1, 2})));
}

TEST(Safetensors, FileLayoutFollowsTheFormat) {
  ScratchDir dir;
  const std::string path = dir.file("layout.safetensors");
  const TensorMap saved = sample_tensors();
  save_safetensors(path, saved, {{"epoch", "3"}});
  const std::vector<char> bytes = read_bytes(path);

  // 8-byte little-endian header length, header padded to keep the data 8-byte aligned.
  const std::uint64_t n = read_u64_le(bytes);
  ASSERT_LE(8 + n, bytes.size());
  EXPECT_EQ(n % 8, 0u);
  const json header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<long>(n));
  EXPECT_EQ(header.at("__metadata__"), json({{"epoch", "3"}}));
  const std::uint64_t data_size = bytes.size() - 8 - n;

  std::uint64_t covered = 0;
  for (const auto& [name, t] : saved) {
    const json& entry = header.at(name);
    EXPECT_EQ(entry.at("dtype"), "F32") << name;
    EXPECT_EQ(entry.at("shape").get<Shape>(), t.shape()) << name;
    const auto offsets = entry.at("data_offsets").get<std::vector<std::uint64_t>>();
    ASSERT_EQ(offsets.size(), 2u);
    ASSERT_LE(offsets[1], data_size);
    EXPECT_EQ(offsets[1] - offsets[0], t.size() * 4) << name;
    // The raw bytes are the tensor's little-endian float32 values.
    if (t.size() > 0) {
      EXPECT_EQ(std::memcmp(bytes.data() + 8 + n + offsets[0], t.data().data(), t.size() * 4), 0)
          << name;
    }
    covered += offsets[1] - offsets[0];
  }
  EXPECT_EQ(covered, data_size);  // no gaps: every data byte belongs to a tensor
  EXPECT_EQ(header.size(), saved.size() + 1);
}

TEST(Safetensors, NoMetadataKeyWhenMetadataIsEmpty) {
  ScratchDir dir;
  save_safetensors(dir.file("t.safetensors"), {{"a", Tensor({1.0f})}});
  const std::vector<char> bytes = read_bytes(dir.file("t.safetensors"));
  const std::uint64_t n = read_u64_le(bytes);
  const json header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<long>(n));
  EXPECT_FALSE(header.contains("__metadata__"));
  // One float: the exact bytes of 1.0f (0x3f800000, little-endian).
  const std::vector<unsigned char> data(bytes.end() - 4, bytes.end());
  EXPECT_EQ(data, (std::vector<unsigned char>{0x00, 0x00, 0x80, 0x3f}));
}

TEST(Safetensors, CreatesParentDirectoriesAndLeavesNoTemporaryFile) {
  ScratchDir dir;
  const std::string path = dir.file("a/b/c/model.safetensors");
  save_safetensors(path, sample_tensors());
  save_safetensors(path, {{"replaced", Tensor({7.0f})}});  // overwrite in place
  const TensorMap loaded = load_safetensors(path);
  EXPECT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded.at("replaced").item(), 7.0f);
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path() / "a/b/c")) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(names, std::vector<std::string>{"model.safetensors"});
}

TEST(Safetensors, RejectsWhatItCannotWrite) {
  ScratchDir dir;
  const std::string path = dir.file("bad.safetensors");
  expect_throw_with<std::invalid_argument>(
      [&] {
        save_safetensors(path, {{"x", Tensor()}});
      },
      "'x'");
  expect_throw_with<std::invalid_argument>(
      [&] {
        save_safetensors(path, {{"__metadata__", Tensor({1.0f})}});
      },
      "__metadata__");
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

// ---- corrupt files: every error names the file ------------------------------------------

class CorruptSafetensors : public ::testing::Test {
 protected:
  void expect_rejected(const std::vector<char>& bytes, const std::string& fragment) {
    write_bytes(path_, bytes);
    expect_throw_with<std::runtime_error>([&] { load_safetensors(path_); }, path_);
    expect_throw_with<std::runtime_error>([&] { load_safetensors(path_); }, fragment);
  }
  std::vector<char> good_file() {
    save_safetensors(path_, {{"w", Tensor({1, 2, 3, 4})}, {"b", Tensor({5.0f})}});
    return read_bytes(path_);
  }
  ScratchDir dir_;
  std::string path_ = dir_.file("corrupt.safetensors");
};

TEST_F(CorruptSafetensors, MissingFile) {
  const std::string missing = dir_.file("nope.safetensors");
  expect_throw_with<std::runtime_error>([&] { load_safetensors(missing); }, missing);
}

TEST_F(CorruptSafetensors, ShorterThanTheLengthField) {
  expect_rejected({1, 0, 0}, "too short");
  expect_rejected({}, "too short");
}

TEST_F(CorruptSafetensors, TruncatedData) {
  std::vector<char> bytes = good_file();
  bytes.resize(bytes.size() - 3);
  expect_rejected(bytes, "data_offsets");
}

TEST_F(CorruptSafetensors, TruncatedHeader) {
  std::vector<char> bytes = good_file();
  bytes.resize(20);
  expect_rejected(bytes, "runs past the end");
}

TEST_F(CorruptSafetensors, HeaderLengthPastTheEnd) {
  std::vector<char> bytes = hand_made_file("{}", 0);
  bytes[0] = static_cast<char>(0xff);
  bytes[5] = 1;
  expect_rejected(bytes, "header length");
}

TEST_F(CorruptSafetensors, BadJson) {
  expect_rejected(hand_made_file("{\"w\": {\"dtype\": ", 0), "not valid JSON");
  expect_rejected(hand_made_file("[1, 2]", 0), "not a JSON object");
}

TEST_F(CorruptSafetensors, UnknownDtype) {
  expect_rejected(hand_made_file(R"({"w":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", 2),
                  "tensor 'w' has dtype U8; readable dtypes are F32, F64, F16, BF16, I64, I32");
}

TEST_F(CorruptSafetensors, MalformedEntry) {
  expect_rejected(hand_made_file(R"({"w":{"dtype":"F32","shape":"2","data_offsets":[0,8]}})", 8),
                  "'w'");
  expect_rejected(hand_made_file(R"({"w":{"dtype":"F32","shape":[2]}})", 8), "malformed");
  expect_rejected(hand_made_file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}})", 8),
                  "data_offsets");
}

TEST_F(CorruptSafetensors, OffsetsOutOfRange) {
  expect_rejected(
      hand_made_file(R"({"w":{"dtype":"F32","shape":[100],"data_offsets":[0,400]}})", 8),
      "outside the 8 data bytes");
  expect_rejected(hand_made_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})", 8),
                  "'w'");
}

TEST_F(CorruptSafetensors, OffsetsThatDoNotMatchTheShape) {
  expect_rejected(hand_made_file(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8),
                  "needs 12 bytes");
}

TEST_F(CorruptSafetensors, OverlapsAndGaps) {
  expect_rejected(hand_made_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                 R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                 12),
                  "starts at byte 4");
  expect_rejected(hand_made_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 8),
                  "not covered");
}

TEST_F(CorruptSafetensors, MetadataMustHoldStrings) {
  expect_rejected(hand_made_file(R"({"__metadata__":{"epoch":3}})", 0), "'epoch'");
}

}  // namespace
}  // namespace tinytorch
