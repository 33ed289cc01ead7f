// Module 08 — dataset readers. Everything is read through zlib's gzread, which inflates .gz
// files and passes other files through unchanged, so each reader takes plain or gzip input.
// Every failure is a DatasetError that names the reader, the file and the line or byte.
#include <tinytorch/data/datasets.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

#include <zlib.h>

#include <tinytorch/detail/common.hpp>
#include <tinytorch/detail/text.hpp>

#include <dlfcn.h>

// Set by the build (tinytorch/CMakeLists.txt); these fallbacks keep the file compiling alone.
#ifndef TINYTORCH_DATA_FROM_BIN  // data dir relative to the install's bin dir
#define TINYTORCH_DATA_FROM_BIN "../share/tinytorch"
#endif
#ifndef TINYTORCH_DATA_FROM_LIB  // data dir relative to the install's lib dir
#define TINYTORCH_DATA_FROM_LIB "../share/tinytorch"
#endif
#ifndef TINYTORCH_INSTALL_DATA_DIR  // <prefix>/share/tinytorch of the configured install
#define TINYTORCH_INSTALL_DATA_DIR "/usr/local/share/tinytorch"
#endif
#ifndef TINYTORCH_BUILD_DATA_DIR  // <build>/share/tinytorch, the build tree's copy
#define TINYTORCH_BUILD_DATA_DIR "share/tinytorch"
#endif

namespace tinytorch {

namespace {

namespace fs = std::filesystem;

template <class... Args>
[[noreturn]] void fail_data(fmt::format_string<Args...> format, Args&&... args) {
  throw DatasetError(fmt::format(format, std::forward<Args>(args)...));
}

// ---- reading bytes: plain or gzip -------------------------------------------------------

/// A file opened through zlib; counts the (uncompressed) bytes read so errors can say where.
class InputFile {
 public:
  InputFile(const char* op, std::string path);
  ~InputFile() { gzclose(file_); }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  /// Reads up to n bytes; fewer only at the end of the data. Throws on a damaged gzip stream.
  std::size_t read_some(void* dst, std::size_t n);
  /// Reads exactly n bytes of `what`, or throws naming the byte where the data ended.
  std::vector<std::uint8_t> read_bytes(std::size_t n, const std::string& what);
  /// Throws, before anything is read, if the file cannot hold n more bytes of `what`: a plain
  /// file has its size; a gzip file inflates to at most 1032 times its own (deflate's largest
  /// ratio). So a header that promises gigabytes is refused before they are inflated.
  void check_can_hold(std::size_t n, const std::string& what) const;
  /// Throws if the data goes on after what was read (a header that promised too little).
  void check_at_end(const std::string& what);
  const std::string& path() const { return path_; }

