// The image-classification runs of milestones 03 and 04: train with mini-batch SGD over a
// DataLoader, evaluate every epoch, then show the results, the curves and a few predictions.
#pragma once

#include <string>
#include <vector>

#include <tinytorch/tinytorch.hpp>

#include "run_report.hpp"
#include "ui.hpp"

namespace milestone {

struct ClassifierLog {
  std::vector<float> train_loss, train_accuracy, test_loss, test_accuracy, epoch_seconds;
  float initial_test_accuracy = 0.0f;
  double train_seconds = 0.0;  ///< optimisation only (evaluation excluded)
  /// Train accuracy is measured on train_sample of the train_size training images.
  std::size_t train_sample = 0, train_size = 0;
};

/// Trains for flags.epochs epochs (batch flags.batch_size, shuffled with flags.seed), logging
/// a line every `log_every` epochs with train/test accuracy and the gap. A report (--report)
/// gets every epoch's figures and is rewritten after each.
ClassifierLog train_classifier(tinytorch::Module& model, tinytorch::Optimizer& optimizer,
                               const tinytorch::LabeledImages& train,
                               const tinytorch::LabeledImages& test, const Flags& flags,
                               int log_every, tinytorch::TrainingReport* report = nullptr);

/// The results table (train, test, gap, time), the loss/accuracy plot and the CSV file.
void report_classifier(const ClassifierLog& log, const Flags& flags);

/// Draws the first `count` test images with prediction and truth (class names optional).
void show_predictions(tinytorch::Module& model, const tinytorch::LabeledImages& test,
                      std::size_t count, const std::vector<std::string>& class_names = {});

}  // namespace milestone
