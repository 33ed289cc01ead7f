// Module 09 — Spatial: convolution, with its fast kernel, its backward node right under the
// forward, and its function; and the layers of module 09. Pooling is in pooling.cpp, the
// course's explicit-loop reference kernels in spatial_reference.cpp, batch normalisation in
// batchnorm.cpp, SimpleCNN and LeNet-5 in models.cpp.
#include <tinytorch/core/spatial.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>

#include <tinytorch/core/activations.hpp>
#include <tinytorch/core/autograd.hpp>
#include <tinytorch/core/internal/nodes.hpp>
#include <tinytorch/core/internal/spatial_geometry.hpp>
#include <tinytorch/detail/common.hpp>
#include <tinytorch/detail/rows.hpp>

namespace tinytorch {

using internal::check_defined;
using internal::Geometry;
using internal::geometry;

namespace {

// Positions a window of `kernel` taps takes along an input of length `in` (the caller has
// checked that the kernel fits the padded input).
std::size_t output_length(std::size_t in, std::size_t kernel, std::size_t stride,
                          std::size_t padding) {
  // Hint: the padded input has in + 2·padding positions; the window starts every `stride`
  // steps while it still fits: ⌊(in + 2·padding − kernel)/stride⌋ + 1.
  // BEGIN SOLUTION 09_spatial conv_output_size
  return (in + 2 * padding - kernel) / stride + 1;
  // END SOLUTION
}

void check_window(const char* op, std::size_t kh, std::size_t kw, std::size_t stride) {
  if (kh == 0 || kw == 0) detail::fail_arg("{}: kernel size must be >= 1, got {}x{}", op, kh, kw);
  if (stride == 0) detail::fail_arg("{}: stride must be >= 1, got 0", op);
}

// Otherwise the first look at the shape fails with "Tensor: use of an undefined tensor",
// which names neither the op nor the argument.
// A layer does not know its input yet, but no input side is longer than a tensor can be
// (2^61 - 1 elements): a larger kernel, stride or padding can never fit one, and is nearly
// always a negative number converted to size_t. Refused when the layer is made, not at the
// first batch.
void check_layer_sizes(const char* op, KernelSize kernel, std::size_t stride, std::size_t padding) {
  const std::pair<const char*, std::size_t> sizes[] = {{"kernel height", kernel.first},
                                                       {"kernel width", kernel.second},
                                                       {"stride", stride},
                                                       {"padding", padding}};
  for (const auto& [what, value] : sizes) {
    if (value > detail::kMaxElements) {
      detail::fail_arg(
          "{}: {} {} is too large: no input side can be longer than 2^61 - 1 (a negative number "
          "converted to size_t?)",
          op, what, value);
    }
  }
}

}  // namespace

void internal::check_defined(const char* op, const char* what, const Tensor& t) {
  if (!t.defined()) detail::fail_arg("{}: {} is undefined", op, what);
}

Geometry internal::geometry(const char* op, const Shape& x, std::size_t kh, std::size_t kw,
                            std::size_t stride, std::size_t pad) {
  if (x.size() != 4) {
    detail::fail_shape("{}: expected 4-D input [N, C, H, W], got {}", op, shape_str(x));
  }
  check_window(op, kh, kw, stride);
  // A window over an empty image would read only padding: there is no pixel to point at.
  if (x[2] == 0 || x[3] == 0) {
    detail::fail_shape("{}: input {} has an empty {}x{} image; expected H and W >= 1", op,
                       shape_str(x), x[2], x[3]);
  }
  const std::size_t padded_h = detail::padded_length(op, x[2], pad);
  const std::size_t padded_w = detail::padded_length(op, x[3], pad);
  if (kh > padded_h || kw > padded_w) {
    detail::fail_shape(
        "{}: kernel {}x{} is larger than the padded input {}x{} (input {}, padding {})", op, kh, kw,
        padded_h, padded_w, shape_str(x), pad);
  }
  // A stride past both padded sides gives one window, as a stride of the side would; PyTorch
  // takes it, but here it is nearly always a negative number converted to size_t (-1 becomes
  // 2^64 - 1) or sizes passed in the wrong order, so it is refused. (A stride past one side
  // only is a global pool of a non-square image with the default stride, the kernel height.)
  if (stride > std::max(padded_h, padded_w)) {
    detail::fail_shape("{}: stride {} is larger than the padded input {}x{} (input {}, padding {})",
                       op, stride, padded_h, padded_w, shape_str(x), pad);
  }
  Geometry geo{x[0], x[1], x[2], x[3], kh, kw, stride, pad, 0, 0};
  geo.ho = output_length(geo.h, kh, stride, pad);
  geo.wo = output_length(geo.w, kw, stride, pad);
  detail::checked_numel(op, {geo.n, geo.c, geo.ho, geo.wo});  // the output
  detail::checked_numel(op,
                        {geo.c, geo.kh, geo.kw, geo.ho, geo.wo});  // one image's windows (im2col)
  return geo;
}

std::size_t conv_output_size(std::size_t in, std::size_t kernel, std::size_t stride,
                             std::size_t padding) {
  check_window("conv_output_size", kernel, kernel, stride);
  const std::size_t padded = detail::padded_length("conv_output_size", in, padding);
  if (kernel > padded) {
    detail::fail_shape("conv_output_size: kernel {} is larger than the padded input {}", kernel,
                       padded);
  }
  if (stride > padded) {  // as geometry() refuses it
    detail::fail_shape("conv_output_size: stride {} is larger than the padded input {}", stride,
                       padded);
  }
  return output_length(in, kernel, stride, padding);
}

// ---- convolution: im2col + sgemm, one image at a time ---------------------------------------
//
// For one image, cols has one row per (c, u, v) kernel tap and one column per output position
// (i, j): cols[(c·kh + u)·kw + v, i·Wo + j] = x_pad[c, i·s + u, j·s + v]. Then
// y = W [O, C·kh·kw] × cols [C·kh·kw, Ho·Wo] is the image's convolution, already in the
// [O, Ho, Wo] layout of the output: no reordering. The kernels below see one zero-padded image
// x_pad [C, H + 2p, W + 2p], so that they need no bounds checks; conv2d() pads each image into
// a scratch buffer first (when p > 0) and runs the batch's images as tasks on the threads.
//
// Why one image: its columns (78 KB for LeNet-5's first layer) stay in the core's cache
// between im2col and the sgemm that reads them, and the sgemm's output is the image's output.
// Columns of a whole batch (5 MB) go to memory and back, and one long batch-wide sgemm is
// slower than the per-image ones (docs/performance.md has the measurement and how to repeat
// it: benchmarks/micro_bench, ConvProducts).

namespace {

// Padded input side lengths.
std::size_t padded_h(const Geometry& geo) {
  return geo.h + 2 * geo.pad;
}
std::size_t padded_w(const Geometry& geo) {
  return geo.w + 2 * geo.pad;
}

void im2col(const float* x_pad, const Geometry& geo, float* cols) {
  // Hint: cols[(c·kh + u)·kw + v, i·Wo + j] = x_pad[c, i·s + u, j·s + v] for one padded image:
  // one row per kernel tap, one column per output position. The padding is already in x_pad.
  // With stride 1 a tap is Ho input rows of Wo floats: detail::copy_rows moves them in one call.
  // BEGIN SOLUTION 09_spatial im2col
  const std::size_t hp = padded_h(geo), wp = padded_w(geo), plane = geo.out_plane();
  for (std::size_t c = 0; c < geo.c; ++c) {
    for (std::size_t u = 0; u < geo.kh; ++u) {
      for (std::size_t v = 0; v < geo.kw; ++v) {
        float* dst = cols + ((c * geo.kh + u) * geo.kw + v) * plane;
        if (geo.stride == 1) {  // the common case: Ho whole rows, moved by detail/rows.hpp
          detail::copy_rows(x_pad + (c * hp + u) * wp + v, wp, geo.ho, geo.wo, dst);
          continue;
        }
        for (std::size_t i = 0; i < geo.ho; ++i, dst += geo.wo) {
          const float* src = x_pad + (c * hp + i * geo.stride + u) * wp + v;
          for (std::size_t j = 0; j < geo.wo; ++j) dst[j] = src[j * geo.stride];
        }
      }
    }
  }
  // END SOLUTION
}

void col2im(const float* cols, const Geometry& geo, float* dx_pad) {
  // Hint: the adjoint of im2col: set dx_pad [C, H + 2p, W + 2p] to zeros, then add every cols
  // entry back (+=) into the pixel it was read from.
  // BEGIN SOLUTION 09_spatial col2im
  // Stride 1 on a CPU with vector units: detail::col2im_rows does the same sums, in the same
  // order (tests/kernels/rows_test.cpp compares them), and says whether it did.
  if (geo.stride == 1 && detail::col2im_rows(cols, geo.c, geo.kh, geo.kw, geo.ho, geo.wo, dx_pad))
    return;
  const std::size_t hp = padded_h(geo), wp = padded_w(geo);
  std::fill(dx_pad, dx_pad + geo.c * hp * wp, 0.0f);
  for (std::size_t c = 0; c < geo.c; ++c) {
    for (std::size_t u = 0; u < geo.kh; ++u) {
      for (std::size_t v = 0; v < geo.kw; ++v) {
        const float* src = cols + ((c * geo.kh + u) * geo.kw + v) * geo.out_plane();
        for (std::size_t i = 0; i < geo.ho; ++i, src += geo.wo) {
          float* dst = dx_pad + (c * hp + i * geo.stride + u) * wp + v;
          for (std::size_t j = 0; j < geo.wo; ++j) dst[j * geo.stride] += src[j];
        }
      }
    }
  }
  // END SOLUTION
}

// y [O, Ho, Wo] = W [O, C·kh·kw] × im2col(x_pad) + b for one image (b may be null); `cols`
// is scratch space for [C·kh·kw, Ho·Wo] floats.
void conv2d_forward(const float* x_pad, const float* w, const float* b, std::size_t o,
                    const Geometry& geo, float* cols, float* y) {
  // Hint: im2col(x_pad, geo, cols); fill row k of y with b[k] (0 without a bias); then one
  // detail::gemm y = 1·W·cols + 1·y adds the products to the bias.
  // BEGIN SOLUTION 09_spatial conv2d
  const std::size_t taps = geo.c * geo.kh * geo.kw, plane = geo.out_plane();
  for (std::size_t k = 0; k < o; ++k)
    std::fill(y + k * plane, y + (k + 1) * plane, b ? b[k] : 0.0f);
  im2col(x_pad, geo, cols);
  detail::gemm(false, false, o, plane, taps, 1.0f, w, cols, 1.0f, y);
  // END SOLUTION
}

// One image's share of the gradients, given g_out [O, Ho·Wo]: adds cols·g_outᵀ to dw_t, which
// is dW transposed ([C·kh·kw, O]), adds the row sums of g_out to db, and sets dx_pad =
// col2im(Wᵀ·g_out). Any of dx_pad, dw_t, db may be null (no gradient wanted). cols and dcols
// are scratch, [C·kh·kw, Ho·Wo] each.
//
// Why dWᵀ: the same product as dW = g_out·colsᵀ, the other way round, because OpenBLAS runs
// this orientation faster for LeNet-5's shapes (benchmarks/micro_bench, ConvProducts).
void conv2d_backward(const float* x_pad, const float* w, const float* g_out, std::size_t o,
                     const Geometry& geo, float* cols, float* dcols, float* dx_pad, float* dw_t,
                     float* db) {
  // Hint: dW = g_out·colsᵀ, kept transposed: dw_t += cols·g_outᵀ with cols = im2col(x_pad)
  // (detail::gemm, transposed B, β = 1); db[k] += Σ of row k of g_out (detail::sum); dx_pad =
  // col2im(Wᵀ·g_out) (detail::gemm, transposed A).
  // BEGIN SOLUTION 09_spatial conv2d_backward
  const std::size_t taps = geo.c * geo.kh * geo.kw, plane = geo.out_plane();
  if (db) {  // db[k] += Σ_p g_out[k, p]
    for (std::size_t k = 0; k < o; ++k) db[k] += detail::sum(g_out + k * plane, plane);
  }
  if (dw_t) {  // dWᵀ += cols·g_outᵀ  [taps, P]·[P, O]
    im2col(x_pad, geo, cols);
    detail::gemm(false, true, taps, o, plane, 1.0f, cols, g_out, 1.0f, dw_t);
  }
  if (dx_pad) {  // dx = col2im(Wᵀ·g_out)  [taps, O]·[O, P]
    detail::gemm(true, false, taps, plane, o, 1.0f, w, g_out, 0.0f, dcols);
    col2im(dcols, geo, dx_pad);
  }
  // END SOLUTION
}

// ---- the batch around the per-image kernels: padding, tasks, scratch and partial sums -------

// Copies one image [C, H, W] into the middle of x_pad [C, H + 2p, W + 2p] with zero borders.
void pad_image(const float* x, const Geometry& geo, float* x_pad) {
  const std::size_t hp = padded_h(geo), wp = padded_w(geo);
  std::fill(x_pad, x_pad + geo.c * hp * wp, 0.0f);
  for (std::size_t c = 0; c < geo.c; ++c) {
    for (std::size_t i = 0; i < geo.h; ++i) {
      const float* src = x + (c * geo.h + i) * geo.w;
      float* dst = x_pad + (c * hp + i + geo.pad) * wp + geo.pad;
      for (std::size_t j = 0; j < geo.w; ++j) dst[j] = src[j];
    }
  }
}

// The inverse: the middle [C, H, W] of dx_pad, the border dropped.
void crop_image(const float* dx_pad, const Geometry& geo, float* dx) {
  const std::size_t hp = padded_h(geo), wp = padded_w(geo);
  for (std::size_t c = 0; c < geo.c; ++c) {
    for (std::size_t i = 0; i < geo.h; ++i) {
      const float* src = dx_pad + (c * hp + i + geo.pad) * wp + geo.pad;
      float* dst = dx + (c * geo.h + i) * geo.w;
      for (std::size_t j = 0; j < geo.w; ++j) dst[j] = src[j];
    }
  }
}

// Image n of the batch at x, padded into this thread's scratch when the geometry has padding.
const float* padded_input(const float* x, std::size_t n, const Geometry& geo) {
  const float* image = x + n * geo.c * geo.h * geo.w;
  if (geo.pad == 0) return image;
  float* x_pad = detail::scratch(detail::Scratch::kPadded, geo.c * padded_h(geo) * padded_w(geo));
  pad_image(image, geo, x_pad);
  return x_pad;
}

// Tasks for a conv over n images: a function of the shapes only (see detail/threads.hpp).
std::size_t conv_parts(const Geometry& geo, std::size_t o) {
  const double flops_per_image =
      2.0 * static_cast<double>(o * geo.c * geo.kh * geo.kw * geo.out_plane());
  return detail::parts_for(geo.n, flops_per_image);
}

/// out = conv2d(x, W, b):  dW = Σ_n g_n·cols_nᵀ (summed transposed), dx_n = col2im(Wᵀ·g_n), db =
/// Σ_n row sums of g_n. Keeps only handles of x and W: each image's columns are rebuilt from x
/// (cheaper than keeping 5 MB of columns per LeNet-5 batch out of the cache until backward).
struct Conv2dBackward : Node {
  Conv2dBackward(const Tensor& x, const Tensor& w, const Tensor& b, Geometry geometry)
      : Node(b.defined() ? std::vector<Tensor>{x, w, b} : std::vector<Tensor>{x, w}),
        geo(geometry) {}
  const char* name() const override { return "Conv2dBackward"; }

