// Module 09 — batch normalisation over the channels of [N, C, H, W] (batchnorm.hpp has the
// formulas): the function with its backward node, and the layer.
#include <tinytorch/core/batchnorm.hpp>

#include <cmath>
#include <memory>
#include <vector>

#include <tinytorch/core/autograd.hpp>
#include <tinytorch/core/internal/nodes.hpp>
#include <tinytorch/core/internal/spatial_geometry.hpp>
#include <tinytorch/detail/common.hpp>

namespace tinytorch {

using internal::check_defined;

namespace {

/// out = batch_norm2d(x) (see batchnorm.hpp for the formulas). Saves x̂ and 1/√(σ² + eps).
struct BatchNorm2dBackward : Node {
  BatchNorm2dBackward(const Tensor& x, const Tensor& gamma, const Tensor& beta, Array x_hat,
                      std::vector<float> inv_std, bool training)
      : Node({x, gamma, beta}),
        x_hat(std::move(x_hat)),
        inv_std(std::move(inv_std)),
        training(training) {}
  const char* name() const override { return "BatchNorm2dBackward"; }
  /// x̂ and 1/σ are saved: of the inputs only gamma is read.
  bool reads_input(std::size_t i) const override { return i == 1; }
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
    return detail::gradients(std::move(dx), std::move(dgamma), std::move(dbeta));
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

// Shared by BatchNorm2d and batch_norm2d: eps > 0 (NaN is not), momentum in [0, 1].
void check_batch_norm_settings(const char* op, float eps, float momentum) {
  if (!(eps > 0.0f)) detail::fail_arg("{}: eps must be > 0, got {}", op, detail::number_text(eps));
  if (!(momentum >= 0.0f && momentum <= 1.0f)) {
    detail::fail_arg("{}: momentum must be in [0, 1], got {}", op, detail::number_text(momentum));
  }
}

}  // namespace

Tensor batch_norm2d(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                    Tensor& running_var, bool training, float momentum, float eps) {
  check_batch_norm_settings("batch_norm2d", eps, momentum);
  check_defined("batch_norm2d", "input", x);
  check_defined("batch_norm2d", "gamma", gamma);
  check_defined("batch_norm2d", "beta", beta);
  check_defined("batch_norm2d", "running_mean", running_mean);
  check_defined("batch_norm2d", "running_var", running_var);
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
    // As torch.nn.BatchNorm2d: the batch is normalised with its biased variance, but the
    // running estimate of the population's takes the unbiased one, σ²·M/(M − 1) (M >= 2,
    // checked above), so that eval mode is not biased low for small batches.
    const double bessel = static_cast<double>(n * plane) / static_cast<double>(n * plane - 1);
    for (std::size_t ch = 0; ch < c; ++ch) {
      float& rm = running_mean.data().data()[ch];
      float& rv = running_var.data().data()[ch];
      rm = (1.0f - momentum) * rm + momentum * mean[ch];
      rv = (1.0f - momentum) * rv + momentum * static_cast<float>(var[ch] * bessel);
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

// ---- the layer ----------------------------------------------------------------------------

BatchNorm2d::BatchNorm2d(std::size_t num_features, float eps, float momentum)
    : num_features(num_features), eps(eps), momentum(momentum) {
  if (num_features == 0) detail::fail_arg("BatchNorm2d: num_features must be >= 1, got 0");
  check_batch_norm_settings("BatchNorm2d", eps, momentum);
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

}  // namespace tinytorch
