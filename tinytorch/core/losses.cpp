// Module 04 — Losses. Forward passes here; their backward rules in autograd.cpp.
#include <tinytorch/core/losses.hpp>

#include <cmath>

#include <tinytorch/core/autograd.hpp>
#include <tinytorch/detail/common.hpp>

namespace tinytorch {

Tensor mse_loss(const Tensor& pred, const Tensor& target) {
  if (pred.shape() != target.shape()) {
    detail::fail_shape("mse_loss: prediction {} and target {} must have the same shape",
                       shape_str(pred.shape()), shape_str(target.shape()));
  }
  double total = 0.0;
  for (std::size_t i = 0; i < pred.size(); ++i) {
    const double d = static_cast<double>(pred.data().data()[i]) - target.data().data()[i];
    total += d * d;
  }
  Tensor out = Tensor::scalar(static_cast<float>(total / static_cast<double>(pred.size())));
  if (should_record({&pred, &target}))
    return attach(out, std::make_shared<MseBackward>(pred, target));
  return out;
}

namespace {

// Labels must be whole numbers in [0, classes); anything else is a user error, not UB.
std::vector<std::size_t> checked_labels(const Tensor& labels, std::size_t classes) {
  std::vector<std::size_t> out(labels.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const float v = labels.data().data()[i];
    if (!(v >= 0.0f && v < static_cast<float>(classes)) || v != std::floor(v)) {
      detail::fail_arg("cross_entropy: label {} at position {} is not a class index in [0, {})", v,
                       i, classes);
    }
    out[i] = static_cast<std::size_t>(v);
  }
  return out;
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& labels) {
  if (logits.ndim() != 2) {
    detail::fail_shape("cross_entropy: expected 2-D logits [N, C], got {}",
                       shape_str(logits.shape()));
  }
  const std::size_t n = logits.data().shape()[0], c = logits.data().shape()[1];
  if (labels.ndim() != 1 || labels.size() != n) {
    detail::fail_shape("cross_entropy: expected labels [{}] for logits {}, got {}", n,
                       shape_str(logits.shape()), shape_str(labels.shape()));
  }
  if (n == 0)
    detail::fail_shape("cross_entropy: empty batch (logits {})", shape_str(logits.shape()));
  const std::vector<std::size_t> y = checked_labels(labels, c);
  // One pass per row: stable log-sum-exp, the NLL term, and the probabilities backward needs.
  Array probs = Array::from_shape({n, c});
  double total = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const float* z = logits.data().data() + i * c;
    float* p = probs.data() + i * c;
    float m = z[0];
    for (std::size_t k = 1; k < c; ++k) m = std::max(m, z[k]);
    double sum = 0.0;
    for (std::size_t k = 0; k < c; ++k) sum += std::exp(static_cast<double>(z[k] - m));
    const double log_sum = std::log(sum);
    for (std::size_t k = 0; k < c; ++k) p[k] = static_cast<float>(std::exp(z[k] - m - log_sum));
    total -= static_cast<double>(z[y[i]] - m) - log_sum;  // −log softmax(z)[y]
  }
  Tensor out = Tensor::scalar(static_cast<float>(total / static_cast<double>(n)));
  if (should_record({&logits})) {
    return attach(out, std::make_shared<CrossEntropyBackward>(logits, std::move(probs), y));
  }
  return out;
}

Tensor binary_cross_entropy(const Tensor& probs, const Tensor& targets) {
  if (probs.shape() != targets.shape()) {
    detail::fail_shape(
        "binary_cross_entropy: probabilities {} and targets {} must have the same shape",
        shape_str(probs.shape()), shape_str(targets.shape()));
  }
  double total = 0.0;
  for (std::size_t i = 0; i < probs.size(); ++i) {
    const double p = std::clamp(probs.data().data()[i], kLossEpsilon, 1.0f - kLossEpsilon);
    const double y = targets.data().data()[i];
    total -= y * std::log(p) + (1.0 - y) * std::log(1.0 - p);
  }
  Tensor out = Tensor::scalar(static_cast<float>(total / static_cast<double>(probs.size())));
  if (should_record({&probs})) return attach(out, std::make_shared<BceBackward>(probs, targets));
  return out;
}

}  // namespace tinytorch
