// Module 02 — Activations: element-wise non-linearities and softmax.
//
//   ReLU     relu(x)    = max(0, x)                 d/dx = 1 if x > 0 else 0
//   Sigmoid  σ(x)       = 1 / (1 + e^-x)            d/dx = σ(x)(1 − σ(x))
//   Tanh     tanh(x)                                d/dx = 1 − tanh²(x)
//   GELU     gelu(x)    = x·σ(1.702x)  (the course's sigmoid approximation)
//                                                   d/dx = s + 1.702·x·s(1 − s), s = σ(1.702x)
//   Softmax  y_i        = e^(x_i − m) / Σ_j e^(x_j − m), m = max_j x_j (along one axis)
//                                                   dx = y·(g − Σ g·y)
//   LogSoftmax          = x_i − m − log Σ_j e^(x_j − m)
//                                                   dx = g − softmax(x)·Σ g
//
// Each is a function (relu(x)) and a parameter-free Module (ReLU()(x)).
//
//   Tensor logits({{1, 2, 3}});
//   Tensor p = softmax(logits, -1);       // [[0.090031, 0.244728, 0.665241]]
//   Sequential net({std::make_shared<Linear>(2, 4), std::make_shared<ReLU>()});
#pragma once

#include <tinytorch/core/module.hpp>
#include <tinytorch/core/tensor.hpp>

namespace tinytorch {

/// max(0, x).
Tensor relu(const Tensor& x);
/// 1/(1+e^-x), computed without overflow for any |x|.
Tensor sigmoid(const Tensor& x);
/// tanh(x).
Tensor tanh(const Tensor& x);
/// x·σ(1.702x), the course's GELU.
Tensor gelu(const Tensor& x);
/// Softmax along `dim` (negative counts from the end); stable for large logits.
Tensor softmax(const Tensor& x, int dim = -1);
/// log(softmax(x)) along `dim`, computed directly (no log of a rounded-to-zero probability).
Tensor log_softmax(const Tensor& x, int dim = -1);

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override { return relu(x); }
  std::string name() const override { return "ReLU"; }
};

class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& x) override { return sigmoid(x); }
  std::string name() const override { return "Sigmoid"; }
};

class Tanh : public Module {
 public:
  Tensor forward(const Tensor& x) override { return tanh(x); }
  std::string name() const override { return "Tanh"; }
};

class GELU : public Module {
 public:
  Tensor forward(const Tensor& x) override { return gelu(x); }
  std::string name() const override { return "GELU"; }
};

class Softmax : public Module {
 public:
  explicit Softmax(int dim = -1) : dim_(dim) {}
  Tensor forward(const Tensor& x) override { return softmax(x, dim_); }
  Tensor forward(const Tensor& x, int dim) { return softmax(x, dim); }
  using Module::operator();
  Tensor operator()(const Tensor& x, int dim) { return softmax(x, dim); }
  std::string name() const override { return "Softmax"; }
  std::string repr() const override;

 private:
  int dim_;
};

class LogSoftmax : public Module {
 public:
  explicit LogSoftmax(int dim = -1) : dim_(dim) {}
  Tensor forward(const Tensor& x) override { return log_softmax(x, dim_); }
  std::string name() const override { return "LogSoftmax"; }
  std::string repr() const override;

 private:
  int dim_;
};

}  // namespace tinytorch
