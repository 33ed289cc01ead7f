// Module 06 — Optimizers. Each update is one loop over raw parameter memory: no temporaries.
#include <tinytorch/core/optimizers.hpp>
#include <tinytorch/detail/text.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <system_error>

#include <tinytorch/detail/common.hpp>

namespace tinytorch {

namespace {

void check_learning_rate(const char* op, float lr) {
  if (!(lr >= 0.0f) || !std::isfinite(lr)) {
    detail::fail_arg("{}: learning rate must be finite and >= 0, got {}", op, lr);
  }
}

/// A setting that must be finite and >= 0 (momentum, weight decay).
void check_setting(const char* op, const char* name, float value) {
  if (!(value >= 0.0f) || !std::isfinite(value)) {
    detail::fail_arg("{}: {} must be finite and >= 0, got {}", op, name, value);
  }
}

}  // namespace

Optimizer::Optimizer(std::vector<Tensor> params, float lr) : params_(std::move(params)), lr_(lr) {
  // An empty list is almost always model.parameters() of the wrong model (or one whose layers
  // were never registered); stepping it would silently train nothing.
  if (params_.empty()) detail::fail_arg("optimizer: got an empty parameter list");
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (!params_[i].defined() || !params_[i].requires_grad()) {
      detail::fail_arg("optimizer: parameter {} does not require gradients; set requires_grad=true",
                       i);
    }
    // The same tensor twice would be updated twice per step (and get two momentum buffers).
    for (std::size_t j = 0; j < i; ++j) {
      if (params_[i].same(params_[j])) {
        detail::fail_arg(
            "optimizer: parameter {} is the same tensor as parameter {}; give each "
            "parameter once",
            i, j);
      }
    }
  }
  check_learning_rate("optimizer", lr);
}

void Optimizer::set_lr(float lr) {
  check_learning_rate("set_lr", lr);
  lr_ = lr;
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

void Optimizer::check_buffers_fit() const {
  for (const auto& [kind, list] : buffers_) {
    for (std::size_t i = 0; i < list.size() && i < params_.size(); ++i) {
      if (list[i].shape() == params_[i].shape()) continue;
      detail::fail_shape(
          "{}.step: parameter {} has shape {} but its '{}' state has shape {}: the parameter was "
          "replaced by an array of another shape after the first step; make a new optimizer for "
          "it",
          name(), i, shape_str(params_[i].shape()), kind, shape_str(list[i].shape()));
    }
  }
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const Tensor grad = params_[i].grad();
    if (grad.defined() && grad.shape() != params_[i].shape()) {
      detail::fail_shape("{}.step: parameter {} has shape {} but its gradient has shape {}", name(),
                         i, shape_str(params_[i].shape()), shape_str(grad.shape()));
    }
  }
}

OptimizerState Optimizer::state_dict() const {
  OptimizerState state;
  state[std::string("saved_by.") + name()] = Tensor::scalar(1.0f);
  state["step_count"] = Tensor::scalar(static_cast<float>(step_count_));
  state["lr"] = Tensor::scalar(lr_);
  for (const BufferKind& kind : buffer_kinds()) save_buffers(kind.name, state);
  return state;
}

// ---- loading a state: everything is checked before anything changes ---------------------

namespace {

constexpr float kMaxStepCount = 9007199254740992.0f;  // 2^53: beyond it, counts are not exact

/// "m.12" → ("m", 12). False unless the key ends in ".<index>" written canonically.
bool split_buffer_key(const std::string& key, std::string& kind, std::size_t& index) {
  const std::size_t dot = key.rfind('.');
  if (dot == std::string::npos || dot + 1 == key.size()) return false;
  const char* first = key.data() + dot + 1;
  const char* last = key.data() + key.size();
  const auto [end, ec] = std::from_chars(first, last, index);
  if (ec != std::errc() || end != last || std::to_string(index) != std::string(first, last)) {
    return false;
  }
  kind = key.substr(0, dot);
  return true;
}

/// The value of a one-element state entry ("step_count", "lr").
float one_number(const char* key, const Tensor& t) {
  if (!t.defined() || t.size() != 1) {
    detail::fail_arg("optimizer: state '{}' must hold one number, got {}", detail::escaped(key),
                     t.defined() ? "shape " + shape_str(t.shape()) : "an undefined tensor");
  }
  return t.data().data()[0];
}

void check_buffer_values(const std::string& key, const Tensor& t, bool non_negative) {
  const float* v = t.data().data();
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (!std::isfinite(v[i]) || (non_negative && v[i] < 0.0f)) {
      detail::fail_arg("optimizer: state '{}' holds {} at element {}; expected finite values{}",
                       detail::escaped(key), detail::number_text(v[i]), i,
                       non_negative ? " >= 0" : "");
    }
  }
}

}  // namespace

