// The safetensors writer (F32) and reader (F32, F64, F16, BF16, I64, I32 → float).
#include <tinytorch/io/safetensors.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <system_error>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include <tinytorch/detail/atomic_file.hpp>
#include <tinytorch/detail/errors.hpp>

// safetensors stores little-endian data; the reader and writer copy raw bytes.
#if defined(__BYTE_ORDER__)
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "tinytorch checkpoints assume a little-endian host");
#endif

namespace tinytorch {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kMetadataKey = "__metadata__";

template <class... Args>
[[noreturn]] void fail(const char* op, const std::string& path, fmt::format_string<Args...> format,
                       Args&&... args) {
  throw SerializationError(
      fmt::format("{}: {}: {}", op, path, fmt::format(format, std::forward<Args>(args)...)));
}

}  // namespace

// ---- writing ----------------------------------------------------------------------------

namespace {

void check_tensors_to_save(const std::string& path, const TensorMap& tensors) {
  for (const auto& [name, t] : tensors) {
    if (name == kMetadataKey) {
      detail::fail_arg("save_safetensors: {}: '{}' is reserved and cannot name a tensor", path,
                       name);
    }
    if (!t.defined())
      detail::fail_arg("save_safetensors: {}: tensor '{}' is undefined", path, name);
  }
}

/// The JSON header, padded with spaces to a multiple of 8 so the data starts 8-byte aligned
/// (what the Python writer does; readers that map the file rely on it).
std::string build_header(const TensorMap& tensors, const Metadata& metadata) {
  json header = json::object();
  std::uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    const std::uint64_t bytes = t.size() * sizeof(float);
    header[name] = {{"dtype", "F32"},
                    {"shape", t.shape()},
                    {"data_offsets", json::array({offset, offset + bytes})}};
    offset += bytes;
  }
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

void write_tensors(detail::AtomicFile& file, const std::string& header, const TensorMap& tensors) {
  unsigned char length[8];  // u64 little-endian
  for (int i = 0; i < 8; ++i) length[i] = static_cast<unsigned char>(header.size() >> (8 * i));
  file.write(length, sizeof length);
  file.write(header.data(), header.size());
  for (const auto& [name, t] : tensors) file.write(t.data().data(), t.size() * sizeof(float));
}

void create_parent_dirs(const std::string& path) {
  const fs::path target(path);
  if (!target.has_parent_path()) return;
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec) {
    fail("save_safetensors", path, "cannot create directory '{}': {}",
         target.parent_path().string(), ec.message());
  }
}

}  // namespace

void save_safetensors(const std::string& path, const TensorMap& tensors, const Metadata& metadata) {
  if (path.empty()) detail::fail_arg("save_safetensors: the path is empty");
  check_tensors_to_save(path, tensors);
  const std::string header = build_header(tensors, metadata);
  create_parent_dirs(path);
  // Written to a temporary beside `path`, synced and renamed over it (detail/atomic_file.hpp):
  // readers and a crash or power loss see the old file or the whole new one, never half.
  detail::AtomicFile file("save_safetensors", path);
  write_tensors(file, header, tensors);
  file.commit();
}

// ---- reading: the element types --------------------------------------------------------

namespace {

/// float32 from IEEE half-precision bits (subnormals, infinities and NaN included).
float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exponent = (h >> 10) & 0x1fu;
  std::uint32_t mantissa = h & 0x3ffu;
  std::uint32_t bits = 0;
  if (exponent == 0x1f) {  // inf or NaN
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {  // normal: rebias 15 → 127
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {  // ±0
    bits = sign;
  } else {  // subnormal: shift until the leading 1 becomes the implicit bit
    exponent = 113;
    while ((mantissa & 0x400u) == 0) {
      mantissa <<= 1;
      --exponent;
    }
    bits = sign | (exponent << 23) | ((mantissa & 0x3ffu) << 13);
  }
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

/// bfloat16 is the top half of a float32.
float bf16_to_float(std::uint16_t b) {
  const std::uint32_t bits = static_cast<std::uint32_t>(b) << 16;
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

template <class T>
T read_raw(const char* p) {
  T value;
  std::memcpy(&value, p, sizeof value);  // the data need not be aligned for T
  return value;
}

/// A dtype the reader understands: its size and how one element becomes a float.
struct Dtype {
  const char* name;
  std::size_t size;
  float (*to_float)(const char*);
};

const Dtype kDtypes[] = {
    {"F32", 4, [](const char* p) { return read_raw<float>(p); }},
    {"F64", 8, [](const char* p) { return static_cast<float>(read_raw<double>(p)); }},
    {"F16", 2, [](const char* p) { return half_to_float(read_raw<std::uint16_t>(p)); }},
    {"BF16", 2, [](const char* p) { return bf16_to_float(read_raw<std::uint16_t>(p)); }},
    {"I64", 8, [](const char* p) { return static_cast<float>(read_raw<std::int64_t>(p)); }},
    {"I32", 4, [](const char* p) { return static_cast<float>(read_raw<std::int32_t>(p)); }},
};

const Dtype* find_dtype(const std::string& name) {
  for (const Dtype& d : kDtypes) {
    if (name == d.name) return &d;
  }
  return nullptr;
}

}  // namespace

// ---- reading: the file ------------------------------------------------------------------

namespace {

constexpr const char* kRead = "load_safetensors";

std::vector<char> read_whole_file(const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found) fail(kRead, path, "no such file");
  if (ec) fail(kRead, path, "cannot access the file: {}", ec.message());
  if (fs::is_directory(status)) fail(kRead, path, "is a directory, expected a safetensors file");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(kRead, path, "cannot open the file for reading");
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail(kRead, path, "read error");
  return bytes;
}

std::uint64_t read_header_length(const std::string& path, const std::vector<char>& bytes) {
  if (bytes.size() < 8)
    fail(kRead, path, "file is {} bytes, too short for the 8-byte header length", bytes.size());
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i)
    n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  if (n > bytes.size() - 8) {
    fail(kRead, path, "header length {} runs past the end of the file ({} bytes)", n, bytes.size());
  }
  return n;
}

json parse_header(const std::string& path, const std::vector<char>& bytes, std::uint64_t n) {
  json header;
  try {
    header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n));
  } catch (const json::exception& e) {
    fail(kRead, path, "header is not valid JSON ({})", e.what());
  }
  if (!header.is_object()) fail(kRead, path, "header is not a JSON object");
  return header;
}

