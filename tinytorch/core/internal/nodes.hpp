// Internal to the library (not installed, not reached from tinytorch.hpp): how ops record
// themselves on the tape, and the backward node of every module 01–04 op. Each node is named
// after its op, holds only what its formula needs, and states the formula; the bodies of
// apply() are module 05's exercises (tinytorch/core/autograd.cpp). Conv2d, pooling and
// BatchNorm keep their nodes beside their kernels (core/spatial.cpp, pooling.cpp, batchnorm.cpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <tinytorch/core/autograd.hpp>
#include <tinytorch/core/tensor.hpp>
#include <tinytorch/detail/errors.hpp>
#include <tinytorch/detail/shape.hpp>

namespace tinytorch {

namespace detail {

/// True when an op with these inputs must record a node.
bool should_record(std::initializer_list<const Tensor*> inputs);

/// Attaches `node` to `out` (which then requires grad) and returns `out`.
Tensor attach(Tensor out, std::shared_ptr<Node> node);

/// Sums `grad` over the broadcast axes so that it has `shape` (the inverse of broadcasting).
Array unbroadcast(const Array& grad, const Shape& shape);
/// The same for a temporary: moved through untouched when no axis was broadcast.
Array unbroadcast(Array&& grad, const Shape& shape);

/// What apply() returns, one gradient per input, moved in: `return gradients(std::move(dx));`.
/// (`return {dx};` would copy every gradient: an initializer_list cannot be moved from.)
template <class... Grads>
std::vector<Array> gradients(Grads&&... grads) {
  std::vector<Array> out;
  out.reserve(sizeof...(Grads));
  (out.push_back(std::forward<Grads>(grads)), ...);
  return out;
}

/// Is `grad`, returned by apply() for `input`, the "no gradient" mark (an array of shape [0],
/// kNone in autograd.cpp)? An empty array of the input's own shape is a real gradient: the
/// input has no elements (a batch of 0 rows), and it still gets its (empty) gradient, and the
/// nodes before it theirs (a weight's zeros), as in PyTorch.
inline bool is_no_gradient(const Array& grad, const Tensor& input) {
  if (grad.size() != 0) return false;
  const auto& shape = input.data().shape();
  return !std::equal(shape.begin(), shape.end(), grad.shape().begin(), grad.shape().end());
}

/// With anomaly detection on: throws NonFiniteError if backward starts from a non-finite value
/// (`from_value`: the loss itself) or with a non-finite gradient.
void check_backward_start(const Array& values, bool from_value);

/// With anomaly detection on: throws NonFiniteError if `out`, just computed by the op that
/// recorded `node`, holds a NaN or infinity, naming the input that brought it in (if any).
void check_output(const Tensor& out, const Node& node);

/// With anomaly detection on (DetectAnomalyGuard): throws NonFiniteError if a gradient that
/// `node` returned for `grad_out` holds a NaN or infinity. The backward engine calls it after
/// every node; with detection off it returns at once.
void check_gradients(const Node& node, const Array& grad_out, const std::vector<Array>& grads);

/// out = a + b:  da = g, db = g (each summed back to its shape)
struct AddBackward : Node {
  AddBackward(const Tensor& a, const Tensor& b) : Node({a, b}) {}
  const char* name() const override { return "AddBackward"; }
  bool reads_input(std::size_t) const override { return false; }
  std::vector<Array> apply(const Array& g) override;
};

/// out = a - b:  da = g, db = -g
struct SubBackward : Node {
  SubBackward(const Tensor& a, const Tensor& b) : Node({a, b}) {}
  const char* name() const override { return "SubBackward"; }
  bool reads_input(std::size_t) const override { return false; }
  std::vector<Array> apply(const Array& g) override;
};

/// out = a * b:  da = g·b, db = g·a
struct MulBackward : Node {
  MulBackward(const Tensor& a, const Tensor& b) : Node({a, b}) {}
  const char* name() const override { return "MulBackward"; }
  std::vector<Array> apply(const Array& g) override;
};

/// out = a / b:  da = g/b, db = -g·a/b²
struct DivBackward : Node {
  DivBackward(const Tensor& a, const Tensor& b) : Node({a, b}) {}
  const char* name() const override { return "DivBackward"; }
  std::vector<Array> apply(const Array& g) override;
};

/// out = -a:  da = -g
struct NegBackward : Node {
  explicit NegBackward(const Tensor& a) : Node({a}) {}
  const char* name() const override { return "NegBackward"; }
  bool reads_input(std::size_t) const override { return false; }
  std::vector<Array> apply(const Array& g) override;
};

/// out = a @ b:  da = g @ bᵀ, db = aᵀ @ g (1-D operands are treated as rows/columns)
struct MatmulBackward : Node {
  MatmulBackward(const Tensor& a, const Tensor& b) : Node({a, b}) {}
  const char* name() const override { return "MatmulBackward"; }
  std::vector<Array> apply(const Array& g) override;
};

/// out = a.transpose(d0, d1):  da = g.transpose(d0, d1)
struct TransposeBackward : Node {
  TransposeBackward(const Tensor& a, std::size_t d0, std::size_t d1)
      : Node({a}), dim0(d0), dim1(d1) {}
  const char* name() const override { return "TransposeBackward"; }
  bool reads_input(std::size_t) const override { return false; }
  std::vector<Array> apply(const Array& g) override;
  std::size_t dim0, dim1;
};

/// out = a.reshape(...) (also flatten):  da = g.reshape(a.shape)
struct ReshapeBackward : Node {
  explicit ReshapeBackward(const Tensor& a) : Node({a}) {}
  const char* name() const override { return "ReshapeBackward"; }
  bool reads_input(std::size_t) const override { return false; }
  std::vector<Array> apply(const Array& g) override;
};

/// out = a[rows] (index, slice, index_select along axis 0):  da = zeros, da[rows] += g
/// (t[i] drops axis 0, but g holds the same elements in the same order either way)
struct SliceBackward : Node {
  SliceBackward(const Tensor& a, std::vector<std::size_t> rows)
      : Node({a}), rows(std::move(rows)) {}
  const char* name() const override { return "SliceBackward"; }
  bool reads_input(std::size_t) const override { return false; }
  std::vector<Array> apply(const Array& g) override;
  std::vector<std::size_t> rows;
};

/// out = sum(a, axes):  da = g broadcast back over the reduced axes
struct SumBackward : Node {
  SumBackward(const Tensor& a, std::vector<std::size_t> axes) : Node({a}), axes(std::move(axes)) {}
  const char* name() const override { return "SumBackward"; }
  bool reads_input(std::size_t) const override { return false; }
  std::vector<Array> apply(const Array& g) override;
  std::vector<std::size_t> axes;  ///< sorted, non-negative; all axes for a full reduction
};

/// out = mean(a, axes):  da = g broadcast back / (number of reduced elements)
struct MeanBackward : Node {
  MeanBackward(const Tensor& a, std::vector<std::size_t> axes) : Node({a}), axes(std::move(axes)) {}
  const char* name() const override { return "MeanBackward"; }
  bool reads_input(std::size_t) const override { return false; }
  std::vector<Array> apply(const Array& g) override;
  std::vector<std::size_t> axes;
};

/// out = max(a, axes):  da = g at the maxima, shared equally among ties (as torch.amax)
struct MaxBackward : Node {
  MaxBackward(const Tensor& a, const Tensor& out, std::vector<std::size_t> axes)
      : Node({a}), out(out.data()), axes(std::move(axes)) {}
  const char* name() const override { return "MaxBackward"; }
  std::vector<Array> apply(const Array& g) override;
  void release_saved() override { out = Array(); }
  Array out;
  std::vector<std::size_t> axes;
};

/// out = exp(a):  da = g·out
struct ExpBackward : Node {
  ExpBackward(const Tensor& a, const Tensor& out) : Node({a}), out(out.data()) {}
  const char* name() const override { return "ExpBackward"; }
  bool reads_input(std::size_t) const override { return false; }
  std::vector<Array> apply(const Array& g) override;
  void release_saved() override { out = Array(); }
  Array out;
};

/// out = log(a):  da = g / a
struct LogBackward : Node {
  explicit LogBackward(const Tensor& a) : Node({a}) {}
  const char* name() const override { return "LogBackward"; }
  std::vector<Array> apply(const Array& g) override;
};

/// out = sqrt(a):  da = g / (2·out)
struct SqrtBackward : Node {
  SqrtBackward(const Tensor& a, const Tensor& out) : Node({a}), out(out.data()) {}
  const char* name() const override { return "SqrtBackward"; }
  bool reads_input(std::size_t) const override { return false; }
  std::vector<Array> apply(const Array& g) override;
  void release_saved() override { out = Array(); }
  Array out;
};

/// out = a^p:  da = g·p·a^(p-1)
struct PowBackward : Node {
  PowBackward(const Tensor& a, float p) : Node({a}), exponent(p) {}
  const char* name() const override { return "PowBackward"; }
  std::vector<Array> apply(const Array& g) override;
  float exponent;
};

/// out = relu(a):  da = g·(a > 0)
struct ReluBackward : Node {
  explicit ReluBackward(const Tensor& a) : Node({a}) {}
  const char* name() const override { return "ReluBackward"; }
  std::vector<Array> apply(const Array& g) override;
};

/// out = σ(a):  da = g·out·(1 − out)
struct SigmoidBackward : Node {
  SigmoidBackward(const Tensor& a, const Tensor& out) : Node({a}), out(out.data()) {}
  const char* name() const override { return "SigmoidBackward"; }
  bool reads_input(std::size_t) const override { return false; }
  std::vector<Array> apply(const Array& g) override;
  void release_saved() override { out = Array(); }
  Array out;
};

/// out = tanh(a):  da = g·(1 − out²)
struct TanhBackward : Node {
  TanhBackward(const Tensor& a, const Tensor& out) : Node({a}), out(out.data()) {}
  const char* name() const override { return "TanhBackward"; }
  bool reads_input(std::size_t) const override { return false; }
  std::vector<Array> apply(const Array& g) override;
  void release_saved() override { out = Array(); }
  Array out;
};

/// out = a·σ(1.702a):  da = g·(σ(1.702a) + 1.702·a·σ(1.702a)·(1 − σ(1.702a)))
struct GeluBackward : Node {
  explicit GeluBackward(const Tensor& a) : Node({a}) {}
  const char* name() const override { return "GeluBackward"; }
  std::vector<Array> apply(const Array& g) override;
};

/// out = softmax(a, axis):  da = out·(g − Σ_axis(g·out))
struct SoftmaxBackward : Node {
  SoftmaxBackward(const Tensor& a, const Tensor& out, std::size_t axis)
      : Node({a}), out(out.data()), axis(axis) {}
  const char* name() const override { return "SoftmaxBackward"; }
  bool reads_input(std::size_t) const override { return false; }
  std::vector<Array> apply(const Array& g) override;
  void release_saved() override { out = Array(); }
  Array out;
  std::size_t axis;
};

/// out = log_softmax(a, axis):  da = g − exp(out)·Σ_axis(g)
struct LogSoftmaxBackward : Node {
  LogSoftmaxBackward(const Tensor& a, const Tensor& out, std::size_t axis)
      : Node({a}), out(out.data()), axis(axis) {}
  const char* name() const override { return "LogSoftmaxBackward"; }
  bool reads_input(std::size_t) const override { return false; }
  std::vector<Array> apply(const Array& g) override;
  void release_saved() override { out = Array(); }
  Array out;
  std::size_t axis;
};

/// out = x·W + b (x [N, in], W [in, out], b [out]):  dx = g·Wᵀ, dW = xᵀ·g, db = Σ_N g
struct LinearBackward : Node {
  LinearBackward(const Tensor& x, const Tensor& w, const Tensor& b) : Node({x, w, b}) {}
  LinearBackward(const Tensor& x, const Tensor& w) : Node({x, w}) {}
  const char* name() const override { return "LinearBackward"; }
  std::vector<Array> apply(const Array& g) override;
};

/// out = mean((p − t)²):  dp = g·2(p − t)/n
struct MseBackward : Node {
  MseBackward(const Tensor& p, const Tensor& t) : Node({p, t}) {}
  const char* name() const override { return "MseBackward"; }
  std::vector<Array> apply(const Array& g) override;
};

/// out = −mean(y·log p + (1 − y)·log(1 − p)), p clamped to [ε, 1 − ε]:
/// dp = g·(p − y)/(p(1 − p)·n) inside the clamp, 0 outside;  dy = g·(log(1 − p) − log p)/n
struct BceBackward : Node {
  BceBackward(const Tensor& p, const Tensor& y) : Node({p, y}) {}
  const char* name() const override { return "BceBackward"; }
  std::vector<Array> apply(const Array& g) override;
};

/// out = −mean_i log_softmax(z)[i, y_i]:  dz = g·(softmax(z) − onehot(y))/N
struct CrossEntropyBackward : Node {
  CrossEntropyBackward(const Tensor& logits, Array probs, std::vector<std::size_t> labels)
      : Node({logits}), probs(std::move(probs)), labels(std::move(labels)) {}
  const char* name() const override { return "CrossEntropyBackward"; }
  bool reads_input(std::size_t) const override { return false; }
  std::vector<Array> apply(const Array& g) override;
  void release_saved() override {
    probs = Array();
    labels.clear();
  }
  Array probs;
  std::vector<std::size_t> labels;
};

/// out = x·mask/(1 − p) (inverted dropout):  dx = g·mask/(1 − p)
struct DropoutBackward : Node {
  DropoutBackward(const Tensor& x, Array scaled_mask)
      : Node({x}), scaled_mask(std::move(scaled_mask)) {}
  const char* name() const override { return "DropoutBackward"; }
  bool reads_input(std::size_t) const override { return false; }
  std::vector<Array> apply(const Array& g) override;
  void release_saved() override { scaled_mask = Array(); }
  Array scaled_mask;
};

}  // namespace detail

}  // namespace tinytorch
