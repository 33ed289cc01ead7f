// Module 03 — Layers. Forward passes here; LinearBackward and DropoutBackward in autograd.cpp.
#include <tinytorch/core/layers.hpp>
#include <tinytorch/core/internal/nodes.hpp>

#include <cmath>

#include <tinytorch/core/autograd.hpp>
#include <tinytorch/detail/common.hpp>

namespace tinytorch {

namespace {

// y [n, out] = x [n, in]·W [in, out] + b for n rows of a batch (b may be null).
void linear_forward(const float* x, const float* w, const float* b, std::size_t n, std::size_t in,
                    std::size_t out, float* y) {
  // Hint: fill each row of y [n, out] with b (when there is one), then one detail::gemm
  // y = 1·x·W + β·y with β = 1 if there is a bias, else 0.
  // BEGIN SOLUTION 03_layers linear
  if (b) {
    for (std::size_t r = 0; r < n; ++r) std::copy(b, b + out, y + r * out);
  }
  detail::gemm(false, false, n, out, in, 1.0f, x, w, b ? 1.0f : 0.0f, y);
  // END SOLUTION
}

// The course's initialisation of W [in, out]: normal with standard deviation √(1/in).
Tensor linear_init_weight(std::size_t in, std::size_t out) {
  // Hint: Tensor::randn({in, out}) draws N(0, 1) from the library generator; scale its
  // data() by √(1/in) (LeCun normal; the course calls it Xavier).
  // BEGIN SOLUTION 03_layers linear_init
  Tensor w = Tensor::randn({in, out});
  w.data() *= static_cast<float>(std::sqrt(1.0 / static_cast<double>(in)));
  return w;
  // END SOLUTION
}

// Inverted dropout's mask: 1/(1 − p) where an element survives (probability 1 − p), else 0.
Array dropout_mask(const Array& x, float p) {
  // Hint: draw u ~ U[0, 1) per element from detail::rng(); keep when u < 1 − p. p = 1 keeps
  // nothing (and must not divide by zero).
  // BEGIN SOLUTION 03_layers dropout
  Array mask = Array::from_shape(x.shape());
  const float scale = p == 1.0f ? 0.0f : 1.0f / (1.0f - p);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  for (float& m : mask) m = uniform(detail::rng()) < 1.0f - p ? scale : 0.0f;
  return mask;
  // END SOLUTION
}

}  // namespace

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  if (weight.ndim() != 2) {
    detail::fail_shape("linear: expected a 2-D weight [in, out], got {}",
                       shape_str(weight.shape()));
  }
  const std::size_t in = weight.data().shape()[0], out = weight.data().shape()[1];
  if (x.ndim() == 0 || x.data().shape()[x.ndim() - 1] != in) {
    detail::fail_shape("linear: expected input [N, {}], got {}", in, shape_str(x.shape()));
  }
  if (bias.defined() && (bias.ndim() != 1 || bias.size() != out)) {
    detail::fail_shape("linear: expected bias [{}], got {}", out, shape_str(bias.shape()));
  }
  if (x.ndim() != 2) {  // fold leading axes into N, then restore them
    std::vector<long> out_shape;
    for (std::size_t i = 0; i + 1 < x.ndim(); ++i)
      out_shape.push_back(static_cast<long>(x.dim(static_cast<int>(i))));
    out_shape.push_back(static_cast<long>(out));
    return linear(x.reshape({-1, static_cast<long>(in)}), weight, bias).reshape(out_shape);
  }
  // Rows are independent: tasks take slices of the batch (detail/threads.hpp).
  const std::size_t n = x.data().shape()[0];
  const std::size_t parts = detail::parts_for(n, 2.0 * static_cast<double>(in * out));
  const float* b = bias.defined() ? bias.data().data() : nullptr;
  Array y = Array::from_shape({n, out});
  detail::parallel_for(parts, [&](std::size_t k) {
    const detail::Range r = detail::chunk(n, parts, k);
    linear_forward(x.data().data() + r.begin * in, weight.data().data(), b, r.size(), in, out,
                   y.data() + r.begin * out);
  });
  Tensor result(std::move(y));
  if (bias.defined() && detail::should_record({&x, &weight, &bias})) {
    return detail::attach(result, std::make_shared<detail::LinearBackward>(x, weight, bias));
  }
  if (!bias.defined() && detail::should_record({&x, &weight})) {
    return detail::attach(result, std::make_shared<detail::LinearBackward>(x, weight));
  }
  return result;
}

Linear::Linear(std::size_t in_features, std::size_t out_features, bool use_bias)
    : in_features(in_features), out_features(out_features) {
  if (in_features == 0 || out_features == 0) {
    detail::fail_arg("Linear: expected positive sizes, got in_features={} out_features={}",
                     in_features, out_features);
  }
  detail::checked_numel("Linear", {in_features, out_features});
  weight = register_parameter("weight", linear_init_weight(in_features, out_features));
  if (use_bias) bias = register_parameter("bias", Tensor::zeros({out_features}));
}

Tensor Linear::forward(const Tensor& x) {
  return linear(x, weight, bias);
}

std::string Linear::repr() const {
  return fmt::format("Linear(in_features={}, out_features={}, bias={})", in_features, out_features,
                     bias.defined() ? "true" : "false");
}

Tensor dropout(const Tensor& x, float p, bool training) {
  if (!(p >= 0.0f && p <= 1.0f)) {
    detail::fail_arg("dropout: probability must be between 0.0 and 1.0, got {}", p);
  }
  if (!training || p == 0.0f) return x;
  Array mask = dropout_mask(x.data(), p);
  Tensor out(Array(x.data() * mask));
  if (detail::should_record({&x}))
    return detail::attach(out, std::make_shared<detail::DropoutBackward>(x, std::move(mask)));
  return out;
}

Dropout::Dropout(float p) : p_(p) {
  if (!(p >= 0.0f && p <= 1.0f)) {
    detail::fail_arg("Dropout: probability must be between 0.0 and 1.0, got {}", p);
  }
}

std::string Dropout::repr() const {
  return fmt::format("Dropout(p={})", p_);
}

Sequential::Sequential(std::vector<std::shared_ptr<Module>> modules) {
  for (auto& m : modules) push_back(std::move(m));
}

void Sequential::push_back(std::shared_ptr<Module> module) {
  if (!module) detail::fail_arg("Sequential: module {} is null", size());
  register_module(std::to_string(size()), std::move(module));
}

Tensor Sequential::forward(const Tensor& x) {
  // Hint: feed x through each child's forward in order; the last output is the result.
  // BEGIN SOLUTION 03_layers sequential
  Tensor h = x;
  for (const auto& child : children()) h = child.second->forward(h);
  return h;
  // END SOLUTION
}

Module& Sequential::operator[](std::size_t i) const {
  if (i >= size()) {
    throw std::out_of_range(
        fmt::format("Sequential: index {} out of range for {} modules", i, size()));
  }
  return *children()[i].second;
}

}  // namespace tinytorch
