// Module 05 — Autograd: the backward rules of the module 01–04 ops (the exercises). Every
// rule below is the derivative written next to its node in internal/nodes.hpp;
// tests/05_autograd checks each one against central differences. Grad mode and the backward
// engine are in engine.cpp, anomaly detection in anomaly.cpp, gradcheck in gradcheck.cpp.
#include <tinytorch/core/autograd.hpp>

#include <algorithm>
#include <cmath>

#include <tinytorch/core/internal/nodes.hpp>
#include <tinytorch/detail/common.hpp>

namespace tinytorch {

// ---- unbroadcast: the gradient of a broadcast input ------------------------------------

Array detail::unbroadcast(const Array& grad, const Shape& shape) {
  // Hint: sum grad over its extra leading axes and over every axis where shape has 1 but grad does
  // not (xt::sum, immediate), then reshape to shape.
  // BEGIN SOLUTION 05_autograd unbroadcast
  if (std::equal(shape.begin(), shape.end(), grad.shape().begin(), grad.shape().end())) return grad;
  const std::size_t lead = grad.dimension() - shape.size();
  std::vector<std::size_t> axes;
  for (std::size_t i = 0; i < lead; ++i) axes.push_back(i);
  for (std::size_t j = 0; j < shape.size(); ++j) {
    if (shape[j] == 1 && grad.shape()[lead + j] != 1) axes.push_back(lead + j);
  }
  Array out = axes.empty() ? grad : Array(xt::sum(grad, axes, xt::evaluation_strategy::immediate));
  out.reshape(shape);
  return out;
  // END SOLUTION
}

Array detail::unbroadcast(Array&& grad, const Shape& shape) {
  if (std::equal(shape.begin(), shape.end(), grad.shape().begin(), grad.shape().end())) {
    return std::move(grad);
  }
  return unbroadcast(static_cast<const Array&>(grad), shape);
}

// ---- backward rules: arithmetic ---------------------------------------------------------

namespace {

// An empty Array marks "no gradient for this input" (it does not require grad).
const Array kNone = Array::from_shape({0});

// g broadcast back over the reduced `axes` to `in_shape` (the rule of sum, mean and max).
Array expand_over(const Array& g, const Shape& in_shape, const std::vector<std::size_t>& axes) {
  Array gk = g;
  gk.reshape(detail::keepdims_shape(in_shape, axes));
  Array out = xt::broadcast(gk, in_shape);
  return out;
}

}  // namespace

std::vector<Array> detail::AddBackward::apply(const Array& g) {
  // Hint: both inputs get g itself, each unbroadcast to its own shape; return kNone where
  // !needs_grad(i).
  // BEGIN SOLUTION 05_autograd add_backward
  return gradients(needs_grad(0) ? unbroadcast(g, inputs()[0].shape()) : kNone,
                   needs_grad(1) ? unbroadcast(g, inputs()[1].shape()) : kNone);
  // END SOLUTION
}

std::vector<Array> detail::SubBackward::apply(const Array& g) {
  // Hint: a gets g, b gets −g, each unbroadcast to its input's shape (kNone where no grad is
  // needed).
  // BEGIN SOLUTION 05_autograd sub_backward
  return gradients(needs_grad(0) ? unbroadcast(g, inputs()[0].shape()) : kNone,
                   needs_grad(1) ? unbroadcast(Array(-g), inputs()[1].shape()) : kNone);
  // END SOLUTION
}

std::vector<Array> detail::MulBackward::apply(const Array& g) {
  // Hint: d(ab)/da = b and d(ab)/db = a: return g·b and g·a, each unbroadcast to its input's shape.
  // BEGIN SOLUTION 05_autograd mul_backward
  const Array& a = inputs()[0].data();
  const Array& b = inputs()[1].data();
  return gradients(
      needs_grad(0) ? unbroadcast(Array(g * b), inputs()[0].shape()) : kNone,   // d(ab)/da = b
      needs_grad(1) ? unbroadcast(Array(g * a), inputs()[1].shape()) : kNone);  // d(ab)/db = a
  // END SOLUTION
}

std::vector<Array> detail::DivBackward::apply(const Array& g) {
  // Hint: d(a/b)/da = 1/b and d(a/b)/db = −a/b²: g/b and −g·a/(b·b), each unbroadcast.
  // BEGIN SOLUTION 05_autograd div_backward
  const Array& a = inputs()[0].data();
  const Array& b = inputs()[1].data();
  return gradients(needs_grad(0) ? unbroadcast(Array(g / b), inputs()[0].shape()) : kNone,  // 1/b
                   needs_grad(1)
                       ? unbroadcast(Array(-g * a / (b * b)), inputs()[1].shape())  // -a/b²
                       : kNone);
  // END SOLUTION
}

std::vector<Array> detail::NegBackward::apply(const Array& g) {
  return gradients(Array(-g));
}

std::vector<Array> detail::MatmulBackward::apply(const Array& g) {
  // Hint: da = g·bᵀ and db = aᵀ·g (detail::batched_matmul with its transpose flags); promote 1-D
  // operands as the forward did, unbroadcast batch axes.
  // BEGIN SOLUTION 05_autograd matmul_backward
  // Promote 1-D operands as the forward did (a row [1, K], a column [K, 1]) and give g the
  // promoted result shape; then da = g·bᵀ and db = aᵀ·g, each summed over broadcast batches.
  Array a = inputs()[0].data(), b = inputs()[1].data(), g2 = g;
  const bool a_vec = a.dimension() == 1, b_vec = b.dimension() == 1;
  if (a_vec) a.reshape({1, a.size()});
  if (b_vec) b.reshape({b.size(), 1});
  Shape g_shape = detail::to_shape(g.shape());
  if (a_vec) g_shape.insert(g_shape.end() - (b_vec ? 0 : 1), 1);
  if (b_vec) g_shape.push_back(1);
  g2.reshape(g_shape);
  Array da = kNone, db = kNone;
  if (needs_grad(0)) {
    da = unbroadcast(detail::batched_matmul(g2, b, false, true), detail::to_shape(a.shape()));
    da.reshape(inputs()[0].shape());
  }
  if (needs_grad(1)) {
    db = unbroadcast(detail::batched_matmul(a, g2, true, false), detail::to_shape(b.shape()));
    db.reshape(inputs()[1].shape());
  }
  return gradients(std::move(da), std::move(db));
  // END SOLUTION
}

// ---- backward rules: shape ops ----------------------------------------------------------

std::vector<Array> detail::TransposeBackward::apply(const Array& g) {
  // Hint: swapping two axes is its own inverse: transpose g with the same dim0 and dim1.
  // BEGIN SOLUTION 05_autograd transpose_backward
  std::vector<std::size_t> perm(g.dimension());
  for (std::size_t i = 0; i < perm.size(); ++i) perm[i] = i;
  std::swap(perm[dim0], perm[dim1]);  // a swap is its own inverse
  return gradients(Array(xt::transpose(g, perm)));
  // END SOLUTION
}

std::vector<Array> detail::ReshapeBackward::apply(const Array& g) {
  // Hint: a reshape moves no values: g reshaped to the input's shape.
  // BEGIN SOLUTION 05_autograd reshape_backward
  Array da = g;
  da.reshape(inputs()[0].shape());
  return gradients(std::move(da));
  // END SOLUTION
}

std::vector<Array> detail::SliceBackward::apply(const Array& g) {
  // Hint: zeros of the input's shape; add row i of g into row rows[i] (+=, so a row taken twice
  // gets both).
  // BEGIN SOLUTION 05_autograd slice_backward
  const Array& a = inputs()[0].data();
  Array da = xt::zeros<float>(a.shape());
  const std::size_t row = a.shape()[0] == 0 ? 0 : a.size() / a.shape()[0];
  const float* src = g.data();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    float* dst = da.data() + rows[i] * row;
    for (std::size_t j = 0; j < row; ++j) dst[j] += src[i * row + j];  // += : repeated rows add
  }
  return gradients(std::move(da));
  // END SOLUTION
}

