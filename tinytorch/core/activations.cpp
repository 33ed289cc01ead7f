// Module 02 — Activations. Forward kernels here; backward rules in autograd.cpp.
#include <tinytorch/core/activations.hpp>
#include <tinytorch/core/internal/nodes.hpp>

#include <cmath>

#include <tinytorch/core/autograd.hpp>
#include <tinytorch/detail/common.hpp>

namespace tinytorch {

namespace {

// y[i] = max(0, x[i]) for n elements; a NaN stays NaN (as in PyTorch), so the loss shows it.
void relu_forward(const float* x, float* y, std::size_t n) {
  // Hint: max(0, x) element by element, a plain loop over the raw memory; but a NaN must stay
  // NaN (as in PyTorch) so that the loss shows it: x < 0 ? 0 : x.
  // BEGIN SOLUTION 02_activations relu
  for (std::size_t i = 0; i < n; ++i) y[i] = x[i] < 0.0f ? 0.0f : x[i];
  // END SOLUTION
}

// σ(z) without overflow: e^-z for z ≥ 0 and e^z for z < 0 never exceed 1.
float stable_sigmoid(float z) {
  // Hint: for z ≥ 0 use 1/(1 + e^−z); for z < 0 use e^z/(1 + e^z), so exp never overflows.
  // BEGIN SOLUTION 02_activations sigmoid
  if (z >= 0.0f) return 1.0f / (1.0f + std::exp(-z));
  const float e = std::exp(z);
  return e / (1.0f + e);
  // END SOLUTION
}

Array tanh_forward(const Array& x) {
  // Hint: xt::tanh(x) is already stable for large |x|.
  // BEGIN SOLUTION 02_activations tanh
  return xt::tanh(x);
  // END SOLUTION
}

Array gelu_forward(const Array& x) {
  // Hint: the course's approximation x·σ(1.702x); reuse stable_sigmoid per element.
  // BEGIN SOLUTION 02_activations gelu
  Array y = Array::from_shape(x.shape());
  for (std::size_t i = 0; i < y.size(); ++i) {
    const float xi = x.data()[i];
    y.data()[i] = xi * stable_sigmoid(1.702f * xi);
  }
  return y;
  // END SOLUTION
}

}  // namespace

Tensor relu(const Tensor& x) {
  Array y = Array::from_shape(x.data().shape());
  detail::parallel_ranges(y.size(), [&](detail::Range r) {
    relu_forward(x.data().data() + r.begin, y.data() + r.begin, r.size());
  });
  Tensor out(std::move(y));
  if (detail::should_record({&x}))
    return detail::attach(out, std::make_shared<detail::ReluBackward>(x));
  return out;
}

Tensor sigmoid(const Tensor& x) {
  Array y = Array::from_shape(x.data().shape());
  for (std::size_t i = 0; i < y.size(); ++i) y.data()[i] = stable_sigmoid(x.data().data()[i]);
  Tensor out(std::move(y));
  if (detail::should_record({&x}))
    return detail::attach(out, std::make_shared<detail::SigmoidBackward>(x, out));
  return out;
}

Tensor tanh(const Tensor& x) {
  Tensor out(tanh_forward(x.data()));
  if (detail::should_record({&x}))
    return detail::attach(out, std::make_shared<detail::TanhBackward>(x, out));
  return out;
}

Tensor gelu(const Tensor& x) {
  Tensor out(gelu_forward(x.data()));
  if (detail::should_record({&x}))
    return detail::attach(out, std::make_shared<detail::GeluBackward>(x));
  return out;
}

namespace {

// Softmax or log-softmax of every line along `axis`, looping over raw data: subtract the
// line's maximum, exponentiate, normalise. (xtensor 0.24.3's lazy keep_dims reducers give
// wrong numbers inside such expressions, so no reducer is broadcast here.)
Array softmax_lines(const Array& x, std::size_t axis, bool log) {
  // Hint: split_at gives [outer, n, inner]; per line take the max m, total = Σ e^(x−m) (in
  // double), then y = e^(x − m − log total), or x − m − log total for log-softmax.
  // BEGIN SOLUTION 02_activations softmax
  const detail::AxisSplit s = detail::split_at(detail::to_shape(x.shape()), axis);
  Array y = Array::from_shape(x.shape());
  for (std::size_t o = 0; o < s.outer; ++o) {
    for (std::size_t i = 0; i < s.inner; ++i) {
      const std::size_t base = o * s.n * s.inner + i;
      float m = -INFINITY;
      for (std::size_t k = 0; k < s.n; ++k) m = std::max(m, x.data()[base + k * s.inner]);
      double total = 0.0;
      for (std::size_t k = 0; k < s.n; ++k) total += std::exp(x.data()[base + k * s.inner] - m);
      const float log_total = static_cast<float>(std::log(total));
      for (std::size_t k = 0; k < s.n; ++k) {
        const std::size_t j = base + k * s.inner;
        const float shifted = x.data()[j] - m;
        y.data()[j] = log ? shifted - log_total : std::exp(shifted - log_total);
      }
    }
  }
  return y;
  // END SOLUTION
}

}  // namespace

Tensor softmax(const Tensor& x, int dim) {
  if (x.ndim() == 0) detail::fail_shape("softmax: expected at least 1-D input, got a 0-d tensor");
  const std::size_t axis = detail::normalize_axis("softmax", dim, x.ndim());
  Tensor out(softmax_lines(x.data(), axis, false));
  if (detail::should_record({&x}))
    return detail::attach(out, std::make_shared<detail::SoftmaxBackward>(x, out, axis));
  return out;
}

Tensor log_softmax(const Tensor& x, int dim) {
  if (x.ndim() == 0)
    detail::fail_shape("log_softmax: expected at least 1-D input, got a 0-d tensor");
  const std::size_t axis = detail::normalize_axis("log_softmax", dim, x.ndim());
  Tensor out(softmax_lines(x.data(), axis, true));
  if (detail::should_record({&x}))
    return detail::attach(out, std::make_shared<detail::LogSoftmaxBackward>(x, out, axis));
  return out;
}

std::string Softmax::repr() const {
  return fmt::format("Softmax(dim={})", dim_);
}
std::string LogSoftmax::repr() const {
  return fmt::format("LogSoftmax(dim={})", dim_);
}

}  // namespace tinytorch
