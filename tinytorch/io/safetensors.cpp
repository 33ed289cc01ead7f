// The safetensors writer (F32) and reader (F32, F64, F16, BF16, I64, I32 → float).
#include <tinytorch/io/safetensors.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <set>
#include <system_error>
#include <tuple>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <tinytorch/detail/atomic_file.hpp>
#include <tinytorch/detail/errors.hpp>
#include <tinytorch/detail/shape.hpp>
#include <tinytorch/detail/text.hpp>
#include <tinytorch/io/internal/state.hpp>

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

void check_tensors_to_save(const char* op, const std::string& path, const TensorMap& tensors) {
  for (const auto& [name, t] : tensors) {
    if (name == kMetadataKey) {
      detail::fail_arg("{}: {}: '{}' is reserved and cannot name a tensor", op, path, name);
    }
    // JSON strings are UTF-8; nlohmann would throw its own type_error from dump().
    if (!detail::is_utf8(name)) {
      detail::fail_arg("{}: {}: tensor name '{}' is not valid UTF-8", op, path,
                       detail::escaped(name));
    }
    if (!t.defined()) {
      detail::fail_arg("{}: {}: tensor '{}' is undefined", op, path, detail::escaped(name));
    }
  }
}

void check_metadata_to_save(const char* op, const std::string& path, const Metadata& metadata) {
  for (const auto& [key, value] : metadata) {
    if (!detail::is_utf8(key)) {
      detail::fail_arg("{}: {}: metadata key '{}' is not valid UTF-8", op, path,
                       detail::escaped(key));
    }
    if (!detail::is_utf8(value)) {
      detail::fail_arg("{}: {}: metadata value of key '{}' is not valid UTF-8", op, path,
                       detail::escaped(key));
    }
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

void create_parent_dirs(const char* op, const std::string& path) {
  const fs::path target(path);
  if (!target.has_parent_path()) return;
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec) {
    fail(op, path, "cannot create directory '{}': {}", target.parent_path().string(), ec.message());
  }
}

}  // namespace

void detail::save_safetensors(const char* op, const std::string& path, const TensorMap& tensors,
                              const Metadata& metadata) {
  detail::check_path(op, path);
  check_tensors_to_save(op, path, tensors);
  check_metadata_to_save(op, path, metadata);
  const std::string header = build_header(tensors, metadata);
  create_parent_dirs(op, path);
  // Written to a temporary beside `path`, synced and renamed over it (detail/atomic_file.hpp):
  // readers and a crash or power loss see the old file or the whole new one, never half.
  detail::AtomicFile file(op, path);
  write_tensors(file, header, tensors);
  file.commit();
}

void save_safetensors(const std::string& path, const TensorMap& tensors, const Metadata& metadata) {
  detail::save_safetensors("save_safetensors", path, tensors, metadata);
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
/// The largest header the reference reader (the safetensors crate) accepts.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;

std::string error_text(int error) {
  return std::error_code(error, std::generic_category()).message();
}

/// A file read front to back. Regular files know their size, so a header is checked against
/// what can follow it; pipes and devices (/dev/zero) are read no further than the header says.
class InputFile {
 public:
  explicit InputFile(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      if (errno == ENOENT) fail(kRead, path_, "no such file");
      fail(kRead, path_, "cannot open the file: {}", error_text(errno));
    }
    struct stat st {};
    if (::fstat(fd_, &st) != 0)
      fail(kRead, path_, "cannot look at the file: {}", error_text(errno));
    if (S_ISDIR(st.st_mode)) fail(kRead, path_, "is a directory, expected a safetensors file");
    if (S_ISREG(st.st_mode)) size_ = static_cast<std::uint64_t>(st.st_size);
  }
  ~InputFile() { ::close(fd_); }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  /// The size of a regular file; empty for a pipe or a device.
  std::optional<std::uint64_t> size() const { return size_; }

  /// Reads up to n bytes into dst; fewer only where the file ends.
  std::size_t read(char* dst, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
      const ssize_t r = ::read(fd_, dst + got, std::min<std::size_t>(n - got, 1u << 30));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) fail(kRead, path_, "read error: {}", error_text(errno));
      if (r == 0) break;
      got += static_cast<std::size_t>(r);
    }
    return got;
  }

  /// Up to n bytes, grown in steps: a stream that ends early costs no more memory than it held.
  std::vector<char> read_up_to(std::uint64_t n) {
    constexpr std::uint64_t kStep = std::uint64_t{16} << 20;
    std::vector<char> bytes;
    while (bytes.size() < n) {
      const std::size_t have = bytes.size();
      const std::size_t want = static_cast<std::size_t>(std::min(kStep, n - have));
      bytes.resize(have + want);
      const std::size_t got = read(bytes.data() + have, want);
      if (got < want) {
        bytes.resize(have + got);
        break;
      }
    }
    return bytes;
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::optional<std::uint64_t> size_;
};

