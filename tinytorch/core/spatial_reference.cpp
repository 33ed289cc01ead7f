// Module 09 — the reference kernels: convolution and pooling written as the course writes them
// (pad the input into a new array, then plain nested loops over every output and every kernel
// tap). Slow on purpose: they are the specification. tests/09_spatial checks the fast kernels
// of spatial.cpp against them (FastConvMatchesReferenceOnRandomCases,
// FastPoolsMatchReferenceOnRandomCases).
#include <tinytorch/core/spatial.hpp>

#include <algorithm>
#include <limits>

#include <tinytorch/core/internal/spatial_geometry.hpp>
#include <tinytorch/detail/common.hpp>

namespace tinytorch {

using internal::Geometry;
using internal::geometry;

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

// The checks of the reference kernels that are not part of their exercises: a weight of the
// rank and channels the input needs, a bias of one value per output channel (or none), and a
// grad_out of the forward's output shape.
void check_reference_weight(const char* op, const Array& x, const Array& weight) {
  if (weight.dimension() != 4) {
    detail::fail_shape("{}: expected 4-D weight [O, C, kh, kw], got {}", op,
                       shape_str(detail::to_shape(weight.shape())));
  }
  if (x.dimension() == 4 && x.shape()[1] != weight.shape()[1]) {
    detail::fail_shape("{}: input has {} channels but the weight {} expects {}", op, x.shape()[1],
                       shape_str(detail::to_shape(weight.shape())), weight.shape()[1]);
  }
}

void check_grad_out(const char* op, const Array& grad_out, const Shape& expected) {
  const Shape got = detail::to_shape(grad_out.shape());
  if (got != expected) {
    detail::fail_shape("{}: expected grad_out {} (the forward's output), got {}", op,
                       shape_str(expected), shape_str(got));
  }
}

// A pooling backward reference's geometry, with grad_out checked against its output shape.
Geometry pool_backward_geometry(const char* op, const Array& x, const Array& grad_out,
                                KernelSize kernel, std::size_t stride, std::size_t padding) {
  const Geometry geo =
      geometry(op, detail::to_shape(x.shape()), kernel.first, kernel.second, stride, padding);
  check_grad_out(op, grad_out, {geo.n, geo.c, geo.ho, geo.wo});
  return geo;
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
  check_reference_weight("conv2d_reference", x, weight);
  if (bias.size() != 0 && (bias.dimension() != 1 || bias.size() != weight.shape()[0])) {
    detail::fail_shape("conv2d_reference: expected bias [{}] or no bias, got {}", weight.shape()[0],
                       shape_str(detail::to_shape(bias.shape())));
  }
  // Hint: pad x with zeros (pad_input), then for every n, o, i, j: b[o] + Σ over c, u, v of
  // w[o,c,u,v]·x_pad[n, c, i·s+u, j·s+v].
  // BEGIN SOLUTION 09_spatial conv2d_reference
  const Geometry geo = geometry("conv2d_reference", detail::to_shape(x.shape()), weight.shape()[2],
                                weight.shape()[3], stride, padding);
  const std::size_t outs = weight.shape()[0];
  const Array xp = pad_input(x, padding, 0.0f);
  Array y = Array::from_shape({geo.n, outs, geo.ho, geo.wo});
  for (std::size_t b = 0; b < geo.n; ++b)
    for (std::size_t o = 0; o < outs; ++o)
      for (std::size_t i = 0; i < geo.ho; ++i)
        for (std::size_t j = 0; j < geo.wo; ++j) {
          float total = bias.size() ? bias(o) : 0.0f;
          for (std::size_t c = 0; c < geo.c; ++c)
            for (std::size_t u = 0; u < geo.kh; ++u)
              for (std::size_t v = 0; v < geo.kw; ++v)
                total += weight(o, c, u, v) * xp(b, c, i * stride + u, j * stride + v);
          y(b, o, i, j) = total;
        }
  return y;
  // END SOLUTION
}

Conv2dGrads conv2d_backward_reference(const Array& x, const Array& weight, const Array& grad_out,
                                      std::size_t stride, std::size_t padding) {
  check_reference_weight("conv2d_backward_reference", x, weight);
  {
    const Geometry out = geometry("conv2d_backward_reference", detail::to_shape(x.shape()),
                                  weight.shape()[2], weight.shape()[3], stride, padding);
    check_grad_out("conv2d_backward_reference", grad_out,
                   {out.n, weight.shape()[0], out.ho, out.wo});
  }
  // Hint: same loops as the forward: each g[n,o,i,j] adds g·x_pad into dw, g·w into dx_pad and g
  // into db; crop dx_pad's padding at the end.
  // BEGIN SOLUTION 09_spatial conv2d_backward_reference
  const Geometry geo = geometry("conv2d_backward_reference", detail::to_shape(x.shape()),
                                weight.shape()[2], weight.shape()[3], stride, padding);
  const std::size_t outs = weight.shape()[0];
  const Array xp = pad_input(x, padding, 0.0f);
  Array dxp = xt::zeros<float>(xp.shape());
  Conv2dGrads grads{Array(), xt::zeros<float>(weight.shape()), xt::zeros<float>({outs})};
  for (std::size_t b = 0; b < geo.n; ++b)
    for (std::size_t o = 0; o < outs; ++o)
      for (std::size_t i = 0; i < geo.ho; ++i)
        for (std::size_t j = 0; j < geo.wo; ++j) {
          const float go = grad_out(b, o, i, j);
          grads.bias(o) += go;
          for (std::size_t c = 0; c < geo.c; ++c)
            for (std::size_t u = 0; u < geo.kh; ++u)
              for (std::size_t v = 0; v < geo.kw; ++v) {
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
  const Geometry geo = geometry("max_pool2d_reference", detail::to_shape(x.shape()), kernel.first,
                                kernel.second, stride, padding);
  const Array xp = pad_input(x, padding, -std::numeric_limits<float>::infinity());
  Array pooled = Array::from_shape({geo.n, geo.c, geo.ho, geo.wo});
  for (std::size_t b = 0; b < geo.n; ++b)
    for (std::size_t c = 0; c < geo.c; ++c)
      for (std::size_t i = 0; i < geo.ho; ++i)
        for (std::size_t j = 0; j < geo.wo; ++j) {
          float best = -std::numeric_limits<float>::infinity();
          for (std::size_t u = 0; u < geo.kh; ++u)
            for (std::size_t v = 0; v < geo.kw; ++v)
              best = std::max(best, xp(b, c, i * stride + u, j * stride + v));
          pooled(b, c, i, j) = best;
        }
  return pooled;
  // END SOLUTION
}

Array max_pool2d_backward_reference(const Array& x, const Array& grad_out, KernelSize kernel,
                                    std::size_t stride, std::size_t padding) {
  const Geometry geo =
      pool_backward_geometry("max_pool2d_backward_reference", x, grad_out, kernel, stride, padding);
  // Hint: pad x with −∞ and make a zero gradient of the padded shape; for every output find
  // the window's first maximum in row-major order (strict >) and add g[k] there; crop the padding.
  // BEGIN SOLUTION 09_spatial max_pool2d_backward_reference
  const Array xp = pad_input(x, padding, -std::numeric_limits<float>::infinity());
  Array dxp = xt::zeros<float>(xp.shape());
  for (std::size_t b = 0; b < geo.n; ++b)
    for (std::size_t c = 0; c < geo.c; ++c)
      for (std::size_t i = 0; i < geo.ho; ++i)
        for (std::size_t j = 0; j < geo.wo; ++j) {
          // Re-scan the window; the first maximum in row-major order (strict >) wins.
          std::size_t best_u = 0, best_v = 0;
          for (std::size_t u = 0; u < geo.kh; ++u)
            for (std::size_t v = 0; v < geo.kw; ++v)
              if (xp(b, c, i * stride + u, j * stride + v) >
                  xp(b, c, i * stride + best_u, j * stride + best_v)) {
                best_u = u;
                best_v = v;
              }
          dxp(b, c, i * stride + best_u, j * stride + best_v) += grad_out(b, c, i, j);
        }
  return crop_padding(dxp, padding);
  // END SOLUTION
}

// Average pooling is a convolution of each channel on its own with a kh×kw kernel of
// 1/(kh·kw) (padding counts as zeros, as in the course): the references are conv2d's,
// applied to the N·C planes as images of one channel.
namespace {

Array averaging_kernel(const Geometry& geo) {
  Array w = Array::from_shape({1, 1, geo.kh, geo.kw});
  w.fill(1.0f / static_cast<float>(geo.kh * geo.kw));
  return w;
}

Array as_planes(const Array& a, const Geometry& geo, std::size_t h, std::size_t w) {
  Array planes = a;
  planes.reshape({geo.n * geo.c, std::size_t{1}, h, w});
  return planes;
}

}  // namespace

Array avg_pool2d_reference(const Array& x, KernelSize kernel, std::size_t stride,
                           std::size_t padding) {
  const Geometry geo = geometry("avg_pool2d_reference", detail::to_shape(x.shape()), kernel.first,
                                kernel.second, stride, padding);
  Array y = conv2d_reference(as_planes(x, geo, geo.h, geo.w), averaging_kernel(geo),
                             Array::from_shape({0}), stride, padding);
  y.reshape({geo.n, geo.c, geo.ho, geo.wo});
  return y;
}

Array avg_pool2d_backward_reference(const Array& x, const Array& grad_out, KernelSize kernel,
                                    std::size_t stride, std::size_t padding) {
  const Geometry geo =
      pool_backward_geometry("avg_pool2d_backward_reference", x, grad_out, kernel, stride, padding);
  Array dx = conv2d_backward_reference(as_planes(x, geo, geo.h, geo.w), averaging_kernel(geo),
                                       as_planes(grad_out, geo, geo.ho, geo.wo), stride, padding)
                 .input;
  dx.reshape({geo.n, geo.c, geo.h, geo.w});
  return dx;
}

}  // namespace tinytorch
