#include "story.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

#include <fmt/format.h>

namespace milestone {

using tinytorch::NoGradGuard;
using tinytorch::Tensor;

float evaluate_accuracy(tinytorch::Module& model, const Tensor& x, const Tensor& y) {
  NoGradGuard no_grad;
  return tinytorch::accuracy(model(x), y);  // module 07
}

// The training loop is module 07's Trainer; the whole set is one batch, and smaller batches
// come from module 08's DataLoader. So a student's milestone runs the student's code.
Curve fit(tinytorch::Module& model, tinytorch::Optimizer& optimizer,
          const tinytorch::LossFn& loss_fn, const Tensor& x, const Tensor& y, const Flags& flags,
          int log_every, tinytorch::TrainingReport* report) {
  tinytorch::Trainer trainer(model, optimizer, loss_fn);
  const std::vector<tinytorch::Batch> whole{{x, y}};
  std::optional<tinytorch::DataLoader> loader;
  if (flags.batch_size < x.dim(0)) {
    loader.emplace(std::make_shared<tinytorch::TensorDataset>(std::vector<Tensor>{x, y}),
                   tinytorch::DataLoaderOptions(flags.batch_size).shuffle(true).seed(flags.seed));
  }
  Curve curve;
  ProgressBar bar("training", static_cast<std::size_t>(flags.epochs));
  for (int epoch = 1; epoch <= flags.epochs; ++epoch) {
    curve.loss.push_back(loader ? trainer.train_epoch(*loader) : trainer.train_epoch(whole));
    curve.accuracy.push_back(evaluate_accuracy(model, x, y));
    if (report != nullptr) {
      tinytorch::EpochFigures e;
      e.train_loss = curve.loss.back();
      e.train_accuracy = curve.accuracy.back();
      e.learning_rate = optimizer.lr();
      e.seconds = trainer.history().epoch_seconds.empty() ? tinytorch::EpochFigures::none
                                                          : trainer.history().epoch_seconds.back();
      report->add_epoch(e);
      update_report(report, flags);
    }
    const std::string status = fmt::format("Loss: {:.4f}  Accuracy: {}", curve.loss.back(),
                                           percent(curve.accuracy.back()));
    bar.update(static_cast<std::size_t>(epoch), status);
    if (epoch % log_every == 0 || epoch == flags.epochs) {
      if (is_tty()) std::fputs("\r\033[K", stdout);
      say(fmt::format("Epoch {:>4}/{}  {}", epoch, flags.epochs, status));
    }
  }
  return curve;
}

void draw_decision_map(tinytorch::Module& model, const Tensor& x, const Tensor& y, float lo,
                       float hi, int rows, int cols) {
  NoGradGuard no_grad;
  cols = std::max(8, std::min(cols, static_cast<int>(columns()) - 4));  // "  │" + grid
  auto to_value = [&](int i, int n) {
    return lo + (hi - lo) * (static_cast<float>(i) + 0.5f) / static_cast<float>(n);
  };
  // Classify the centre of every cell to shade the model's class-1 region.
  std::vector<std::vector<std::string>> grid(
      static_cast<std::size_t>(rows),
      std::vector<std::string>(static_cast<std::size_t>(cols), " "));
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const Tensor p = model(Tensor({{to_value(c, cols), to_value(rows - 1 - r, rows)}}));
      if (p.item() > 0.5f) grid[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)] = "·";
    }
  }
  const Tensor probs = model(x);
  for (std::size_t i = 0; i < x.dim(0); ++i) {
    const float px = x.data()(i, 0), py = x.data()(i, 1);
    const int c = static_cast<int>((px - lo) / (hi - lo) * static_cast<float>(cols));
    const int r = rows - 1 - static_cast<int>((py - lo) / (hi - lo) * static_cast<float>(rows));
    if (r < 0 || r >= rows || c < 0 || c >= cols) continue;
    const bool label = y.data().data()[i] > 0.5f;
    const bool correct = (probs.data().data()[i] > 0.5f) == label;
    grid[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)] = !correct ? "✗"
                                                                     : label  ? "●"
                                                                              : "○";
  }
  for (const auto& row : grid) {
    std::string line = "  │";
    for (const auto& cell : row) line += cell;
    print(line);
  }
  print("  └" + std::string(static_cast<std::size_t>(cols), '-'));
  for (const std::string& line :
       wrap("    ● class 1   ○ class 0   ✗ misclassified   · region the model calls class 1",
            columns(), 4))
    print(line);
}

void save_curve(const std::string& path, const Curve& curve) {
  CsvLog log(path, {"epoch", "loss", "accuracy"});
  for (std::size_t i = 0; i < curve.loss.size(); ++i) {
    log.add({static_cast<double>(i + 1), curve.loss[i], curve.accuracy[i]});
  }
  log.save();
}

}  // namespace milestone
