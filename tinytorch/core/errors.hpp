// The exceptions the library throws on bad input, and the one a student copy of the course
// throws from an exercise that has not been written yet.
//
//   ShapeError       an op got tensors of the wrong rank or shapes that do not fit:
//                    "conv2d: expected 4-D input [N, C, H, W], got [32, 64]"
//   NotImplemented   "09_spatial: conv2d_reference: <hint>" — the module, the exercise and a
//                    hint; `tito test 09` shows it as "not implemented"
#pragma once

#include <stdexcept>

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
