// Module 09 — batch normalisation of NCHW images, with its backward pass.
//
//   batch_norm2d  per channel c, over the M = N·H·W values: x̂ = (x − μ_c)/√(σ²_c + eps),
//               y = γ_c·x̂ + β_c. Training uses the batch's μ and biased σ² (and gradients
//               flow through them): dx = γ/√(σ² + eps)·(g − mean(g) − x̂·mean(g·x̂));
//               eval uses the running statistics: dx = γ/√(σ²_run + eps)·g. The running
//               variance averages the unbiased σ²·M/(M − 1), as PyTorch's does.
//               dγ = Σ g·x̂, dβ = Σ g in both modes.
//
//   BatchNorm2d bn(16);                 // gamma [16] = 1, beta [16] = 0 (parameters)
//   Tensor y = bn(x);                   // x [N, 16, H, W]; training mode: batch statistics
//   bn.eval(); Tensor z = bn(x);        // eval mode: running statistics
#pragma once

#include <cstddef>
#include <string>

#include <tinytorch/core/module.hpp>
#include <tinytorch/core/tensor.hpp>

namespace tinytorch {

/// Normalises each channel of x [N, C, H, W]. In training, updates the running statistics in
/// place: r ← (1 − momentum)·r + momentum·batch, where the batch variance is the unbiased one,
/// σ²·M/(M − 1) for M = N·H·W values, as torch.nn.BatchNorm2d does (the batch itself is
/// normalised with the biased σ²). eps must be > 0 and momentum in [0, 1] (otherwise
/// std::invalid_argument), as for BatchNorm2d; an undefined tensor is std::invalid_argument
/// naming the argument.
Tensor batch_norm2d(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                    Tensor& running_var, bool training, float momentum = 0.1f, float eps = 1e-5f);

class BatchNorm2d : public Module {
 public:
  /// gamma = 1 and beta = 0 are parameters; running_mean = 0 and running_var = 1 are buffers.
  explicit BatchNorm2d(std::size_t num_features, float eps = 1e-5f, float momentum = 0.1f);
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "BatchNorm2d"; }
  std::string repr() const override;

  Tensor gamma, beta;                ///< [C]
  Tensor running_mean, running_var;  ///< [C]
  std::size_t num_features;
  float eps, momentum;
};

}  // namespace tinytorch
