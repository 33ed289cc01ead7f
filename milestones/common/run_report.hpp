// --report FILE.html: the run's page (tinytorch/report), written by process 0 alone after
// every epoch (atomically, so a browser can reload it during training) and at the end.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <tinytorch/report/report.hpp>
#include <tinytorch/tinytorch.hpp>

#include "ui.hpp"

namespace milestone {

/// The report of this run, or null when --report was not given (or on processes other than
/// 0). Records the flags, threads and processes, and the model before training.
std::unique_ptr<tinytorch::TrainingReport> start_report(const Flags& flags, const std::string& title,
                                                        tinytorch::Module& model,
                                                        const tinytorch::Shape& sample,
                                                        std::vector<std::string> class_names = {});

/// Rewrites the page during training, at most once a second (nothing when `report` is null).
void update_report(const tinytorch::TrainingReport* report, const Flags& flags);

/// A classifier's last page: feature maps of the first test image (when the model has a
/// convolution) and the confusion matrix and mistakes over the whole test set.
void finish_classifier_report(tinytorch::TrainingReport* report,
                              const tinytorch::LabeledImages& test, bool feature_maps);

/// Writes the page a last time and says where it is (nothing when `report` is null).
void finish_report(const tinytorch::TrainingReport* report, const Flags& flags);

}  // namespace milestone
