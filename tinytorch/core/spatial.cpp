// Module 09 — Spatial. Each op's backward node sits right under its forward.
#include <tinytorch/core/spatial.hpp>

#include <cmath>
#include <limits>

#include <tinytorch/core/activations.hpp>
#include <tinytorch/core/autograd.hpp>
#include <tinytorch/detail/common.hpp>

namespace tinytorch {

namespace {

// The sizes every kernel below loops over (shape legend in spatial.hpp).
struct Geometry {
  std::size_t n, c, h, w;  // input
  std::size_t kh, kw, stride, pad;
  std::size_t ho, wo;  // output
  std::size_t out_plane() const { return ho * wo; }
};

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

Geometry geometry(const char* op, const Shape& x, std::size_t kh, std::size_t kw,
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
  Geometry g{x[0], x[1], x[2], x[3], kh, kw, stride, pad, 0, 0};
  g.ho = output_length(g.h, kh, stride, pad);
  g.wo = output_length(g.w, kw, stride, pad);
  detail::checked_numel(op, {g.n, g.c, g.ho, g.wo});         // the output
  detail::checked_numel(op, {g.c, g.kh, g.kw, g.ho, g.wo});  // one image's windows (im2col)
  return g;
}

// Input row (or column) read by output position `o` at kernel offset `k`; negative or past
// the edge when it falls in the padding.
inline long source_index(std::size_t o, std::size_t k, const Geometry& g) {
  return static_cast<long>(o * g.stride + k) - static_cast<long>(g.pad);
}

// The output positions [first, last) whose source index for kernel offset `k` lies inside an
// input of length `size`: o·s + k − p ∈ [0, size). Outside it the tap reads padding. Kernels
// use it to run their inner loops without a bounds check per element.
struct Span {
  std::size_t first, last;
};

inline Span inside(std::size_t outputs, std::size_t k, std::size_t size, const Geometry& g) {
  const std::size_t s = g.stride, p = g.pad;
  std::size_t first = k >= p ? 0 : (p - k + s - 1) / s;
  std::size_t last = size + p > k ? (size + p - k + s - 1) / s : 0;
  last = std::min(last, outputs);
  first = std::min(first, last);
  return {first, last};
}

// The kernel taps [first, last) of window `o` that read inside an input of length `size`.
inline Span taps_inside(std::size_t o, std::size_t kernel, std::size_t size, const Geometry& g) {
  const long start = static_cast<long>(o * g.stride) - static_cast<long>(g.pad);
  const long first = std::max(0L, -start);
  const long last = std::min(static_cast<long>(kernel), static_cast<long>(size) - start);
  return {static_cast<std::size_t>(first), static_cast<std::size_t>(std::max(first, last))};
}

}  // namespace

std::size_t conv_output_size(std::size_t in, std::size_t kernel, std::size_t stride,
                             std::size_t padding) {
  check_window("conv_output_size", kernel, kernel, stride);
  const std::size_t padded = detail::padded_length("conv_output_size", in, padding);
  if (kernel > padded) {
    detail::fail_shape("conv_output_size: kernel {} is larger than the padded input {}", kernel,
                       padded);
  }
  return output_length(in, kernel, stride, padding);
}

// ---- convolution: im2col + sgemm ----------------------------------------------------------
//
// cols has one row per (c, u, v) kernel tap and one column per output position (n, i, j):
// cols[(c·kh + u)·kw + v, (n·Ho + i)·Wo + j] = x_pad[n, c, i·s + u, j·s + v].
// Then y = W [O, C·kh·kw] × cols [C·kh·kw, N·Ho·Wo] is the whole batch's convolution.

namespace {

Array im2col(const Array& x, const Geometry& g) {
  // Hint: cols[(c·kh + u)·kw + v, (n·Ho + i)·Wo + j] = x_pad[n, c, i·s + u, j·s + v]: one row per
  // kernel tap, one column per output position; taps in the padding are 0.
  // BEGIN SOLUTION 09_spatial im2col
  const std::size_t positions = g.n * g.out_plane();
  Array cols = Array::from_shape({g.c * g.kh * g.kw, positions});
  for (std::size_t c = 0; c < g.c; ++c) {
    for (std::size_t u = 0; u < g.kh; ++u) {
      const Span rows = inside(g.ho, u, g.h, g);
      for (std::size_t v = 0; v < g.kw; ++v) {
        const Span cols_in = inside(g.wo, v, g.w, g);
        float* dst = cols.data() + ((c * g.kh + u) * g.kw + v) * positions;
        for (std::size_t n = 0; n < g.n; ++n) {
          const float* plane = x.data() + (n * g.c + c) * g.h * g.w;
          for (std::size_t i = 0; i < g.ho; ++i, dst += g.wo) {
            if (i < rows.first || i >= rows.last) {  // the whole row reads padding
              std::fill(dst, dst + g.wo, 0.0f);
              continue;
            }
            // Offset of output column 0's tap; negative when it lies in the left padding, so
            // it is only ever added to in-bounds column offsets j·s.
            const long row_start =
                source_index(i, u, g) * static_cast<long>(g.w) + source_index(0, v, g);
            std::fill(dst, dst + cols_in.first, 0.0f);
            if (g.stride == 1) {  // contiguous: a plain copy
              std::copy(plane + row_start + static_cast<long>(cols_in.first),
                        plane + row_start + static_cast<long>(cols_in.last), dst + cols_in.first);
            } else {
              for (std::size_t j = cols_in.first; j < cols_in.last; ++j) {
                dst[j] = plane[row_start + static_cast<long>(j * g.stride)];
              }
            }
            std::fill(dst + cols_in.last, dst + g.wo, 0.0f);
          }
        }
      }
    }
  }
  return cols;
  // END SOLUTION
}

// The adjoint of im2col: every column entry is added back to the input pixel it was read from.
Array col2im(const Array& cols, const Geometry& g) {
  // Hint: the adjoint of im2col: start from zeros [N, C, H, W] and add every cols entry back (+=)
  // into the pixel it was read from; padding taps are dropped.
  // BEGIN SOLUTION 09_spatial col2im
  const std::size_t positions = g.n * g.out_plane();
  Array dx = xt::zeros<float>({g.n, g.c, g.h, g.w});
  for (std::size_t c = 0; c < g.c; ++c) {
    for (std::size_t u = 0; u < g.kh; ++u) {
      const Span rows = inside(g.ho, u, g.h, g);
      for (std::size_t v = 0; v < g.kw; ++v) {
        const Span cols_in = inside(g.wo, v, g.w, g);
        const float* src = cols.data() + ((c * g.kh + u) * g.kw + v) * positions;
        for (std::size_t n = 0; n < g.n; ++n) {
          float* plane = dx.data() + (n * g.c + c) * g.h * g.w;
          for (std::size_t i = 0; i < g.ho; ++i, src += g.wo) {
            if (i < rows.first || i >= rows.last) continue;
            const long row_start =
                source_index(i, u, g) * static_cast<long>(g.w) + source_index(0, v, g);
            for (std::size_t j = cols_in.first; j < cols_in.last; ++j) {
              plane[row_start + static_cast<long>(j * g.stride)] += src[j];
            }
          }
        }
      }
    }
  }
  return dx;
  // END SOLUTION
}

// [N, O, Ho·Wo] <-> [O, N·Ho·Wo]: the layout of the images vs the layout of the GEMM.
Array images_to_gemm(const Array& y, std::size_t n, std::size_t o, std::size_t plane) {
  Array out = Array::from_shape({o, n * plane});
  for (std::size_t b = 0; b < n; ++b) {
    for (std::size_t k = 0; k < o; ++k) {
      std::copy_n(y.data() + (b * o + k) * plane, plane, out.data() + k * n * plane + b * plane);
    }
  }
  return out;
}

/// out = conv2d(x, W, b):  dW = gmat·colsᵀ, dcols = Wᵀ·gmat then col2im, db = Σ gmat rows.
struct Conv2dBackward : Node {
  Conv2dBackward(const Tensor& x, const Tensor& w, const Tensor& b, Array cols, Geometry g)
      : Node(b.defined() ? std::vector<Tensor>{x, w, b} : std::vector<Tensor>{x, w}),
        cols(std::move(cols)),
        geo(g) {}
  const char* name() const override { return "Conv2dBackward"; }
  void release_saved() override { cols = Array(); }

