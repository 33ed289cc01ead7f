#include <tinytorch/detail/text.hpp>

#include <fmt/format.h>

#include <tinytorch/detail/errors.hpp>

namespace tinytorch::detail {

namespace {

bool continuation(unsigned char b, unsigned char low = 0x80, unsigned char high = 0xbf) {
  return b >= low && b <= high;
}

/// Bytes of the valid UTF-8 sequence that starts at text[i], or 0 when none does (the ranges
/// of the second byte are those of RFC 3629, which leave out overlong forms and surrogates).
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
  const auto at = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  const unsigned char lead = at(0);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xbf;  // the second byte's range
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) low = 0xa0;
    if (lead == 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) low = 0x90;
    if (lead == 0xf4) high = 0x8f;
  } else {
    return 0;
  }
  if (text.size() - i < length || !continuation(at(1), low, high)) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (!continuation(at(k))) return 0;
  }
  return length;
}

/// The code point of the valid sequence of `length` > 1 bytes at text[i].
char32_t decode(std::string_view text, std::size_t i, std::size_t length) {
  char32_t c = static_cast<unsigned char>(text[i]) & (0x7fu >> length);
  for (std::size_t k = 1; k < length; ++k)
    c = (c << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3fu);
  return c;
}

/// Code points that print as nothing or move other text: C1 controls, zero-width spaces and
/// joiners, line and paragraph separators, bidirectional overrides, and the byte-order mark
/// (U+FEFF) that spreadsheet programs put in front of CSV files.
bool invisible(char32_t c) {
  return (c >= 0x80 && c <= 0x9f) || (c >= 0x200b && c <= 0x200f) || (c >= 0x2028 && c <= 0x202e) ||
         (c >= 0x2060 && c <= 0x206f) || c == 0xfeff;
}

}  // namespace

std::string escaped(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    const std::size_t length = utf8_sequence(text, i);
    if (length > 1) {
      const bool show_bytes = invisible(decode(text, i, length));
      for (std::size_t k = 0; k < length; ++k) {
        const auto byte = static_cast<unsigned char>(text[i + k]);
        out += show_bytes ? fmt::format("\\x{:02x}", byte) : std::string(1, text[i + k]);
      }
      i += length;
      continue;
    }
    ++i;
    switch (b) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\0':
        out += "\\0";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (length == 0 || b < 0x20 || b == 0x7f) {
          out += fmt::format("\\x{:02x}", b);
        } else {
          out += static_cast<char>(b);
        }
    }
  }
  return out;
}

bool is_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = utf8_sequence(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

void check_path(const char* op, const std::string& path, const char* what) {
  if (path.empty()) fail_arg("{}: the {} is empty", op, what);
  // The C calls below every file function stop at the first NUL: "out\0.bak" would write
  // "out", a file the caller did not name.
  if (path.find('\0') != std::string::npos) {
    fail_arg("{}: the {} contains a NUL byte: '{}'", op, what, escaped(path));
  }
}

}  // namespace tinytorch::detail
