// Module 05 — Autograd: grad mode, leaf gradient hooks and the backward engine (iterative,
// in reverse topological order, with the checks of what each rule returns). The rules
// themselves, the module's exercises, are in autograd.cpp.
#include <tinytorch/core/autograd.hpp>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <unordered_map>

#include <tinytorch/core/internal/nodes.hpp>
#include <tinytorch/detail/common.hpp>

namespace tinytorch {

// ---- grad mode --------------------------------------------------------------------------

namespace {
thread_local bool grad_enabled = true;
}  // namespace

bool grad_mode_enabled() {
  return grad_enabled;
}
NoGradGuard::NoGradGuard() : previous_(grad_enabled) {
  grad_enabled = false;
}
NoGradGuard::~NoGradGuard() {
  grad_enabled = previous_;
}

bool detail::should_record(std::initializer_list<const Tensor*> inputs) {
  if (!grad_enabled) return false;
  for (const Tensor* t : inputs) {
    if (t->requires_grad()) return true;
  }
  return false;
}

Tensor detail::attach(Tensor out, std::shared_ptr<Node> node) {
  if (anomaly_detection_enabled()) check_output(out, *node);  // anomaly.cpp
  out.set_grad_fn(std::move(node));
  return out;
}

void Node::release() {
  release_saved();
  inputs_.clear();
  versions_.clear();
  inputs_.shrink_to_fit();
  released_ = true;
}

// ---- leaf gradient hooks ----------------------------------------------------------------

namespace {

// The callbacks of this thread's live LeafGradientHooks, oldest first.
thread_local std::vector<const LeafGradientCallback*> leaf_hooks;

// Tells every hook that `leaf`'s gradient is final for this pass. A copy of the list: a
// callback may make or drop hooks.
void notify_leaf_ready(const Tensor& leaf) {
  if (leaf_hooks.empty()) return;
  const std::vector<const LeafGradientCallback*> hooks = leaf_hooks;
  for (const LeafGradientCallback* hook : hooks) (*hook)(leaf);
}

}  // namespace

LeafGradientHook::LeafGradientHook(LeafGradientCallback callback) : callback_(std::move(callback)) {
  if (!callback_) detail::fail_arg("LeafGradientHook: the callback is empty");
  leaf_hooks.push_back(&callback_);
}

LeafGradientHook::~LeafGradientHook() {
  // Not found only when destroyed on another thread than the one it watched (a misuse).
  const auto it = std::find(leaf_hooks.begin(), leaf_hooks.end(), &callback_);
  if (it != leaf_hooks.end()) leaf_hooks.erase(it);
}

// ---- the backward engine ----------------------------------------------------------------

namespace {

// The tensors reachable from `root` through grad_fn edges, each after every tensor computed
// from it (reverse topological order; `root` first), and where in that order each one is, so
// that gradients are collected in a vector by position. Iterative DFS: deep graphs cannot
// overflow the stack.
struct Tape {
  std::vector<Tensor> order;
  std::unordered_map<const void*, std::size_t> position;  // tensor id → index in `order`
};

Tape record_tape(const Tensor& root) {
  Tape tape;
  std::vector<Tensor> post_order;
  struct Frame {
    Tensor tensor;
    std::size_t next_input;
    std::size_t* post_index;  // its entry in `position` (stable: map values never move)
  };
  std::vector<Frame> stack{{root, 0, &tape.position.emplace(root.id(), 0).first->second}};
  while (!stack.empty()) {
    Frame& frame = stack.back();
    const Node* node = frame.tensor.grad_fn().get();
    if (node && frame.next_input < node->inputs().size()) {
      const Tensor& input = node->inputs()[frame.next_input++];
      if (!input.requires_grad()) continue;
      auto [it, fresh] = tape.position.emplace(input.id(), 0);
      if (fresh) stack.push_back({input, 0, &it->second});
      continue;
    }
    *frame.post_index = post_order.size();
    post_order.push_back(std::move(frame.tensor));
    stack.pop_back();
  }
  const std::size_t n = post_order.size();
  for (auto& entry : tape.position) entry.second = n - 1 - entry.second;
  tape.order.assign(std::make_move_iterator(post_order.rbegin()),
                    std::make_move_iterator(post_order.rend()));
  return tape;
}

// Adds g into slot i (the first gradient to arrive is moved in, later ones are summed).
void accumulate(std::vector<Array>& grads, std::vector<char>& has, std::size_t i, Array&& g) {
  if (has[i]) {
    xt::noalias(grads[i]) += g;
  } else {
    grads[i] = std::move(g);
    has[i] = 1;
  }
}

void accumulate_into_leaf(Tensor& leaf, Array&& g) {
  Tensor grad = leaf.grad();
  if (grad.defined()) {
    xt::noalias(grad.data()) += g;  // gradients add up until zero_grad(), as in PyTorch
  } else {
    leaf.set_grad(Tensor(std::move(g)));
  }
}

// The gradient's shape when it looks like the input's shape broadcast (more leading axes, or
// a larger size where the input has 1): the usual slip in a backward rule.
bool looks_broadcast(const Array::shape_type& input, const Array::shape_type& grad) {
  if (grad.size() < input.size()) return false;
  const std::size_t lead = grad.size() - input.size();
  for (std::size_t k = 0; k < input.size(); ++k) {
    if (input[k] != grad[lead + k] && input[k] != 1) return false;
  }
  return true;
}

// What a node's apply() returned must fit its inputs: one gradient per input, in the order of
// inputs(), each of its input's shape (or empty: no gradient for that input). Caught here, a
// wrong rule names itself; caught later, the error would name a leaf far away.
void check_returned_gradients(const Node& node, const std::vector<Array>& grads) {
  const std::vector<Tensor>& inputs = node.inputs();
  if (grads.size() != inputs.size()) {
    throw std::logic_error(fmt::format(
        "backward: {} returned {} gradient{} for its {} input{}; apply() returns one gradient "
        "per input, in the order of inputs() (an empty array where an input needs none)",
        node.name(), grads.size(), grads.size() == 1 ? "" : "s", inputs.size(),
        inputs.size() == 1 ? "" : "s"));
  }
  for (std::size_t i = 0; i < grads.size(); ++i) {
    if (!inputs[i].requires_grad() || detail::is_no_gradient(grads[i], inputs[i])) continue;
    const auto& want = inputs[i].data().shape();
    const auto& got = grads[i].shape();
    if (std::equal(want.begin(), want.end(), got.begin(), got.end())) continue;
    throw ShapeError(fmt::format(
        "backward: {} returned a gradient of shape {} for input {}, which has shape {}{}",
        node.name(), shape_str(detail::to_shape(got)), i, shape_str(detail::to_shape(want)),
        looks_broadcast(want, got)
            ? "; the input was broadcast in the forward: did you unbroadcast the gradient?"
            : "; each gradient has the shape of its input (are the gradients in the order of "
              "inputs()?)"));
  }
}

// The values a rule reads must be the ones the forward pass saw. A write in between (through
// data(), a detach()ed handle or an optimizer step) would make backward compute the gradient
// of another function without a word; PyTorch refuses the same way, with the same words.
void check_saved_versions(const Node& node) {
  const std::vector<Tensor>& inputs = node.inputs();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined() || !node.reads_input(i)) continue;
    if (inputs[i].version() == node.saved_version(i)) continue;
    throw std::runtime_error(fmt::format(
        "backward: one of the variables needed for gradient computation has been modified by "
        "an inplace operation: input {} of {} (shape {}) is at version {}; expected version {} "
        "instead. Its values were written after the forward pass used them (through data() on "
        "a non-const tensor, which counts as a write even to read: read through numpy() or a "
        "const reference; through a detach()ed handle; or by an optimizer step): write into a "
        "clone(), or run the forward pass again",
        i, node.name(), shape_str(inputs[i].shape()), inputs[i].version(), node.saved_version(i)));
  }
}