void Optimizer::check_state_dict(const OptimizerState& state) const {
  if (auto it = state.find("step_count"); it != state.end()) {
    const float steps = one_number("step_count", it->second);
    if (!(steps >= 0.0f && steps <= kMaxStepCount && steps == std::floor(steps))) {
      detail::fail_arg("optimizer: state 'step_count' must be a whole number in [0, 2^53], got {}",
                       steps);
    }
  }
  if (auto it = state.find("lr"); it != state.end()) {
    const float lr = one_number("lr", it->second);
    if (!(lr >= 0.0f) || !std::isfinite(lr)) {
      detail::fail_arg("optimizer: state 'lr' must be finite and >= 0, got {}", lr);
    }
  }
  const std::vector<BufferKind> kinds = buffer_kinds();
  std::vector<std::size_t> counts(kinds.size(), 0);
  for (const auto& [key, t] : state) {
    if (key == "step_count" || key == "lr") continue;
    if (key.rfind("saved_by.", 0) == 0) {
      // Without this, plain SGD's state (no buffers) loaded into Adam took over its lr and its
      // step count, and Adam's bias corrections started mid-way.
      const std::string saver = key.substr(9);
      if (saver != name()) {
        detail::fail_arg(
            "{}.load_state_dict: the state was saved by {}, not by {}; load it into a {}", name(),
            detail::escaped(saver), name(), detail::escaped(saver));
      }
      continue;
    }
    std::string name;
    std::size_t index = 0;
    const bool is_buffer = split_buffer_key(key, name, index);
    const auto kind = std::find_if(kinds.begin(), kinds.end(),
                                   [&](const BufferKind& k) { return k.name == name; });
    if (!is_buffer || kind == kinds.end()) {
      std::vector<std::string> kept;
      for (const BufferKind& k : kinds) kept.push_back("'" + k.name + ".<i>'");
      detail::fail_arg(
          "optimizer: state has an entry '{}' that this optimizer does not keep (it keeps "
          "'step_count', 'lr'{}{}); is it the state of another optimizer?",
          detail::escaped(key), kept.empty() ? "" : ", ", fmt::join(kept, ", "));
    }
    if (index >= params_.size()) {
      detail::fail_arg("optimizer: state has '{}' but the optimizer has {} parameters",
                       detail::escaped(key), params_.size());
    }
    if (!t.defined())
      detail::fail_arg("optimizer: state '{}' is an undefined tensor", detail::escaped(key));
    if (t.shape() != params_[index].shape()) {
      detail::fail_shape("optimizer: state '{}' has shape {}, parameter {} has {}",
                         detail::escaped(key), shape_str(t.shape()), index,
                         shape_str(params_[index].shape()));
    }
    check_buffer_values(key, t, kind->non_negative);
    ++counts[static_cast<std::size_t>(kind - kinds.begin())];
  }
  // A kind is absent (saved before the first step) or there for every parameter.
  for (std::size_t k = 0; k < kinds.size(); ++k) {
    if (counts[k] == 0 || counts[k] == params_.size()) continue;
    for (std::size_t i = 0; i < params_.size(); ++i) {
      if (state.count(fmt::format("{}.{}", kinds[k].name, i)) == 0) {
        detail::fail_arg("optimizer: state has no entry '{}.{}'", kinds[k].name, i);
      }
    }
  }
}

void Optimizer::load_state_dict(const OptimizerState& state) {
  check_state_dict(state);
  // Copies first: once they exist nothing below can fail, so the optimizer changes entirely.
  std::map<std::string, std::vector<Tensor>> loaded;
  for (const BufferKind& kind : buffer_kinds()) {
    if (state.count(kind.name + ".0") == 0) continue;  // saved before the first step: zeros
    std::vector<Tensor>& list = loaded[kind.name];
    for (std::size_t i = 0; i < params_.size(); ++i) {
      list.push_back(state.at(fmt::format("{}.{}", kind.name, i)).clone());
    }
  }
  if (auto it = state.find("step_count"); it != state.end()) {
    step_count_ = static_cast<std::size_t>(it->second.data().data()[0]);
  }
  if (auto it = state.find("lr"); it != state.end()) lr_ = it->second.data().data()[0];
  for (const BufferKind& kind : buffer_kinds()) buffers_.erase(kind.name);
  for (auto& [name, list] : loaded) buffers_[name] = std::move(list);
}

// ---- SGD --------------------------------------------------------------------------------

SGD::SGD(std::vector<Tensor> params, float lr, float momentum, float weight_decay)
    : Optimizer(std::move(params), lr), momentum_(momentum), weight_decay_(weight_decay) {
  check_setting("SGD", "momentum", momentum);
  check_setting("SGD", "weight_decay", weight_decay);
}

void SGD::step() {
  check_buffers_fit();
  update();
}

void SGD::update() {
  // Hint: for each parameter with a grad: g = grad + wd·θ; with momentum v = μ·v + g
  // (buffers("momentum")), g = v; then θ −= lr·g in place. Count the step.
  // BEGIN SOLUTION 06_optimizers sgd_step
  for (std::size_t i = 0; i < params_.size(); ++i) {
    Tensor grad = params_[i].grad();
    if (!grad.defined()) continue;
    float* theta = params_[i].data().data();
    const float* g = grad.data().data();
    float* v = has_momentum() ? buffers("momentum")[i].data().data() : nullptr;
    const std::size_t n = params_[i].size();  // hoisted: not a call per element
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
  load_state_dict(named);  // only momentum entries: the step count and lr stay
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
  if (!(eps > 0.0f) || !std::isfinite(eps)) {
    detail::fail_arg("Adam: eps must be finite and > 0, got {}", eps);
  }
  check_setting("Adam", "weight_decay", weight_decay);
}

void Adam::step() {
  check_buffers_fit();
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

}  // namespace tinytorch