// ---- backward rules: reductions ---------------------------------------------------------

std::vector<Array> detail::SumBackward::apply(const Array& g) {
  // Hint: every input element contributed once: broadcast g back over the reduced axes
  // (expand_over).
  // BEGIN SOLUTION 05_autograd sum_backward
  return gradients(expand_over(g, inputs()[0].shape(), axes));
  // END SOLUTION
}

std::vector<Array> detail::MeanBackward::apply(const Array& g) {
  // Hint: like sum, divided by the number of elements that were averaged (the product of the
  // reduced axes).
  // BEGIN SOLUTION 05_autograd mean_backward
  const Shape in_shape = inputs()[0].shape();
  std::size_t count = 1;
  for (std::size_t a : axes) count *= in_shape[a];
  Array da = expand_over(g, in_shape, axes);
  da /= static_cast<float>(count);
  return gradients(std::move(da));
  // END SOLUTION
}

std::vector<Array> detail::MaxBackward::apply(const Array& g) {
  // Hint: g goes to the elements equal to the maximum; ties share it equally (mask / count, both
  // expanded over the axes).
  // BEGIN SOLUTION 05_autograd max_backward
  const Array& a = inputs()[0].data();
  const Shape in_shape = inputs()[0].shape();
  // mask marks every maximum; ties share the gradient equally.
  const Array max_b = expand_over(out, in_shape, axes);
  Array mask = xt::cast<float>(xt::equal(a, max_b));
  Array counts =
      axes.empty() ? mask : Array(xt::sum(mask, axes, xt::evaluation_strategy::immediate));
  const Array counts_b = expand_over(counts, in_shape, axes);
  const Array g_b = expand_over(g, in_shape, axes);
  Array da = mask * g_b / counts_b;
  return gradients(std::move(da));
  // END SOLUTION
}