void run_backward(const Tensor& root, Array seed, bool retain_graph) {
  Tape tape = record_tape(root);
  std::vector<Array> grads(tape.order.size());
  std::vector<char> has(tape.order.size(), 0);
  accumulate(grads, has, 0, std::move(seed));
  for (std::size_t k = 0; k < tape.order.size(); ++k) {
    if (!has[k]) continue;
    Tensor& t = tape.order[k];
    Array g = std::move(grads[k]);
    const std::shared_ptr<Node>& node = t.grad_fn();
    if (!node) {
      // Every tensor computed from a leaf comes before it in the order, so its gradient is
      // complete here.
      accumulate_into_leaf(t, std::move(g));
      notify_leaf_ready(t);
      continue;
    }
    if (node->released()) {
      throw std::logic_error(
          fmt::format("backward: the graph through {} was already freed by an earlier backward; "
                      "call backward(retain_graph=true) the first time to go through it twice",
                      node->name()));
    }
    check_saved_versions(*node);
    std::vector<Array> input_grads = node->apply(g);
    check_returned_gradients(*node, input_grads);
    detail::check_gradients(*node, g, input_grads);
    for (std::size_t i = 0; i < input_grads.size(); ++i) {
      const Tensor& input = node->inputs()[i];
      if (!input.requires_grad() || detail::is_no_gradient(input_grads[i], input)) continue;
      accumulate(grads, has, tape.position.at(input.id()), std::move(input_grads[i]));
    }
    if (!retain_graph) node->release();
  }
}

}  // namespace

namespace {

// PyTorch raises here too: a loss that needs no grad means the gradients the caller expects
// will never arrive, which a silent return would hide.
[[noreturn]] void fail_backward_without_grad() {
  throw std::logic_error(fmt::format(
      "backward: this tensor does not require grad, so there is nothing to differentiate: "
      "none of the tensors it was computed from requires grad{}. Create the tensors you want "
      "gradients for with requires_grad=true (Tensor::ones({{2}}, true) or t.requires_grad_())",
      grad_enabled ? "" : ", and a NoGradGuard is active, so nothing is recorded"));
}

}  // namespace

void Tensor::backward(bool retain_graph) const {
  if (!requires_grad()) fail_backward_without_grad();
  if (size() != 1) {
    detail::fail_shape(
        "backward: called on a non-scalar tensor of shape {} without a gradient argument",
        shape_str(shape()));
  }
  if (anomaly_detection_enabled()) detail::check_backward_start(data(), true);
  Array seed = Array::from_shape(data().shape());
  seed.fill(1.0f);
  run_backward(*this, std::move(seed), retain_graph);
}

void Tensor::backward(const Tensor& gradient, bool retain_graph) const {
  if (!requires_grad()) fail_backward_without_grad();
  if (!gradient.defined()) {
    detail::fail_arg("backward: the gradient is undefined; expected a tensor of shape {}",
                     shape_str(shape()));
  }
  if (gradient.shape() != shape()) {
    detail::fail_shape("backward: gradient of shape {} for a tensor of shape {}",
                       shape_str(gradient.shape()), shape_str(shape()));
  }
  if (anomaly_detection_enabled()) detail::check_backward_start(gradient.data(), false);
  run_backward(*this, gradient.data(), retain_graph);
}

}  // namespace tinytorch
