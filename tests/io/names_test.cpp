// io: the names and metadata inside a safetensors file. A tensor named twice in a header is
// an error (JSON parsers keep one of the two silently); names and metadata that JSON cannot
// hold are refused by name before anything is written; and names print escaped in every
// message, so a newline or a NUL in one cannot break or cut the message.
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include <tinytorch/detail/text.hpp>
#include <tinytorch/tinytorch.hpp>

#include "support/scratch_dir.hpp"
#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_throw_with;
using testing::ScratchDir;

/// A file built by hand: the u64 length of `header`, the header, then `data_bytes` zero bytes.
void write_hand_made(const std::string& path, const std::string& header, std::size_t data_bytes) {
  std::string bytes(8, '\0');
  for (std::size_t i = 0; i < 8; ++i) bytes[i] = static_cast<char>((header.size() >> (8 * i)));
  bytes += header;
  bytes.append(data_bytes, '\0');
  std::ofstream(path, std::ios::binary) << bytes;
}

constexpr const char* kEntry = R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})";

TEST(SafetensorsNames, ATensorNamedTwiceInTheHeaderIsRefusedNamingFileAndName) {
  ScratchDir dir;
  const std::string path = dir.file("twice.safetensors");
  // The safetensors crate refuses this too; nlohmann's parser kept one entry of the two.
  write_hand_made(path, std::string(R"({"w":)") + kEntry + R"(,"w":)" + kEntry + "}", 4);
  expect_throw_with<SerializationError>(
      [&] { load_safetensors(path); },
      "load_safetensors: " + path + ": header names tensor 'w' twice");
  Linear model(1, 1);
  expect_throw_with<SerializationError>([&] { load(model, path); },
                                        "header names tensor 'w' twice");
}

TEST(SafetensorsNames, KeysRepeatedInsideAnEntryOrTheMetadataAreRefusedToo) {
  ScratchDir dir;
  const std::string path = dir.file("twice.safetensors");
  write_hand_made(path, R"({"w":{"dtype":"F32","dtype":"F64","shape":[1],"data_offsets":[0,4]}})",
                  4);
  expect_throw_with<SerializationError>([&] { load_safetensors(path); },
                                        ": tensor 'w' has the key 'dtype' twice");
  write_hand_made(path, std::string(R"({"w":)") + kEntry + R"(,"__metadata__":{"k":"a","k":"b"}})",
                  4);
  expect_throw_with<SerializationError>([&] { load_safetensors(path); },
                                        ": __metadata__ has the key 'k' twice");
  write_hand_made(path,
                  std::string(R"({"__metadata__":{},"w":)") + kEntry + R"(,"__metadata__":{}})", 4);
  expect_throw_with<SerializationError>([&] { load_safetensors(path); },
                                        ": header has two '__metadata__' entries");
}

TEST(SafetensorsNames, NonUtf8MetadataIsRefusedByNameBeforeAnythingIsWritten) {
  ScratchDir dir;
  const std::string path = dir.file("meta.safetensors");
  Linear model(1, 1);
  // "caf\xe9" is Latin-1; nlohmann's dump() threw its own type_error 316 at this.
  expect_throw_with<std::invalid_argument>(
      [&] {
        save(model, path, {{"note", "caf\xe9"}});
      },
      "save: " + path + ": metadata value of key 'note' is not valid UTF-8");
  expect_throw_with<std::invalid_argument>(
      [&] {
        save_safetensors(path, {{"w", Tensor({1.0f})}}, {{"k\xff", "v"}});
      },
      "save_safetensors: " + path + ": metadata key 'k\\xff' is not valid UTF-8");
  expect_throw_with<std::invalid_argument>(
      [&] {
        save_safetensors(path, {{"w\xc0\xaf", Tensor({1.0f})}});
      },
      "save_safetensors: " + path + ": tensor name 'w\\xc0\\xaf' is not valid UTF-8");
  EXPECT_FALSE(std::filesystem::exists(path));
  // UTF-8 that is not ASCII is fine, and comes back as it went.
  save(model, path, {{"note", "café 数据"}});
  Metadata meta;
  load_safetensors(path, &meta);
  EXPECT_EQ(meta.at("note"), "café 数据");
}

TEST(SafetensorsNames, NamesWithControlBytesPrintEscapedInMessages) {
  ScratchDir dir;
  const std::string path = dir.file("names.safetensors");
  // A newline would start a false line of the message and a NUL would end it early.
  const std::string name = std::string("conv\n1.w") + '\0' + "x";
  expect_throw_with<std::invalid_argument>(
      [&] {
        save_safetensors(path, {{name, Tensor()}});
      },
      "save_safetensors: " + path + ": tensor 'conv\\n1.w\\0x' is undefined");
  save_safetensors(path, {{name, Tensor({1.0f})}, {"weight", Tensor({{1.0f}})}});
  EXPECT_EQ(load_safetensors(path).count(name), 1u);  // such a name is stored as it is
  Linear model(1, 1, false);
  expect_throw_with<SerializationError>(
      [&] { load(model, path); },
      "1 tensor in the file that the model does not have: 'conv\\n1.w\\0x' [1]");
  write_hand_made(path, R"({"a\tb":{"dtype":"Q8","shape":[1],"data_offsets":[0,1]}})", 1);
  expect_throw_with<SerializationError>([&] { load_safetensors(path); },
                                        ": tensor 'a\\tb' has dtype Q8");
}

TEST(SafetensorsNames, TheEscapingHelperKeepsUtf8AndShowsEveryOtherByte) {
  EXPECT_EQ(detail::escaped("plain.name"), "plain.name");
  EXPECT_EQ(detail::escaped(std::string("a\nb\r\tc\\") + '\0'), "a\\nb\\r\\tc\\\\\\0");
  EXPECT_EQ(detail::escaped("\x01\x1f\x7f"), "\\x01\\x1f\\x7f");
  EXPECT_EQ(detail::escaped("é数😀"), "é数😀");
  // A byte-order mark, a right-to-left override and a zero-width space print as nothing.
  EXPECT_EQ(detail::escaped("\xef\xbb\xbf"
                            "a\xe2\x80\xae"
                            "b\xe2\x80\x8b"),
            "\\xef\\xbb\\xbfa\\xe2\\x80\\xaeb\\xe2\\x80\\x8b");
  // Overlong "/", a lone continuation byte, a surrogate and a cut sequence.
  EXPECT_EQ(detail::escaped("\xc0\xaf|\x80|\xed\xa0\x80|\xe6\x95"),
            "\\xc0\\xaf|\\x80|\\xed\\xa0\\x80|\\xe6\\x95");
  EXPECT_TRUE(detail::is_utf8("é数😀"));
  EXPECT_FALSE(detail::is_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
}

}  // namespace
}  // namespace tinytorch