  std::vector<Array> apply(const Array& grad_out) override {
    // Hint: gmat = grad_out as [O, N·Ho·Wo]; dx = col2im(Wᵀ·gmat), dW = gmat·colsᵀ (two
    // detail::gemm calls), db[o] = Σ of row o of gmat.
    // BEGIN SOLUTION 09_spatial conv2d_backward
    const Array& w = inputs()[1].data();
    const std::size_t o = w.shape()[0], taps = geo.c * geo.kh * geo.kw;
    const std::size_t positions = geo.n * geo.out_plane();
    const Array gmat = images_to_gemm(grad_out, geo.n, o, geo.out_plane());
    std::vector<Array> grads(inputs().size(), Array::from_shape({0}));
    if (needs_grad(0)) {  // dx = col2im(Wᵀ · gmat)
      Array dcols = Array::from_shape({taps, positions});
      detail::gemm(true, false, taps, positions, o, 1.0f, w.data(), gmat.data(), 0.0f,
                   dcols.data());
      grads[0] = col2im(dcols, geo);
    }
    if (needs_grad(1)) {  // dW = gmat · colsᵀ
      grads[1] = Array::from_shape(w.shape());
      detail::gemm(false, true, o, taps, positions, 1.0f, gmat.data(), cols.data(), 0.0f,
                   grads[1].data());
    }
    if (inputs().size() > 2 && needs_grad(2)) {  // db[o] = Σ over batch and space
      grads[2] = Array::from_shape({o});
      for (std::size_t k = 0; k < o; ++k) {
        double total = 0.0;
        for (std::size_t p = 0; p < positions; ++p) total += gmat.data()[k * positions + p];
        grads[2].data()[k] = static_cast<float>(total);
      }
    }
    return grads;
    // END SOLUTION
  }

