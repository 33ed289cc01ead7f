// A program outside the tinytorch tree: train a small CNN on the bundled digits, save its
// weights, load them into a fresh model and check that it predicts the same; write the run's
// HTML report beside the weights.
#include <cstdio>
#include <string>

#include <tinytorch/report/report.hpp>
#include <tinytorch/tinytorch.hpp>

using namespace tinytorch;

int main(int argc, char** argv) {
  const std::string weights = argc > 1 ? argv[1] : "consumer_cnn.safetensors";
  try {
    manual_seed(0);
    std::printf("digits: %s\n", default_digits_path().c_str());
    const DigitsSplit digits = load_digits();
    auto train_set = std::make_shared<TensorDataset>(
        std::vector<Tensor>{digits.train.images, digits.train.labels});
    DataLoader loader(train_set, DataLoaderOptions(32).shuffle(true).seed(0));

    SimpleCNN model;
    TrainingReport report("consumer");
    report.set_model(model, {1, 8, 8});
    SGD optimizer(model.parameters(), SGDOptions(0.05f).momentum(0.9f));
    for (int epoch = 1; epoch <= 5; ++epoch) {
      double loss_sum = 0.0;
      for (const Batch& batch : loader) {
        const Tensor loss = cross_entropy(model(batch[0]), batch[1]);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        loss_sum += loss.item();
      }
      EpochFigures figures;
      figures.train_loss = loss_sum / static_cast<double>(loader.size());
      report.add_epoch(figures);
    }
    save(model, weights);
    report.evaluate(digits.test.images, digits.test.labels);
    report.write(weights + ".html");

    SimpleCNN restored;
    load(restored, weights);
    NoGradGuard no_grad;
    const float trained = accuracy(model(digits.test.images), digits.test.labels);
    const float reloaded = accuracy(restored(digits.test.images), digits.test.labels);
    std::printf("test accuracy %.1f%%, after save and load %.1f%%\n", 100.0 * trained,
                100.0 * reloaded);
    return trained == reloaded && trained > 0.5f ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "consumer: %s\n", e.what());
    return 1;
  }
}
