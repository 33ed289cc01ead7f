// Module 06 — Optimizers: turn gradients into parameter updates (in place, no temporaries).
//
//   SGD    g ← grad + wd·θ;  v ← μ·v + g (if μ ≠ 0), g ← v;  θ ← θ − lr·g
//   Adam   t ← t + 1;  g ← grad + wd·θ;  m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²
//          θ ← θ − lr·m̂/(√v̂ + ε),  m̂ = m/(1 − β1^t),  v̂ = v/(1 − β2^t)
//   AdamW  Adam's update from the raw gradient, then decoupled decay θ ← θ·(1 − lr·wd)
//
// Parameters whose grad is undefined are skipped. Defaults follow the course. Settings come
// as an options struct with chained setters (as in PyTorch's C++ frontend), or positionally as
// the course writes them:
//
//   SGD opt(model.parameters(), SGDOptions(0.1f).momentum(0.9f));
//   Adam adam(model.parameters(), AdamOptions(1e-3f).weight_decay(1e-4f));
//   SGD course_style(model.parameters(), /*lr=*/0.1f, /*momentum=*/0.9f);
//   loss.backward();
//   opt.step();
//   opt.zero_grad();
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <tinytorch/core/tensor.hpp>

namespace tinytorch {

/// Optimizer buffers by name ("momentum.0", "m.3", "step_count"), for checkpoints.
using OptimizerState = std::map<std::string, Tensor>;

class Optimizer {
 public:
  /// The list must not be empty, every parameter must require grad and appear once (otherwise
  /// std::invalid_argument: "optimizer: got an empty parameter list", "optimizer: parameter 2
  /// is the same tensor as parameter 0; give each parameter once").
  explicit Optimizer(std::vector<Tensor> params, float lr);
  virtual ~Optimizer() = default;

  /// One update of every parameter that has a gradient.
  virtual void step() = 0;
  /// The optimizer's class name ("SGD", "Adam", "AdamW"): states say who saved them.
  virtual const char* name() const { return "Optimizer"; }
  /// Drops every parameter's gradient.
  void zero_grad();

  const std::vector<Tensor>& params() const { return params_; }
  std::size_t step_count() const { return step_count_; }
  float lr() const { return lr_; }
  /// A finite learning rate >= 0 (otherwise std::invalid_argument, and lr() is unchanged).
  void set_lr(float lr);

  /// Copies of the optimizer's buffers, its step count and its learning rate, and an entry
  /// "saved_by.<name()>" so that another kind of optimizer refuses the state.
  virtual OptimizerState state_dict() const;
  /// Checks a state as load_state_dict does, and changes nothing: "step_count" a whole number
  /// in [0, 2^53], "lr" finite and >= 0, each buffer ("m.0") one this optimizer keeps, for a
  /// parameter it has, of that parameter's shape and finite (Adam's "v" also >= 0), every
  /// parameter's entry present, and saved by an optimizer of the same kind (when the state
  /// says: states saved before that entry existed do not). Throws std::invalid_argument
  /// (ShapeError for shapes) naming the entry.
  virtual void check_state_dict(const OptimizerState& state) const;
  /// Restores a state saved by state_dict(), after check_state_dict: a state that does not fit
  /// leaves the optimizer exactly as it was.
  virtual void load_state_dict(const OptimizerState& state);

 protected:
  /// A kind of per-parameter buffer the optimizer keeps: its name in the state ("momentum"
  /// for "momentum.0", "momentum.1", ...) and whether its values can never be negative.
  struct BufferKind {
    std::string name;
    bool non_negative = false;
  };
  /// The buffers a state of this optimizer may hold (none for the base class).
  virtual std::vector<BufferKind> buffer_kinds() const { return {}; }

  /// Lazily created zero buffers, one per parameter (momentum, Adam moments).
  std::vector<Tensor>& buffers(const std::string& name);
  /// Adds copies of the buffers `name` (if they exist yet) to `state` as "name.0", "name.1"...
  void save_buffers(const std::string& name, OptimizerState& state) const;
  /// Before a step: every buffer and gradient still has its parameter's shape. A parameter
  /// whose array was replaced by one of another size would otherwise be updated from a buffer
  /// that ends too soon (ShapeError naming the optimizer, the parameter and both shapes).
  void check_buffers_fit() const;

  std::vector<Tensor> params_;
  std::size_t step_count_ = 0;
  float lr_;

 private:
  std::map<std::string, std::vector<Tensor>> buffers_;
};

/// SGD's settings: SGDOptions(0.1f).momentum(0.9f).weight_decay(5e-4f).
class SGDOptions {
 public:
  explicit SGDOptions(float lr = 0.01f) : lr_(lr) {}
  SGDOptions& lr(float value) {
    lr_ = value;
    return *this;
  }
  SGDOptions& momentum(float value) {
    momentum_ = value;
    return *this;
  }
  SGDOptions& weight_decay(float value) {
    weight_decay_ = value;
    return *this;
  }
  float lr() const { return lr_; }
  float momentum() const { return momentum_; }
  float weight_decay() const { return weight_decay_; }

