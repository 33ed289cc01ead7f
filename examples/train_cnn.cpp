// Train SimpleCNN on the bundled digits, save a checkpoint, load it into a fresh model and
// check that the restored model scores the same. What a C++ user copies to get started.
#include <cstdio>

#include <tinytorch/tinytorch.hpp>

using namespace tinytorch;

int main() {
  manual_seed(0);
  const DigitsSplit digits = load_digits();
  auto train_set = std::make_shared<TensorDataset>(
      std::vector<Tensor>{digits.train.images, digits.train.labels});
  auto test_set =
      std::make_shared<TensorDataset>(std::vector<Tensor>{digits.test.images, digits.test.labels});
  DataLoader train(train_set, DataLoaderOptions(32).shuffle(true).seed(0));
  DataLoader test(test_set, DataLoaderOptions(256));

  SimpleCNN model;
  SGD optimizer(model.parameters(), /*lr=*/0.05f, /*momentum=*/0.9f);
  Trainer trainer(model, optimizer, cross_entropy);
  for (int epoch = 1; epoch <= 10; ++epoch) {
    const float loss = trainer.train_epoch(train);
    const EvalResult r = trainer.evaluate(test);
    std::printf("epoch %2d  train loss %.4f  test accuracy %.1f%%\n", epoch, loss,
                100.0 * r.accuracy);
  }
  trainer.save_checkpoint("checkpoints/simple_cnn.safetensors");

  SimpleCNN restored;
  SGD restored_optimizer(restored.parameters(), 0.05f, 0.9f);
  Trainer restored_trainer(restored, restored_optimizer, cross_entropy);
  restored_trainer.load_checkpoint("checkpoints/simple_cnn.safetensors");
  const float original = trainer.evaluate(test).accuracy;
  const float reloaded = restored_trainer.evaluate(test).accuracy;
  std::printf("saved and reloaded: %.1f%% vs %.1f%% (epoch %zu)\n", 100.0 * original,
              100.0 * reloaded, restored_trainer.epoch());
  return original == reloaded ? 0 : 1;
}
