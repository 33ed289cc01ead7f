// Module 04 — Losses: scalar objectives, each returning a 0-d tensor.
//
//   MSELoss                 L = mean((p − t)²)                      dp = 2(p − t)/n
//   CrossEntropyLoss        L = −mean_i log_softmax(z_i)[y_i]       dz = (softmax(z) − onehot(y))/N
//     logits z [N, C], labels y [N] holding integer class indices in [0, C) (as floats)
//   BinaryCrossEntropyLoss  L = −mean(y log p + (1 − y) log(1 − p)), p clamped to [1e-7, 1 − 1e-7]
//                           dp = (p − y)/(p(1 − p)·n), dy = (log(1 − p) − log p)/n
//
// Cross-entropy is fused: one stable log-softmax + negative log-likelihood, one node.
//
//   CrossEntropyLoss criterion;
//   Tensor loss = criterion(Tensor({{2, 1, 0.1f}, {0.5f, 1.5f, 0.8f}}), Tensor({0, 1}));
//   loss.item();   // 0.520002
#pragma once

#include <tinytorch/core/tensor.hpp>

namespace tinytorch {

/// The clamp of binary cross-entropy (the course's EPSILON).
constexpr float kLossEpsilon = 1e-7f;

/// mean((pred − target)²); shapes must be equal (no silent broadcasting).
Tensor mse_loss(const Tensor& pred, const Tensor& target);
/// Fused log-softmax + NLL of logits [N, C] against labels [N] in [0, C).
Tensor cross_entropy(const Tensor& logits, const Tensor& labels);
/// BCE of probabilities against 0/1 targets of the same shape. Exact 0s and 1s are fine (the
/// log sees them clamped to [kLossEpsilon, 1 − kLossEpsilon]); a prediction outside [0, 1] or
/// NaN throws std::invalid_argument, as in PyTorch: "binary_cross_entropy: every prediction
/// must be in [0, 1], got 1.5 at index 3". Targets may be soft (any value in [0, 1]), but one
/// outside [0, 1] or NaN throws too, where PyTorch checks only the input: such a target makes
/// the loss unbounded below, so it is a mistake (logits passed as targets, labels 1/2), not data.
Tensor binary_cross_entropy(const Tensor& probs, const Tensor& targets);

class MSELoss {
 public:
  Tensor forward(const Tensor& pred, const Tensor& target) const { return mse_loss(pred, target); }
  Tensor operator()(const Tensor& pred, const Tensor& target) const {
    return forward(pred, target);
  }
};

class CrossEntropyLoss {
 public:
  Tensor forward(const Tensor& logits, const Tensor& labels) const {
    return cross_entropy(logits, labels);
  }
  Tensor operator()(const Tensor& logits, const Tensor& labels) const {
    return forward(logits, labels);
  }
};

class BinaryCrossEntropyLoss {
 public:
  Tensor forward(const Tensor& probs, const Tensor& targets) const {
    return binary_cross_entropy(probs, targets);
  }
  Tensor operator()(const Tensor& probs, const Tensor& targets) const {
    return forward(probs, targets);
  }
};

}  // namespace tinytorch
