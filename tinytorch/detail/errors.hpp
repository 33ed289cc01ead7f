// The exceptions the library throws, and the helpers its sources throw them with. The types
// are public (tinytorch::ShapeError); they live here so that detail/ units can throw them
// without including core/.
//
//   ShapeError       an op got tensors of the wrong rank or shapes that do not fit:
//                    "conv2d: expected 4-D input [N, C, H, W], got [32, 64]"
//   NotImplemented   "09_spatial: conv2d_reference: <hint>" — the module, the exercise and a
//                    hint; `tito test 09` shows it as "not implemented"
#pragma once

#include <stdexcept>
#include <utility>

#include <fmt/format.h>

namespace tinytorch {

/// Thrown when an op receives tensors of the wrong rank or incompatible shapes.
class ShapeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// Thrown by an exercise that a student has not written yet (see docs/modules). A logic_error,
/// not an invalid_argument: a test that expects a ShapeError must not pass on a stub.
class NotImplemented : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

}  // namespace tinytorch

namespace tinytorch::detail {

/// Throws ShapeError with a formatted message. Formatting happens only on the error path.
template <class... Args>
[[noreturn]] void fail_shape(fmt::format_string<Args...> format, Args&&... args) {
  throw ShapeError(fmt::format(format, std::forward<Args>(args)...));
}

/// Throws std::invalid_argument with a formatted message.
template <class... Args>
[[noreturn]] void fail_arg(fmt::format_string<Args...> format, Args&&... args) {
  throw std::invalid_argument(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace tinytorch::detail
