// Milestone 02 — 1969, the XOR crisis and its way out.
//
// XOR is 1 when exactly one input is 1. No straight line separates those points, so the
// single perceptron of milestone 01 stays at a coin toss (loss stuck at ln 2 ≈ 0.693). One
// hidden layer of 4 ReLU units bends the boundary and solves it. Course defaults: 100 noisy
// points, BCE, SGD lr 0.5; 100 epochs for the perceptron, 500 for the hidden-layer network.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <tinytorch/tinytorch.hpp>

#include "story.hpp"
#include "ui.hpp"

using namespace tinytorch;
using namespace milestone;

namespace {

// 25 points around each corner of the unit square (σ = 0.1), labelled with x1 XOR x2.
PointSet make_xor_points(std::size_t per_corner) {
  const float corners[4][3] = {{0, 0, 0}, {0, 1, 1}, {1, 0, 1}, {1, 1, 0}};
  const std::size_t n = 4 * per_corner;
  const Tensor noise = Tensor::randn({n, 2});
  PointSet p{Tensor::zeros({n, 2}), Tensor::zeros({n, 1})};
  for (std::size_t i = 0; i < n; ++i) {
    const float* c = corners[i % 4];  // interleaved corners: the order is already mixed
    p.x.data()(i, 0) = c[0] + 0.1f * noise.data()(i, 0);
    p.x.data()(i, 1) = c[1] + 0.1f * noise.data()(i, 1);
    p.y.data()(i, 0) = c[2];
  }
  return p;
}

void truth_table(Module& model) {
  NoGradGuard no_grad;
  Table table({"x1", "x2", "XOR", "p(1)", "prediction", ""});
  int correct = 0;
  for (int a = 0; a < 2; ++a) {
    for (int b = 0; b < 2; ++b) {
      const float p = model(Tensor({{static_cast<float>(a), static_cast<float>(b)}})).item();
      const int truth = a ^ b, predicted = p > 0.5f;
      correct += predicted == truth;
      table.add_row({std::to_string(a), std::to_string(b), std::to_string(truth),
                     fmt::format("{:.3f}", p), std::to_string(predicted),
                     predicted == truth ? "✓" : "✗"});
    }
  }
  table.print();
  say(fmt::format("{} of 4 corners correct", correct));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Milestone 02 (1969): XOR defeats the perceptron; a hidden layer solves it"};
  Flags flags(500, 100, 0.5f);  // the course's hyper-parameters
  flags.seed = 0;  // the course's XOR scripts have no seed; 0 is one where the MLP does not stall
  int crisis_epochs = 100;
  add_flags(app, flags);
  app.add_option("--crisis-epochs", crisis_epochs, "epochs for the single perceptron")
      ->check(whole_number_in(1, 1000000))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  setup(flags);
  return guarded([&] {
    title("1969 · The XOR crisis");
    act(1, "The challenge");
    panel("Minsky & Papert, \"Perceptrons\"",
          {"A single perceptron draws one straight line. XOR puts (0,1) and (1,0) on",
           "one side and (0,0) and (1,1) on the other: no line does that. The book's",
           "proof helped freeze neural-network funding for a decade."});
    const PointSet data = make_xor_points(25);
    BinaryCrossEntropyLoss bce;

    act(2, "The failure: one neuron");
    Sequential perceptron({std::make_shared<Linear>(2, 1), std::make_shared<Sigmoid>()});
    SGD perceptron_opt(perceptron.parameters(), flags.lr);
    Flags crisis = flags;
    crisis.epochs = crisis_epochs;
    const Curve stuck = fit(perceptron, perceptron_opt, bce, data.x, data.y, crisis,
                            std::max(1, crisis_epochs / 5));
    if (!quiet()) {
      truth_table(perceptron);
      draw_decision_map(perceptron, data.x, data.y, -0.5f, 1.5f, 14, 36);
    }
    say(fmt::format("Loss {:.4f} (ln 2 = 0.6931 is a coin toss), accuracy {}.", stuck.loss.back(),
                    percent(stuck.accuracy.back())));

    act(3, "The way out: one hidden layer");
    say("Model:  x ─ Linear(2→4) ─ ReLU ─ Linear(4→1) ─ σ      (17 parameters)");
    Sequential mlp({std::make_shared<Linear>(2, 4), std::make_shared<ReLU>(),
                    std::make_shared<Linear>(4, 1), std::make_shared<Sigmoid>()});
    SGD mlp_opt(mlp.parameters(), flags.lr);
    const float before = evaluate_accuracy(mlp, data.x, data.y);
    auto report = start_report(flags, "Milestone 02 (1969): XOR and the hidden layer", mlp, {2});
    if (report) {
      report->set("data", "100 points: 25 around each corner of the unit square, XOR labels");
      report->set("one neuron (the perceptron) reached",
                  fmt::format("{} (loss {:.4f})", percent(stuck.accuracy.back()), stuck.loss.back()));
    }
    const Curve solved = fit(mlp, mlp_opt, bce, data.x, data.y, flags,
                             std::max(1, flags.epochs / 5), report.get());
    if (report) report->show_decision_boundary(data.x, data.y, -0.5, 1.5, -0.5, 1.5);

    act(4, "The diagnosis");
    Table table({"model", "parameters", "accuracy before", "accuracy after", "final loss"});
    table.add_row({"perceptron", "3", percent(stuck.accuracy.front()),
                   percent(stuck.accuracy.back()), fmt::format("{:.4f}", stuck.loss.back())});
    table.add_row({"2-4-1 MLP", "17", percent(before), percent(solved.accuracy.back()),
                   fmt::format("{:.4f}", solved.loss.back())});
    table.print();
    if (!quiet()) {
      truth_table(mlp);
      draw_decision_map(mlp, data.x, data.y, -0.5f, 1.5f, 14, 36);
      plot("MLP loss (●) and accuracy (◆) per epoch",
           {{"loss", solved.loss}, {"accuracy", solved.accuracy}});
    }

    if (solved.accuracy.back() < 1.0f) {
      say("The MLP stalled: with only 4 ReLU units, an unlucky start can leave units dead");
      say("(always 0, so no gradient) and one corner unsolved. Try another --seed.");
    }

    act(5, "The reflection");
    panel("Depth bends the line",
          {"The hidden layer maps the four corners into a space where one line is enough.",
           "Training it needs gradients through two layers: backpropagation (1986).",
           "Next: milestone 03, a multi-layer network that reads handwritten digits."});
    save_curve(flags.csv, solved);
    print(fmt::format("result: perceptron {} (loss {:.4f}), MLP {} (loss {:.4f})",
                      percent(stuck.accuracy.back()), stuck.loss.back(),
                      percent(solved.accuracy.back()), solved.loss.back()));
    finish_report(report.get(), flags);
    return 0;
  });
}
