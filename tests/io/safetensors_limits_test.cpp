// io: what the safetensors reader refuses before it allocates or reads too far: shapes too
// large to index, numbers that are no integers, headers longer than the format allows, and
// streams (pipes, devices) that do not end where their header says.
#include <csignal>
#include <cstdint>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

#include <tinytorch/io/safetensors.hpp>

#include "support/scratch_dir.hpp"
#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_throw_with;
using testing::ScratchDir;

/// The u64 length of `header`, the header, then `data` (zero bytes when only a count is given).
std::string file_bytes(const std::string& header, const std::string& data = "") {
  std::string bytes(8, '\0');
  for (std::size_t i = 0; i < 8; ++i) {
    bytes[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  }
  return bytes + header + data;
}

std::string one_tensor(const std::string& shape, const std::string& offsets,
                       const std::string& dtype = "F32") {
  return R"({"w":{"dtype":")" + dtype + R"(","shape":)" + shape + R"(,"data_offsets":)" + offsets +
         "}}";
}

/// Writes `bytes` into a pipe and closes its write end, so that the read end is a stream of
/// exactly those bytes with no size to look up; path() names the read end.
class Pipe {
 public:
  explicit Pipe(const std::string& bytes) {
    EXPECT_EQ(::pipe(fds_), 0);
    EXPECT_LT(bytes.size(), 60000u) << "must fit the pipe's buffer";
    EXPECT_EQ(::write(fds_[1], bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    ::close(fds_[1]);
  }
  ~Pipe() { ::close(fds_[0]); }
  std::string path() const { return "/proc/self/fd/" + std::to_string(fds_[0]); }

 private:
  int fds_[2] = {-1, -1};
};

void write_file(const std::string& path, const std::string& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

TEST(SafetensorsLimits, AnEmptyTensorWhoseOtherDimensionsOverflowIsRejected) {
  // No bytes at all, but the strides of [0, 2^62, 4] multiply 2^62 by 4.
  ScratchDir dir;
  const std::string path = dir.file("huge.safetensors");
  write_file(path, file_bytes(one_tensor("[0,4611686018427387904,4]", "[0,0]")));
  expect_throw_with<SerializationError>(
      [&] { load_safetensors(path); },
      path + ": tensor 'w' has shape [0, 4611686018427387904, 4], too large for a tensor");
  write_file(path, file_bytes(one_tensor("[4294967296,4294967296]", "[0,0]")));
  expect_throw_with<SerializationError>([&] { load_safetensors(path); },
                                        "tensor 'w' has shape [4294967296, 4294967296]");
}

TEST(SafetensorsLimits, ShapesAndOffsetsMustBeIntegersAtLeastZero) {
  ScratchDir dir;
  const std::string path = dir.file("numbers.safetensors");
  const std::string data(8, '\0');
  const std::vector<std::pair<std::string, std::string>> bad = {
      {one_tensor("[-2]", "[0,8]"), "tensor 'w' has shape entry -2; expected an integer >= 0"},
      {one_tensor("[2.0]", "[0,8]"), "tensor 'w' has shape entry 2.0;"},
      {one_tensor("[1e300]", "[0,8]"), "tensor 'w' has shape entry 1e+300;"},
      {one_tensor("[18446744073709551616]", "[0,8]"), "tensor 'w' has shape entry 1.8446744073"},
      {one_tensor("[2]", "[0,8.5]"), "tensor 'w' has data_offset 8.5;"},
      {one_tensor("[2]", "[-8,0]"), "tensor 'w' has data_offset -8;"},
      {one_tensor("[2]", R"(["0",8])"), R"(tensor 'w' has data_offset "0";)"},
      {one_tensor("[true]", "[0,8]"), "tensor 'w' has shape entry true;"},
      {one_tensor("[2]", "{}"), "tensor 'w' has data_offsets that are no list"},
  };
  for (const auto& [header, message] : bad) {
    write_file(path, file_bytes(header, data));
    expect_throw_with<SerializationError>([&] { load_safetensors(path); }, message);
  }
}

TEST(SafetensorsLimits, AHeaderLongerThanTheFormatAllowsIsRefusedBeforeItIsRead) {
  // A stream has no size to check the length against; the format's own limit (100 MB, that of
  // the reference reader) keeps the reader from trying to hold a 1 TiB header.
  std::string bytes(8, '\0');
  bytes[5] = 1;  // 2^40
  const Pipe pipe(bytes + "{}");
  expect_throw_with<SerializationError>(
      [&] { load_safetensors(pipe.path()); },
      "header length 1099511627776 is more than the 100000000 bytes a safetensors header may "
      "have");
}

TEST(SafetensorsLimits, AnEndlessDeviceIsNotReadUntilMemoryRunsOut) {
  // /dev/zero used to be read into memory for good; its "header length" is 0 bytes.
  expect_throw_with<SerializationError>([] { load_safetensors("/dev/zero"); },
                                        "load_safetensors: /dev/zero: header is not valid JSON");
}

TEST(SafetensorsLimits, AStreamIsReadUpToWhatItsHeaderDescribesAndMustEndThere) {
  std::signal(SIGPIPE, SIG_IGN);
  const std::string header = one_tensor("[2]", "[0,8]");
  const std::string data("\0\0\x80\x3f\0\0\0\x40", 8);  // 1.0f, 2.0f
  {
    const Pipe exact(file_bytes(header, data));
    const TensorMap loaded = load_safetensors(exact.path());
    EXPECT_EQ(loaded.at("w").to_vector(), (std::vector<float>{1.0f, 2.0f}));
  }
  {
    const Pipe longer(file_bytes(header, data + "junk"));
    expect_throw_with<SerializationError>(
        [&] { load_safetensors(longer.path()); },
        "file goes on past the 8 data bytes its header describes");
  }
  {
    const Pipe shorter(file_bytes(header, data.substr(0, 5)));
    expect_throw_with<SerializationError>(
        [&] { load_safetensors(shorter.path()); },
        "file ends after 5 data bytes, but the header's data_offsets describe 8");
  }
  {
    const Pipe cut(file_bytes(header).substr(0, 20));
    expect_throw_with<SerializationError>([&] { load_safetensors(cut.path()); },
                                          "file ends inside the header, after 12 of its");
  }
}

}  // namespace
}  // namespace tinytorch