  Array cols;
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

// y [N, O, Ho, Wo] = W [O, C·kh·kw] × im2col(x) + b; `cols` keeps the im2col buffer for backward.
Array conv2d_forward(const Array& x, const Array& w, const Array* b, const Geometry& g,
                     Array& cols) {
  // Hint: cols = im2col(x, g); one detail::gemm gives ymat [O, N·Ho·Wo]; then copy each
  // (o, n) plane of ymat into y[n, o] adding b[o] — the GEMM's layout is not the image's.
  // BEGIN SOLUTION 09_spatial conv2d
  const std::size_t o = w.shape()[0], taps = g.c * g.kh * g.kw;
  const std::size_t plane = g.out_plane(), positions = g.n * plane;
  cols = im2col(x, g);
  Array ymat = Array::from_shape({o, positions});
  detail::gemm(false, false, o, positions, taps, 1.0f, w.data(), cols.data(), 0.0f, ymat.data());
  Array y = Array::from_shape({g.n, o, g.ho, g.wo});
  for (std::size_t n = 0; n < g.n; ++n) {
    for (std::size_t k = 0; k < o; ++k) {
      const float shift = b ? b->data()[k] : 0.0f;
      const float* src = ymat.data() + k * positions + n * plane;
      float* dst = y.data() + (n * o + k) * plane;
      for (std::size_t p = 0; p < plane; ++p) dst[p] = src[p] + shift;
    }
  }
  return y;
  // END SOLUTION
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, std::size_t stride,
              std::size_t padding) {
  const Geometry g = geometry("conv2d", x.shape(), weight.ndim() == 4 ? weight.dim(2) : 1,
                              weight.ndim() == 4 ? weight.dim(3) : 1, stride, padding);
  check_conv_args(x, weight, bias);
  Array cols;
  Tensor out(
      conv2d_forward(x.data(), weight.data(), bias.defined() ? &bias.data() : nullptr, g, cols));
  if (detail::should_record({&x, &weight, &bias})) {
    return detail::attach(out,
                          std::make_shared<Conv2dBackward>(x, weight, bias, std::move(cols), g));
  }
  return out;
}

// ---- max pooling --------------------------------------------------------------------------

namespace {

/// out = max_pool2d(x):  dx[argmax[k]] += g[k] (argmax cached by the forward).
struct MaxPool2dBackward : Node {
  MaxPool2dBackward(const Tensor& x, std::vector<std::size_t> argmax)
      : Node({x}), argmax(std::move(argmax)) {}
  const char* name() const override { return "MaxPool2dBackward"; }
  void release_saved() override { argmax = {}; }

  std::vector<Array> apply(const Array& g) override {
    // Hint: each output's gradient goes to the input its maximum came from: dx = zeros,
    // dx[argmax[k]] += g[k].
    // BEGIN SOLUTION 09_spatial max_pool2d_backward
    Array dx = xt::zeros<float>(inputs()[0].data().shape());
    for (std::size_t k = 0; k < argmax.size(); ++k) dx.data()[argmax[k]] += g.data()[k];
    return {dx};
    // END SOLUTION
  }

