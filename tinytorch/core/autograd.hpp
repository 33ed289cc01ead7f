// Module 05 — Autograd: reverse-mode automatic differentiation on a tape.
//
// Every differentiable op computes its result, then (when grad mode is on and some input
// requires grad) attaches a named Node to the result that remembers what backward needs.
// loss.backward() collects the nodes reachable from loss, visits them in reverse
// topological order with an explicit stack (no recursion limit), sums the gradients of
// tensors used more than once and accumulates into .grad() of the leaves.
//
//   Chain rule, per node: given g = dL/d(out), a node returns dL/d(input_i) for each input.
//   Broadcasting: the gradient of a broadcast input is summed back to the input's shape.
//
// After backward the graph's saved buffers are freed unless retain_graph is asked for;
// a second backward through a freed graph is a clear std::logic_error.
//
//   Tensor x = Tensor::scalar(2.0f, true);
//   Tensor z = x * 3.0f + 1.0f;
//   z.backward();                 // x.grad().item() == 3
//   { NoGradGuard guard; auto y = x * 2.0f; }  // y records no node
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <tinytorch/core/tensor.hpp>

namespace tinytorch {

/// Is recording on? (true unless a NoGradGuard is alive on this thread)
bool grad_mode_enabled();

/// Turns recording off for its lifetime (evaluation, optimizer updates), like torch::NoGradGuard.
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

/// Course parity: autograd is always on here; this is a no-op kept for readers of the course.
inline void enable_autograd() {}

/// Anomaly detection, as torch.autograd.detect_anomaly, for hand-written training loops (the
/// Trainer replays a batch this way when its loss or gradients go bad). While a guard is alive
/// on this thread, every op that records a node checks its output, and backward checks every
/// gradient a node returns; the first NaN or infinity throws NonFiniteError naming the op (and
/// which input already held it) or the backward node and the input whose gradient it is, with
/// the position set below. Off by default: it costs one pass over every output and gradient.
///
///   DetectAnomalyGuard anomaly;
///   anomaly.set_names(model.state_dict());          // parameters by name in the error
///   for (std::size_t epoch = 0; ...; ++epoch)
///     for (std::size_t step = 0; ...; ++step) {
///       anomaly.set_position(epoch, step);          // named in the error
///       Tensor loss = cross_entropy(model(x), y);   // a NaN stops here, at its op...
///       loss.backward();                            // ...or here, at its gradient,
///       optimizer.step();                           // before it reaches the weights
///     }
class DetectAnomalyGuard {
 public:
  DetectAnomalyGuard();
  ~DetectAnomalyGuard();  ///< restores what was set before (guards nest)
  DetectAnomalyGuard(const DetectAnomalyGuard&) = delete;
  DetectAnomalyGuard& operator=(const DetectAnomalyGuard&) = delete;

  /// The epoch and step that errors name from now on.
  void set_position(std::size_t epoch, std::size_t step);
  /// Names for tensors (a model's state_dict()), so errors say "parameter '0.weight'".
  void set_names(std::vector<std::pair<std::string, Tensor>> named);

 private:
  struct Saved;
  std::unique_ptr<Saved> saved_;
};

/// Is anomaly detection on for this thread?
bool anomaly_detection_enabled();

/// A backward node. `inputs` are the tensors the op consumed; apply() turns the gradient of
/// the op's output into one gradient per input (an empty Array where no gradient is needed).
class Node {
 public:
  explicit Node(std::vector<Tensor> inputs) : inputs_(std::move(inputs)) {}
  virtual ~Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  virtual const char* name() const = 0;
  virtual std::vector<Array> apply(const Array& grad_out) = 0;

  const std::vector<Tensor>& inputs() const { return inputs_; }
  /// Does input i want a gradient? Nodes skip the work for inputs that do not.
  bool needs_grad(std::size_t i) const { return inputs_[i].requires_grad(); }
  /// Drops saved buffers and edges after backward (unless retain_graph).
  void release();
  bool released() const { return released_; }