std::uint64_t read_header_length(const std::string& path, InputFile& in) {
  unsigned char bytes[8];
  const std::size_t got = in.read(reinterpret_cast<char*>(bytes), sizeof bytes);
  if (got < sizeof bytes)
    fail(kRead, path, "file is {} bytes, too short for the 8-byte header length", got);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
  if (in.size() && n > *in.size() - 8) {
    fail(kRead, path, "header length {} runs past the end of the file ({} bytes)", n, *in.size());
  }
  if (n > kMaxHeaderBytes) {
    fail(kRead, path, "header length {} is more than the {} bytes a safetensors header may have", n,
         kMaxHeaderBytes);
  }
  return n;
}

/// A JSON parser callback that refuses a key repeated in one object. nlohmann keeps one of the
/// two values and drops the other without a word, so a header naming tensor "w" twice would
/// load one of them and leave the other's bytes unexplained (other readers might pick the
/// other one); the safetensors crate refuses such headers too.
class DuplicateKeyCheck {
 public:
  explicit DuplicateKeyCheck(const std::string& path) : path_(&path) {}

  bool operator()(int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        // Depth 0 is the header; depth 1 a value of one of its keys (a tensor's entry or the
        // metadata), which keeps that key for the message.
        objects_.push_back({depth == 1 ? last_key_ : "", depth, {}});
        break;
      case json::parse_event_t::object_end:
        objects_.pop_back();
        break;
      case json::parse_event_t::key:
        last_key_ = parsed.get<std::string>();
        if (!objects_.back().keys.insert(last_key_).second) fail_duplicate();
        break;
      default:
        break;
    }
    return true;
  }

 private:
  struct Object {
    std::string key;  ///< its key in the enclosing object, when that is the header
    int depth;
    std::set<std::string> keys;
  };

  [[noreturn]] void fail_duplicate() const {
    const Object& object = objects_.back();
    const std::string name = detail::escaped(last_key_);
    if (object.depth == 0) {
      if (last_key_ == kMetadataKey) fail(kRead, *path_, "header has two '{}' entries", name);
      fail(kRead, *path_, "header names tensor '{}' twice", name);
    }
    if (object.depth == 1 && object.key == kMetadataKey) {
      fail(kRead, *path_, "__metadata__ has the key '{}' twice", name);
    }
    if (object.depth == 1) {
      fail(kRead, *path_, "tensor '{}' has the key '{}' twice", detail::escaped(object.key), name);
    }
    fail(kRead, *path_, "header has the key '{}' twice in one object", name);
  }

  const std::string* path_;
  std::vector<Object> objects_;
  std::string last_key_;
};

json parse_header(const std::string& path, InputFile& in, std::uint64_t n) {
  const std::vector<char> text = in.read_up_to(n);
  if (text.size() < n) {
    fail(kRead, path, "file ends inside the header, after {} of its {} bytes", text.size(), n);
  }
  json header;
  try {
    header = json::parse(text.begin(), text.end(), DuplicateKeyCheck(path));
  } catch (const json::exception& e) {
    // Its "last read" part quotes the input, which may be any bytes.
    fail(kRead, path, "header is not valid JSON ({})", detail::escaped(e.what()));
  }
  if (!header.is_object()) fail(kRead, path, "header is not a JSON object");
  return header;
}

/// One tensor's header entry, checked for form but not yet against the data.
struct Entry {
  std::string name;
  std::string shown;  ///< the name as messages print it (detail::escaped)
  const Dtype* dtype = nullptr;
  Shape shape;
  std::uint64_t begin = 0, end = 0;
};

std::string readable_dtypes() {
  std::string out;
  for (const Dtype& d : kDtypes) out += std::string(out.empty() ? "" : ", ") + d.name;
  return out;
}

/// A shape entry or an offset: a JSON integer >= 0. Anything else (-1, 2.5, 1e300, a number past
/// 2^64, which JSON readers turn into a float) would be undefined or silently wrong as an integer.
std::uint64_t header_integer(const std::string& path, const std::string& name, const char* field,
                             const json& value) {
  if (!value.is_number_unsigned()) {
    std::string shown = value.dump();
    if (shown.size() > 40) shown = shown.substr(0, 40) + "...";
    fail(kRead, path, "tensor '{}' has {} {}; expected an integer >= 0", name, field, shown);
  }
  return value.get<std::uint64_t>();
}