 private:
  [[noreturn]] void fail_stream() const;
  const char* op_;
  std::string path_;
  gzFile file_ = nullptr;
  std::size_t offset_ = 0;                  ///< uncompressed bytes read so far
  std::optional<std::uint64_t> file_size_;  ///< bytes on disk, for a regular file
};

InputFile::InputFile(const char* op, std::string path) : op_(op), path_(std::move(path)) {
  std::error_code ec;
  if (!fs::exists(path_, ec)) fail_data("{}: file '{}' is missing (no such file)", op_, path_);
  if (fs::is_directory(path_, ec)) {
    fail_data("{}: '{}' is a directory, expected a file", op_, path_);
  }
  if (fs::is_regular_file(path_, ec)) {
    const std::uintmax_t size = fs::file_size(path_, ec);
    if (!ec) file_size_ = size;
  }
  file_ = gzopen(path_.c_str(), "rb");
  if (file_ == nullptr) {
    fail_data("{}: cannot open file '{}': {}", op_, path_, std::strerror(errno));
  }
  gzbuffer(file_, 1u << 17);  // larger than the 8 KiB default: fewer reads on 26 MB files
}

// A gzip file cut short reads as an early end of data plus Z_BUF_ERROR; this turns that (and
// any other zlib error) into a message with the file and how far the data went.
void InputFile::fail_stream() const {
  int errnum = Z_OK;
  const char* message = gzerror(file_, &errnum);
  std::string_view text = errnum == Z_ERRNO ? std::strerror(errno) : message;
  const std::string prefix = path_ + ": ";  // zlib puts the path in front of its message
  if (text.substr(0, prefix.size()) == prefix) text.remove_prefix(prefix.size());
  fail_data("{}: file '{}' is damaged or truncated: {} (after {} uncompressed bytes)", op_, path_,
            text, offset_);
}

std::size_t InputFile::read_some(void* dst, std::size_t n) {
  auto* out = static_cast<unsigned char*>(dst);
  std::size_t got = 0;
  while (got < n) {
    const auto chunk = static_cast<unsigned>(std::min<std::size_t>(n - got, 1u << 30));
    const int r = gzread(file_, out + got, chunk);
    if (r < 0) {
      offset_ += got;
      fail_stream();
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  offset_ += got;
  if (got < n) {
    int errnum = Z_OK;
    gzerror(file_, &errnum);
    if (errnum != Z_OK) fail_stream();
  }
  return got;
}

void InputFile::check_can_hold(std::size_t n, const std::string& what) const {
  if (!file_size_ || offset_ == 0) return;  // a pipe, or nothing read yet to tell gzip apart
  constexpr std::uint64_t kDeflateRatio = 1032;
  if (gzdirect(file_) == 1) {  // plain: exactly what is left
    const std::uint64_t left = *file_size_ > offset_ ? *file_size_ - offset_ : 0;
    if (n > left) {
      fail_data(
          "{}: file '{}' ends early: {} should fill bytes {}..{}, but the data ends at byte {}",
          op_, path_, what, offset_, offset_ + n, offset_ + left);
    }
    return;
  }
  const std::uint64_t most = *file_size_ * kDeflateRatio;
  if (n > most) {
    fail_data(
        "{}: file '{}' is too short: {} should fill bytes {}..{}, but {} bytes of gzip data "
        "inflate to at most {} bytes",
        op_, path_, what, offset_, offset_ + n, *file_size_, most);
  }
}

void InputFile::check_at_end(const std::string& what) {
  const std::size_t end = offset_;
  unsigned char extra;
  if (read_some(&extra, 1) == 1) {
    fail_data("{}: file '{}' goes on after {}, which end at byte {}; is its header right?", op_,
              path_, what, end);
  }
}

std::vector<std::uint8_t> InputFile::read_bytes(std::size_t n, const std::string& what) {
  check_can_hold(n, what);
  // Grown in steps, so a corrupt header asking for more than a stream holds fails at the
  // truncation check instead of in one giant allocation.
  constexpr std::size_t kStep = std::size_t{16} << 20;
  const std::size_t start = offset_;
  std::vector<std::uint8_t> bytes;
  while (bytes.size() < n) {
    const std::size_t have = bytes.size(), want = std::min(kStep, n - have);
    bytes.resize(have + want);
    if (read_some(bytes.data() + have, want) < want) {
      fail_data(
          "{}: file '{}' ends early: {} should fill bytes {}..{}, but the data ends at byte {}",
          op_, path_, what, start, start + n, offset_);
    }
  }
  return bytes;
}

/// The lines of a text file, one at a time: memory stays at one line however long the file
/// (or /dev/zero) goes on.
class LineReader {
 public:
  LineReader(InputFile& in, std::size_t max_line) : in_(in), max_line_(max_line) {}

  /// The next line without its '\n'; false after the last. Throws DatasetError naming the
  /// line when it is longer than max_line bytes.
  bool next(std::string& line, std::size_t line_no) {
    for (;;) {
      const std::size_t newline = buffer_.find('\n', pos_);
      if (newline != std::string::npos) {
        line.assign(buffer_, pos_, newline - pos_);
        pos_ = newline + 1;
        return true;
      }
      if (buffer_.size() - pos_ > max_line_) {
        fail_data(
            "read_digits_csv: file '{}', line {} is longer than {} bytes; a row is 65 small "
            "integers",
            in_.path(), line_no, max_line_);
      }
      if (end_) {
        if (pos_ == buffer_.size()) return false;
        line.assign(buffer_, pos_, std::string::npos);  // the last line has no newline
        pos_ = buffer_.size();
        return true;
      }
      buffer_.erase(0, pos_);
      pos_ = 0;
      char chunk[1 << 16];
      const std::size_t got = in_.read_some(chunk, sizeof chunk);
      end_ = got == 0;
      buffer_.append(chunk, got);
    }
  }

 private:
  InputFile& in_;
  std::size_t max_line_;
  std::string buffer_;
  std::size_t pos_ = 0;
  bool end_ = false;
};

// ---- digits CSV -------------------------------------------------------------------------

constexpr std::size_t kDigitsSide = 8;
constexpr std::size_t kDigitsPixels = kDigitsSide * kDigitsSide;
constexpr std::size_t kDigitsFields = kDigitsPixels + 1;  // pixels, then the label
constexpr int kDigitsMaxPixel = 16;
constexpr int kDigitsMaxLabel = 9;
constexpr std::size_t kDigitsTestRows = 360;
constexpr std::string_view kUtf8Bom = "\xef\xbb\xbf";

/// Where a field came from, for error messages.
struct CsvPlace {
  const std::string& path;
  std::size_t line;  ///< 1-based
};

std::string_view trim(std::string_view s) {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  for (std::size_t comma; (comma = line.find(',', start)) != std::string_view::npos;
       start = comma + 1) {
    fields.push_back(trim(line.substr(start, comma - start)));
  }
  fields.push_back(trim(line.substr(start)));
  return fields;
}

/// The integer in `field`, which must lie in 0..max; `what` is "pixel" or "label".
int parse_bounded_int(std::string_view field, int max, const char* what, const CsvPlace& at,
                      std::size_t column) {
  int value = -1;
  const char* end = field.data() + field.size();
  const auto [ptr, ec] = std::from_chars(field.data(), end, value);
  if (ec != std::errc() || ptr != end || value < 0 || value > max) {
    // Binary junk stays short, and escaped: a byte-order mark or a control byte would
    // otherwise be quoted invisibly.
    const std::string shown = detail::escaped(field.substr(0, 20));
    fail_data(
        "read_digits_csv: file '{}', line {}, field {}: expected an integer {} in 0..{}, "
        "found '{}{}'",
        at.path, at.line, column + 1, what, max, shown, field.size() > 20 ? "..." : "");
  }
  return value;
}

/// Appends one row's 64 scaled pixels and its label.
void parse_digits_row(std::string_view line, const CsvPlace& at, std::vector<float>& pixels,
                      std::vector<float>& labels) {
  // Hint: a row is 65 comma-separated integers: 64 pixels in 0..16 (append pixel/16) then the label
  // 0..9; parse_bounded_int checks each field and names the line.
  // BEGIN SOLUTION 08_dataloader digits_reader
  if (trim(line).empty()) {
    fail_data(
        "read_digits_csv: file '{}', line {} is empty; expected {} comma-separated integers "
        "(64 pixels, then the label)",
        at.path, at.line, kDigitsFields);
  }
  const std::vector<std::string_view> fields = split_fields(line);
  if (fields.size() != kDigitsFields) {
    fail_data(
        "read_digits_csv: file '{}', line {}: expected {} comma-separated integers "
        "(64 pixels, then the label), found {} fields",
        at.path, at.line, kDigitsFields, fields.size());
  }
  for (std::size_t c = 0; c < kDigitsPixels; ++c) {
    const int v = parse_bounded_int(fields[c], kDigitsMaxPixel, "pixel", at, c);
    pixels.push_back(static_cast<float>(v) / static_cast<float>(kDigitsMaxPixel));
  }
  const int label =
      parse_bounded_int(fields[kDigitsPixels], kDigitsMaxLabel, "label", at, kDigitsPixels);
  labels.push_back(static_cast<float>(label));
  // END SOLUTION
}

LabeledImages to_digits_tensors(std::vector<float>& pixels, std::vector<float>& labels) {
  const std::size_t n = labels.size();
  Array images = Array::from_shape({n, 1, kDigitsSide, kDigitsSide});
  std::copy(pixels.begin(), pixels.end(), images.data());
  Array targets = Array::from_shape({n});
  std::copy(labels.begin(), labels.end(), targets.data());
  return {Tensor(std::move(images)), Tensor(std::move(targets))};
}

// ---- IDX --------------------------------------------------------------------------------

constexpr std::uint32_t kIdxImagesMagic = 0x00000803;  // unsigned byte, 3 dimensions
constexpr std::uint32_t kIdxLabelsMagic = 0x00000801;  // unsigned byte, 1 dimension
// Bounds each side so that count * rows * cols (count < 2^32) cannot overflow 64 bits.
constexpr std::uint32_t kIdxMaxSide = 65535;

struct IdxImagesHeader {
  std::size_t count = 0, rows = 0, cols = 0;
};

std::uint32_t read_be32(InputFile& in, const char* what) {
  const std::vector<std::uint8_t> b = in.read_bytes(4, what);
  return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
         std::uint32_t{b[3]};
}

void check_idx_magic(InputFile& in, std::uint32_t expected, const char* kind) {
  const std::uint32_t magic = read_be32(in, "the magic number");
  if (magic == expected) return;
  const bool swapped = magic == kIdxImagesMagic || magic == kIdxLabelsMagic;
  fail_data(
      "read_idx: file '{}' is not an IDX {} file: magic number at byte 0 is 0x{:08x}, "
      "expected 0x{:08x}{}",
      in.path(), kind, magic, expected, swapped ? " (images and labels swapped?)" : "");
}

IdxImagesHeader read_idx_images_header(InputFile& in) {
  check_idx_magic(in, kIdxImagesMagic, "image");
  IdxImagesHeader h;
  h.count = read_be32(in, "the image count");
  const std::uint32_t rows = read_be32(in, "the row count");
  const std::uint32_t cols = read_be32(in, "the column count");
  if (rows == 0 || cols == 0 || rows > kIdxMaxSide || cols > kIdxMaxSide) {
    fail_data("read_idx: file '{}' declares images of {}x{}; expected sides in 1..{}", in.path(),
              rows, cols, kIdxMaxSide);
  }
  h.rows = rows;
  h.cols = cols;
  return h;
}

std::size_t read_idx_labels_header(InputFile& in) {
  check_idx_magic(in, kIdxLabelsMagic, "label");
  return read_be32(in, "the label count");
}

Tensor read_idx_images(InputFile& in, const IdxImagesHeader& h, std::size_t n,
                       const std::string& what) {
  const std::vector<std::uint8_t> bytes = in.read_bytes(n * h.rows * h.cols, what);
  Array images = detail::make_array("read_idx", {n, 1, h.rows, h.cols});
  float* out = images.data();
  for (std::size_t i = 0; i < bytes.size(); ++i) out[i] = static_cast<float>(bytes[i]) / 255.0f;
  return Tensor(std::move(images));
}

Tensor read_idx_labels(InputFile& in, std::size_t n, const std::string& what) {
  const std::vector<std::uint8_t> bytes = in.read_bytes(n, what);
  Array labels = detail::make_array("read_idx", {n});
  std::copy(bytes.begin(), bytes.end(), labels.data());
  return Tensor(std::move(labels));
}

const char* const kFashionHint =
    "Debian's package dataset-fashion-mnist installs Fashion-MNIST under "
    "/usr/share/datasets/fashion-mnist (apt install dataset-fashion-mnist); MNIST uses the same "
    "file names";

/// <dir>/<name> or <dir>/<name>.gz, whichever exists.
std::string find_idx_file(const std::string& dir, const std::string& name) {
  const fs::path plain = fs::path(dir) / name;
  const fs::path gz = fs::path(dir) / (name + ".gz");
  std::error_code ec;
  if (fs::is_regular_file(plain, ec)) return plain.string();
  if (fs::is_regular_file(gz, ec)) return gz.string();
  fail_data("load_mnist_like: found neither '{}' nor '{}'. {}", plain.string(), gz.string(),
            kFashionHint);
}

}  // namespace

// ---- public readers ---------------------------------------------------------------------

namespace {

constexpr const char* kDigitsFile = "digits.csv.gz";
constexpr const char* kDigitsVariable = "TINYTORCH_DIGITS";

/// One place the digits may be, and how the error message describes it.
struct Place {
  std::string path;
  std::string what;
};

const char* digits_variable() {
  const char* env = std::getenv(kDigitsVariable);
  return env != nullptr && *env != '\0' ? env : nullptr;
}

/// The running program (/proc/self/exe) and, when the library is a shared object, its file:
/// a static library lives inside the program, so the program's prefix is the library's.
std::vector<Place> places_beside_the_binaries() {
  std::vector<Place> out;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    out.push_back({(exe.parent_path() / TINYTORCH_DATA_FROM_BIN / kDigitsFile).lexically_normal(),
                   "beside the program"});
  }
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&digits_search_paths), &info) != 0 &&
      info.dli_fname != nullptr &&
      std::string_view(info.dli_fname).find(".so") != std::string_view::npos) {
    const fs::path object = fs::weakly_canonical(info.dli_fname, ec);
    if (!ec) {
      out.push_back(
          {(object.parent_path() / TINYTORCH_DATA_FROM_LIB / kDigitsFile).lexically_normal(),
           "beside the shared library"});
    }
  }
  return out;
}

