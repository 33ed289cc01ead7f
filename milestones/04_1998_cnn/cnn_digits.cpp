// Milestone 04 — 1998, the convolutional network.
//
// LeCun's networks share one small kernel across the whole image, so a stroke is recognised
// wherever it appears. SimpleCNN (Conv 1→8 3×3 → ReLU → MaxPool 2 → Flatten → Linear 72→10,
// 810 parameters) learns the bundled 8×8 digits end to end — including the convolution,
// which the Python course never trains. Course defaults: SGD lr 0.01, batch 32, 50 epochs.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <tinytorch/tinytorch.hpp>

#include "classify.hpp"
#include "processes.hpp"
#include "ui.hpp"

using namespace tinytorch;
using namespace milestone;

int main(int argc, char** argv) {
  Processes processes;  // one, or all that mpirun started
  CLI::App app{"Milestone 04 (1998): a convolutional network learns handwritten digits"};
  Flags flags(50, 32, 0.01f);  // the course's hyper-parameters
  std::string data_path;       // empty: the bundled digits (load_digits finds them)
  add_flags(app, flags);
  app.add_option("--data", data_path,
                 "digits CSV (.gz) file (default: the bundled digits, or $TINYTORCH_DIGITS)");
  CLI11_PARSE(app, argc, argv);
  setup(flags);
  return processes.finish(guarded([&] {
    title("1998 · The convolutional network");
    act(1, "The challenge");
    panel("Gradient-based learning applied to document recognition",
          {"An MLP treats each pixel as unrelated to its neighbours. A convolution",
           "slides one 3×3 kernel over the image: the same weights look for the same",
           "stroke everywhere, and pooling keeps the strongest response nearby.",
           "Fewer weights, built-in knowledge of images."});

    const DigitsSplit digits = load_digits(data_path);
    act(2, "The set-up");
    say(fmt::format("Data:   {} training and {} test images [1, 8, 8]", digits.train.size(),
                    digits.test.size()));
    say("Model:  [1,8,8] ─ Conv2d(1→8, 3×3) ─ ReLU ─ MaxPool2d(2) ─ Flatten [72] ─ Linear(72→10)");
    SimpleCNN model;
    const Tensor conv_before = model.parameters()[0].clone();
    const std::size_t count = model.parameter_count();
    say(fmt::format("        {} parameters (conv 80 + linear 730)", count));
    say(fmt::format("Train:  cross-entropy, SGD lr {}, batch {}, {}", flags.lr,
                    flags.batch_size, epochs(flags.epochs)));

    act(3, "The experiment");
    auto report = start_report(flags, "Milestone 04 (1998): SimpleCNN learns the 8×8 digits",
                               model, {1, 8, 8});
    if (report) report->set("optimizer", "SGD, cross-entropy");
    SGD optimizer(model.parameters(), flags.lr);
    const ClassifierLog log = train_classifier(model, optimizer, digits.train, digits.test, flags,
                                               std::max(1, flags.epochs / 10), report.get());

    act(4, "The diagnosis");
    report_classifier(log, flags);
    finish_classifier_report(report.get(), digits.test, true);
    double moved = 0.0;
    const Tensor conv_after = model.parameters()[0];
    for (std::size_t i = 0; i < conv_after.size(); ++i) {
      moved = std::max(moved, static_cast<double>(std::abs(conv_after.data().data()[i] -
                                                           conv_before.data().data()[i])));
    }
    say(fmt::format("The convolution learned too: its weights moved by up to {:.3f}.", moved));
    say("\nFirst test images, prediction and truth:");
    show_predictions(model, digits.test, 8);

    act(5, "The reflection");
    panel("Structure is knowledge",
          {fmt::format("{} test accuracy with {} parameters (the MLP of milestone 03 has 2,410).",
                       percent(log.test_accuracy.back()), count),
           "Weight sharing and pooling encode what we know about images: locality and",
           "translation. The same idea, scaled up, won ImageNet in 2012. For a bigger",
           "test, run lenet5_fashion on Fashion-MNIST."});
    print(fmt::format("result: test accuracy {} (train {}, loss {:.4f}) in {}",
                      percent(log.test_accuracy.back()), percent(log.train_accuracy.back()),
                      log.train_loss.back(), seconds(log.train_seconds)));
    finish_report(report.get(), flags);
    return 0;
  }));
}
