// Module 01 — Tensor ops: arithmetic with broadcasting, matmul and reductions. Each op
// computes a materialised result, then records its backward node (rules in autograd.cpp) when
// an input requires grad.
#include <tinytorch/core/internal/nodes.hpp>
#include <tinytorch/core/tensor.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include <tinytorch/core/autograd.hpp>
#include <tinytorch/detail/common.hpp>

namespace tinytorch {

// ---- arithmetic -------------------------------------------------------------------------
// Each op is an exercise-sized forward on arrays (what a student writes in module 01), and a
// wrapper that checks the shapes and records the backward node (module 05).

namespace {

Array add_forward(const Array& a, const Array& b) {
  // Hint: xtensor broadcasts like NumPy: a + b already has the broadcast shape.
  // BEGIN SOLUTION 01_tensor add
  return a + b;
  // END SOLUTION
}

Array sub_forward(const Array& a, const Array& b) {
  // Hint: the element-wise difference a − b, broadcast like add.
  // BEGIN SOLUTION 01_tensor sub
  return a - b;
  // END SOLUTION
}

Array mul_forward(const Array& a, const Array& b) {
  // Hint: the element-wise (Hadamard) product, broadcast like add — not a matrix product.
  // BEGIN SOLUTION 01_tensor mul
  return a * b;
  // END SOLUTION
}

Array div_forward(const Array& a, const Array& b) {
  // Hint: the element-wise quotient; dividing by zero gives ±inf, as in NumPy (no check).
  // BEGIN SOLUTION 01_tensor div
  return a / b;
  // END SOLUTION
}

// The broadcast check runs before the exercise, so its message names the op and both shapes.
void check_broadcast(const char* op, const Tensor& a, const Tensor& b) {
  if (a.data().shape() != b.data().shape()) detail::broadcast_shapes(op, a.shape(), b.shape());
}

}  // namespace

Tensor operator+(const Tensor& a, const Tensor& b) {
  check_broadcast("add", a, b);
  Tensor out(add_forward(a.data(), b.data()));
  if (detail::should_record({&a, &b}))
    return detail::attach(out, std::make_shared<detail::AddBackward>(a, b));
  return out;
}

Tensor operator-(const Tensor& a, const Tensor& b) {
  check_broadcast("sub", a, b);
  Tensor out(sub_forward(a.data(), b.data()));
  if (detail::should_record({&a, &b}))
    return detail::attach(out, std::make_shared<detail::SubBackward>(a, b));
  return out;
}

Tensor operator*(const Tensor& a, const Tensor& b) {
  check_broadcast("mul", a, b);
  Tensor out(mul_forward(a.data(), b.data()));
  if (detail::should_record({&a, &b}))
    return detail::attach(out, std::make_shared<detail::MulBackward>(a, b));
  return out;
}

Tensor operator/(const Tensor& a, const Tensor& b) {
  check_broadcast("div", a, b);
  Tensor out(div_forward(a.data(), b.data()));
  if (detail::should_record({&a, &b}))
    return detail::attach(out, std::make_shared<detail::DivBackward>(a, b));
  return out;
}

Tensor operator-(const Tensor& a) {
  Tensor out(Array(-a.data()));
  if (detail::should_record({&a}))
    return detail::attach(out, std::make_shared<detail::NegBackward>(a));
  return out;
}

Tensor operator+(const Tensor& a, float b) {
  return a + Tensor::scalar(b);
}
Tensor operator-(const Tensor& a, float b) {
  return a - Tensor::scalar(b);
}
Tensor operator*(const Tensor& a, float b) {
  return a * Tensor::scalar(b);
}
Tensor operator/(const Tensor& a, float b) {
  return a / Tensor::scalar(b);
}
Tensor operator+(float a, const Tensor& b) {
  return Tensor::scalar(a) + b;
}
Tensor operator-(float a, const Tensor& b) {
  return Tensor::scalar(a) - b;
}
Tensor operator*(float a, const Tensor& b) {
  return Tensor::scalar(a) * b;
}
Tensor operator/(float a, const Tensor& b) {
  return Tensor::scalar(a) / b;
}

Tensor Tensor::exp() const {
  Tensor out(Array(xt::exp(data())));
  if (detail::should_record({this}))
    return detail::attach(out, std::make_shared<detail::ExpBackward>(*this, out));
  return out;
}

Tensor Tensor::log() const {
  Tensor out(Array(xt::log(data())));
  if (detail::should_record({this}))
    return detail::attach(out, std::make_shared<detail::LogBackward>(*this));
  return out;
}

Tensor Tensor::sqrt() const {
  Tensor out(Array(xt::sqrt(data())));
  if (detail::should_record({this}))
    return detail::attach(out, std::make_shared<detail::SqrtBackward>(*this, out));
  return out;
}

Tensor Tensor::pow(float exponent) const {
  Tensor out(Array(xt::pow(data(), exponent)));
  if (detail::should_record({this}))
    return detail::attach(out, std::make_shared<detail::PowBackward>(*this, exponent));
  return out;
}

// ---- matmul -----------------------------------------------------------------------------

namespace {

// The result of a @ b following NumPy: a 1-D left operand is a row [1, K] and a 1-D right
// operand a column [K, 1]; the added axis is removed from the result.
Array matmul_forward(const Array& a, const Array& b) {
  // Hint: check a's last axis against b's second-to-last, then one detail::gemm for 2-D @ 2-D;
  // promote 1-D operands to a row/column, use detail::batched_matmul, drop the added axis.
  // BEGIN SOLUTION 01_tensor matmul
  const std::size_t ra = a.dimension(), rb = b.dimension();
  const std::size_t ka = a.shape()[ra - 1];
  const std::size_t kb = rb == 1 ? b.shape()[0] : b.shape()[rb - 2];
  if (ka != kb) {
    detail::fail_shape("matmul: inner dimensions differ: {} @ {} ({} != {})",
                       shape_str(detail::to_shape(a.shape())),
                       shape_str(detail::to_shape(b.shape())), ka, kb);
  }
  if (ra == 2 && rb == 2) {  // the hot path: one sgemm, no reshapes
    Array out = Array::from_shape({a.shape()[0], b.shape()[1]});
    detail::gemm(false, false, a.shape()[0], b.shape()[1], ka, 1.0f, a.data(), b.data(), 0.0f,
                 out.data());
    return out;
  }
  Array a2 = a, b2 = b;
  if (ra == 1) a2.reshape({1, ka});
  if (rb == 1) b2.reshape({kb, 1});
  Array out = detail::batched_matmul(a2, b2);
  Shape shape = detail::to_shape(out.shape());
  if (rb == 1) shape.erase(shape.end() - 1);
  if (ra == 1) shape.erase(shape.end() - (rb == 1 ? 1 : 2));
  out.reshape(shape);
  return out;
  // END SOLUTION
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  if (a.ndim() == 0 || b.ndim() == 0) return a * b;  // NumPy/course: 0-d is element-wise
  Tensor out(matmul_forward(a.data(), b.data()));
  if (detail::should_record({&a, &b}))
    return detail::attach(out, std::make_shared<detail::MatmulBackward>(a, b));
  return out;
}

Tensor Tensor::matmul(const Tensor& other) const {
  return tinytorch::matmul(*this, other);
}

// ---- reductions -------------------------------------------------------------------------

namespace {

std::vector<std::size_t> all_axes(std::size_t ndim) {
  std::vector<std::size_t> axes(ndim);
  for (std::size_t i = 0; i < ndim; ++i) axes[i] = i;
  return axes;
}

// The reduced shape: `in` without `axes` (or with them set to 1 when keepdims).
Shape reduced_shape(const Shape& in, const std::vector<std::size_t>& axes, bool keepdims) {
  if (keepdims) return detail::keepdims_shape(in, axes);
  Shape out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (std::find(axes.begin(), axes.end(), i) == axes.end()) out.push_back(in[i]);
  }
  return out;
}

Array sum_over(const Array& a, const std::vector<std::size_t>& axes, bool keepdims) {
  // Hint: xt::sum(a, axes, xt::evaluation_strategy::immediate) drops the axes; reshape the
  // result to reduced_shape(...) so keepdims keeps them as 1. No axes: a copy of a.
  // BEGIN SOLUTION 01_tensor sum
  const Shape out_shape = reduced_shape(detail::to_shape(a.shape()), axes, keepdims);
  if (axes.empty()) return a;
  Array out = xt::sum(a, axes, xt::evaluation_strategy::immediate);
  out.reshape(out_shape);
  return out;
  // END SOLUTION
}

Array max_over(const Array& a, const std::vector<std::size_t>& axes, bool keepdims) {
  // Hint: like sum_over with xt::amax; the caller has already refused empty axes.
  // BEGIN SOLUTION 01_tensor max
  if (axes.empty()) return a;
  Array out = xt::amax(a, axes, xt::evaluation_strategy::immediate);
  out.reshape(reduced_shape(detail::to_shape(a.shape()), axes, keepdims));
  return out;
  // END SOLUTION
}

// Index of the first maximum of each line along the middle axis of an [outer, n, inner] view.
Array argmax_lines(const float* x, const detail::AxisSplit& s, const Shape& out_shape) {
  // Hint: for each (o, i) walk k = 0..n−1 over x[(o·n + k)·inner + i]; keep the first
  // maximum (strict >), and store its index k as a float.
  // BEGIN SOLUTION 01_tensor argmax
  Array out = Array::from_shape(out_shape);
  for (std::size_t o = 0; o < s.outer; ++o) {
    for (std::size_t i = 0; i < s.inner; ++i) {
      const float* base = x + o * s.n * s.inner + i;
      std::size_t best = 0;
      for (std::size_t k = 1; k < s.n; ++k) {
        if (base[k * s.inner] > base[best * s.inner]) best = k;  // strict: first maximum wins
      }
      out.data()[o * s.inner + i] = static_cast<float>(best);
    }
  }
  return out;
  // END SOLUTION
}

}  // namespace

Tensor Tensor::sum() const {
  return sum(std::vector<int>{}, false);
}

Tensor Tensor::sum(const std::vector<int>& axes, bool keepdims) const {
  const std::vector<std::size_t> ax =
      axes.empty() ? all_axes(ndim()) : detail::normalize_axes("sum", axes, ndim());
  Tensor out(sum_over(data(), ax, keepdims));
  if (detail::should_record({this}))
    return detail::attach(out, std::make_shared<detail::SumBackward>(*this, ax));
  return out;
}

Tensor Tensor::mean() const {
  return mean(std::vector<int>{}, false);
}

Tensor Tensor::mean(const std::vector<int>& axes, bool keepdims) const {
  const std::vector<std::size_t> ax =
      axes.empty() ? all_axes(ndim()) : detail::normalize_axes("mean", axes, ndim());
  std::size_t count = 1;
  for (std::size_t a : ax) count *= data().shape()[a];
  Array s = sum_over(data(), ax, keepdims);
  s /= static_cast<float>(count);
  Tensor out(std::move(s));
  if (detail::should_record({this}))
    return detail::attach(out, std::make_shared<detail::MeanBackward>(*this, ax));
  return out;
}

Tensor Tensor::max() const {
  return max(std::vector<int>{}, false);
}

Tensor Tensor::max(const std::vector<int>& axes, bool keepdims) const {
  const std::vector<std::size_t> ax =
      axes.empty() ? all_axes(ndim()) : detail::normalize_axes("max", axes, ndim());
  for (std::size_t a : ax) {
    if (data().shape()[a] == 0) {
      detail::fail_shape("max: cannot reduce over an empty axis; got shape {}", shape_str(shape()));
    }
  }
  Array m = max_over(data(), ax, keepdims);
  Tensor out(std::move(m));
  if (detail::should_record({this}))
    return detail::attach(out, std::make_shared<detail::MaxBackward>(*this, out, ax));
  return out;
}

Tensor Tensor::argmax(int axis) const {
  const std::size_t ax = detail::normalize_axis("argmax", axis, ndim());
  const detail::AxisSplit s = detail::split_at(shape(), ax);
  if (s.n == 0)
    detail::fail_shape("argmax: cannot reduce over an empty axis; got shape {}",
                       shape_str(shape()));
  Shape out_shape = shape();
  out_shape.erase(out_shape.begin() + static_cast<long>(ax));
  return Tensor(argmax_lines(data().data(), s, out_shape));
}

}  // namespace tinytorch
