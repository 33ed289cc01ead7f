// The training report: one self-contained HTML page per run (inline SVG and PNG data URIs, no
// script, nothing fetched) that any browser opens offline and prints. It shows
//
//   the run          model summary (layers, output shapes, parameters), settings, version
//   curves           train and test loss and accuracy per epoch; the learning rate if it moved
//   learned kernels  every Conv2d kernel, on a diverging map symmetric around 0 (per layer);
//                    the first layer's kernels before and after training side by side
//   feature maps     chosen images and what each conv, ReLU and pool makes of them
//   confusion        counts per (truth, prediction), coloured, with the class names
//   mistakes         misclassified test images with prediction, truth and top-3 probabilities
//   decision map     for models of two inputs: the output over the plane, and the points
//
// Fed by a Trainer (follow) or by a hand-written loop (add_epoch):
//
//   TrainingReport report("SimpleCNN on the digits");
//   report.set_model(model, {1, 8, 8});         // before training: keeps the kernels "before"
//   report.follow(trainer, "run.html");         // rewritten after every epoch and evaluation
//   ... train ...
//   report.show_feature_maps(test.images.slice(0, 1));
//   report.evaluate(test.images, test.labels);  // confusion matrix and mistakes
//   report.write("run.html");
//
// The page is written to a temporary file and renamed into place (as checkpoints are), so a
// browser reloading it during training never sees half a page. The model given to set_model
// must outlive the report.
#pragma once

#include <cstddef>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <tinytorch/core/module.hpp>
#include <tinytorch/core/tensor.hpp>
#include <tinytorch/train/training.hpp>

namespace tinytorch {

/// One epoch's figures; NaN means "not measured" (that point is left out of its curve).
/// Accuracies are fractions in [0, 1].
struct EpochFigures {
  static constexpr double none = std::numeric_limits<double>::quiet_NaN();
  double train_loss = none, train_accuracy = none, test_loss = none, test_accuracy = none;
  double learning_rate = none, seconds = none;
};

/// The library's version, "0.1.0".
std::string library_version();

class TrainingReport {
 public:
  explicit TrainingReport(std::string title = "tinytorch training report");

  /// A line of "the run": a hyper-parameter, the seed, threads, processes... A name given
  /// again replaces its value, keeping its place.
  void set(const std::string& name, const std::string& value);
  /// Names for the class indices (T-shirt, Trouser, ...); digits 0.. when not given.
  void set_class_names(std::vector<std::string> names);

  /// The model the page describes. `sample_shape` is one example's shape ({1, 28, 28}): one
  /// example of zeros runs through the layers (eval mode, no graph) to find each layer's
  /// output shape. Call it before training: the first Conv2d's kernels are kept as "before".
  void set_model(Module& model, const Shape& sample_shape);

  /// Appends one epoch's figures.
  void add_epoch(const EpochFigures& figures);
  const std::vector<EpochFigures>& epochs() const { return epochs_; }

  /// Feeds the report from `trainer` and rewrites `path` after every train_epoch and every
  /// evaluate (over several processes, the primary alone writes). An evaluation after an
  /// epoch gives that epoch's test figures (the last one wins); the learning rate comes from
  /// the schedule. Replaces any earlier on_history callback of the trainer. The report must
  /// outlive the trainer's training.
  void follow(Trainer& trainer, std::string path);

  /// Feature maps of up to 4 images [K, C, H, W] (or one [C, H, W]): the image and the output
  /// of every Conv2d, ReLU and pooling layer until the first Flatten, each labelled with its
  /// shape. Needs a model of layers in order (a Sequential, or a module whose only child is
  /// one); otherwise std::invalid_argument says so.
  void show_feature_maps(const Tensor& images);
  /// Runs the model over a test set (eval mode, batches of 256, no graph): the confusion
  /// matrix, and up to `max_mistakes` misclassified images (images [N, C, H, W] or [N, D]
  /// whose D is a square) with their top-3 probabilities (softmax of the outputs).
  /// Returns the accuracy, which is the confusion matrix's diagonal over N.
  double evaluate(const Tensor& images, const Tensor& labels, std::size_t max_mistakes = 16);
  /// For a model of two inputs: its output for class 1 (a probability in [0, 1]: one output
  /// as is, clamped; two or more: the softmax's second) over [x0, x1] × [y0, y1], and the
  /// points [N, 2] coloured by their labels.
  void show_decision_boundary(const Tensor& points, const Tensor& labels, double x0, double x1,
                              double y0, double y1, std::size_t resolution = 96);

  /// The page. Throws std::invalid_argument when nothing is recorded yet (no epoch).
  std::string html() const;
  /// Writes html() to `path` atomically. A missing folder, a path that is a folder, and a
  /// report with no epoch are clear errors that leave no file behind.
  void write(const std::string& path) const;

  /// The confusion matrix of the last evaluate(): [truth][prediction] counts.
  const std::vector<std::vector<std::size_t>>& confusion() const { return confusion_; }

 private:
  struct Layer {
    std::string description, output_shape;
    std::size_t parameters = 0;
  };
  struct Kernels {
    std::string name;  // "0.weight"
    Tensor weight;     // [out, in, kh, kw]
  };
  std::vector<Kernels> conv_weights() const;
  std::string section_run() const;
  std::string section_curves() const;
  std::string section_kernels() const;
  std::string class_name(std::size_t k) const;

  std::string title_;
  std::vector<std::pair<std::string, std::string>> settings_;
  std::vector<std::string> class_names_;
  Module* model_ = nullptr;
  std::string model_name_;
  Shape sample_shape_;
  std::vector<Layer> layers_;
  Tensor first_kernels_before_;
  std::vector<EpochFigures> epochs_;
  std::string feature_maps_, confusion_svg_, mistakes_, boundary_;
  std::vector<std::vector<std::size_t>> confusion_;
  double evaluated_accuracy_ = EpochFigures::none;
  std::size_t evaluated_count_ = 0;
};

}  // namespace tinytorch
