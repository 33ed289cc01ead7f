// Module 06 — Optimizers. Each update is one loop over raw parameter memory: no temporaries.
#include <tinytorch/core/optimizers.hpp>

#include <cmath>

#include <tinytorch/detail/common.hpp>

namespace tinytorch {

Optimizer::Optimizer(std::vector<Tensor> params, float lr) : params_(std::move(params)), lr_(lr) {
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (!params_[i].defined() || !params_[i].requires_grad()) {
      detail::fail_arg("optimizer: parameter {} does not require gradients; set requires_grad=true",
                       i);
    }
  }
  if (!(lr >= 0.0f)) detail::fail_arg("optimizer: learning rate must be >= 0, got {}", lr);
}

void Optimizer::zero_grad() {
  for (Tensor& p : params_) p.zero_grad();
}

std::vector<Tensor>& Optimizer::buffers(const std::string& name) {
  std::vector<Tensor>& list = buffers_[name];
  if (list.empty()) {
    for (const Tensor& p : params_) list.push_back(Tensor::zeros(p.shape()));
  }
  return list;
}

void Optimizer::save_buffers(const std::string& name, OptimizerState& state) const {
  auto it = buffers_.find(name);
  if (it == buffers_.end()) return;
  for (std::size_t i = 0; i < it->second.size(); ++i) {
    state[fmt::format("{}.{}", name, i)] = it->second[i].clone();
  }
}

void Optimizer::load_buffers(const std::string& name, const OptimizerState& state) {
  if (state.count(name + ".0") == 0) {  // saved before the first step: start from zero again
    buffers_.erase(name);
    return;
  }
  // Check every entry before touching anything, so a bad state leaves the optimizer as it was.
  std::vector<Tensor> loaded(params_.size());
  for (std::size_t i = 0; i < params_.size(); ++i) {
    auto it = state.find(fmt::format("{}.{}", name, i));
    if (it == state.end()) detail::fail_arg("optimizer: state has no entry '{}.{}'", name, i);
    if (it->second.shape() != params_[i].shape()) {
      detail::fail_shape("optimizer: state '{}.{}' has shape {}, parameter {} has {}", name, i,
                         shape_str(it->second.shape()), i, shape_str(params_[i].shape()));
    }
    loaded[i] = it->second.clone();
  }
  buffers_[name] = std::move(loaded);
}

OptimizerState Optimizer::state_dict() const {
  OptimizerState state;
  state["step_count"] = Tensor::scalar(static_cast<float>(step_count_));
  state["lr"] = Tensor::scalar(lr_);
  return state;
}

void Optimizer::load_state_dict(const OptimizerState& state) {
  auto steps = state.find("step_count");
  if (steps != state.end()) step_count_ = static_cast<std::size_t>(steps->second.item());
  auto lr = state.find("lr");
  if (lr != state.end()) lr_ = lr->second.item();
}

// ---- SGD --------------------------------------------------------------------------------

SGD::SGD(std::vector<Tensor> params, float lr, float momentum, float weight_decay)
    : Optimizer(std::move(params), lr), momentum_(momentum), weight_decay_(weight_decay) {
  if (!(momentum >= 0.0f)) detail::fail_arg("SGD: momentum must be >= 0, got {}", momentum);
}

void SGD::step() {
  // Hint: for each parameter with a grad: g = grad + wd·θ; with momentum v = μ·v + g
  // (buffers("momentum")), g = v; then θ −= lr·g in place. Count the step.
  // BEGIN SOLUTION 06_optimizers sgd_step
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Tensor grad = params_[i].grad();
    if (!grad.defined()) continue;
    float* theta = params_[i].data().data();
    const float* g = grad.data().data();
    float* v = has_momentum() ? buffers("momentum")[i].data().data() : nullptr;
    const std::size_t n = params_[i].size();  // hoisted: a call per element cost 3% of LeNet-5
    for (std::size_t j = 0; j < n; ++j) {
      float step = g[j] + weight_decay_ * theta[j];  // L2 folded into the gradient
      if (v) step = v[j] = momentum_ * v[j] + step;  // v ← μ·v + g
      theta[j] -= lr_ * step;
    }
  }
  ++step_count_;
  // END SOLUTION
}

