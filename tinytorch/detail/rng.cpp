#include <tinytorch/detail/rng.hpp>

namespace tinytorch::detail {

std::mt19937& rng() {
  static std::mt19937 generator(42);
  return generator;
}

}  // namespace tinytorch::detail