std::vector<Place> digits_places() {
  std::vector<Place> out;
  if (const char* env = digits_variable()) out.push_back({env, kDigitsVariable});
  for (Place& p : places_beside_the_binaries()) out.push_back(std::move(p));
  out.push_back({(fs::path(TINYTORCH_INSTALL_DATA_DIR) / kDigitsFile).string(), "install prefix"});
  out.push_back({(fs::path(TINYTORCH_BUILD_DATA_DIR) / kDigitsFile).string(), "build tree"});
  return out;
}

}  // namespace

std::vector<std::string> digits_search_paths() {
  std::vector<std::string> out;
  for (const Place& p : digits_places()) out.push_back(p.path);
  return out;
}

std::string default_digits_path() {
  if (const char* env = digits_variable()) {
    std::error_code ec;
    if (fs::is_regular_file(env, ec)) return env;
    fail_data(
        "load_digits: {} is set to '{}', but there is no file there; point it at a digits "
        "CSV (.gz) file or unset it to use the bundled {}",
        kDigitsVariable, env, kDigitsFile);
  }
  const std::vector<Place> places = digits_places();
  std::string looked;
  for (const Place& p : places) {
    std::error_code ec;
    if (fs::is_regular_file(p.path, ec)) return p.path;
    looked += fmt::format("\n  {} ({})", p.path, p.what);
  }
  fail_data(
      "load_digits: cannot find the bundled digits file {}; looked in:{}\n"
      "Set the environment variable {} to the file's path, or pass the path: "
      "load_digits(\"path/to/{}\")",
      kDigitsFile, looked, kDigitsVariable, kDigitsFile);
}