 private:
  float lr_, momentum_ = 0.0f, weight_decay_ = 0.0f;
};

/// The settings Adam and AdamW share, with setters that chain (and keep the derived type).
template <class Self>
class AdamSettings {
 public:
  Self& lr(float value) {
    lr_ = value;
    return self();
  }
  Self& betas(std::pair<float, float> value) {
    betas_ = value;
    return self();
  }
  Self& eps(float value) {
    eps_ = value;
    return self();
  }
  Self& weight_decay(float value) {
    weight_decay_ = value;
    return self();
  }
  float lr() const { return lr_; }
  std::pair<float, float> betas() const { return betas_; }
  float eps() const { return eps_; }
  float weight_decay() const { return weight_decay_; }

 protected:
  AdamSettings(float lr, float weight_decay) : lr_(lr), weight_decay_(weight_decay) {}

 private:
  Self& self() { return static_cast<Self&>(*this); }

  float lr_;
  std::pair<float, float> betas_{0.9f, 0.999f};
  float eps_ = 1e-8f, weight_decay_;
};

/// Adam's settings: AdamOptions(1e-3f).betas({0.9f, 0.99f}).eps(1e-6f).weight_decay(1e-4f).
class AdamOptions : public AdamSettings<AdamOptions> {
 public:
  explicit AdamOptions(float lr = 1e-3f) : AdamSettings(lr, 0.0f) {}
};

/// AdamW's settings: as AdamOptions, but the (decoupled) weight decay defaults to 0.01.
class AdamWOptions : public AdamSettings<AdamWOptions> {
 public:
  explicit AdamWOptions(float lr = 1e-3f) : AdamSettings(lr, 0.01f) {}
};

class SGD : public Optimizer {
 public:
  explicit SGD(std::vector<Tensor> params, float lr = 0.01f, float momentum = 0.0f,
               float weight_decay = 0.0f);
  SGD(std::vector<Tensor> params, const SGDOptions& options)
      : SGD(std::move(params), options.lr(), options.momentum(), options.weight_decay()) {}
  void step() override;
  const char* name() const override { return "SGD"; }

  float momentum() const { return momentum_; }
  float weight_decay() const { return weight_decay_; }
  bool has_momentum() const { return momentum_ > 0.0f; }
  /// Copies of the momentum buffers (undefined where a parameter has none yet).
  std::vector<Tensor> get_momentum_state() const;
  /// Sets the momentum buffers; the count must match the parameters.
  void set_momentum_state(const std::vector<Tensor>& state);

 protected:
  std::vector<BufferKind> buffer_kinds() const override { return {{"momentum", false}}; }

 private:
  /// The update itself (module 06's exercise), once step() has checked the state fits.
  void update();
  float momentum_, weight_decay_;
};

class Adam : public Optimizer {
 public:
  explicit Adam(std::vector<Tensor> params, float lr = 1e-3f,
                std::pair<float, float> betas = {0.9f, 0.999f}, float eps = 1e-8f,
                float weight_decay = 0.0f);
  Adam(std::vector<Tensor> params, const AdamOptions& options)
      : Adam(std::move(params), options.lr(), options.betas(), options.eps(),
             options.weight_decay()) {}
  void step() override;
  const char* name() const override { return "Adam"; }

  float beta1() const { return beta1_; }
  float beta2() const { return beta2_; }
  float eps() const { return eps_; }
  float weight_decay() const { return weight_decay_; }

 protected:
  /// The shared Adam step; `decoupled` selects AdamW's decay.
  void adam_step(bool decoupled);
  /// First moments m, and second moments v (never negative: √v would be NaN).
  std::vector<BufferKind> buffer_kinds() const override { return {{"m", false}, {"v", true}}; }

 private:
  float beta1_, beta2_, eps_, weight_decay_;
};

class AdamW : public Adam {
 public:
  explicit AdamW(std::vector<Tensor> params, float lr = 1e-3f,
                 std::pair<float, float> betas = {0.9f, 0.999f}, float eps = 1e-8f,
                 float weight_decay = 0.01f)
      : Adam(std::move(params), lr, betas, eps, weight_decay) {}
  AdamW(std::vector<Tensor> params, const AdamWOptions& options)
      : Adam(std::move(params), options.lr(), options.betas(), options.eps(),
             options.weight_decay()) {}
  void step() override {
    check_buffers_fit();
    adam_step(true);
  }
  const char* name() const override { return "AdamW"; }
};

}  // namespace tinytorch
