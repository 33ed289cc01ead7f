// Module 09 — Spatial: convolution and pooling over NCHW images, with backward passes.
//
//   Shapes: N = batch, C = input channels, O = output channels, H, W = input height/width,
//           kh, kw = kernel size, s = stride, p = padding, Ho = ⌊(H + 2p − kh)/s⌋ + 1 (same for
//           Wo).
//
//   conv2d      y[n,o,i,j] = b[o] + Σ_{c,u,v} w[o,c,u,v] · x_pad[n, c, i·s + u, j·s + v]
//               (cross-correlation: the kernel is not flipped; zero padding)
//               dw[o,c,u,v] = Σ_{n,i,j} g[n,o,i,j] · x_pad[n,c,i·s+u,j·s+v]
//               dx_pad[n,c,i·s+u,j·s+v] += Σ_o g[n,o,i,j] · w[o,c,u,v]   (then crop the padding)
//               db[o] = Σ_{n,i,j} g[n,o,i,j]
//   max_pool2d  y = max over each window (padding is −∞); the gradient goes to the window's
//               first maximum in row-major order, and adds up where windows overlap
//   avg_pool2d  y = Σ window / (kh·kw) (zero padding counted, as the course does);
//               each input in the window receives g/(kh·kw)
//   batch_norm2d  per channel c, over the M = N·H·W values: x̂ = (x − μ_c)/√(σ²_c + eps),
//               y = γ_c·x̂ + β_c. Training uses the batch's μ and biased σ² (and gradients
//               flow through them): dx = γ/√(σ² + eps)·(g − mean(g) − x̂·mean(g·x̂));
//               eval uses the running statistics: dx = γ/√(σ²_run + eps)·g.
//               dγ = Σ g·x̂, dβ = Σ g in both modes.
//
// The fast path is im2col + one sgemm per image (backward: two sgemms + col2im), the batch's
// images shared out over set_num_threads() threads. The course's explicit loops are kept as
// *_reference kernels; tests/09_spatial checks the fast path against them.
//
//   Conv2d conv(1, 8, 3);                       // weight [8, 1, 3, 3], He init
//   Tensor y = conv(Tensor::randn({32, 1, 8, 8}));   // [32, 8, 6, 6]
//   Tensor z = MaxPool2d(2)(relu(y));                // [32, 8, 3, 3]; max_pool2d(y, 2) too
//   SimpleCNN model;                             // the milestone's 810-parameter digits CNN
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

#include <tinytorch/core/layers.hpp>
#include <tinytorch/core/module.hpp>
#include <tinytorch/core/tensor.hpp>

namespace tinytorch {

/// ⌊(in + 2·padding − kernel)/stride⌋ + 1; throws if the kernel does not fit.
std::size_t conv_output_size(std::size_t in, std::size_t kernel, std::size_t stride,
                             std::size_t padding);

/// Kernel height and width.
using KernelSize = std::pair<std::size_t, std::size_t>;

/// x [N, C, H, W], weight [O, C, kh, kw], bias [O] (or undefined) -> [N, O, Ho, Wo].
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
              std::size_t stride = 1, std::size_t padding = 0);
/// Max over kh×kw windows; stride 0 means stride = kh. Padding at most half the kernel.
Tensor max_pool2d(const Tensor& x, KernelSize kernel, std::size_t stride = 0,
                  std::size_t padding = 0);
/// Mean over kh×kw windows (padding counted); stride 0 means stride = kh.
Tensor avg_pool2d(const Tensor& x, KernelSize kernel, std::size_t stride = 0,
                  std::size_t padding = 0);
/// A square k×k window, as MaxPool2d(k): max_pool2d(x, 2).
inline Tensor max_pool2d(const Tensor& x, std::size_t kernel, std::size_t stride = 0,
                         std::size_t padding = 0) {
  return max_pool2d(x, KernelSize{kernel, kernel}, stride, padding);
}
/// A square k×k window, as AvgPool2d(k): avg_pool2d(x, 2).
inline Tensor avg_pool2d(const Tensor& x, std::size_t kernel, std::size_t stride = 0,
                         std::size_t padding = 0) {
  return avg_pool2d(x, KernelSize{kernel, kernel}, stride, padding);
}

/// Normalises each channel of x [N, C, H, W]. In training, updates the running statistics in
/// place: r ← (1 − momentum)·r + momentum·batch (biased variance, as the course does).
/// eps must be > 0 and momentum in [0, 1] (otherwise std::invalid_argument), as for BatchNorm2d.
Tensor batch_norm2d(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                    Tensor& running_var, bool training, float momentum = 0.1f, float eps = 1e-5f);

// ---- reference kernels: the course's explicit loops, for tests and for reading ----------

/// Gradients of a convolution with respect to its input, weight and bias.
struct Conv2dGrads {
  Array input, weight, bias;
};

Array conv2d_reference(const Array& x, const Array& weight, const Array& bias, std::size_t stride,
                       std::size_t padding);