  std::vector<Array> apply(const Array& grad_out) override {
    const Array& x = inputs()[0].data();
    const Array& w = inputs()[1].data();
    const std::size_t o = w.shape()[0], taps = geo.c * geo.kh * geo.kw, plane = geo.out_plane();
    const bool want_dx = needs_grad(0), want_dw = needs_grad(1);
    const bool want_db = inputs().size() > 2 && needs_grad(2);
    Array dx = want_dx ? Array::from_shape(x.shape()) : Array::from_shape({0});
    // Each task adds its images into its own partial dW and db; they are summed in task order.
    const std::size_t parts = conv_parts(geo, o), partial = o * taps + o;
    float* partials = detail::scratch(detail::Scratch::kPartials, parts * partial);
    std::fill(partials, partials + parts * partial, 0.0f);
    detail::parallel_for(parts, [&](std::size_t k) {
      float* cols = detail::scratch(detail::Scratch::kColumns, taps * plane);
      float* dcols = detail::scratch(detail::Scratch::kColumnGrads, taps * plane);
      float* dx_pad = geo.pad ? detail::scratch(detail::Scratch::kPaddedGrad,
                                                geo.c * padded_h(geo) * padded_w(geo))
                              : nullptr;
      float* dw_t = partials + k * partial;  // then db
      const detail::Range images = detail::chunk(geo.n, parts, k);
      for (std::size_t n = images.begin; n < images.end; ++n) {
        float* dx_n = want_dx ? dx.data() + n * geo.c * geo.h * geo.w : nullptr;
        conv2d_backward(padded_input(x.data(), n, geo), w.data(), grad_out.data() + n * o * plane,
                        o, geo, cols, dcols, want_dx ? (dx_pad ? dx_pad : dx_n) : nullptr,
                        want_dw ? dw_t : nullptr, want_db ? dw_t + o * taps : nullptr);
        if (want_dx && dx_pad) crop_image(dx_pad, geo, dx_n);
      }
    });
    std::vector<Array> grads{std::move(dx), Array::from_shape({0})};
    if (want_dw) {  // the partials hold dWᵀ [taps, O]
      Array dw_t = Array::from_shape({taps, o});
      detail::sum_parts(partials, parts, partial, o * taps, 0, dw_t.data());
      grads[1] = Array::from_shape(w.shape());
      for (std::size_t t = 0; t < taps; ++t) {
        for (std::size_t k = 0; k < o; ++k) grads[1].data()[k * taps + t] = dw_t.data()[t * o + k];
      }
    }
    if (inputs().size() > 2) {
      grads.push_back(Array::from_shape({want_db ? o : 0}));
      if (want_db) detail::sum_parts(partials, parts, partial, o, o * taps, grads[2].data());
    }
    return grads;
  }

