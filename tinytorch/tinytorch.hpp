// tinytorch — a small, readable autograd deep-learning framework on xtensor.
// The umbrella header: includes every course module, in course order.
#pragma once

// clang-format off
#include <tinytorch/types.hpp>             // Shape, Array, the error types
#include <tinytorch/core/tensor.hpp>       // 01
#include <tinytorch/core/activations.hpp>  // 02
#include <tinytorch/core/module.hpp>       // 03 (base)
#include <tinytorch/core/layers.hpp>       // 03
#include <tinytorch/core/losses.hpp>       // 04
#include <tinytorch/core/autograd.hpp>     // 05
#include <tinytorch/core/optimizers.hpp>   // 06
#include <tinytorch/train/training.hpp>    // 07
#include <tinytorch/data/loader.hpp>       // 08
#include <tinytorch/data/datasets.hpp>     // 08
#include <tinytorch/data/transforms.hpp>   // 08
#include <tinytorch/core/spatial.hpp>      // 09
#include <tinytorch/core/batchnorm.hpp>    // 09
#include <tinytorch/core/models.hpp>       // 09
#include <tinytorch/io/safetensors.hpp>    // io: tensors to and from files (07 builds on it)
#include <tinytorch/io/serialize.hpp>      // io: save and load a model's weights
// clang-format on
