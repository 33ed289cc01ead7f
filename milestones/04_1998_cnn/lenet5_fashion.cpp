// Milestone 04 (bonus) — LeNet-5 on Fashion-MNIST.
//
// The 1998 architecture on 28×28 clothing images (70,000 of them, 10 classes):
// Conv(1→6, 5×5, pad 2) → MaxPool 2 → ReLU → Conv(6→16, 5×5) → MaxPool 2 → ReLU →
// Flatten [400] → Linear(400→120) → ReLU → Linear(120→84) → ReLU → Linear(84→10)
// (pooling before the ReLU is the same function as after it, for less work: see lenet5()).
// Data: Debian's dataset-fashion-mnist package (/usr/share/datasets/fashion-mnist) or --data.
#include <filesystem>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <tinytorch/tinytorch.hpp>

#include "classify.hpp"
#include "processes.hpp"
#include "ui.hpp"

using namespace tinytorch;
using namespace milestone;

namespace {

const std::vector<std::string> kClasses = {"T-shirt", "Trouser", "Pullover", "Dress", "Coat",
                                           "Sandal",  "Shirt",   "Sneaker",  "Bag",   "Boot"};

}  // namespace

int main(int argc, char** argv) {
  Processes processes;  // one, or all that mpirun started
  CLI::App app{"LeNet-5 on Fashion-MNIST"};
  Flags flags(3, 64, 0.05f);  // with momentum 0.9: a standard LeNet-5 recipe
  float momentum = 0.9f;
  std::size_t limit = 0;
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  add_flags(app, flags);
  app.add_option("--momentum", momentum, "SGD momentum")
      ->check(number_in(0.0, 0.999))
      ->capture_default_str();
  app.add_option("--limit", limit, "use only the first N training images (and N/6 test images)")
      ->check(whole_number_in(0, 1000000000));
  app.add_option("--data", data_dir, "folder with the IDX files")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  setup(flags);
  return processes.finish(guarded([&] {
    title("1998 · LeNet-5 on Fashion-MNIST");
    LabeledImages train, test;
    try {
      train = load_mnist_like(data_dir, "train", limit);
      test = load_mnist_like(data_dir, "test", limit ? std::max<std::size_t>(limit / 6, 1) : 0);
    } catch (const std::exception& e) {
      // The reader's message already says how to install the data; add only the flag.
      hint(fmt::format("error: {}", e.what()));
      hint(
          "Or pass --data DIR: a folder with train-images-idx3-ubyte.gz and the three other "
          "IDX files.");
      return 2;  // reported as skipped by the CTest test
    }
    act(1, "The set-up");
    say(fmt::format("Data:   {} training and {} test images [1, 28, 28] from {}", train.size(),
                    test.size(), data_dir));
    auto model = lenet5();
    const std::size_t count = model->parameter_count();
    say(fmt::format("Model:  LeNet-5, {} parameters", count));
    say(fmt::format("Train:  cross-entropy, SGD lr {} momentum {}, batch {}, {}", flags.lr,
                    momentum, flags.batch_size, epochs(flags.epochs)));

    act(2, "The experiment");
    auto report = start_report(flags, "LeNet-5 on Fashion-MNIST", *model, {1, 28, 28}, kClasses);
    if (report) {
      report->set("optimizer", fmt::format("SGD, momentum {}, cross-entropy", momentum));
      report->set("data", fmt::format("{} training and {} test images from {}", train.size(),
                                      test.size(), data_dir));
    }
    SGD optimizer(model->parameters(), flags.lr, momentum);
    const ClassifierLog log =
        train_classifier(*model, optimizer, train, test, flags, 1, report.get());

    act(3, "The diagnosis");
    report_classifier(log, flags);
    finish_classifier_report(report.get(), test, true);
    say("\nFirst test images, prediction and truth:");
    show_predictions(*model, test, 5, kClasses);
    print(fmt::format("result: test accuracy {} (train {}, loss {:.4f}) in {}",
                      percent(log.test_accuracy.back()), percent(log.train_accuracy.back()),
                      log.train_loss.back(), seconds(log.train_seconds)));
    finish_report(report.get(), flags);
    return 0;
  }));
}
