// Module 09 — Spatial: max and average pooling, each op with its kernel over a slice of
// planes, its backward node right under the forward, and its function. Convolution is in
// spatial.cpp, the reference loops in spatial_reference.cpp.
#include <tinytorch/core/spatial.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>

#include <tinytorch/core/autograd.hpp>
#include <tinytorch/core/internal/nodes.hpp>
#include <tinytorch/core/internal/spatial_geometry.hpp>
#include <tinytorch/detail/common.hpp>
#include <tinytorch/detail/rows.hpp>

namespace tinytorch {

using internal::check_defined;
using internal::Geometry;
using internal::geometry;
using internal::source_index;
using internal::Span;
using internal::taps_inside;

void internal::check_pool_padding(const char* op, std::size_t pad, std::size_t kh, std::size_t kw) {
  if (pad > kh / 2 || pad > kw / 2) {  // 2·pad > k, without computing 2·pad
    detail::fail_arg("{}: padding {} must be at most half the kernel {}x{}", op, pad, kh, kw);
  }
}

// ---- max pooling ----------------------------------------------------------------------------
//
// The kernels see `planes` consecutive [H, W] planes (a slice of the batch's N·C planes) and
// loop over raw memory; max_pool2d() cuts the planes into tasks for the threads.

namespace {

void check_pool_padding(const char* op, const Geometry& geo) {
  internal::check_pool_padding(op, geo.pad, geo.kh, geo.kw);
}

// What both pools check before they run: a defined 4-D input, a window that fits, padding at
// most half the window. Stride 0 means the window's height.
Geometry pool_geometry(const char* op, const Tensor& x, KernelSize kernel, std::size_t stride,
                       std::size_t padding) {
  check_defined(op, "input", x);
  const Geometry geo = geometry(op, x.shape(), kernel.first, kernel.second,
                                stride == 0 ? kernel.first : stride, padding);
  check_pool_padding(op, geo);
  return geo;
}

using detail::keep_larger;

// The window nearly every CNN uses (2×2, stride 2, no padding) has a vector kernel,
// detail::max_pool_2x2 (detail/rows.hpp): the same result as the loops of max_pool2d_forward
// without the per-window bounds work. tests/kernels (RowCopiesGiven.MaxPool2x2MatchesPlainLoops)
// and tests/09_spatial (FastPoolsMatchReferenceOnRandomCases) compare them.
bool is_2x2_stride_2(const Geometry& geo) {
  return geo.kh == 2 && geo.kw == 2 && geo.stride == 2 && geo.pad == 0;
}

// Max over each window of the planes at x [planes, H, W] into y [planes, Ho, Wo]; argmax[k]
// receives the index within its input plane of output k's maximum, for the backward pass.
void max_pool2d_forward(const float* x, std::size_t planes, const Geometry& geo, float* y,
                        std::uint32_t* argmax) {
  // Hint: per plane and output (i, j), scan the taps inside the input (taps_inside skips the
  // padding, which acts as −∞) and keep the first maximum (strict >) and its index in the plane.
  // BEGIN SOLUTION 09_spatial max_pool2d
  // 2×2 windows of stride 2 on a CPU with vector units: detail::max_pool_2x2, same result.
  if (is_2x2_stride_2(geo) && detail::max_pool_2x2(x, planes, geo.h, geo.w, y, argmax)) return;
  for (std::size_t plane = 0; plane < planes; ++plane) {
    const float* in = x + plane * geo.h * geo.w;
    for (std::size_t i = 0; i < geo.ho; ++i) {
      // Taps that fall in the padding are skipped, which is the same as padding with −∞;
      // padding is at most half the kernel, so every window keeps at least one pixel.
      const Span rows = taps_inside(i, geo.kh, geo.h, geo);
      const std::size_t row0 = i * geo.stride - geo.pad;  // wraps below 0; the taps undo it
      for (std::size_t j = 0; j < geo.wo; ++j) {
        const Span cols = taps_inside(j, geo.kw, geo.w, geo);
        const std::size_t col0 = j * geo.stride - geo.pad;
        std::size_t best_index = (row0 + rows.first) * geo.w + col0 + cols.first;
        float best = in[best_index];
        for (std::size_t u = rows.first; u < rows.last; ++u) {
          for (std::size_t v = cols.first; v < cols.last; ++v) {
            const std::size_t index = (row0 + u) * geo.w + col0 + v;
            keep_larger(in[index], index, best, best_index);  // first maximum wins
          }
        }
        *y++ = best;
        *argmax++ = static_cast<std::uint32_t>(best_index);
      }
    }
  }
  // END SOLUTION
}

// dx [planes, H, W]: zeros, then each output's gradient added at the input its maximum came
// from (+=: overlapping windows can pick the same input).
void max_pool2d_backward(const float* grad_out, const std::uint32_t* argmax, std::size_t planes,
                         const Geometry& geo, float* dx) {
  // Hint: each output's gradient goes to the input its maximum came from: dx = zeros, then
  // dx_plane[argmax[k]] += g[k] for every output k of the plane.
  // BEGIN SOLUTION 09_spatial max_pool2d_backward
  std::fill(dx, dx + planes * geo.h * geo.w, 0.0f);
  for (std::size_t plane = 0; plane < planes; ++plane) {
    float* d = dx + plane * geo.h * geo.w;
    for (std::size_t k = 0; k < geo.out_plane(); ++k) d[argmax[k]] += grad_out[k];
    grad_out += geo.out_plane();
    argmax += geo.out_plane();
  }
  // END SOLUTION
}

// Tasks for a pooling over the batch's planes: a function of the shapes only.
std::size_t pool_parts(const Geometry& geo) {
  return detail::parts_for(geo.n * geo.c, static_cast<double>(geo.h * geo.w + geo.out_plane()),
                           3e4);
}

/// out = max_pool2d(x):  dx[argmax[k]] += g[k] (argmax cached by the forward).
struct MaxPool2dBackward : Node {
  MaxPool2dBackward(const Tensor& x, Geometry geometry, std::unique_ptr<std::uint32_t[]> argmax)
      : Node({x}), geo(geometry), argmax(std::move(argmax)) {}
  const char* name() const override { return "MaxPool2dBackward"; }
  bool reads_input(std::size_t) const override { return false; }  // only its shape
  void release_saved() override { argmax.reset(); }

