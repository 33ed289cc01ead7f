// Text from users and files, as error messages show it. A tensor name or a path may hold any
// byte: a newline would start a false line in a log, a NUL cuts the message where what() is
// read as a C string, and bytes that are not UTF-8 garble a terminal. Every message that
// prints a name (or a path that cannot be used) passes it through escaped():
//
//   detail::escaped("conv\n1.weight")    // conv\n1.weight (a backslash and an n)
//   detail::check_path("load", path);    // "load: the path contains a NUL byte: 'a\0b'"
#pragma once

#include <string>
#include <string_view>

namespace tinytorch::detail {

/// `text` with \n, \r, \t, \0 and the backslash itself written as C escapes, other control
/// bytes and bytes that are not part of valid UTF-8 as \xNN, and so are the bytes of code
/// points that print as nothing (a byte-order mark, zero-width spaces, bidirectional
/// overrides). Other valid UTF-8 ("é", "数") is kept.
std::string escaped(std::string_view text);

/// True when `text` is valid UTF-8 (no overlong forms, surrogates or code points past
/// U+10FFFF): what JSON, and so a safetensors header, can hold.
bool is_utf8(std::string_view text);

/// Throws std::invalid_argument when `path` cannot name the file the caller means:
/// "<op>: the <what> is empty", or "<op>: the <what> contains a NUL byte: '<escaped path>'"
/// (the system would stop at the NUL and use another file). `what` is "path" unless a
/// function takes several ("image path").
void check_path(const char* op, const std::string& path, const char* what = "path");

}  // namespace tinytorch::detail
