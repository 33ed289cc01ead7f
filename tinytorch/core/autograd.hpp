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
//
// The backward nodes of the module 01–04 ops, each with its formula, are in
// tinytorch/core/internal/nodes.hpp: read them there (they are not part of the installed API).
#pragma once

#include <algorithm>
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

/// What a LeafGradientHook calls: `leaf` is a tensor without grad_fn whose grad() now holds
/// every contribution of the running backward pass.
using LeafGradientCallback = std::function<void(const Tensor& leaf)>;

/// Watches gradients arrive during backward, for its lifetime (like torch's
/// register_post_accumulate_grad_hook, for every leaf at once). Backward calls the callback once
/// per leaf it gives a gradient, right after the leaf's last contribution of the pass was added
/// into grad(): data-parallel training starts averaging the last layer's gradients while
/// backward still works on the first layers. Leaves come in the engine's order (reverse
/// topological: a model's last layer first); leaves the pass does not reach, or reaches with no
/// gradient, are not reported. A hook watches the backward passes of the thread that made it
/// (destroy it there too); hooks run in the order they were made, and one that throws stops
/// backward with its exception (the gradients of leaves already reported stay accumulated).
///
///   std::vector<Tensor> ready;
///   LeafGradientHook hook([&](const Tensor& leaf) { ready.push_back(leaf); });
///   loss.backward();                    // ready: every parameter, the last layer's first
class LeafGradientHook {
 public:
  explicit LeafGradientHook(LeafGradientCallback callback);
  ~LeafGradientHook();
  LeafGradientHook(const LeafGradientHook&) = delete;
  LeafGradientHook& operator=(const LeafGradientHook&) = delete;

 private:
  LeafGradientCallback callback_;
};

/// A backward node. `inputs` are the tensors the op consumed; apply() turns the gradient of
/// the op's output into one gradient per input (an empty Array where no gradient is needed).
class Node {
 public:
  /// Remembers each input's version() as the forward pass saw it.
  explicit Node(std::vector<Tensor> inputs) : inputs_(std::move(inputs)) {
    versions_.reserve(inputs_.size());
    for (const Tensor& t : inputs_) versions_.push_back(t.defined() ? t.version() : 0);
  }
  virtual ~Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  virtual const char* name() const = 0;
  virtual std::vector<Array> apply(const Array& grad_out) = 0;

  const std::vector<Tensor>& inputs() const { return inputs_; }
  /// Does input i want a gradient? Nodes skip the work for inputs that do not.
  bool needs_grad(std::size_t i) const { return inputs_[i].requires_grad(); }
  /// Does apply() read input i's values? Then the engine refuses to run it when they were
  /// written after the forward pass (their version() moved on). Rules that need only shapes
  /// (add, reshape, sum, ...) say no, as PyTorch saves no tensor for them.
  virtual bool reads_input(std::size_t) const { return true; }
  /// Input i's version() when this node was recorded.
  std::uint64_t saved_version(std::size_t i) const { return versions_[i]; }
  /// Drops saved buffers and edges after backward (unless retain_graph).
  void release();
  bool released() const { return released_; }

 protected:
  /// Subclasses free what they saved (masks, im2col buffers, ...).
  virtual void release_saved() {}

 private:
  std::vector<Tensor> inputs_;
  std::vector<std::uint64_t> versions_;
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

}  // namespace tinytorch
