#include "run_report.hpp"

#include <chrono>
#include <filesystem>

#include <fmt/format.h>

#include "processes.hpp"

namespace milestone {

using namespace tinytorch;

std::unique_ptr<TrainingReport> start_report(const Flags& flags, const std::string& title,
                                             Module& model, const Shape& sample,
                                             std::vector<std::string> class_names) {
  if (flags.report.empty()) return nullptr;
  if (current_processes() != nullptr && current_processes()->rank() != 0) return nullptr;
  auto report = std::make_unique<TrainingReport>(title);
  report->set("epochs", std::to_string(flags.epochs));
  report->set("batch size", std::to_string(flags.batch_size));
  report->set("learning rate", fmt::format("{}", flags.lr));
  report->set("seed", std::to_string(flags.seed));
  report->set("processes × threads",
              fmt::format("{} × {}", process_count(), flags.threads));
  report->set_class_names(std::move(class_names));
  report->set_model(model, sample);
  return report;
}

void update_report(const TrainingReport* report, const Flags& flags) {
  // At most one write a second: a run of many short epochs (the perceptron's take
  // milliseconds) would otherwise spend its time writing pages.
  using clock = std::chrono::steady_clock;
  static clock::time_point last{};
  if (report == nullptr || clock::now() - last < std::chrono::seconds(1)) return;
  report->write(flags.report);
  last = clock::now();
}

void finish_classifier_report(TrainingReport* report, const LabeledImages& test,
                              bool feature_maps) {
  if (report == nullptr) return;
  if (feature_maps) report->show_feature_maps(test.images.slice(0, 1));
  report->evaluate(test.images, test.labels);
}

void finish_report(const TrainingReport* report, const Flags& flags) {
  if (report == nullptr) return;
  report->write(flags.report);
  std::error_code ec;
  const auto where = std::filesystem::absolute(flags.report, ec);
  print(fmt::format("report: {} (open it in a browser)", ec ? flags.report : where.string()));
}

}  // namespace milestone
