// The helpers the library's sources throw its errors with (the error types themselves are
// public: tinytorch/types.hpp). Formatting happens only on the error path.
#pragma once

#include <string>
#include <utility>

#include <fmt/format.h>

#include <tinytorch/types.hpp>

namespace tinytorch::detail {

/// Throws ShapeError with a formatted message. Formatting happens only on the error path.
template <class... Args>
[[noreturn]] void fail_shape(fmt::format_string<Args...> format, Args&&... args) {
  throw ShapeError(fmt::format(format, std::forward<Args>(args)...));
}

/// A value as error messages show it: "nan" whatever the sign bit ("-nan" only confuses).
inline std::string number_text(float v) {
  return v != v ? std::string("nan") : fmt::format("{}", v);
}

/// Throws std::invalid_argument with a formatted message.
template <class... Args>
[[noreturn]] void fail_arg(fmt::format_string<Args...> format, Args&&... args) {
  throw std::invalid_argument(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace tinytorch::detail