  std::vector<Array> apply(const Array& grad_out) override {
    Array dx = Array::from_shape(inputs()[0].data().shape());
    const std::size_t planes = geo.n * geo.c, parts = pool_parts(geo);
    detail::parallel_for(parts, [&](std::size_t k) {
      const detail::Range r = detail::chunk(planes, parts, k);
      max_pool2d_backward(grad_out.data() + r.begin * geo.out_plane(),
                          argmax.get() + r.begin * geo.out_plane(), r.size(), geo,
                          dx.data() + r.begin * geo.h * geo.w);
    });
    return detail::gradients(std::move(dx));
  }

  Geometry geo;
  /// Index within its input plane of each output's maximum, one per output.
  std::unique_ptr<std::uint32_t[]> argmax;
};

}  // namespace

Tensor max_pool2d(const Tensor& x, KernelSize kernel, std::size_t stride, std::size_t padding) {
  const Geometry geo = pool_geometry("max_pool2d", x, kernel, stride, padding);
  Array y = Array::from_shape({geo.n, geo.c, geo.ho, geo.wo});
  // Every index is written by the kernels below: not zeroed first (new T[n], not a vector; on
  // LeNet-5 the zeroing was 1 % of the caller thread's time, outside the parallel kernels).
  std::unique_ptr<std::uint32_t[]> argmax(new std::uint32_t[y.size()]);
  const std::size_t planes = geo.n * geo.c, parts = pool_parts(geo);
  detail::parallel_for(parts, [&](std::size_t k) {
    const detail::Range r = detail::chunk(planes, parts, k);
    const float* in = x.data().data() + r.begin * geo.h * geo.w;
    float* out = y.data() + r.begin * geo.out_plane();
    std::uint32_t* arg = argmax.get() + r.begin * geo.out_plane();
    max_pool2d_forward(in, r.size(), geo, out, arg);
  });
  Tensor out(std::move(y));
  if (detail::should_record({&x}))
    return detail::attach(out, std::make_shared<MaxPool2dBackward>(x, geo, std::move(argmax)));
  return out;
}

// ---- average pooling ------------------------------------------------------------------------

namespace {

// dx [planes, H, W] of out = avg_pool2d(x): every input in window k receives g[k]/(kh·kw).
void avg_pool2d_backward(const float* grad_out, std::size_t planes, const Geometry& geo,
                         float* dx) {
  // Hint: dx = zeros; then for every output (i, j) of every plane, add g[k]/(kh·kw) to each
  // input of its window that lies inside the image (taps_inside, source_index).
  // BEGIN SOLUTION 09_spatial avg_pool2d_backward
  std::fill(dx, dx + planes * geo.h * geo.w, 0.0f);
  const float scale = 1.0f / static_cast<float>(geo.kh * geo.kw);
  const float* g = grad_out;
  for (std::size_t plane = 0; plane < planes; ++plane) {
    float* d = dx + plane * geo.h * geo.w;
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
  // END SOLUTION
}

/// out = avg_pool2d(x):  every input in window k receives g[k]/(kh·kw).
struct AvgPool2dBackward : Node {
  AvgPool2dBackward(const Tensor& x, Geometry geometry) : Node({x}), geo(geometry) {}
  const char* name() const override { return "AvgPool2dBackward"; }
  bool reads_input(std::size_t) const override { return false; }  // only its shape

  std::vector<Array> apply(const Array& grad_out) override {
    Array dx = Array::from_shape(inputs()[0].data().shape());
    const std::size_t planes = geo.n * geo.c, parts = pool_parts(geo);
    detail::parallel_for(parts, [&](std::size_t k) {
      const detail::Range r = detail::chunk(planes, parts, k);
      avg_pool2d_backward(grad_out.data() + r.begin * geo.out_plane(), r.size(), geo,
                          dx.data() + r.begin * geo.h * geo.w);
    });
    return detail::gradients(std::move(dx));
  }

  Geometry geo;
};

// Mean over each window of the planes at x [planes, H, W] into y [planes, Ho, Wo]; padding
// counts as zeros in the kh·kw divisor.
void avg_pool2d_forward(const float* x, std::size_t planes, const Geometry& geo, float* y) {
  // Hint: per plane and output (i, j) sum the taps inside the input (taps_inside) and divide
  // by kh·kw — padding adds zeros but still counts, as in the course.
  // BEGIN SOLUTION 09_spatial avg_pool2d
  const float scale = 1.0f / static_cast<float>(geo.kh * geo.kw);
  for (std::size_t plane = 0; plane < planes; ++plane) {
    const float* in = x + plane * geo.h * geo.w;
    for (std::size_t i = 0; i < geo.ho; ++i) {
      const Span rows = taps_inside(i, geo.kh, geo.h, geo);
      for (std::size_t j = 0; j < geo.wo; ++j) {
        const Span cols = taps_inside(j, geo.kw, geo.w, geo);
        const long corner =
            source_index(i, 0, geo) * static_cast<long>(geo.w) + source_index(j, 0, geo);
        float total = 0.0f;  // padding contributes zeros but still counts in kh·kw
        for (std::size_t u = rows.first; u < rows.last; ++u)
          for (std::size_t v = cols.first; v < cols.last; ++v)
            total += in[corner + static_cast<long>(u * geo.w + v)];
        *y++ = total * scale;
      }
    }
  }
  // END SOLUTION
}

}  // namespace

Tensor avg_pool2d(const Tensor& x, KernelSize kernel, std::size_t stride, std::size_t padding) {
  const Geometry geo = pool_geometry("avg_pool2d", x, kernel, stride, padding);
  Array y = Array::from_shape({geo.n, geo.c, geo.ho, geo.wo});
  const std::size_t planes = geo.n * geo.c, parts = pool_parts(geo);
  detail::parallel_for(parts, [&](std::size_t k) {
    const detail::Range r = detail::chunk(planes, parts, k);
    avg_pool2d_forward(x.data().data() + r.begin * geo.h * geo.w, r.size(), geo,
                       y.data() + r.begin * geo.out_plane());
  });
  Tensor out(std::move(y));
  if (detail::should_record({&x}))
    return detail::attach(out, std::make_shared<AvgPool2dBackward>(x, geo));
  return out;
}

}  // namespace tinytorch