/// One tensor's header entry, checked for form but not yet against the data.
struct Entry {
  std::string name;
  const Dtype* dtype = nullptr;
  Shape shape;
  std::uint64_t begin = 0, end = 0;
};

std::string readable_dtypes() {
  std::string out;
  for (const Dtype& d : kDtypes) out += std::string(out.empty() ? "" : ", ") + d.name;
  return out;
}

Entry parse_entry(const std::string& path, const std::string& name, const json& value) {
  Entry entry{name, nullptr, {}, 0, 0};
  try {
    const std::string dtype = value.at("dtype").get<std::string>();
    entry.dtype = find_dtype(dtype);
    if (entry.dtype == nullptr) {
      fail(kRead, path, "tensor '{}' has dtype {}; readable dtypes are {}", name, dtype,
           readable_dtypes());
    }
    entry.shape = value.at("shape").get<Shape>();
    const auto offsets = value.at("data_offsets").get<std::vector<std::uint64_t>>();
    if (offsets.size() != 2)
      fail(kRead, path, "tensor '{}' has {} data_offsets, expected 2", name, offsets.size());
    entry.begin = offsets[0];
    entry.end = offsets[1];
  } catch (const json::exception& e) {
    fail(kRead, path, "tensor '{}' has a malformed header entry ({})", name, e.what());
  }
  return entry;
}

/// Number of bytes `shape` needs at `element` bytes each, or max on overflow (which then fails
/// the size check).
std::uint64_t shape_bytes(const Shape& shape, std::size_t element) {
  std::uint64_t count = element;
  for (std::size_t d : shape) {
    if (d != 0 && count > std::numeric_limits<std::uint64_t>::max() / d) {
      return std::numeric_limits<std::uint64_t>::max();
    }
    count *= d;
  }
  return count;
}

/// Offsets must tile the data exactly (the format's rule: no gaps, no overlaps), and each
/// tensor's byte count must match its shape and dtype.
void check_layout(const std::string& path, std::vector<Entry> entries, std::uint64_t data_size) {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.begin, a.end) < std::tie(b.begin, b.end);
  });
  std::uint64_t expected_begin = 0;
  for (const Entry& e : entries) {
    if (e.begin > e.end || e.end > data_size) {
      fail(kRead, path, "tensor '{}' has data_offsets [{}, {}] outside the {} data bytes", e.name,
           e.begin, e.end, data_size);
    }
    if (e.begin != expected_begin) {
      fail(kRead, path, "tensor '{}' starts at byte {} but the data before it ends at {}", e.name,
           e.begin, expected_begin);
    }
    const std::uint64_t needed = shape_bytes(e.shape, e.dtype->size);
    if (needed != e.end - e.begin) {
      fail(kRead, path,
           "tensor '{}' of shape {} and dtype {} needs {} bytes but its offsets span {}", e.name,
           shape_str(e.shape), e.dtype->name, needed, e.end - e.begin);
    }
    expected_begin = e.end;
  }
  if (expected_begin != data_size) {
    fail(kRead, path, "{} data bytes are not covered by any tensor", data_size - expected_begin);
  }
}

Metadata parse_metadata(const std::string& path, const json& header) {
  Metadata metadata;
  auto it = header.find(kMetadataKey);
  if (it == header.end()) return metadata;
  if (!it->is_object()) fail(kRead, path, "__metadata__ is not a JSON object");
  for (const auto& [key, value] : it->items()) {
    if (!value.is_string()) fail(kRead, path, "__metadata__ entry '{}' is not a string", key);
    metadata[key] = value.get<std::string>();
  }
  return metadata;
}

/// The entry's elements converted to float.
Tensor to_tensor(const Entry& e, const char* data) {
  Array array = Array::from_shape(e.shape);
  const char* src = data + e.begin;
  float* dst = array.data();
  if (std::string(e.dtype->name) == "F32") {
    if (e.end > e.begin) std::memcpy(dst, src, e.end - e.begin);
  } else {
    for (std::size_t i = 0; i < array.size(); ++i)
      dst[i] = e.dtype->to_float(src + i * e.dtype->size);
  }
  return Tensor(std::move(array));
}

}  // namespace

TensorMap load_safetensors(const std::string& path, Metadata* metadata) {
  const std::vector<char> bytes = read_whole_file(path);
  const std::uint64_t n = read_header_length(path, bytes);
  const json header = parse_header(path, bytes, n);
  const char* data = bytes.data() + 8 + n;
  std::vector<Entry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name != kMetadataKey) entries.push_back(parse_entry(path, name, value));
  }
  check_layout(path, entries, bytes.size() - 8 - n);
  Metadata parsed_metadata = parse_metadata(path, header);  // checked even when not asked for
  TensorMap tensors;
  for (const Entry& e : entries) tensors.emplace(e.name, to_tensor(e, data));
  if (metadata) *metadata = std::move(parsed_metadata);
  return tensors;
}

}  // namespace tinytorch