  std::vector<std::size_t> argmax;  ///< flat input index of each output's maximum
};

void check_pool_padding(const char* op, std::size_t pad, std::size_t kh, std::size_t kw) {
  if (pad > kh / 2 || pad > kw / 2) {  // 2·pad > k, without computing 2·pad
    detail::fail_arg("{}: padding {} must be at most half the kernel {}x{}", op, pad, kh, kw);
  }
}

void check_pool_padding(const char* op, const Geometry& g) {
  check_pool_padding(op, g.pad, g.kh, g.kw);
}

// Max over each window of x [N, C, H, W]; argmax[k] receives the flat input index of output
// k's maximum, for the backward pass.
Array max_pool2d_forward(const Array& x, const Geometry& g, std::vector<std::size_t>& argmax) {
  // Hint: per plane and output (i, j), scan the taps inside the input (taps_inside skips the
  // padding, which acts as −∞) and keep the first maximum (strict >) and its flat index.
  // BEGIN SOLUTION 09_spatial max_pool2d
  Array y = Array::from_shape({g.n, g.c, g.ho, g.wo});
  argmax.resize(y.size());
  const float* in = x.data();
  std::size_t k = 0;
  for (std::size_t plane = 0; plane < g.n * g.c; ++plane) {
    const std::size_t base = plane * g.h * g.w;
    for (std::size_t i = 0; i < g.ho; ++i) {
      // Taps that fall in the padding are skipped, which is the same as padding with −∞;
      // padding is at most half the kernel, so every window keeps at least one pixel.
      const Span rows = taps_inside(i, g.kh, g.h, g);
      for (std::size_t j = 0; j < g.wo; ++j, ++k) {
        const Span cols = taps_inside(j, g.kw, g.w, g);
        const std::size_t row0 = i * g.stride - g.pad,
                          col0 = j * g.stride - g.pad;  // wrap is undone below
        std::size_t best_index = base + (row0 + rows.first) * g.w + col0 + cols.first;
        float best = in[best_index];
        for (std::size_t u = rows.first; u < rows.last; ++u) {
          const std::size_t row_start = base + (row0 + u) * g.w + col0;
          for (std::size_t v = cols.first; v < cols.last; ++v) {
            if (in[row_start + v] > best) {  // strict: the first maximum in row-major order wins
              best = in[row_start + v];
              best_index = row_start + v;
            }
          }
        }
        y.data()[k] = best;
        argmax[k] = best_index;
      }
    }
  }
  return y;
  // END SOLUTION
}

}  // namespace

Tensor max_pool2d(const Tensor& x, KernelSize kernel, std::size_t stride, std::size_t padding) {
  if (stride == 0) stride = kernel.first;
  const Geometry g =
      geometry("max_pool2d", x.shape(), kernel.first, kernel.second, stride, padding);
  check_pool_padding("max_pool2d", g);
  std::vector<std::size_t> argmax;
  Tensor out(max_pool2d_forward(x.data(), g, argmax));
  if (detail::should_record({&x}))
    return detail::attach(out, std::make_shared<MaxPool2dBackward>(x, std::move(argmax)));
  return out;
}

// ---- average pooling ----------------------------------------------------------------------

namespace {

/// out = avg_pool2d(x):  every input in window k receives g[k]/(kh·kw).
struct AvgPool2dBackward : Node {
  AvgPool2dBackward(const Tensor& x, Geometry g) : Node({x}), geo(g) {}
  const char* name() const override { return "AvgPool2dBackward"; }

  std::vector<Array> apply(const Array& grad_out) override {
    Array dx = xt::zeros<float>(inputs()[0].data().shape());
    const float scale = 1.0f / static_cast<float>(geo.kh * geo.kw);
    const float* g = grad_out.data();
    for (std::size_t plane = 0; plane < geo.n * geo.c; ++plane) {
      float* d = dx.data() + plane * geo.h * geo.w;
      for (std::size_t i = 0; i < geo.ho; ++i) {
        const Span rows = taps_inside(i, geo.kh, geo.h, geo);
        for (std::size_t j = 0; j < geo.wo; ++j, ++g) {
          const Span cols = taps_inside(j, geo.kw, geo.w, geo);
          const long corner =
              source_index(i, 0, geo) * static_cast<long>(geo.w) + source_index(j, 0, geo);
          for (std::size_t u = rows.first; u < rows.last; ++u)
            for (std::size_t v = cols.first; v < cols.last; ++v)
              d[corner + static_cast<long>(u * geo.w + v)] += *g * scale;
        }
      }
    }
    return {dx};
  }

  Geometry geo;
};

// Mean over each window of x [N, C, H, W]; padding counts as zeros in the kh·kw divisor.
Array avg_pool2d_forward(const Array& x, const Geometry& g) {
  // Hint: per plane and output (i, j) sum the taps inside the input (taps_inside) and divide
  // by kh·kw — padding adds zeros but still counts, as in the course.
  // BEGIN SOLUTION 09_spatial avg_pool2d
  Array y = Array::from_shape({g.n, g.c, g.ho, g.wo});
  const float scale = 1.0f / static_cast<float>(g.kh * g.kw);
  std::size_t k = 0;
  for (std::size_t plane = 0; plane < g.n * g.c; ++plane) {
    const float* in = x.data() + plane * g.h * g.w;
    for (std::size_t i = 0; i < g.ho; ++i) {
      const Span rows = taps_inside(i, g.kh, g.h, g);
      for (std::size_t j = 0; j < g.wo; ++j, ++k) {
        const Span cols = taps_inside(j, g.kw, g.w, g);
        const long corner = source_index(i, 0, g) * static_cast<long>(g.w) + source_index(j, 0, g);
        float total = 0.0f;  // padding contributes zeros but still counts in kh·kw
        for (std::size_t u = rows.first; u < rows.last; ++u)
          for (std::size_t v = cols.first; v < cols.last; ++v)
            total += in[corner + static_cast<long>(u * g.w + v)];
        y.data()[k] = total * scale;
      }
    }
  }
  return y;
  // END SOLUTION
}

}  // namespace

Tensor avg_pool2d(const Tensor& x, KernelSize kernel, std::size_t stride, std::size_t padding) {
  if (stride == 0) stride = kernel.first;
  const Geometry g =
      geometry("avg_pool2d", x.shape(), kernel.first, kernel.second, stride, padding);
  check_pool_padding("avg_pool2d", g);
  Tensor out(avg_pool2d_forward(x.data(), g));
  if (detail::should_record({&x}))
    return detail::attach(out, std::make_shared<AvgPool2dBackward>(x, g));
  return out;
}

// ---- batch normalisation ------------------------------------------------------------------

namespace {

/// out = batch_norm2d(x) (see spatial.hpp for the formulas). Saves x̂ and 1/√(σ² + eps).
struct BatchNorm2dBackward : Node {
  BatchNorm2dBackward(const Tensor& x, const Tensor& gamma, const Tensor& beta, Array x_hat,
                      std::vector<float> inv_std, bool training)
      : Node({x, gamma, beta}),
        x_hat(std::move(x_hat)),
        inv_std(std::move(inv_std)),
        training(training) {}
  const char* name() const override { return "BatchNorm2dBackward"; }
  void release_saved() override {
    x_hat = Array();
    inv_std.clear();
  }

