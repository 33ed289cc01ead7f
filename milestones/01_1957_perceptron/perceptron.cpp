// Milestone 01 — 1957, Rosenblatt's perceptron.
//
// One neuron, y = σ(w1·x1 + w2·x2 + b), separates two clouds of points. First with random
// weights (a coin toss), then trained by gradient descent on binary cross-entropy: the
// machine finds the line itself. Course defaults: 100 points (seed 42), SGD lr 0.1,
// 100 full-batch epochs.
#include <algorithm>
#include <random>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <tinytorch/tinytorch.hpp>

#include "story.hpp"
#include "ui.hpp"

using namespace tinytorch;
using namespace milestone;

namespace {

// Class 1 around (3, 3), class 0 around (1, 1), σ = 0.5, shuffled.
PointSet make_points(std::size_t per_class, std::uint64_t seed) {
  const std::size_t n = 2 * per_class;
  Tensor noise = Tensor::randn({n, 2});
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
  PointSet p{Tensor::zeros({n, 2}), Tensor::zeros({n, 1})};
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = order[k];
    const bool positive = i < per_class;
    const float centre = positive ? 3.0f : 1.0f;
    p.x.data()(k, 0) = centre + 0.5f * noise.data()(i, 0);
    p.x.data()(k, 1) = centre + 0.5f * noise.data()(i, 1);
    p.y.data()(k, 0) = positive ? 1.0f : 0.0f;
  }
  return p;
}

std::string weights_line(const Linear& neuron) {
  return fmt::format("w1 {:+.3f}  w2 {:+.3f}  b {:+.3f}", neuron.weight.data()(0, 0),
                     neuron.weight.data()(1, 0), neuron.bias.data()(0));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Milestone 01 (1957): a perceptron learns to separate two clouds of points"};
  Flags flags(100, 100, 0.1f);  // the course's hyper-parameters
  add_flags(app, flags);
  CLI11_PARSE(app, argc, argv);
  setup(flags);
  return guarded([&] {
    title("1957 · Rosenblatt's perceptron");
    act(1, "The challenge");
    panel("Can a machine learn from examples?",
          {"Frank Rosenblatt's Mark I Perceptron weighed its inputs, added them up and",
           "fired if the sum crossed a threshold. The weights were not programmed:",
           "they were adjusted after every mistake. Here: two clouds of points, one",
           "neuron, and the question whether it can find the line between them."});

    const PointSet data = make_points(50, flags.seed);
    auto neuron = std::make_shared<Linear>(2, 1);
    Sequential model({neuron, std::make_shared<Sigmoid>()});

    act(2, "The set-up");
    say("Data:   100 points, class 1 around (3, 3), class 0 around (1, 1), σ = 0.5");
    say("Model:  x1 ─┐");
    say("            ├─ w1·x1 + w2·x2 + b ─ σ ─ p(class 1)      (3 parameters)");
    say("        x2 ─┘");
    say(fmt::format("Train:  binary cross-entropy, SGD lr {}, {}, batch {}", flags.lr,
                    epochs(flags.epochs), flags.batch_size));
    const float before = evaluate_accuracy(model, data.x, data.y);
    const std::string weights_before = weights_line(*neuron);
    say(fmt::format("\nWith random weights ({}) the neuron scores {}:", weights_before,
                    percent(before)));
    if (!quiet()) draw_decision_map(model, data.x, data.y, -0.5f, 4.5f);

    act(3, "The experiment");
    auto report = start_report(flags, "Milestone 01 (1957): the perceptron", model, {2});
    if (report) {
      report->set("data", "100 points: class 1 around (3, 3), class 0 around (1, 1), σ = 0.5");
      report->set("accuracy with random weights", percent(before));
    }
    SGD optimizer(model.parameters(), flags.lr);
    BinaryCrossEntropyLoss bce;
    const Curve curve = fit(model, optimizer, bce, data.x, data.y, flags,
                            std::max(1, flags.epochs / 10), report.get());
    if (report) report->show_decision_boundary(data.x, data.y, -0.5, 4.5, -0.5, 4.5);
    const float after = curve.accuracy.back();

    act(4, "The diagnosis");
    Table table({"", "before", "after"});
    table.add_row({"accuracy", percent(before), percent(after)});
    table.add_row({"loss", "", fmt::format("{:.4f}", curve.loss.back())});
    table.add_row({"weights", weights_before, weights_line(*neuron)});
    table.print();
    if (!quiet()) {
      draw_decision_map(model, data.x, data.y, -0.5f, 4.5f);
      plot("loss (●) and accuracy (◆) per epoch",
           {{"loss", curve.loss}, {"accuracy", curve.accuracy}});
    }

    act(5, "The reflection");
    if (after >= 0.9f) {
      panel("The perceptron learned",
            {fmt::format("From {} to {} by following the gradient of its own mistakes.",
                         percent(before), percent(after)),
             "But one neuron can only ever draw a straight line. In 1969 Minsky and",
             "Papert showed a problem no line can solve: XOR. Next: milestone 02."});
    } else {
      panel("Not there yet", {fmt::format("Accuracy {} after {}: try --epochs 100.",
                                          percent(after), epochs(flags.epochs))});
    }
    save_curve(flags.csv, curve);
    print(fmt::format("result: accuracy {} (loss {:.4f}) after {}", percent(after),
                      curve.loss.back(), epochs(flags.epochs)));
    finish_report(report.get(), flags);
    return 0;
  });
}