std::vector<Tensor> SGD::get_momentum_state() const {
  OptimizerState state;
  save_buffers("momentum", state);
  std::vector<Tensor> out(params_.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto it = state.find(fmt::format("momentum.{}", i));
    if (it != state.end()) out[i] = it->second;
  }
  return out;
}

void SGD::set_momentum_state(const std::vector<Tensor>& state) {
  if (!has_momentum() || state.empty()) return;
  if (state.size() != params_.size()) {
    detail::fail_arg("SGD: state length {} doesn't match optimizer parameters {}", state.size(),
                     params_.size());
  }
  OptimizerState named;
  for (std::size_t i = 0; i < state.size(); ++i) {
    named[fmt::format("momentum.{}", i)] =
        state[i].defined() ? state[i] : Tensor::zeros(params_[i].shape());
  }
  load_buffers("momentum", named);
}

OptimizerState SGD::state_dict() const {
  OptimizerState state = Optimizer::state_dict();
  save_buffers("momentum", state);
  return state;
}

void SGD::load_state_dict(const OptimizerState& state) {
  Optimizer::load_state_dict(state);
  load_buffers("momentum", state);
}

// ---- Adam / AdamW -----------------------------------------------------------------------

Adam::Adam(std::vector<Tensor> params, float lr, std::pair<float, float> betas, float eps,
           float weight_decay)
    : Optimizer(std::move(params), lr),
      beta1_(betas.first),
      beta2_(betas.second),
      eps_(eps),
      weight_decay_(weight_decay) {
  if (!(beta1_ >= 0.0f && beta1_ < 1.0f && beta2_ >= 0.0f && beta2_ < 1.0f)) {
    detail::fail_arg("Adam: betas must be in [0, 1), got ({}, {})", beta1_, beta2_);
  }
}

void Adam::step() {
  adam_step(false);
}

void Adam::adam_step(bool decoupled) {
  // Hint: t += 1; m = β1·m + (1−β1)·g, v = β2·v + (1−β2)·g²; θ −= lr·m̂/(√v̂ + ε) with m̂ =
  // m/(1−β1^t), v̂ = v/(1−β2^t). AdamW decays θ·(1 − lr·wd) after; Adam adds wd·θ to g before.
  // BEGIN SOLUTION 06_optimizers adam_step
  ++step_count_;  // t is incremented first: the bias corrections use t ≥ 1
  const double t = static_cast<double>(step_count_);
  const float correction1 = static_cast<float>(1.0 - std::pow(beta1_, t));
  const float correction2 = static_cast<float>(1.0 - std::pow(beta2_, t));
  std::vector<Tensor>& m_buffers = buffers("m");
  std::vector<Tensor>& v_buffers = buffers("v");
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Tensor grad = params_[i].grad();
    if (!grad.defined()) continue;
    float* theta = params_[i].data().data();
    const float* g = grad.data().data();
    float* m = m_buffers[i].data().data();
    float* v = v_buffers[i].data().data();
    const std::size_t n = params_[i].size();
    for (std::size_t j = 0; j < n; ++j) {
      const float gj = decoupled ? g[j] : g[j] + weight_decay_ * theta[j];
      m[j] = beta1_ * m[j] + (1.0f - beta1_) * gj;
      v[j] = beta2_ * v[j] + (1.0f - beta2_) * gj * gj;
      const float m_hat = m[j] / correction1;
      const float v_hat = v[j] / correction2;
      theta[j] -= lr_ * m_hat / (std::sqrt(v_hat) + eps_);
      if (decoupled) theta[j] *= 1.0f - lr_ * weight_decay_;
    }
  }
  // END SOLUTION
}

OptimizerState Adam::state_dict() const {
  OptimizerState state = Optimizer::state_dict();
  save_buffers("m", state);
  save_buffers("v", state);
  return state;
}

void Adam::load_state_dict(const OptimizerState& state) {
  Optimizer::load_state_dict(state);
  load_buffers("m", state);
  load_buffers("v", state);
}

}  // namespace tinytorch