Conv2dGrads conv2d_backward_reference(const Array& x, const Array& weight, const Array& grad_out,
                                      std::size_t stride, std::size_t padding);
Array max_pool2d_reference(const Array& x, KernelSize kernel, std::size_t stride,
                           std::size_t padding);
Array max_pool2d_backward_reference(const Array& x, const Array& grad_out, KernelSize kernel,
                                    std::size_t stride, std::size_t padding);
Array avg_pool2d_reference(const Array& x, KernelSize kernel, std::size_t stride,
                           std::size_t padding);
Array avg_pool2d_backward_reference(const Array& x, const Array& grad_out, KernelSize kernel,
                                    std::size_t stride, std::size_t padding);

// ---- layers -----------------------------------------------------------------------------

class Conv2d : public Module {
 public:
  /// weight ~ N(0, 2/(in·kh·kw)) (He), bias = 0.
  Conv2d(std::size_t in_channels, std::size_t out_channels, KernelSize kernel,
         std::size_t stride = 1, std::size_t padding = 0, bool bias = true);
  Conv2d(std::size_t in_channels, std::size_t out_channels, std::size_t kernel,
         std::size_t stride = 1, std::size_t padding = 0, bool bias = true)
      : Conv2d(in_channels, out_channels, {kernel, kernel}, stride, padding, bias) {}
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Conv2d"; }
  std::string repr() const override;

  Tensor weight;  ///< [out_channels, in_channels, kh, kw]
  Tensor bias;    ///< [out_channels], undefined without bias
  std::size_t in_channels, out_channels;
  KernelSize kernel_size;
  std::size_t stride, padding;
};

/// What MaxPool2d and AvgPool2d share: the window and its validation and description.
class Pool2d : public Module {
 public:
  std::string repr() const override;

  KernelSize kernel_size;
  std::size_t stride, padding;

 protected:
  /// stride 0 means stride = kernel height (the course's default).
  Pool2d(const char* op, KernelSize kernel, std::size_t stride, std::size_t padding);
};

class MaxPool2d : public Pool2d {
 public:
  explicit MaxPool2d(KernelSize kernel, std::size_t stride = 0, std::size_t padding = 0)
      : Pool2d("MaxPool2d", kernel, stride, padding) {}
  explicit MaxPool2d(std::size_t kernel, std::size_t stride = 0, std::size_t padding = 0)
      : MaxPool2d(KernelSize{kernel, kernel}, stride, padding) {}
  Tensor forward(const Tensor& x) override { return max_pool2d(x, kernel_size, stride, padding); }
  std::string name() const override { return "MaxPool2d"; }
};

class AvgPool2d : public Pool2d {
 public:
  explicit AvgPool2d(KernelSize kernel, std::size_t stride = 0, std::size_t padding = 0)
      : Pool2d("AvgPool2d", kernel, stride, padding) {}
  explicit AvgPool2d(std::size_t kernel, std::size_t stride = 0, std::size_t padding = 0)
      : AvgPool2d(KernelSize{kernel, kernel}, stride, padding) {}
  Tensor forward(const Tensor& x) override { return avg_pool2d(x, kernel_size, stride, padding); }
  std::string name() const override { return "AvgPool2d"; }
};

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

/// Conv2d → ReLU → MaxPool2d → Flatten → Linear, and its two-block sibling.
///
///   SimpleCNN()                  the milestone's digits model: Conv 1→8 3×3, pool 2,
///                                Linear 72→10 (810 parameters) for [N, 1, 8, 8] input
///   SimpleCNN::two_block(...)    the module's variant: Conv 3→16 3×3 pad 1 → ReLU → pool 2 →
///                                Conv 16→32 3×3 pad 1 → ReLU → pool 2 → Linear head
class SimpleCNN : public Module {
 public:
  explicit SimpleCNN(std::size_t num_classes = 10);
  static std::shared_ptr<SimpleCNN> two_block(std::size_t in_channels = 3,
                                              std::size_t image_size = 32,
                                              std::size_t num_classes = 10);
  Tensor forward(const Tensor& x) override { return (*layers_)(x); }
  /// The features before the Linear head ([N, 72] for the digits model).
  Tensor features(const Tensor& x);
  std::string name() const override { return "SimpleCNN"; }
  std::string repr() const override { return layers_->repr(); }
  Sequential& layers() { return *layers_; }

 private:
  struct Blocks {};
  SimpleCNN(Blocks, std::size_t in_channels, std::size_t image_size, std::size_t num_classes);
  std::shared_ptr<Sequential> layers_;
};

/// LeNet-5 for [N, 1, 28, 28] images: Conv(1→6, 5×5, pad 2) → MaxPool 2 → ReLU →
/// Conv(6→16, 5×5) → MaxPool 2 → ReLU → Flatten [400] → Linear(400→120) → ReLU →
/// Linear(120→84) → ReLU → Linear(84→num_classes). (Pooling before the ReLU is the same
/// function as after it, with the same gradient, and costs less.)
std::shared_ptr<Sequential> lenet5(std::size_t num_classes = 10);

}  // namespace tinytorch
