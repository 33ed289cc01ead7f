// Module 05 — gradcheck: autograd's gradients against central differences, the check every
// backward rule of the course is tested with.
#include <tinytorch/core/autograd.hpp>

#include <cmath>
#include <limits>
#include <random>

#include <tinytorch/detail/common.hpp>

namespace tinytorch {

namespace {

double weighted_sum(const Tensor& out, const Array& weights) {
  double total = 0.0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    total += static_cast<double>(out.data().data()[i]) * weights.data()[i];
  }
  return total;
}

}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, float eps, double atol, double rtol) {
  if (!f) detail::fail_arg("gradcheck: the function is empty");
  if (!(eps > 0.0f) || !std::isfinite(eps)) {
    detail::fail_arg("gradcheck: eps must be finite and > 0, got {}", eps);
  }
  if (!(atol >= 0.0) || !(rtol >= 0.0)) {
    detail::fail_arg("gradcheck: atol and rtol must be >= 0, got {} and {}", atol, rtol);
  }
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    if (!inputs[k].defined()) detail::fail_arg("gradcheck: input {} is undefined", k);
  }
  GradcheckResult result;
  // Analytic: gradient of Σ f(x)·r for a fixed random r, so every output element matters.
  for (Tensor t : inputs) t.zero_grad();
  Tensor out = f(inputs);
  std::mt19937 gen(1234);
  std::uniform_real_distribution<float> dist(0.5f, 1.5f);
  Array weights = Array::from_shape(out.data().shape());
  for (float& w : weights) w = dist(gen) * (gen() % 2 ? 1.0f : -1.0f);
  (out * Tensor(weights)).sum().backward();

  result.ok = true;
  result.all_grads_nonzero = true;
  NoGradGuard no_grad;
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    Tensor x = inputs[k];
    if (!x.requires_grad()) continue;
    const Tensor grad = x.grad();
    bool nonzero = false;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const float analytic = grad.defined() ? grad.data().data()[i] : 0.0f;
      nonzero = nonzero || analytic != 0.0f;
      float& xi = x.data().data()[i];
      const float saved = xi;
      xi = saved + eps;
      const double plus = weighted_sum(f(inputs), weights);
      xi = saved - eps;
      const double minus = weighted_sum(f(inputs), weights);
      xi = saved;
      const double numeric = (plus - minus) / (2.0 * eps);
      // A NaN compares false with everything: without this test it would pass as error 0.
      const bool finite = std::isfinite(numeric) && std::isfinite(analytic);
      const double error =
          finite ? std::abs(numeric - analytic) : std::numeric_limits<double>::infinity();
      result.max_abs_error = std::max(result.max_abs_error, error);
      if ((!finite || error > atol + rtol * std::abs(numeric)) && result.ok) {
        result.ok = false;
        result.message = fmt::format(
            "input {} element {}: autograd {} vs numerical {}{}", k, i,
            detail::number_text(analytic), detail::number_text(static_cast<float>(numeric)),
            finite ? "" : " (not finite: a NaN or infinity never passes a gradient check)");
      }
    }
    result.all_grads_nonzero = result.all_grads_nonzero && nonzero;
  }
  if (result.ok) result.message = fmt::format("max abs error {:.3g}", result.max_abs_error);
  return result;
}

}  // namespace tinytorch
