#include "classify.hpp"
#include "processes.hpp"
#include "story.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace milestone {

using namespace tinytorch;

namespace {

double now_seconds() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

std::shared_ptr<TensorDataset> as_dataset(const LabeledImages& data) {
  return std::make_shared<TensorDataset>(std::vector<Tensor>{data.images, data.labels});
}

// Evaluation batches small enough that a batch's activations stay in the cache between the
// layers (LeNet-5: 128 images ≈ 8 MB); 512 ran about 8% slower per image.
constexpr std::size_t kEvalBatch = 128;

// Train accuracy of a large training set is measured on an evenly spaced sample of this many
// images, so that the evaluation after each epoch costs a fraction of the epoch: all 60,000
// Fashion-MNIST images took longer to score than to train on. A sample of 10,000 estimates the
// accuracy within about ±0.3 points (one standard error at 90 %).
constexpr std::size_t kTrainSample = 10000;

// Every (size/n)-th image, or all of them when there are no more than n.
LabeledImages evenly_spaced(const LabeledImages& data, std::size_t n) {
  if (data.size() <= n) return data;
  std::vector<std::size_t> rows(n);
  for (std::size_t k = 0; k < n; ++k) rows[k] = k * data.size() / n;
  return {data.images.index_select(rows), data.labels.index_select(rows)};
}

// This process's contiguous part of `data` (all of it alone).
LabeledImages part(const LabeledImages& data, const Processes& processes) {
  if (processes.alone()) return data;
  const std::size_t begin = processes.part_begin(data.size()), end = processes.part_end(data.size());
  return {data.images.slice(begin, end), data.labels.slice(begin, end)};
}

}  // namespace

ClassifierLog train_classifier(Module& model, Optimizer& optimizer, const LabeledImages& train,
                               const LabeledImages& test, const Flags& flags, int log_every,
                               TrainingReport* report) {
  Processes alone_here{Processes::Alone{}};
  Processes& processes = current_processes() ? *current_processes() : alone_here;
  // Over several processes each trains on its part of every epoch, batch/processes examples
  // a step, and scores its part of the evaluation sets; the Trainer adds the figures up.
  DataLoaderOptions train_options(processes.local_batch(flags.batch_size));
  if (processes.alone()) {
    train_options.shuffle(true).seed(flags.seed);
  } else {
    train_options.sampler(processes.sampler(flags.seed));
  }
  DataLoader train_loader(as_dataset(train), train_options);
  const LabeledImages train_sample = part(evenly_spaced(train, kTrainSample), processes);
  DataLoader train_eval(as_dataset(train_sample), DataLoaderOptions(kEvalBatch));
  DataLoader test_loader(as_dataset(part(test, processes)), DataLoaderOptions(kEvalBatch));
  // Module 07's Trainer runs the epochs and the evaluations, over module 08's DataLoader.
  Trainer trainer(model, optimizer, cross_entropy);
  processes.share(model, trainer);

  ClassifierLog log;
  log.train_sample = train_sample.size();
  log.train_size = train.size();
  log.initial_test_accuracy = trainer.evaluate(test_loader).accuracy;
  if (report != nullptr) {
    report->set("test accuracy before training", percent(log.initial_test_accuracy));
    if (log.train_sample < log.train_size) {
      report->set("train accuracy measured on",
                  fmt::format("{} of the {} training images", log.train_sample, log.train_size));
    }
  }
  say(fmt::format("Test accuracy before training: {} (ten classes: chance is 10%)\n",
                  percent(log.initial_test_accuracy)));
  for (int epoch = 1; epoch <= flags.epochs; ++epoch) {
    ProgressBar bar(fmt::format("epoch {:>3}/{}", epoch, flags.epochs), train_loader.size());
    trainer.on_batch([&](std::size_t index, std::size_t, float loss) {
      bar.update(index + 1, fmt::format("loss {:.4f}", loss));
    });
    processes.set_epoch(static_cast<std::size_t>(epoch - 1));
    const double start = now_seconds();
    log.train_loss.push_back(trainer.train_epoch(train_loader));
    log.epoch_seconds.push_back(static_cast<float>(now_seconds() - start));
    log.train_seconds += log.epoch_seconds.back();
    log.train_accuracy.push_back(trainer.evaluate(train_eval).accuracy);
    const EvalResult t = trainer.evaluate(test_loader);
    log.test_loss.push_back(t.loss);
    log.test_accuracy.push_back(t.accuracy);
    if (report != nullptr) {
      EpochFigures e;
      e.train_loss = log.train_loss.back();
      e.train_accuracy = log.train_accuracy.back();
      e.test_loss = t.loss;
      e.test_accuracy = t.accuracy;
      e.learning_rate = optimizer.lr();
      e.seconds = log.epoch_seconds.back();
      report->add_epoch(e);
      update_report(report, flags);
    }
    const float gap = log.train_accuracy.back() - t.accuracy;
    const std::string line =
        fmt::format("Loss {:.4f}  Train {}  Test {}  Gap {:.1f}{}  ({})", log.train_loss.back(),
                    percent(log.train_accuracy.back()), percent(t.accuracy), 100.0f * gap,
                    gap > 0.10f ? " ⚠" : "", seconds(log.epoch_seconds.back()));
    if (epoch % log_every == 0 || epoch == flags.epochs || epoch == 1) {
      bar.finish(line);
    } else if (is_tty()) {
      std::fputs("\r\033[K", stdout);
    }
  }
  return log;
}