// ---- backward rules: element-wise math --------------------------------------------------

std::vector<Array> detail::ExpBackward::apply(const Array& g) {
  return gradients(Array(g * out));
}

std::vector<Array> detail::LogBackward::apply(const Array& g) {
  return gradients(Array(g / inputs()[0].data()));
}

std::vector<Array> detail::SqrtBackward::apply(const Array& g) {
  return gradients(Array(g / (2.0f * out)));
}

std::vector<Array> detail::PowBackward::apply(const Array& g) {
  const Array& a = inputs()[0].data();
  return gradients(Array(g * exponent * xt::pow(a, exponent - 1.0f)));
}

// ---- backward rules: activations (module 02) --------------------------------------------

namespace {

// dx[i] = g[i] where the input x[i] was > 0, else 0, for n elements.
void relu_backward(const float* x, const float* g, float* dx, std::size_t n) {
  // Hint: g where the input was > 0, else 0 (ReLU's slope at 0 is taken as 0).
  // BEGIN SOLUTION 05_autograd relu_backward
  for (std::size_t i = 0; i < n; ++i) {
    const float gi = g[i];  // read unconditionally, so that the loop vectorises
    dx[i] = x[i] > 0.0f ? gi : 0.0f;
  }
  // END SOLUTION
}

}  // namespace

std::vector<Array> detail::ReluBackward::apply(const Array& g) {
  const float* x = inputs()[0].data().data();
  Array dx = Array::from_shape(g.shape());
  detail::parallel_ranges(g.size(), [&](detail::Range r) {
    relu_backward(x + r.begin, g.data() + r.begin, dx.data() + r.begin, r.size());
  });
  return gradients(std::move(dx));
}

std::vector<Array> detail::SigmoidBackward::apply(const Array& g) {
  // Hint: σ' = σ(1 − σ), and the forward output `out` is σ: g·out·(1 − out).
  // BEGIN SOLUTION 05_autograd sigmoid_backward
  return gradients(Array(g * out * (1.0f - out)));
  // END SOLUTION
}

std::vector<Array> detail::TanhBackward::apply(const Array& g) {
  // Hint: tanh' = 1 − tanh², with the saved output: g·(1 − out²).
  // BEGIN SOLUTION 05_autograd tanh_backward
  return gradients(Array(g * (1.0f - out * out)));
  // END SOLUTION
}

std::vector<Array> detail::GeluBackward::apply(const Array& g) {
  // Hint: with s = σ(1.702x): d/dx x·s = s + 1.702·x·s·(1 − s); multiply by g per element.
  // BEGIN SOLUTION 05_autograd gelu_backward
  // gelu(x) = x·s with s = σ(kx):  d/dx = s + k·x·s·(1 − s)
  constexpr float k = 1.702f;
  const Array& x = inputs()[0].data();
  Array da = Array::from_shape(g.shape());
  for (std::size_t i = 0; i < da.size(); ++i) {
    const float xi = x.data()[i];
    const float s = 1.0f / (1.0f + std::exp(-k * xi));
    da.data()[i] = g.data()[i] * (s + k * xi * s * (1.0f - s));
  }
  return gradients(std::move(da));
  // END SOLUTION
}

