// Module 04 — Losses. Forward passes here; their backward rules in autograd.cpp.
#include <tinytorch/core/losses.hpp>
#include <tinytorch/core/internal/nodes.hpp>

#include <cmath>

#include <tinytorch/core/autograd.hpp>
#include <tinytorch/detail/common.hpp>

namespace tinytorch {

namespace {

// mean((p − t)²) over the n elements of two same-shaped buffers.
float mse_forward(const float* p, const float* t, std::size_t n) {
  // Hint: sum the squared differences in double (float loses the small ones), divide by n.
  // BEGIN SOLUTION 04_losses mse
  double total = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(p[i]) - t[i];
    total += d * d;
  }
  return static_cast<float>(total / static_cast<double>(n));
  // END SOLUTION
}

// −mean_i log_softmax(z_i)[y_i] for logits z [N, C]; also fills probs [N, C] = softmax(z)
// for the backward pass.
float cross_entropy_forward(const Array& logits, const std::vector<std::size_t>& y, Array& probs) {
  // Hint: per row take m = max z, e = e^(z−m) and s = Σ e (summed in double); the row's loss is
  // −(z[y] − m − log s) and its probabilities are e/s. Return the mean loss.
  // BEGIN SOLUTION 04_losses cross_entropy
  const std::size_t n = logits.shape()[0], c = logits.shape()[1];
  double total = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const float* z = logits.data() + i * c;
    float* p = probs.data() + i * c;
    float m = z[0];
    for (std::size_t k = 1; k < c; ++k) m = std::max(m, z[k]);
    double sum = 0.0;
    for (std::size_t k = 0; k < c; ++k) {
      p[k] = std::exp(z[k] - m);  // one float exp per logit; ≤ 1, so no overflow
      sum += p[k];
    }
    const float inv_sum = static_cast<float>(1.0 / sum);
    for (std::size_t k = 0; k < c; ++k) p[k] *= inv_sum;
    total -= static_cast<double>(z[y[i]] - m) - std::log(sum);  // −log softmax(z)[y]
  }
  return static_cast<float>(total / static_cast<double>(n));
  // END SOLUTION
}

// −mean(y log p + (1 − y) log(1 − p)) with p clamped to [ε, 1 − ε].
float bce_forward(const float* p, const float* y, std::size_t n) {
  // Hint: clamp each p to [kLossEpsilon, 1 − kLossEpsilon] first so log never sees 0;
  // accumulate in double and return the negated mean.
  // BEGIN SOLUTION 04_losses binary_cross_entropy
  double total = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double pi = std::clamp(p[i], kLossEpsilon, 1.0f - kLossEpsilon);
    total -= y[i] * std::log(pi) + (1.0 - y[i]) * std::log(1.0 - pi);
  }
  return static_cast<float>(total / static_cast<double>(n));
  // END SOLUTION
}

}  // namespace

Tensor mse_loss(const Tensor& pred, const Tensor& target) {
  if (pred.shape() != target.shape()) {
    detail::fail_shape("mse_loss: prediction {} and target {} must have the same shape",
                       shape_str(pred.shape()), shape_str(target.shape()));
  }
  if (pred.size() == 0) {  // the mean of nothing is NaN, which no one wants as a loss
    detail::fail_shape("mse_loss: empty batch (prediction {})", shape_str(pred.shape()));
  }
  Tensor out = Tensor::scalar(mse_forward(pred.data().data(), target.data().data(), pred.size()));
  if (detail::should_record({&pred, &target}))
    return detail::attach(out, std::make_shared<detail::MseBackward>(pred, target));
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

// binary_cross_entropy takes probabilities and targets in [0, 1]; NaN is neither. Checked
// here, outside bce_forward, so the check stays in a student's copy of the exercise.
void check_unit_interval(const Tensor& values, const char* what) {
  const float* v = values.data().data();
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!(v[i] >= 0.0f && v[i] <= 1.0f)) {
      detail::fail_arg("binary_cross_entropy: every {} must be in [0, 1], got {} at index {}", what,
                       detail::number_text(v[i]), i);
    }
  }
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
  Array probs = Array::from_shape({n, c});
  const float loss = cross_entropy_forward(logits.data(), y, probs);
  Tensor out = Tensor::scalar(loss);
  if (detail::should_record({&logits})) {
    return detail::attach(
        out, std::make_shared<detail::CrossEntropyBackward>(logits, std::move(probs), y));
  }
  return out;
}

Tensor binary_cross_entropy(const Tensor& probs, const Tensor& targets) {
  if (probs.shape() != targets.shape()) {
    detail::fail_shape(
        "binary_cross_entropy: probabilities {} and targets {} must have the same shape",
        shape_str(probs.shape()), shape_str(targets.shape()));
  }
  if (probs.size() == 0) {
    detail::fail_shape("binary_cross_entropy: empty batch (probabilities {})",
                       shape_str(probs.shape()));
  }
  check_unit_interval(probs, "prediction");
  check_unit_interval(targets, "target");
  Tensor out =
      Tensor::scalar(bce_forward(probs.data().data(), targets.data().data(), probs.size()));
  if (detail::should_record({&probs, &targets}))  // the target gets a gradient too, as in PyTorch
    return detail::attach(out, std::make_shared<detail::BceBackward>(probs, targets));
  return out;
}

}  // namespace tinytorch