void report_classifier(const ClassifierLog& log, const Flags& flags) {
  const float train = log.train_accuracy.back(), test = log.test_accuracy.back();
  Table table({"metric", "value"});
  table.add_row({"test accuracy before training", percent(log.initial_test_accuracy)});
  table.add_row({log.train_sample < log.train_size ? fmt::format("train accuracy ({} of {} images)",
                                                                 log.train_sample, log.train_size)
                                                   : std::string("train accuracy"),
                 percent(train)});
  table.add_row({"test accuracy", percent(test)});
  table.add_row({"train-test gap", fmt::format("{:.1f} points ({})", 100.0f * (train - test),
                                               train - test > 0.10f ? "overfitting" : "healthy")});
  table.add_row({"final train loss", fmt::format("{:.4f}", log.train_loss.back())});
  table.add_row({"training time",
                 fmt::format("{} for {}", seconds(log.train_seconds), epochs(flags.epochs))});
  const int procs = process_count();
  table.add_row({"ran on", fmt::format("{} process{} × {} thread{}", procs, procs == 1 ? "" : "es",
                                       flags.threads, flags.threads == 1 ? "" : "s")});
  table.print();
  if (!quiet()) {
    plot("train loss (●) and test loss (◆) per epoch",
         {{"train loss", log.train_loss}, {"test loss", log.test_loss}});
    plot("train (●) and test (◆) accuracy per epoch",
         {{"train accuracy", log.train_accuracy}, {"test accuracy", log.test_accuracy}});
  }
  CsvLog csv(flags.csv,
             {"epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds"});
  for (std::size_t i = 0; i < log.train_loss.size(); ++i) {
    csv.add({static_cast<double>(i + 1), log.train_loss[i], log.train_accuracy[i], log.test_loss[i],
             log.test_accuracy[i], log.epoch_seconds[i]});
  }
  csv.save();
}

void show_predictions(Module& model, const LabeledImages& test, std::size_t count,
                      const std::vector<std::string>& class_names) {
  if (quiet() || test.size() == 0) return;
  NoGradGuard no_grad;
  model.eval();
  count = std::min(count, test.size());
  const Tensor images = test.images.slice(0, count);
  const Tensor predicted = model(images).argmax(1);
  const std::size_t side = images.dim(3), pixels = side * images.dim(2);
  auto name = [&](float label) {
    const auto k = static_cast<std::size_t>(label);
    return k < class_names.size() ? class_names[k] : std::to_string(k);
  };
  std::vector<const float*> drawn;
  std::vector<std::string> captions;
  for (std::size_t i = 0; i < count; ++i) {
    drawn.push_back(images.data().data() + i * pixels);
    const float p = predicted.data()(i), t = test.labels.data()(i);
    captions.push_back(fmt::format("{} {}", name(p), p == t ? "✓" : "✗ (" + name(t) + ")"));
  }
  draw_digits(drawn, captions, side);
}

}  // namespace milestone
