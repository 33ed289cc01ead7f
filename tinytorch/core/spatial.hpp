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
//
// The fast path is im2col + one sgemm per image (backward: two sgemms + col2im), the batch's
// images shared out over set_num_threads() threads (spatial.cpp). The course's explicit loops
// are kept as *_reference kernels (spatial_reference.cpp); tests/09_spatial checks the fast
// path against them. The rest of module 09 has headers of its own: batchnorm.hpp
// (BatchNorm2d) and models.hpp (SimpleCNN, lenet5()).
//
//   Conv2d conv(1, 8, 3);                       // weight [8, 1, 3, 3], He init
//   Tensor y = conv(Tensor::randn({32, 1, 8, 8}));   // [32, 8, 6, 6]
//   Tensor z = MaxPool2d(2)(relu(y));                // [32, 8, 3, 3]; max_pool2d(y, 2) too
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

#include <tinytorch/core/layers.hpp>
#include <tinytorch/core/module.hpp>
#include <tinytorch/core/tensor.hpp>

namespace tinytorch {

/// ⌊(in + 2·padding − kernel)/stride⌋ + 1; throws if the kernel does not fit or the stride is
/// longer than the padded input (conv2d and the pools refuse such a stride too: it is nearly
/// always a negative number converted to size_t).
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

}  // namespace tinytorch
