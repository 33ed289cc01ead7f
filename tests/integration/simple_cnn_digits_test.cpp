// Integration: SimpleCNN trains end to end on the bundled digits — the convolution included.
#include <cstring>

#include <tinytorch/tinytorch.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

std::shared_ptr<TensorDataset> dataset(const LabeledImages& d) {
  return std::make_shared<TensorDataset>(std::vector<Tensor>{d.images, d.labels});
}

TEST(Integration, SimpleCNNLearnsDigitsAndTrainsItsConvolution) {
  manual_seed(42);
  set_num_threads(1);
  const DigitsSplit digits = load_digits();
  SimpleCNN model;
  const Tensor conv_before = model.parameters()[0].clone();
  SGD optimizer(model.parameters(), 0.01f);
  Trainer trainer(model, optimizer, cross_entropy);
  DataLoader train(dataset(digits.train), DataLoaderOptions(32).shuffle(true).seed(42));
  DataLoader test(dataset(digits.test), DataLoaderOptions(256));

  const float before = trainer.evaluate(test).accuracy;
  for (int epoch = 0; epoch < 50; ++epoch) trainer.train_epoch(train);
  const EvalResult after = trainer.evaluate(test);

  EXPECT_LT(before, 0.3f);
  EXPECT_GE(after.accuracy, 0.85f) << "test loss " << after.loss;
  EXPECT_LT(trainer.history().train_loss.back(), trainer.history().train_loss.front() / 3.0f);

  // The Python course's flatten cut the graph so its conv never learned; ours must.
  const Tensor conv_after = model.parameters()[0];
  double moved = 0.0;
  for (std::size_t i = 0; i < conv_after.size(); ++i) {
    moved = std::max(moved, static_cast<double>(std::abs(conv_after.data().data()[i] -
                                                         conv_before.data().data()[i])));
  }
  EXPECT_GT(moved, 0.05);
}

TEST(Integration, MlpLearnsDigitsAboveChance) {
  manual_seed(7);
  const DigitsSplit digits = load_digits();
  Sequential model({std::make_shared<Flatten>(), std::make_shared<Linear>(64, 32),
                    std::make_shared<ReLU>(), std::make_shared<Linear>(32, 10)});
  SGD optimizer(model.parameters(), 0.05f, 0.9f);
  Trainer trainer(model, optimizer, cross_entropy);
  DataLoader train(dataset(digits.train), DataLoaderOptions(32).shuffle(true).seed(7));
  DataLoader test(dataset(digits.test), DataLoaderOptions(360));
  for (int epoch = 0; epoch < 10; ++epoch) trainer.train_epoch(train);
  EXPECT_GE(trainer.evaluate(test).accuracy, 0.85f);
}

}  // namespace
}  // namespace tinytorch
