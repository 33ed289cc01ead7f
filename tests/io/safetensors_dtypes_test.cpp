// io: the safetensors reader's element types (F32, F64, F16, BF16, I64, I32 → float) and the
// files it must refuse with a message naming the file and the tensor.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <tinytorch/io/safetensors.hpp>

#include "support/scratch_dir.hpp"
#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_near;
using testing::expect_throw_with;
using testing::ScratchDir;

/// Little-endian bytes of each value, as a safetensors data section stores them.
template <class T>
std::string bytes_of(const std::vector<T>& values) {
  std::string out(values.size() * sizeof(T), '\0');
  if (!values.empty()) std::memcpy(out.data(), values.data(), out.size());
  return out;
}

/// A file made by hand: the u64 header length, the header, then the data bytes.
void write_file(const std::string& path, const std::string& header, const std::string& data) {
  std::string bytes(8, '\0');
  for (std::size_t i = 0; i < 8; ++i)
    bytes[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes << header << data;
}

/// A one-tensor file named "t" with the given dtype and shape.
void write_one(const std::string& path, const std::string& dtype, const std::string& shape,
               const std::string& data) {
  write_file(path,
             R"({"t":{"dtype":")" + dtype + R"(","shape":)" + shape + R"(,"data_offsets":[0,)" +
                 std::to_string(data.size()) + "]}}",
             data);
}

TEST(SafetensorsDtypes, F64IsConvertedToFloat) {
  ScratchDir dir;
  const std::string path = dir.file("f64.safetensors");
  write_one(path, "F64", "[2, 2]", bytes_of<double>({1.5, -2.25, 1e-3, 123456.0}));
  expect_near(load_safetensors(path).at("t"), Tensor({{1.5f, -2.25f}, {1e-3f, 123456.0f}}), 0.0f);
}

TEST(SafetensorsDtypes, F16KnownBitPatterns) {
  ScratchDir dir;
  const std::string path = dir.file("f16.safetensors");
  // 1.0, -2.0, 0.5, 65504 (largest half), 2^-24 (smallest subnormal), -0.0
  write_one(path, "F16", "[6]",
            bytes_of<std::uint16_t>({0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x8000}));
  const Tensor t = load_safetensors(path).at("t");
  expect_near(t, Tensor({1.0f, -2.0f, 0.5f, 65504.0f, std::ldexp(1.0f, -24), 0.0f}), 0.0f);
  EXPECT_TRUE(std::signbit(t.data().data()[5]));
}

TEST(SafetensorsDtypes, F16InfinitiesAndNaN) {
  ScratchDir dir;
  const std::string path = dir.file("f16_special.safetensors");
  write_one(path, "F16", "[3]", bytes_of<std::uint16_t>({0x7c00, 0xfc00, 0x7e00}));
  const Tensor t = load_safetensors(path).at("t");
  EXPECT_EQ(t.data().data()[0], std::numeric_limits<float>::infinity());
  EXPECT_EQ(t.data().data()[1], -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(t.data().data()[2]));
}

TEST(SafetensorsDtypes, F16SubnormalsScaleExactly) {
  ScratchDir dir;
  const std::string path = dir.file("f16_sub.safetensors");
  // 0x0200 = 2^-15, 0x03ff = 1023·2^-24 (largest subnormal)
  write_one(path, "F16", "[2]", bytes_of<std::uint16_t>({0x0200, 0x03ff}));
  expect_near(load_safetensors(path).at("t"),
              Tensor({std::ldexp(1.0f, -15), 1023.0f * std::ldexp(1.0f, -24)}), 0.0f);
}

TEST(SafetensorsDtypes, BF16IsTheTopHalfOfAFloat) {
  ScratchDir dir;
  const std::string path = dir.file("bf16.safetensors");
  // 1.0 = 0x3f80, -2.5 = 0xc020, 3.140625 = 0x4049
  write_one(path, "BF16", "[3]", bytes_of<std::uint16_t>({0x3f80, 0xc020, 0x4049}));
  expect_near(load_safetensors(path).at("t"), Tensor({1.0f, -2.5f, 3.140625f}), 0.0f);
}

TEST(SafetensorsDtypes, IntegersBecomeFloats) {
  ScratchDir dir;
  const std::string i64 = dir.file("i64.safetensors");
  write_one(i64, "I64", "[3]", bytes_of<std::int64_t>({0, -7, 1LL << 40}));
  expect_near(load_safetensors(i64).at("t"), Tensor({0.0f, -7.0f, 1099511627776.0f}), 0.0f);
  const std::string i32 = dir.file("i32.safetensors");
  write_one(i32, "I32", "[2, 1]", bytes_of<std::int32_t>({9, -2147483647}));
  expect_near(load_safetensors(i32).at("t"), Tensor({{9.0f}, {-2147483647.0f}}), 0.0f);
}

TEST(SafetensorsDtypes, MixedDtypesInOneFileWithUnalignedData) {
  ScratchDir dir;
  const std::string path = dir.file("mixed.safetensors");
  // A 2-byte F16 tensor first puts the F64 and I64 data at odd-looking offsets (2 and 10).
  const std::string data = bytes_of<std::uint16_t>({0x3c00}) + bytes_of<double>({-0.75}) +
                           bytes_of<std::int64_t>({42}) + bytes_of<float>({2.5f});
  write_file(path,
             R"({"a":{"dtype":"F16","shape":[],"data_offsets":[0,2]},)"
             R"("b":{"dtype":"F64","shape":[1],"data_offsets":[2,10]},)"
             R"("c":{"dtype":"I64","shape":[1],"data_offsets":[10,18]},)"
             R"("d":{"dtype":"F32","shape":[1],"data_offsets":[18,22]}})",
             data);
  const TensorMap t = load_safetensors(path);
  EXPECT_EQ(t.at("a").ndim(), 0u);
  EXPECT_EQ(t.at("a").item(), 1.0f);
  EXPECT_EQ(t.at("b").item(), -0.75f);
  EXPECT_EQ(t.at("c").item(), 42.0f);
  EXPECT_EQ(t.at("d").item(), 2.5f);
}

TEST(SafetensorsDtypes, ByteSizeMustMatchShapeAndDtype) {
  ScratchDir dir;
  const std::string path = dir.file("short.safetensors");
  // Three F16 elements need 6 bytes; 8 were given (four elements' worth).
  write_one(path, "F16", "[3]", bytes_of<std::uint16_t>({1, 2, 3, 4}));
  expect_throw_with<SerializationError>(
      [&] { load_safetensors(path); },
      "tensor 't' of shape [3] and dtype F16 needs 6 bytes but its offsets span 8");
  expect_throw_with<SerializationError>([&] { load_safetensors(path); }, path);
}

TEST(SafetensorsDtypes, UnknownDtypesAreRefusedByName) {
  ScratchDir dir;
  for (const std::string dtype : {"U8", "BOOL", "F8_E4M3", "c64"}) {
    const std::string path = dir.file(dtype + ".safetensors");
    write_one(path, dtype, "[1]", std::string(1, '\0'));
    expect_throw_with<SerializationError>([&] { load_safetensors(path); },
                                          "tensor 't' has dtype " + dtype);
    expect_throw_with<SerializationError>([&] { load_safetensors(path); }, path);
  }
}

TEST(SafetensorsFiles, ADirectoryIsNotAFile) {
  ScratchDir dir;
  const std::string sub = dir.file("model.safetensors");
  std::filesystem::create_directory(sub);
  expect_throw_with<SerializationError>([&] { load_safetensors(sub); },
                                        sub + ": is a directory, expected a safetensors file");
  expect_throw_with<SerializationError>(
      [&] {
        save_safetensors(sub, {{"a", Tensor({1.0f})}});
      },
      sub + ": is a directory");
  EXPECT_TRUE(std::filesystem::is_directory(sub));
}

TEST(SafetensorsFiles, MissingFileSaysSo) {
  ScratchDir dir;
  const std::string path = dir.file("nope.safetensors");
  expect_throw_with<SerializationError>([&] { load_safetensors(path); }, path + ": no such file");
}

TEST(SafetensorsFiles, WrittenFilesAreF32AndReadBackExactly) {
  ScratchDir dir;
  const std::string path = dir.file("roundtrip.safetensors");
  save_safetensors(path, {{"x", Tensor({{1.0f, -0.0f}, {3.4e38f, 1e-45f}})}});
  const Tensor x = load_safetensors(path).at("x");
  EXPECT_EQ(std::memcmp(x.data().data(), Tensor({{1.0f, -0.0f}, {3.4e38f, 1e-45f}}).data().data(),
                        4 * sizeof(float)),
            0);
}

}  // namespace
}  // namespace tinytorch