  Geometry geo;
};

void check_conv_args(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  if (weight.ndim() != 4) {
    detail::fail_shape("conv2d: expected 4-D weight [O, C, kh, kw], got {}",
                       shape_str(weight.shape()));
  }
  if (x.ndim() == 4 && x.dim(1) != weight.dim(1)) {
    detail::fail_shape("conv2d: input has {} channels but the weight {} expects {}", x.dim(1),
                       shape_str(weight.shape()), weight.dim(1));
  }
  if (bias.defined() && (bias.ndim() != 1 || bias.size() != weight.dim(0))) {
    detail::fail_shape("conv2d: expected bias [{}], got {}", weight.dim(0),
                       shape_str(bias.shape()));
  }
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, std::size_t stride,
              std::size_t padding) {
  check_defined("conv2d", "input", x);
  check_defined("conv2d", "weight", weight);
  const Geometry geo = geometry("conv2d", x.shape(), weight.ndim() == 4 ? weight.dim(2) : 1,
                                weight.ndim() == 4 ? weight.dim(3) : 1, stride, padding);
  check_conv_args(x, weight, bias);
  const std::size_t o = weight.dim(0), taps = geo.c * geo.kh * geo.kw, plane = geo.out_plane();
  Array y = Array::from_shape({geo.n, o, geo.ho, geo.wo});
  const float* b = bias.defined() ? bias.data().data() : nullptr;
  const std::size_t parts = conv_parts(geo, o);
  detail::parallel_for(parts, [&](std::size_t k) {
    float* cols = detail::scratch(detail::Scratch::kColumns, taps * plane);
    const detail::Range images = detail::chunk(geo.n, parts, k);
    for (std::size_t n = images.begin; n < images.end; ++n) {
      conv2d_forward(padded_input(x.data().data(), n, geo), weight.data().data(), b, o, geo, cols,
                     y.data() + n * o * plane);
    }
  });
  Tensor out(std::move(y));
  if (detail::should_record({&x, &weight, &bias}))
    return detail::attach(out, std::make_shared<Conv2dBackward>(x, weight, bias, geo));
  return out;
}

// ---- layers -------------------------------------------------------------------------------

namespace {

// He initialisation of a convolution weight [O, C, kh, kw]: N(0, 2/fan_in), fan_in = C·kh·kw.
Tensor conv_init_weight(std::size_t o, std::size_t c, std::size_t kh, std::size_t kw) {
  // Hint: Tensor::randn({o, c, kh, kw}), then scale its data() by √(2/(c·kh·kw)): ReLU halves
  // the variance, He's factor 2 gives it back.
  // BEGIN SOLUTION 09_spatial conv_init
  Tensor w = Tensor::randn({o, c, kh, kw});
  w.data() *= static_cast<float>(std::sqrt(2.0 / static_cast<double>(c * kh * kw)));
  return w;
  // END SOLUTION
}

}  // namespace

Conv2d::Conv2d(std::size_t in_channels, std::size_t out_channels, KernelSize kernel,
               std::size_t stride, std::size_t padding, bool use_bias)
    : in_channels(in_channels),
      out_channels(out_channels),
      kernel_size(kernel),
      stride(stride),
      padding(padding) {
  if (in_channels == 0 || out_channels == 0) {
    detail::fail_arg("Conv2d: channel counts must be >= 1, got in={} out={}", in_channels,
                     out_channels);
  }
  check_window("Conv2d", kernel.first, kernel.second, stride);
  check_layer_sizes("Conv2d", kernel, stride, padding);
  detail::checked_numel("Conv2d", {out_channels, in_channels, kernel.first, kernel.second});
  weight = register_parameter(
      "weight", conv_init_weight(out_channels, in_channels, kernel.first, kernel.second));
  if (use_bias) bias = register_parameter("bias", Tensor::zeros({out_channels}));
}

Tensor Conv2d::forward(const Tensor& x) {
  if (x.ndim() == 4 && x.dim(1) != in_channels) {
    detail::fail_shape("Conv2d: expected {} input channels, got input {}", in_channels,
                       shape_str(x.shape()));
  }
  return conv2d(x, weight, bias, stride, padding);
}

std::string Conv2d::repr() const {
  return fmt::format("Conv2d({}, {}, kernel_size=({}, {}), stride={}, padding={}, bias={})",
                     in_channels, out_channels, kernel_size.first, kernel_size.second, stride,
                     padding, bias.defined() ? "true" : "false");
}

Pool2d::Pool2d(const char* op, KernelSize kernel, std::size_t stride, std::size_t padding)
    : kernel_size(kernel), stride(stride == 0 ? kernel.first : stride), padding(padding) {
  check_window(op, kernel.first, kernel.second, this->stride);
  check_layer_sizes(op, kernel, this->stride, padding);
  internal::check_pool_padding(op, padding, kernel.first, kernel.second);
}

std::string Pool2d::repr() const {
  return fmt::format("{}(kernel_size=({}, {}), stride={}, padding={})", name(), kernel_size.first,
                     kernel_size.second, stride, padding);
}

}  // namespace tinytorch