Entry parse_entry(const std::string& path, const std::string& raw_name, const json& value) {
  Entry entry{raw_name, detail::escaped(raw_name), nullptr, {}, 0, 0};
  const std::string& name = entry.shown;
  try {
    const std::string dtype = value.at("dtype").get<std::string>();
    entry.dtype = find_dtype(dtype);
    if (entry.dtype == nullptr) {
      fail(kRead, path, "tensor '{}' has dtype {}; readable dtypes are {}", name,
           detail::escaped(dtype), readable_dtypes());
    }
    const json& shape = value.at("shape");
    if (!shape.is_array()) fail(kRead, path, "tensor '{}' has a shape that is not a list", name);
    for (const json& d : shape) entry.shape.push_back(header_integer(path, name, "shape entry", d));
    const json& offsets = value.at("data_offsets");
    if (!offsets.is_array() || offsets.size() != 2) {
      fail(kRead, path, "tensor '{}' has data_offsets {}, expected a list [begin, end]", name,
           offsets.is_array() ? fmt::format("of {} entries", offsets.size()) : "that are no list");
    }
    entry.begin = header_integer(path, name, "data_offset", offsets[0]);
    entry.end = header_integer(path, name, "data_offset", offsets[1]);
  } catch (const json::exception& e) {
    fail(kRead, path, "tensor '{}' has a malformed header entry ({})", name, e.what());
  }
  try {
    detail::checked_numel(kRead, entry.shape);  // even [0, 2^62, 4] overflows its strides
  } catch (const ShapeError&) {
    fail(kRead, path,
         "tensor '{}' has shape {}, too large for a tensor (its dimensions, zeros left out, "
         "multiply past 2^61 - 1)",
         name, shape_str(entry.shape));
  }
  return entry;
}

/// Number of bytes `shape` needs at `element` bytes each (the shape passed checked_numel, so
/// at most (2^61 - 1)·8: no overflow).
std::uint64_t shape_bytes(const Shape& shape, std::size_t element) {
  std::uint64_t count = element;
  for (std::size_t d : shape) count *= d;
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
      fail(kRead, path, "tensor '{}' has data_offsets [{}, {}] outside the {} data bytes", e.shown,
           e.begin, e.end, data_size);
    }
    if (e.begin != expected_begin) {
      fail(kRead, path, "tensor '{}' starts at byte {} but the data before it ends at {}", e.shown,
           e.begin, expected_begin);
    }
    const std::uint64_t needed = shape_bytes(e.shape, e.dtype->size);
    if (needed != e.end - e.begin) {
      fail(kRead, path,
           "tensor '{}' of shape {} and dtype {} needs {} bytes but its offsets span {}", e.shown,
           shape_str(e.shape), e.dtype->name, needed, e.end - e.begin);
    }
    expected_begin = e.end;
  }
  if (expected_begin != data_size) {
    fail(kRead, path, "{} data bytes are not covered by any tensor", data_size - expected_begin);
  }
}

/// The bytes after the header: all that is left of a regular file (whose layout was checked
/// against its size), or exactly what the header describes of a stream, which must end there.
std::vector<char> read_data(const std::string& path, InputFile& in, std::uint64_t size) {
  std::vector<char> data = in.read_up_to(size);
  if (data.size() < size) {
    fail(kRead, path, "file ends after {} data bytes, but the header's data_offsets describe {}",
         data.size(), size);
  }
  char extra;
  if (!in.size() && in.read(&extra, 1) == 1) {
    fail(kRead, path, "file goes on past the {} data bytes its header describes", size);
  }
  return data;
}

Metadata parse_metadata(const std::string& path, const json& header) {
  Metadata metadata;
  auto it = header.find(kMetadataKey);
  if (it == header.end()) return metadata;
  if (!it->is_object()) fail(kRead, path, "__metadata__ is not a JSON object");
  for (const auto& [key, value] : it->items()) {
    if (!value.is_string()) {
      fail(kRead, path, "__metadata__ entry '{}' is not a string", detail::escaped(key));
    }
    metadata[key] = value.get<std::string>();
  }
  return metadata;
}

/// The entry's elements converted to float.
Tensor to_tensor(const Entry& e, const char* data) {
  Array array = detail::make_array(kRead, e.shape);
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
  detail::check_path(kRead, path);
  InputFile in(path);
  const std::uint64_t n = read_header_length(path, in);
  const json header = parse_header(path, in, n);
  std::vector<Entry> entries;
  std::uint64_t described = 0;  // the data bytes the header's offsets reach
  for (const auto& [name, value] : header.items()) {
    if (name == kMetadataKey) continue;
    entries.push_back(parse_entry(path, name, value));
    described = std::max(described, entries.back().end);
  }
  Metadata parsed_metadata = parse_metadata(path, header);  // checked even when not asked for
  // Everything is checked before the data is read: a regular file against the bytes it has
  // left, a stream against what its header describes.
  const std::uint64_t data_size = in.size() ? *in.size() - 8 - n : described;
  check_layout(path, entries, data_size);
  const std::vector<char> data = read_data(path, in, data_size);
  TensorMap tensors;
  for (const Entry& e : entries) tensors.emplace(e.name, to_tensor(e, data.data()));
  if (metadata) *metadata = std::move(parsed_metadata);
  return tensors;
}

}  // namespace tinytorch