LabeledImages read_digits_csv(const std::string& path) {
  detail::check_path("read_digits_csv", path);
  InputFile in("read_digits_csv", path);
  // Read line by line with bounds, so an endless stream (/dev/zero, `yes`) is refused instead of
  // read until memory runs out: a row is ~200 bytes, and 1797 rows make 0.5 MB.
  constexpr std::size_t kMaxLine = std::size_t{1} << 16;
  constexpr std::size_t kMaxRows = std::size_t{1} << 20;
  LineReader lines(in, kMaxLine);
  std::vector<float> pixels, labels;
  std::string line;
  std::size_t line_no = 0;
  std::size_t blank = 0;  // the first of the blank lines just read (0: none); at the very end of
                          // the file they are fine (hand-edited files have them), elsewhere not
  while (lines.next(line, line_no + 1)) {
    // Spreadsheet programs (Excel's "CSV UTF-8") start the file with a byte-order mark; it
    // is no part of the first number.
    if (line_no == 0 && line.compare(0, kUtf8Bom.size(), kUtf8Bom) == 0) {
      line.erase(0, kUtf8Bom.size());
    }
    if (++line_no > 2 * kMaxRows) {  // blank lines, endlessly
      fail_data("read_digits_csv: file '{}' has more than {} lines; the digits have 1797", path,
                2 * kMaxRows);
    }
    if (trim(line).empty()) {
      if (blank == 0) blank = line_no;
      continue;
    }
    if (blank != 0) {  // a row follows: the blank line was inside the data, and an error
      parse_digits_row("", CsvPlace{path, blank}, pixels, labels);
      blank = 0;
    }
    if (labels.size() == kMaxRows) {
      fail_data("read_digits_csv: file '{}' has more than {} rows; the digits have 1797", path,
                kMaxRows);
    }
    parse_digits_row(line, CsvPlace{path, line_no}, pixels, labels);
  }
  if (labels.empty()) {
    fail_data("read_digits_csv: file '{}' is empty; expected rows of {} comma-separated integers",
              path, kDigitsFields);
  }
  return to_digits_tensors(pixels, labels);
}

