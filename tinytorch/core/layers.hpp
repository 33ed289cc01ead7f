// Module 03 — Layers: Linear, Dropout, Sequential, Flatten.
//
//   Linear   y = x·W + b      x [N, in], W [in, out] (the course's layout), b [out]
//            dx = g·Wᵀ, dW = xᵀ·g, db = Σ_N g
//            W ~ N(0, 1/in) (LeCun normal; the course calls it Xavier), b = 0
//   Dropout  training: y = x·m/(1 − p), m_i ~ Bernoulli(1 − p) (inverted dropout)
//            eval: y = x
//   Flatten  [N, C, H, W] -> [N, C·H·W] (a differentiable reshape)
//
//   Sequential net({std::make_shared<Linear>(64, 32), std::make_shared<ReLU>(),
//                   std::make_shared<Linear>(32, 10)});
//   Tensor logits = net(Tensor::randn({16, 64}));        // [16, 10]
//   for (auto& [name, p] : net.named_parameters()) ...     // "0.weight", "0.bias", ...
#pragma once

#include <memory>
#include <vector>

#include <tinytorch/core/module.hpp>
#include <tinytorch/core/tensor.hpp>

namespace tinytorch {

/// x·W + b for x [N, in] (or [in]; extra leading axes are folded into N). `b` may be undefined.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

/// Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1-p).
/// Returns x itself when !training or p == 0.
Tensor dropout(const Tensor& x, float p, bool training = true);

class Linear : public Module {
 public:
  Linear(std::size_t in_features, std::size_t out_features, bool bias = true);
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Linear"; }
  std::string repr() const override;

  Tensor weight;  ///< [in_features, out_features]
  Tensor bias;    ///< [out_features], undefined when built with bias = false
  std::size_t in_features, out_features;
};

class Dropout : public Module {
 public:
  explicit Dropout(float p = 0.5f);
  /// Uses the module's mode: train() drops, eval() passes through.
  Tensor forward(const Tensor& x) override { return dropout(x, p_, is_training()); }
  /// The course's form: the mode is an argument.
  Tensor forward(const Tensor& x, bool training) { return dropout(x, p_, training); }
  std::string name() const override { return "Dropout"; }
  std::string repr() const override;
  float p() const { return p_; }

 private:
  float p_;
};

class Flatten : public Module {
 public:
  explicit Flatten(int start_dim = 1) : start_dim_(start_dim) {}
  Tensor forward(const Tensor& x) override { return x.flatten(start_dim_); }
  std::string name() const override { return "Flatten"; }

 private:
  int start_dim_;
};

/// Runs its children in order; child i is registered under the name "i".
class Sequential : public Module {
 public:
  Sequential() = default;
  explicit Sequential(std::vector<std::shared_ptr<Module>> modules);
  void push_back(std::shared_ptr<Module> module);
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Sequential"; }
  std::size_t size() const { return children().size(); }
  Module& operator[](std::size_t i) const;
};

}  // namespace tinytorch
