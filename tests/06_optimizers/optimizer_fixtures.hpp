// What the optimizer tests share.
#pragma once

#include <tinytorch/core/tensor.hpp>

namespace tinytorch::testing {

/// θ = [1, 2] with the fixed gradient [0.1, 0.2], as in the course's tests.
inline Tensor param_with_grad() {
  Tensor theta({1, 2}, true);
  theta.set_grad(Tensor({0.1f, 0.2f}));
  return theta;
}

}  // namespace tinytorch::testing
