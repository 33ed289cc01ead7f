// Milestone 03 — 1986, backpropagation revives the multi-layer network.
//
// Rumelhart, Hinton and Williams showed that the chain rule trains hidden layers. Here a
// 64 → 32 → 10 MLP reads the bundled 8×8 handwritten digits. Course defaults: SGD lr 0.01,
// batch 32 (shuffled), 20 epochs, cross-entropy.
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
  CLI::App app{"Milestone 03 (1986): a multi-layer perceptron learns handwritten digits"};
  Flags flags(20, 32, 0.01f);  // the course's hyper-parameters
  std::string data_path;       // empty: the bundled digits (load_digits finds them)
  add_flags(app, flags);
  app.add_option("--data", data_path,
                 "digits CSV (.gz) file (default: the bundled digits, or $TINYTORCH_DIGITS)");
  CLI11_PARSE(app, argc, argv);
  setup(flags);
  return processes.finish(guarded([&] {
    title("1986 · Backpropagation and the multi-layer perceptron");
    act(1, "The challenge");
    panel("Learning internal representations",
          {"XOR needed a hidden layer, and nobody knew how to train one well until",
           "\"Learning representations by back-propagating errors\" (Nature, 1986):",
           "send the error backwards through every layer with the chain rule.",
           "Can a small network learn to read handwritten digits that way?"});

    const DigitsSplit digits = load_digits(data_path);
    act(2, "The set-up");
    say(fmt::format("Data:   {} training and {} test images, 8×8 pixels in [0, 1], digits 0-9",
                    digits.train.size(), digits.test.size()));
    say("Model:  image [1,8,8] ─ Flatten ─ Linear(64→32) ─ ReLU ─ Linear(32→10) ─ logits");
    Sequential model({std::make_shared<Flatten>(), std::make_shared<Linear>(64, 32),
                      std::make_shared<ReLU>(), std::make_shared<Linear>(32, 10)});
    const std::size_t count = model.parameter_count();
    say(fmt::format("        {} parameters", count));
    say(fmt::format("Train:  cross-entropy, SGD lr {}, batch {}, {}", flags.lr,
                    flags.batch_size, epochs(flags.epochs)));

    act(3, "The experiment");
    auto report = start_report(flags, "Milestone 03 (1986): an MLP learns the 8×8 digits", model,
                               {1, 8, 8});
    if (report) report->set("optimizer", "SGD, cross-entropy");
    SGD optimizer(model.parameters(), flags.lr);
    const ClassifierLog log = train_classifier(model, optimizer, digits.train, digits.test, flags,
                                               std::max(1, flags.epochs / 4), report.get());

    act(4, "The diagnosis");
    report_classifier(log, flags);
    finish_classifier_report(report.get(), digits.test, false);
    say("\nFirst test images, prediction and truth:");
    show_predictions(model, digits.test, 8);

    act(5, "The reflection");
    panel("Hidden layers learn features",
          {fmt::format("{} test accuracy with {} weights that were never hand-designed.",
                       percent(log.test_accuracy.back()), count),
           "But the MLP sees 64 unrelated numbers: move a digit by one pixel and it",
           "must learn it again. Next: milestone 04, where convolution shares weights",
           "across the image."});
    print(fmt::format("result: test accuracy {} (train {}, loss {:.4f}) in {}",
                      percent(log.test_accuracy.back()), percent(log.train_accuracy.back()),
                      log.train_loss.back(), seconds(log.train_seconds)));
    finish_report(report.get(), flags);
    return 0;
  }));
}