std::vector<Array> detail::SoftmaxBackward::apply(const Array& g) {
  // Hint: per line along the axis: dx = y·(g − Σ g·y), with y the saved output (split_at gives the
  // lines).
  // BEGIN SOLUTION 05_autograd softmax_backward
  const detail::AxisSplit s = detail::split_at(detail::to_shape(out.shape()), axis);
  Array da = Array::from_shape(out.shape());
  for (std::size_t o = 0; o < s.outer; ++o) {
    for (std::size_t i = 0; i < s.inner; ++i) {
      const std::size_t base = o * s.n * s.inner + i;
      double dot = 0.0;  // Σ_k g_k·y_k
      for (std::size_t k = 0; k < s.n; ++k)
        dot += g.data()[base + k * s.inner] * out.data()[base + k * s.inner];
      for (std::size_t k = 0; k < s.n; ++k) {
        const std::size_t j = base + k * s.inner;
        da.data()[j] = out.data()[j] * (g.data()[j] - static_cast<float>(dot));
      }
    }
  }
  return gradients(std::move(da));
  // END SOLUTION
}

std::vector<Array> detail::LogSoftmaxBackward::apply(const Array& g) {
  // Hint: per line along the axis: dx = g − e^out·Σ g (e^out is the softmax).
  // BEGIN SOLUTION 05_autograd log_softmax_backward
  const detail::AxisSplit s = detail::split_at(detail::to_shape(out.shape()), axis);
  Array da = Array::from_shape(out.shape());
  for (std::size_t o = 0; o < s.outer; ++o) {
    for (std::size_t i = 0; i < s.inner; ++i) {
      const std::size_t base = o * s.n * s.inner + i;
      double total = 0.0;  // Σ_k g_k
      for (std::size_t k = 0; k < s.n; ++k) total += g.data()[base + k * s.inner];
      for (std::size_t k = 0; k < s.n; ++k) {
        const std::size_t j = base + k * s.inner;
        da.data()[j] = g.data()[j] - std::exp(out.data()[j]) * static_cast<float>(total);
      }
    }
  }
  return gradients(std::move(da));
  // END SOLUTION
}

// ---- backward rules: layers and losses (modules 03–04) ----------------------------------

namespace {

// The gradients of y = x·W + b for n rows of a batch, given g = dL/dy [n, out]: dx = g·Wᵀ
// [n, in], dw = xᵀ·g [in, out], db = column sums of g [out]. Any output may be null.
void linear_backward(const float* x, const float* w, const float* g, std::size_t n, std::size_t in,
                     std::size_t out, float* dx, float* dw, float* db) {
  // Hint: three GEMMs' worth: dx = g·Wᵀ, dW = xᵀ·g (detail::gemm with transpose flags), db = column
  // sums of g.
  // BEGIN SOLUTION 05_autograd linear_backward
  if (dx) detail::gemm(false, true, n, in, out, 1.0f, g, w, 0.0f, dx);  // [n, out]·[out, in]
  if (dw) detail::gemm(true, false, in, out, n, 1.0f, x, g, 0.0f, dw);  // [in, n]·[n, out]
  if (db) {
    std::fill(db, db + out, 0.0f);
    for (std::size_t r = 0; r < n; ++r) {
      for (std::size_t c = 0; c < out; ++c) db[c] += g[r * out + c];
    }
  }
  // END SOLUTION
}

}  // namespace