  std::vector<Array> apply(const Array& g) override {
    const std::size_t n = x_hat.shape()[0], c = x_hat.shape()[1],
                      plane = x_hat.shape()[2] * x_hat.shape()[3];
    const double m = static_cast<double>(n * plane);
    Array dx = Array::from_shape(x_hat.shape());
    Array dgamma = Array::from_shape({c}), dbeta = Array::from_shape({c});
    const float* gamma = inputs()[1].data().data();
    for (std::size_t ch = 0; ch < c; ++ch) {
      double sum_g = 0.0, sum_gx = 0.0;  // Σ g and Σ g·x̂ over the channel
      for (std::size_t b = 0; b < n; ++b) {
        const std::size_t base = (b * c + ch) * plane;
        for (std::size_t k = 0; k < plane; ++k) {
          sum_g += g.data()[base + k];
          sum_gx += static_cast<double>(g.data()[base + k]) * x_hat.data()[base + k];
        }
      }
      dgamma.data()[ch] = static_cast<float>(sum_gx);
      dbeta.data()[ch] = static_cast<float>(sum_g);
      // Training: the batch statistics depend on x, which adds the two mean terms.
      const float mean_g = training ? static_cast<float>(sum_g / m) : 0.0f;
      const float mean_gx = training ? static_cast<float>(sum_gx / m) : 0.0f;
      const float scale = gamma[ch] * inv_std[ch];
      for (std::size_t b = 0; b < n; ++b) {
        const std::size_t base = (b * c + ch) * plane;
        for (std::size_t k = 0; k < plane; ++k) {
          dx.data()[base + k] =
              scale * (g.data()[base + k] - mean_g - x_hat.data()[base + k] * mean_gx);
        }
      }
    }
    return {dx, dgamma, dbeta};
  }

