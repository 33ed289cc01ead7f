// Helpers the milestone programs share beyond presentation: two-class point data, full-batch
// training with per-epoch logging, and an ASCII picture of a 2-D decision boundary.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <tinytorch/tinytorch.hpp>

#include "ui.hpp"

namespace milestone {

/// Points in the plane with 0/1 labels: x [N, 2], y [N, 1].
struct PointSet {
  tinytorch::Tensor x, y;
};

/// Per-epoch loss and accuracy, filled by fit_full_batch.
struct Curve {
  std::vector<float> loss, accuracy;
};

/// A loss: (model output, target) -> 0-d tensor (binary_cross_entropy, cross_entropy).
using LossFn = std::function<tinytorch::Tensor(const tinytorch::Tensor&, const tinytorch::Tensor&)>;

/// Gradient descent over (x, y) in batches of flags.batch_size (the whole set when it is at
/// least N): forward, loss, zero_grad, backward, step. Runs flags.epochs epochs and logs a
/// line every `log_every` epochs (with a progress bar on a terminal).
Curve fit(tinytorch::Module& model, tinytorch::Optimizer& optimizer, const LossFn& loss_fn,
          const tinytorch::Tensor& x, const tinytorch::Tensor& y, const Flags& flags,
          int log_every);

/// Fraction of rows predicted right: [N, 1] (or [N]) probabilities thresholded at 0.5 against
/// 0/1 labels, or [N, C] scores whose argmax is compared with class-index labels. The
/// milestones count for themselves so that they need no module-07 code.
float fraction_correct(const tinytorch::Tensor& outputs, const tinytorch::Tensor& labels);

/// Accuracy of `model` on (x, y) without recording a graph.
float evaluate_accuracy(tinytorch::Module& model, const tinytorch::Tensor& x,
                        const tinytorch::Tensor& y);

/// Draws points (x [N, 2], labels [N, 1] in {0, 1}) on a character grid with the region the
/// model assigns to class 1 shaded; misclassified points are marked ✗.
void draw_decision_map(tinytorch::Module& model, const tinytorch::Tensor& x,
                       const tinytorch::Tensor& y, float lo, float hi, int rows = 18,
                       int cols = 44);

/// Writes the loss/accuracy curve to the --csv file, when one was given.
void save_curve(const std::string& path, const Curve& curve);

}  // namespace milestone