std::vector<Array> detail::LinearBackward::apply(const Array& g) {
  const Array& x = inputs()[0].data();
  const Array& w = inputs()[1].data();
  const std::size_t n = x.shape()[0], in = w.shape()[0], out = w.shape()[1];
  const bool want_db = inputs().size() > 2 && needs_grad(2);
  std::vector<Array> grads(inputs().size(), kNone);
  if (needs_grad(0)) grads[0] = Array::from_shape({n, in});
  if (needs_grad(1)) grads[1] = Array::from_shape({in, out});
  if (want_db) grads[2] = Array::from_shape({out});
  // Tasks take slices of the batch; with more than one, each writes its dW and db to a
  // partial of its own and the partials are summed in task order. Two at most: the sum costs
  // a pass over dW per extra part.
  const std::size_t parts = detail::parts_for(n, 4.0 * static_cast<double>(in * out), 1e6, 2);
  const std::size_t partial = in * out + out;
  float* partials =
      parts > 1 ? detail::scratch(detail::Scratch::kPartials, parts * partial) : nullptr;
  detail::parallel_for(parts, [&](std::size_t k) {
    const detail::Range r = detail::chunk(n, parts, k);
    float* dw = partials ? partials + k * partial : grads[1].data();
    float* db = partials ? dw + in * out : (want_db ? grads[2].data() : nullptr);
    linear_backward(x.data() + r.begin * in, w.data(), g.data() + r.begin * out, r.size(), in, out,
                    needs_grad(0) ? grads[0].data() + r.begin * in : nullptr,
                    needs_grad(1) ? dw : nullptr, want_db ? db : nullptr);
  });
  if (partials) {
    if (needs_grad(1)) detail::sum_parts(partials, parts, partial, in * out, 0, grads[1].data());
    if (want_db) detail::sum_parts(partials, parts, partial, out, in * out, grads[2].data());
  }
  return grads;
}

std::vector<Array> detail::MseBackward::apply(const Array& g) {
  // Hint: dL/dp = 2(p − t)/n times the upstream scalar g(); the target gets the negative of that.
  // BEGIN SOLUTION 05_autograd mse_backward
  const Array& p = inputs()[0].data();
  const Array& t = inputs()[1].data();
  const float scale = g() * 2.0f / static_cast<float>(p.size());
  return gradients(needs_grad(0) ? Array(scale * (p - t)) : kNone,
                   needs_grad(1) ? Array(-scale * (p - t)) : kNone);
  // END SOLUTION
}

std::vector<Array> detail::BceBackward::apply(const Array& g) {
  // Hint: with p clamped to [ε, 1 − ε] (ε = 1e-7): dL/dp = (p − y)/(p(1 − p)·n)·g() where p lies
  // inside the clamp and 0 outside; dL/dy = (log(1 − p) − log p)/n·g(). kNone where !needs_grad.
  // BEGIN SOLUTION 05_autograd bce_backward
  constexpr float eps = 1e-7f;
  const Array& p = inputs()[0].data();
  const Array& y = inputs()[1].data();
  const float scale = g() / static_cast<float>(p.size());
  const bool want_p = needs_grad(0), want_y = needs_grad(1);
  Array dp = want_p ? Array::from_shape(p.shape()) : kNone;
  Array dy = want_y ? Array::from_shape(y.shape()) : kNone;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const float pi = p.data()[i];
    const bool clamped = pi < eps || pi > 1.0f - eps;  // the clamp's gradient is 0 outside
    if (want_p) dp.data()[i] = clamped ? 0.0f : scale * (pi - y.data()[i]) / (pi * (1.0f - pi));
    if (want_y) {
      const float pc = std::clamp(pi, eps, 1.0f - eps);  // the forward's clamped p
      dy.data()[i] = scale * (std::log(1.0f - pc) - std::log(pc));
    }
  }
  return {dp, dy};
  // END SOLUTION
}

std::vector<Array> detail::CrossEntropyBackward::apply(const Array& g) {
  // Hint: dz = (softmax − onehot(y))/N · g(): copy the saved probs scaled, subtract the scale at
  // each row's label.
  // BEGIN SOLUTION 05_autograd cross_entropy_backward
  const std::size_t n = probs.shape()[0], c = probs.shape()[1];
  const float scale = g() / static_cast<float>(n);
  Array dz = probs * scale;  // (softmax − onehot)/N
  for (std::size_t i = 0; i < n; ++i) dz.data()[i * c + labels[i]] -= scale;
  return gradients(std::move(dz));
  // END SOLUTION
}

std::vector<Array> detail::DropoutBackward::apply(const Array& g) {
  // Hint: the forward multiplied by the scaled mask, so the gradient does too: g·scaled_mask.
  // BEGIN SOLUTION 05_autograd dropout_backward
  return gradients(Array(g * scaled_mask));
  // END SOLUTION
}

}  // namespace tinytorch