DigitsSplit load_digits(const std::string& path_or_empty) {
  if (!path_or_empty.empty()) detail::check_path("load_digits", path_or_empty);
  const std::string path = path_or_empty.empty() ? default_digits_path() : path_or_empty;
  const LabeledImages all = read_digits_csv(path);
  const std::size_t n = all.size();
  // The course keeps the last 360 rows for testing; any longer file splits the same way.
  if (n <= kDigitsTestRows) {
    fail_data(
        "load_digits: file '{}' has {} rows; the split keeps the last {} for testing and "
        "needs more (the bundled file has 1797)",
        path, n, kDigitsTestRows);
  }
  const std::size_t n_train = n - kDigitsTestRows;
  DigitsSplit split;
  split.train = {all.images.slice(0, n_train), all.labels.slice(0, n_train)};
  split.test = {all.images.slice(n_train, n), all.labels.slice(n_train, n)};
  return split;
}

LabeledImages read_idx(const std::string& images_path, const std::string& labels_path,
                       std::size_t limit) {
  detail::check_path("read_idx", images_path, "image path");
  detail::check_path("read_idx", labels_path, "label path");
  InputFile images_in("read_idx", images_path);
  InputFile labels_in("read_idx", labels_path);
  const IdxImagesHeader header = read_idx_images_header(images_in);
  const std::size_t label_count = read_idx_labels_header(labels_in);
  if (header.count != label_count) {
    fail_data("read_idx: image file '{}' holds {} images but label file '{}' holds {} labels",
              images_path, header.count, labels_path, label_count);
  }
  const std::size_t n = limit > 0 ? std::min(limit, header.count) : header.count;
  // Both headers against what their files can hold, before a byte of either is inflated.
  const std::string images_what = fmt::format("{} images of {}x{}", n, header.rows, header.cols);
  const std::string labels_what = fmt::format("{} labels", n);
  images_in.check_can_hold(n * header.rows * header.cols, images_what);
  labels_in.check_can_hold(n, labels_what);
  LabeledImages out;
  out.images = read_idx_images(images_in, header, n, images_what);
  out.labels = read_idx_labels(labels_in, n, labels_what);
  if (n == header.count) {  // all of it was read: nothing may follow
    images_in.check_at_end(images_what);
    labels_in.check_at_end(labels_what);
  }
  return out;
}

LabeledImages load_mnist_like(const std::string& dir, const std::string& split, std::size_t limit) {
  if (split != "train" && split != "test") {
    detail::fail_arg("load_mnist_like: split must be \"train\" or \"test\", got \"{}\"",
                     detail::escaped(split));
  }
  detail::check_path("load_mnist_like", dir, "directory path");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    fail_data("load_mnist_like: directory '{}' does not exist. {}", dir, kFashionHint);
  }
  const std::string prefix = split == "train" ? "train" : "t10k";
  // Looked up one after the other so that a missing images file is the one reported first.
  const std::string images = find_idx_file(dir, prefix + "-images-idx3-ubyte");
  const std::string labels = find_idx_file(dir, prefix + "-labels-idx1-ubyte");
  return read_idx(images, labels, limit);
}

}  // namespace tinytorch