  Array x_hat;
  std::vector<float> inv_std;
  bool training;
};

// Per-channel mean and biased variance over N·H·W, accumulated in double.
void channel_statistics(const Array& x, std::vector<float>& mean, std::vector<float>& var) {
  const std::size_t n = x.shape()[0], c = x.shape()[1], plane = x.shape()[2] * x.shape()[3];
  const double m = static_cast<double>(n * plane);
  for (std::size_t ch = 0; ch < c; ++ch) {
    double sum = 0.0, sum_sq = 0.0;
    for (std::size_t b = 0; b < n; ++b) {
      const float* p = x.data() + (b * c + ch) * plane;
      for (std::size_t k = 0; k < plane; ++k) sum += p[k];
    }
    const double mu = sum / m;
    for (std::size_t b = 0; b < n; ++b) {
      const float* p = x.data() + (b * c + ch) * plane;
      for (std::size_t k = 0; k < plane; ++k) sum_sq += (p[k] - mu) * (p[k] - mu);
    }
    mean[ch] = static_cast<float>(mu);
    var[ch] = static_cast<float>(sum_sq / m);
  }
}

}  // namespace

Tensor batch_norm2d(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                    Tensor& running_var, bool training, float momentum, float eps) {
  if (x.ndim() != 4)
    detail::fail_shape("batch_norm2d: expected 4-D input [N, C, H, W], got {}",
                       shape_str(x.shape()));
  const std::size_t n = x.dim(0), c = x.dim(1), plane = x.dim(2) * x.dim(3);
  for (const Tensor* t :
       std::initializer_list<const Tensor*>{&gamma, &beta, &running_mean, &running_var}) {
    if (t->ndim() != 1 || t->size() != c) {
      detail::fail_shape(
          "batch_norm2d: expected {} channels, got input {} and a statistic of shape {}", c,
          shape_str(x.shape()), shape_str(t->shape()));
    }
  }
  if (training && n * plane < 2) {
    detail::fail_shape("batch_norm2d: training needs more than one value per channel, got input {}",
                       shape_str(x.shape()));
  }
  std::vector<float> mean(c), var(c);
  if (training) {
    channel_statistics(x.data(), mean, var);
    for (std::size_t ch = 0; ch < c; ++ch) {
      float& rm = running_mean.data().data()[ch];
      float& rv = running_var.data().data()[ch];
      rm = (1.0f - momentum) * rm + momentum * mean[ch];
      rv = (1.0f - momentum) * rv + momentum * var[ch];
    }
  } else {
    std::copy(running_mean.data().begin(), running_mean.data().end(), mean.begin());
    std::copy(running_var.data().begin(), running_var.data().end(), var.begin());
  }
  std::vector<float> inv_std(c);
  Array x_hat = Array::from_shape(x.data().shape());
  Array y = Array::from_shape(x.data().shape());
  for (std::size_t ch = 0; ch < c; ++ch) {
    inv_std[ch] = 1.0f / std::sqrt(var[ch] + eps);
    const float g = gamma.data().data()[ch], b = beta.data().data()[ch];
    for (std::size_t s = 0; s < n; ++s) {
      const std::size_t base = (s * c + ch) * plane;
      for (std::size_t k = 0; k < plane; ++k) {
        const float xh = (x.data().data()[base + k] - mean[ch]) * inv_std[ch];
        x_hat.data()[base + k] = xh;
        y.data()[base + k] = g * xh + b;
      }
    }
  }
  Tensor out(std::move(y));
  if (detail::should_record({&x, &gamma, &beta})) {
    return detail::attach(out, std::make_shared<BatchNorm2dBackward>(
                                   x, gamma, beta, std::move(x_hat), std::move(inv_std), training));
  }
  return out;
}

// ---- reference kernels ----------------------------------------------------------------------
// Written as the course writes them: pad the input into a new array, then plain nested loops
// over every output and every kernel tap. Slow on purpose; they are the specification.

namespace {

Array pad_input(const Array& x, std::size_t pad, float value) {
  const std::size_t n = x.shape()[0], c = x.shape()[1], h = x.shape()[2], w = x.shape()[3];
  Array padded = Array::from_shape({n, c, h + 2 * pad, w + 2 * pad});
  padded.fill(value);
  for (std::size_t b = 0; b < n; ++b)
    for (std::size_t ch = 0; ch < c; ++ch)
      for (std::size_t i = 0; i < h; ++i)
        for (std::size_t j = 0; j < w; ++j) padded(b, ch, i + pad, j + pad) = x(b, ch, i, j);
  return padded;
}

Array crop_padding(const Array& padded, std::size_t pad) {
  const std::size_t n = padded.shape()[0], c = padded.shape()[1];
  const std::size_t h = padded.shape()[2] - 2 * pad, w = padded.shape()[3] - 2 * pad;
  Array x = Array::from_shape({n, c, h, w});
  for (std::size_t b = 0; b < n; ++b)
    for (std::size_t ch = 0; ch < c; ++ch)
      for (std::size_t i = 0; i < h; ++i)
        for (std::size_t j = 0; j < w; ++j) x(b, ch, i, j) = padded(b, ch, i + pad, j + pad);
  return x;
}

}  // namespace

Array conv2d_reference(const Array& x, const Array& weight, const Array& bias, std::size_t stride,
                       std::size_t padding) {
  // Hint: pad x with zeros (pad_input), then for every n, o, i, j: b[o] + Σ over c, u, v of
  // w[o,c,u,v]·x_pad[n, c, i·s+u, j·s+v].
  // BEGIN SOLUTION 09_spatial conv2d_reference
  const Geometry g = geometry("conv2d_reference", detail::to_shape(x.shape()), weight.shape()[2],
                              weight.shape()[3], stride, padding);
  const std::size_t outs = weight.shape()[0];
  const Array xp = pad_input(x, padding, 0.0f);
  Array y = Array::from_shape({g.n, outs, g.ho, g.wo});
  for (std::size_t b = 0; b < g.n; ++b)
    for (std::size_t o = 0; o < outs; ++o)
      for (std::size_t i = 0; i < g.ho; ++i)
        for (std::size_t j = 0; j < g.wo; ++j) {
          float total = bias.size() ? bias(o) : 0.0f;
          for (std::size_t c = 0; c < g.c; ++c)
            for (std::size_t u = 0; u < g.kh; ++u)
              for (std::size_t v = 0; v < g.kw; ++v)
                total += weight(o, c, u, v) * xp(b, c, i * stride + u, j * stride + v);
          y(b, o, i, j) = total;
        }
  return y;
  // END SOLUTION
}

Conv2dGrads conv2d_backward_reference(const Array& x, const Array& weight, const Array& grad_out,
                                      std::size_t stride, std::size_t padding) {
  // Hint: same loops as the forward: each g[n,o,i,j] adds g·x_pad into dw, g·w into dx_pad and g
  // into db; crop dx_pad's padding at the end.
  // BEGIN SOLUTION 09_spatial conv2d_backward_reference
  const Geometry g = geometry("conv2d_backward_reference", detail::to_shape(x.shape()),
                              weight.shape()[2], weight.shape()[3], stride, padding);
  const std::size_t outs = weight.shape()[0];
  const Array xp = pad_input(x, padding, 0.0f);
  Array dxp = xt::zeros<float>(xp.shape());
  Conv2dGrads grads{Array(), xt::zeros<float>(weight.shape()), xt::zeros<float>({outs})};
  for (std::size_t b = 0; b < g.n; ++b)
    for (std::size_t o = 0; o < outs; ++o)
      for (std::size_t i = 0; i < g.ho; ++i)
        for (std::size_t j = 0; j < g.wo; ++j) {
          const float go = grad_out(b, o, i, j);
          grads.bias(o) += go;
          for (std::size_t c = 0; c < g.c; ++c)
            for (std::size_t u = 0; u < g.kh; ++u)
              for (std::size_t v = 0; v < g.kw; ++v) {
                grads.weight(o, c, u, v) += go * xp(b, c, i * stride + u, j * stride + v);
                dxp(b, c, i * stride + u, j * stride + v) += go * weight(o, c, u, v);
              }
        }
  grads.input = crop_padding(dxp, padding);
  return grads;
  // END SOLUTION
}

Array max_pool2d_reference(const Array& x, KernelSize kernel, std::size_t stride,
                           std::size_t padding) {
  // Hint: pad with −∞, then every output is the largest x_pad[n, c, i·s+u, j·s+v] over its kh×kw
  // window.
  // BEGIN SOLUTION 09_spatial max_pool2d_reference
  const Geometry g = geometry("max_pool2d_reference", detail::to_shape(x.shape()), kernel.first,
                              kernel.second, stride, padding);
  const Array xp = pad_input(x, padding, -std::numeric_limits<float>::infinity());
  Array y = Array::from_shape({g.n, g.c, g.ho, g.wo});
  for (std::size_t b = 0; b < g.n; ++b)
    for (std::size_t c = 0; c < g.c; ++c)
      for (std::size_t i = 0; i < g.ho; ++i)
        for (std::size_t j = 0; j < g.wo; ++j) {
          float best = -std::numeric_limits<float>::infinity();
          for (std::size_t u = 0; u < g.kh; ++u)
            for (std::size_t v = 0; v < g.kw; ++v)
              best = std::max(best, xp(b, c, i * stride + u, j * stride + v));
          y(b, c, i, j) = best;
        }
  return y;
  // END SOLUTION
}

Array max_pool2d_backward_reference(const Array& x, const Array& grad_out, KernelSize kernel,
                                    std::size_t stride, std::size_t padding) {
  const Geometry g = geometry("max_pool2d_backward_reference", detail::to_shape(x.shape()),
                              kernel.first, kernel.second, stride, padding);
  const Array xp = pad_input(x, padding, -std::numeric_limits<float>::infinity());
  Array dxp = xt::zeros<float>(xp.shape());
  for (std::size_t b = 0; b < g.n; ++b)
    for (std::size_t c = 0; c < g.c; ++c)
      for (std::size_t i = 0; i < g.ho; ++i)
        for (std::size_t j = 0; j < g.wo; ++j) {
          // Re-scan the window; the first maximum in row-major order (strict >) wins.
          std::size_t best_u = 0, best_v = 0;
          for (std::size_t u = 0; u < g.kh; ++u)
            for (std::size_t v = 0; v < g.kw; ++v)
              if (xp(b, c, i * stride + u, j * stride + v) >
                  xp(b, c, i * stride + best_u, j * stride + best_v)) {
                best_u = u;
                best_v = v;
              }
          dxp(b, c, i * stride + best_u, j * stride + best_v) += grad_out(b, c, i, j);
        }
  return crop_padding(dxp, padding);
}

Array avg_pool2d_reference(const Array& x, KernelSize kernel, std::size_t stride,
                           std::size_t padding) {
  const Geometry g = geometry("avg_pool2d_reference", detail::to_shape(x.shape()), kernel.first,
                              kernel.second, stride, padding);
  const Array xp = pad_input(x, padding, 0.0f);
  Array y = Array::from_shape({g.n, g.c, g.ho, g.wo});
  for (std::size_t b = 0; b < g.n; ++b)
    for (std::size_t c = 0; c < g.c; ++c)
      for (std::size_t i = 0; i < g.ho; ++i)
        for (std::size_t j = 0; j < g.wo; ++j) {
          float total = 0.0f;
          for (std::size_t u = 0; u < g.kh; ++u)
            for (std::size_t v = 0; v < g.kw; ++v)
              total += xp(b, c, i * stride + u, j * stride + v);
          y(b, c, i, j) = total / static_cast<float>(g.kh * g.kw);
        }
  return y;
}

Array avg_pool2d_backward_reference(const Array& x, const Array& grad_out, KernelSize kernel,
                                    std::size_t stride, std::size_t padding) {
  const Geometry g = geometry("avg_pool2d_backward_reference", detail::to_shape(x.shape()),
                              kernel.first, kernel.second, stride, padding);
  Array dxp = xt::zeros<float>({g.n, g.c, g.h + 2 * padding, g.w + 2 * padding});
  for (std::size_t b = 0; b < g.n; ++b)
    for (std::size_t c = 0; c < g.c; ++c)
      for (std::size_t i = 0; i < g.ho; ++i)
        for (std::size_t j = 0; j < g.wo; ++j)
          for (std::size_t u = 0; u < g.kh; ++u)
            for (std::size_t v = 0; v < g.kw; ++v)
              dxp(b, c, i * stride + u, j * stride + v) +=
                  grad_out(b, c, i, j) / static_cast<float>(g.kh * g.kw);
  return crop_padding(dxp, padding);
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
  check_pool_padding(op, padding, kernel.first, kernel.second);
}

std::string Pool2d::repr() const {
  return fmt::format("{}(kernel_size=({}, {}), stride={}, padding={})", name(), kernel_size.first,
                     kernel_size.second, stride, padding);
}

BatchNorm2d::BatchNorm2d(std::size_t num_features, float eps, float momentum)
    : num_features(num_features), eps(eps), momentum(momentum) {
  if (num_features == 0) detail::fail_arg("BatchNorm2d: num_features must be >= 1, got 0");
  if (!(eps > 0.0f)) detail::fail_arg("BatchNorm2d: eps must be > 0, got {}", eps);
  if (!(momentum >= 0.0f && momentum <= 1.0f)) {
    detail::fail_arg("BatchNorm2d: momentum must be in [0, 1], got {}", momentum);
  }
  gamma = register_parameter("weight", Tensor::ones({num_features}));
  beta = register_parameter("bias", Tensor::zeros({num_features}));
  running_mean = register_buffer("running_mean", Tensor::zeros({num_features}));
  running_var = register_buffer("running_var", Tensor::ones({num_features}));
}

Tensor BatchNorm2d::forward(const Tensor& x) {
  if (x.ndim() == 4 && x.dim(1) != num_features) {
    detail::fail_shape("BatchNorm2d: expected {} channels, got input {}", num_features,
                       shape_str(x.shape()));
  }
  return batch_norm2d(x, gamma, beta, running_mean, running_var, is_training(), momentum, eps);
}

std::string BatchNorm2d::repr() const {
  return fmt::format("BatchNorm2d({}, eps={}, momentum={})", num_features, eps, momentum);
}

SimpleCNN::SimpleCNN(std::size_t num_classes) {
  // [N,1,8,8] -conv 3x3-> [N,8,6,6] -pool 2-> [N,8,3,3] -flatten-> [N,72] -linear-> [N,classes]
  layers_ =
      register_module("layers", std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
                                    std::make_shared<Conv2d>(1, 8, 3), std::make_shared<ReLU>(),
                                    std::make_shared<MaxPool2d>(2), std::make_shared<Flatten>(),
                                    std::make_shared<Linear>(72, num_classes)}));
}

SimpleCNN::SimpleCNN(Blocks, std::size_t in_channels, std::size_t image_size,
                     std::size_t num_classes) {
  if (image_size < 4) detail::fail_arg("SimpleCNN: image_size must be >= 4, got {}", image_size);
  const std::size_t side = image_size / 2 / 2;  // padding 1 keeps the size; each pool halves it
  layers_ = register_module(
      "layers",
      std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
          std::make_shared<Conv2d>(in_channels, 16, 3, 1, 1), std::make_shared<ReLU>(),
          std::make_shared<MaxPool2d>(2), std::make_shared<Conv2d>(16, 32, 3, 1, 1),
          std::make_shared<ReLU>(), std::make_shared<MaxPool2d>(2), std::make_shared<Flatten>(),
          std::make_shared<Linear>(32 * side * side, num_classes)}));
}

std::shared_ptr<SimpleCNN> SimpleCNN::two_block(std::size_t in_channels, std::size_t image_size,
                                                std::size_t num_classes) {
  return std::shared_ptr<SimpleCNN>(new SimpleCNN(Blocks{}, in_channels, image_size, num_classes));
}

Tensor SimpleCNN::features(const Tensor& x) {
  Tensor h = x;
  for (std::size_t i = 0; i + 1 < layers_->size(); ++i) h = (*layers_)[i](h);
  return h;
}

std::shared_ptr<Sequential> lenet5(std::size_t num_classes) {
  return std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
      std::make_shared<Conv2d>(1, 6, 5, 1, 2), std::make_shared<ReLU>(),
      std::make_shared<MaxPool2d>(2), std::make_shared<Conv2d>(6, 16, 5), std::make_shared<ReLU>(),
      std::make_shared<MaxPool2d>(2), std::make_shared<Flatten>(),
      std::make_shared<Linear>(400, 120), std::make_shared<ReLU>(),
      std::make_shared<Linear>(120, 84), std::make_shared<ReLU>(),
      std::make_shared<Linear>(84, num_classes)});
}

}  // namespace tinytorch
