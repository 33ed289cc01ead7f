// The library's one random generator: initialisation, randn/rand, dropout and the loaders'
// default seeds draw from it, so manual_seed() makes a run repeatable.
#pragma once

#include <random>

namespace tinytorch::detail {

/// The library's generator; seeded by manual_seed().
std::mt19937& rng();

}  // namespace tinytorch::detail
