// The public types every part of the library uses, detail/ included: Shape, Array, and the
// exceptions the library throws:
//
//   ShapeError       an op got tensors of the wrong rank or shapes that do not fit:
//                    "conv2d: expected 4-D input [N, C, H, W], got [32, 64]"
//   NotImplemented   "not implemented: 09_spatial: conv2d_reference: <hint>" — the module, the
//                    exercise and a hint; `./tito test 09` groups the tests waiting on it
//   AllocationError  a std::bad_alloc that says what was being allocated:
//                    "zeros: cannot allocate 256 TiB for shape [70368744177664]"
//   NonFiniteError   a NaN or infinity where training cannot go on: the loss, an op's output, a
//                    gradient or a parameter, with the op or parameter and where it happened
//   SerializationError  a file that cannot be read or written as safetensors (io/)
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <xtensor/xarray.hpp>

namespace tinytorch {

/// A tensor's dimensions, outermost first: {batch, channels, height, width}.
using Shape = std::vector<std::size_t>;
/// The dense float array behind every tensor (row-major).
using Array = xt::xarray<float>;

/// "[2, 3]" — how shapes appear in every error message.
std::string shape_str(const Shape& shape);

/// Thrown when an op receives tensors of the wrong rank or incompatible shapes.
class ShapeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// Thrown by an exercise that a student has not written yet (see docs/modules). A logic_error,
/// not an invalid_argument: a test that expects a ShapeError must not pass on a stub.
class NotImplemented : public std::logic_error {
 public:
  /// `what` is "<module>: <exercise>: <hint>"; what() says "not implemented: " first, so that
  /// plain ctest output and any catch-all handler tell a student what happened.
  explicit NotImplemented(const std::string& what) : std::logic_error("not implemented: " + what) {}
};

/// A std::bad_alloc with a message: the op, the shape and the bytes that could not be had.
class AllocationError : public std::bad_alloc {
 public:
  explicit AllocationError(std::string message)
      : message_(std::make_shared<const std::string>(std::move(message))) {}
  const char* what() const noexcept override { return message_->c_str(); }

 private:
  std::shared_ptr<const std::string> message_;  // shared: copying an exception must not throw
};

/// A NaN or infinity found where training cannot go on (see detect_anomaly in autograd.hpp and
/// the Trainer): the message names the op, gradient or parameter, and the epoch and step when
/// they are known.
class NonFiniteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A file that cannot be read or written as safetensors, or whose tensors do not fit the model
/// they are loaded into. The message names the operation, the file and, where one is at fault,
/// the tensor.
class SerializationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace tinytorch
