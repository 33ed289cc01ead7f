// Helpers the milestone programs share beyond presentation: two-class point data, training
// with per-epoch logging (through the library's Trainer), and an ASCII picture of a 2-D
// decision boundary.
#pragma once

#include <string>
#include <vector>

#include <tinytorch/tinytorch.hpp>

#include "run_report.hpp"
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

/// Trains with module 07's Trainer for flags.epochs epochs: the whole set as one batch, or
/// batches of flags.batch_size from module 08's DataLoader when that is smaller. Logs a line
/// every `log_every` epochs (with a progress bar on a terminal). A report (--report) gets
/// every epoch's loss and accuracy (on the training points: there is no test set here).
Curve fit(tinytorch::Module& model, tinytorch::Optimizer& optimizer,
          const tinytorch::LossFn& loss_fn, const tinytorch::Tensor& x, const tinytorch::Tensor& y,
          const Flags& flags, int log_every, tinytorch::TrainingReport* report = nullptr);

/// Accuracy of `model` on (x, y) (module 07's accuracy) without recording a graph.
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
