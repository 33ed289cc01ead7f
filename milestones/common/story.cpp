#include "story.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>

#include <fmt/format.h>

namespace milestone {

using tinytorch::NoGradGuard;
using tinytorch::Tensor;

float fraction_correct(const Tensor& outputs, const Tensor& labels) {
  const std::size_t n = outputs.dim(0);
  if (n == 0) return 0.0f;
  const bool binary = outputs.ndim() == 1 || outputs.dim(1) == 1;
  const Tensor predicted = binary ? outputs : outputs.argmax(1);
  std::size_t correct = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const float p = predicted.data().data()[i], y = labels.data().data()[i];
    correct += binary ? (p > 0.5f) == (y > 0.5f) : p == y;
  }
  return static_cast<float>(correct) / static_cast<float>(n);
}

float evaluate_accuracy(tinytorch::Module& model, const Tensor& x, const Tensor& y) {
  NoGradGuard no_grad;
  return fraction_correct(model(x), y);
}

// Mini-batches are rows of x and y picked through a permutation drawn anew each epoch
// (Tensor::index_select), so these milestones need no DataLoader: modules 01–06 suffice.
Curve fit(tinytorch::Module& model, tinytorch::Optimizer& optimizer, const LossFn& loss_fn,
          const Tensor& x, const Tensor& y, const Flags& flags, int log_every) {
  const std::size_t n = x.dim(0), batch = std::max<std::size_t>(1, flags.batch_size);
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::mt19937_64 shuffler(flags.seed);
  Curve curve;
  ProgressBar bar("training", static_cast<std::size_t>(flags.epochs));
  for (int epoch = 1; epoch <= flags.epochs; ++epoch) {
    if (batch < n) std::shuffle(order.begin(), order.end(), shuffler);
    double total = 0.0;
    for (std::size_t start = 0; start < n; start += batch) {
      const std::vector<std::size_t> rows(
          order.begin() + static_cast<long>(start),
          order.begin() + static_cast<long>(std::min(n, start + batch)));
      const bool whole = rows.size() == n;  // full batch: the order does not matter
      const Tensor xb = whole ? x : x.index_select(rows), yb = whole ? y : y.index_select(rows);
      Tensor loss = loss_fn(model(xb), yb);
      if (!std::isfinite(loss.item())) {
        throw std::runtime_error(
            fmt::format("training: loss is {} at epoch {}", loss.item(), epoch));
      }
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      total += static_cast<double>(loss.item()) * static_cast<double>(rows.size());
    }
    curve.loss.push_back(static_cast<float>(total / static_cast<double>(n)));
    curve.accuracy.push_back(evaluate_accuracy(model, x, y));
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