 protected:
  /// Subclasses free what they saved (masks, im2col buffers, ...).
  virtual void release_saved() {}

 private:
  std::vector<Tensor> inputs_;
  bool released_ = false;
};

/// Outcome of gradcheck: ok, the largest error found and a description of the worst entry.
struct GradcheckResult {
  bool ok = false;
  bool all_grads_nonzero = false;  ///< every input that requires grad got a non-zero gradient
  double max_abs_error = 0.0;
  std::string message;
};

/// Compares autograd's gradients of sum(f(inputs) * r) (r a fixed random weight tensor) with
/// central differences in every input that requires grad. Float32 needs eps around 1e-2..1e-3.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, float eps = 1e-3f, double atol = 1e-3,
                          double rtol = 1e-2);

// ---- internals: recording and the backward rules of the module 01–04 ops --------------
// Ops call these; users never need to. Each node is named after the op, holds only what its
// formula needs, and documents it.

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

/// With anomaly detection on (DetectAnomalyGuard): throws NonFiniteError if a gradient that
/// `node` returned for `grad_out` holds a NaN or infinity. The backward engine calls it after
/// every node; with detection off it returns at once.
void check_gradients(const Node& node, const Array& grad_out, const std::vector<Array>& grads);

/// out = a + b:  da = g, db = g (each summed back to its shape)
struct AddBackward : Node {
  AddBackward(const Tensor& a, const Tensor& b) : Node({a, b}) {}
  const char* name() const override { return "AddBackward"; }
  std::vector<Array> apply(const Array& g) override;
};

/// out = a - b:  da = g, db = -g
struct SubBackward : Node {
  SubBackward(const Tensor& a, const Tensor& b) : Node({a, b}) {}
  const char* name() const override { return "SubBackward"; }
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
  std::vector<Array> apply(const Array& g) override;
  std::size_t dim0, dim1;
};

/// out = a.reshape(...) (also flatten):  da = g.reshape(a.shape)
struct ReshapeBackward : Node {
  explicit ReshapeBackward(const Tensor& a) : Node({a}) {}
  const char* name() const override { return "ReshapeBackward"; }
  std::vector<Array> apply(const Array& g) override;
};

/// out = a[rows] (index, slice, index_select along axis 0):  da = zeros, da[rows] += g
/// (t[i] drops axis 0, but g holds the same elements in the same order either way)
struct SliceBackward : Node {
  SliceBackward(const Tensor& a, std::vector<std::size_t> rows)
      : Node({a}), rows(std::move(rows)) {}
  const char* name() const override { return "SliceBackward"; }
  std::vector<Array> apply(const Array& g) override;
  std::vector<std::size_t> rows;
};

/// out = sum(a, axes):  da = g broadcast back over the reduced axes
struct SumBackward : Node {
  SumBackward(const Tensor& a, std::vector<std::size_t> axes) : Node({a}), axes(std::move(axes)) {}
  const char* name() const override { return "SumBackward"; }
  std::vector<Array> apply(const Array& g) override;
  std::vector<std::size_t> axes;  ///< sorted, non-negative; all axes for a full reduction
};

/// out = mean(a, axes):  da = g broadcast back / (number of reduced elements)
struct MeanBackward : Node {
  MeanBackward(const Tensor& a, std::vector<std::size_t> axes) : Node({a}), axes(std::move(axes)) {}
  const char* name() const override { return "MeanBackward"; }
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
  std::vector<Array> apply(const Array& g) override;
  void release_saved() override { out = Array(); }
  Array out;
};

/// out = tanh(a):  da = g·(1 − out²)
struct TanhBackward : Node {
  TanhBackward(const Tensor& a, const Tensor& out) : Node({a}), out(out.data()) {}
  const char* name() const override { return "TanhBackward"; }
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
  std::vector<Array> apply(const Array& g) override;
  void release_saved() override { scaled_mask = Array(); }
  Array scaled_mask;
};

}  // namespace detail

}  // namespace tinytorch
