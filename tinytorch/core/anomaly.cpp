// Module 05 — anomaly detection (DetectAnomalyGuard, as PyTorch's detect_anomaly): while a
// guard is alive every op checks its output and every backward node the gradients it returns,
// and the first NaN or infinity throws NonFiniteError naming the op or node, the input that
// brought it in, and the position the guard was given.
#include <tinytorch/core/autograd.hpp>

#include <cmath>
#include <memory>
#include <utility>

#include <tinytorch/core/internal/nodes.hpp>
#include <tinytorch/detail/common.hpp>
#include <tinytorch/detail/text.hpp>

namespace tinytorch {

namespace {

struct AnomalyMode {
  bool on = false;
  bool positioned = false;
  std::size_t epoch = 0, step = 0;
  std::shared_ptr<const std::vector<std::pair<std::string, Tensor>>> names;
};
thread_local AnomalyMode anomaly;

/// Index of the first NaN or infinity of `a`, or a.size() when every value is finite.
std::size_t first_non_finite(const Array& a) {
  const float* v = a.data();
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(v[i])) return i;
  }
  return a.size();
}

std::string anomaly_prefix() {
  if (!anomaly.positioned) return "detect_anomaly: ";
  return fmt::format("detect_anomaly at epoch {}, step {}: ", anomaly.epoch, anomaly.step);
}

/// "Linear" for LinearBackward: the op whose forward recorded the node.
std::string op_name(const Node& node) {
  std::string name = node.name();
  constexpr std::size_t kSuffix = sizeof("Backward") - 1;
  if (name.size() > kSuffix && name.compare(name.size() - kSuffix, kSuffix, "Backward") == 0) {
    name.resize(name.size() - kSuffix);
  }
  return name;
}

/// What a tensor is, for the reader of the error: a named parameter, an op's output, a leaf.
std::string describe(const Tensor& t) {
  if (anomaly.names) {
    for (const auto& [name, named] : *anomaly.names) {
      if (named.same(t)) return fmt::format("parameter '{}'", detail::escaped(name));
    }
  }
  if (t.grad_fn()) return fmt::format("the output of {}", op_name(*t.grad_fn()));
  return t.requires_grad() ? "a leaf tensor that requires grad" : "data: a tensor without grad";
}

/// The output of the op that recorded `node` holds a NaN or infinity: says which input brought
/// it in, or that the op made it from finite inputs (log(0), inf − inf, an overflow).
[[noreturn]] void fail_forward(const Tensor& out, std::size_t bad, const Node& node) {
  const std::vector<Tensor>& inputs = node.inputs();
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    if (!inputs[k].defined()) continue;
    const Array& x = inputs[k].data();
    const std::size_t j = first_non_finite(x);
    if (j < x.size()) {
      throw NonFiniteError(fmt::format("{}op {} got {} at element {} of input {} {} ({})",
                                       anomaly_prefix(), op_name(node),
                                       detail::number_text(x.data()[j]), j, k,
                                       shape_str(inputs[k].shape()), describe(inputs[k])));
    }
  }
  throw NonFiniteError(
      fmt::format("{}op {} produced {} at element {} of its output {} from "
                  "finite inputs",
                  anomaly_prefix(), op_name(node), detail::number_text(out.data().data()[bad]), bad,
                  shape_str(out.shape())));
}

}  // namespace

struct DetectAnomalyGuard::Saved {
  AnomalyMode previous;
};

DetectAnomalyGuard::DetectAnomalyGuard() : saved_(std::make_unique<Saved>(Saved{anomaly})) {
  anomaly.on = true;
}

DetectAnomalyGuard::~DetectAnomalyGuard() {
  anomaly = std::move(saved_->previous);
}

void DetectAnomalyGuard::set_position(std::size_t epoch, std::size_t step) {
  anomaly.positioned = true;
  anomaly.epoch = epoch;
  anomaly.step = step;
}

void DetectAnomalyGuard::set_names(std::vector<std::pair<std::string, Tensor>> named) {
  anomaly.names =
      std::make_shared<const std::vector<std::pair<std::string, Tensor>>>(std::move(named));
}

bool anomaly_detection_enabled() {
  return anomaly.on;
}

void detail::check_gradients(const Node& node, const Array& grad_out,
                             const std::vector<Array>& grads) {
  if (!anomaly.on) return;
  for (std::size_t i = 0; i < grads.size() && i < node.inputs().size(); ++i) {
    const Tensor& input = node.inputs()[i];
    if (!input.requires_grad() || grads[i].size() == 0) continue;  // no gradient goes there
    const std::size_t j = first_non_finite(grads[i]);
    if (j == grads[i].size()) continue;
    const bool incoming_finite = first_non_finite(grad_out) == grad_out.size();
    throw NonFiniteError(fmt::format(
        "{}backward of {} returned {} at element {} of the gradient for input {} {} ({}){}",
        anomaly_prefix(), node.name(), detail::number_text(grads[i].data()[j]), j, i,
        shape_str(input.shape()), describe(input),
        incoming_finite ? ", from a finite incoming gradient"
                        : ", and its incoming gradient was not finite either"));
  }
}

void detail::check_backward_start(const Array& values, bool from_value) {
  const std::size_t bad = first_non_finite(values);
  if (bad == values.size()) return;
  throw NonFiniteError(fmt::format("{}backward {} {}", anomaly_prefix(),
                                   from_value ? "from a value of" : "with a gradient holding",
                                   detail::number_text(values.data()[bad])));
}

void detail::check_output(const Tensor& out, const Node& node) {
  const std::size_t bad = first_non_finite(out.data());
  if (bad < out.size()) fail_forward(out, bad, node);
}

}  // namespace tinytorch
