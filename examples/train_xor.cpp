// Trains a 2-4-1 MLP on XOR with full-batch SGD and prints its accuracy.
// The smallest end-to-end use of tinytorch: Tensor, Sequential, a loss, backward, an optimizer.
#include <cstdio>

#include <tinytorch/tinytorch.hpp>

using namespace tinytorch;

int main() {
  manual_seed(0);
  const Tensor x({{0, 0}, {0, 1}, {1, 0}, {1, 1}});
  const Tensor y({{0}, {1}, {1}, {0}});

  Sequential model({std::make_shared<Linear>(2, 4), std::make_shared<ReLU>(),
                    std::make_shared<Linear>(4, 1), std::make_shared<Sigmoid>()});
  SGD optimizer(model.parameters(), /*lr=*/0.5f);
  BinaryCrossEntropyLoss criterion;

  for (int epoch = 1; epoch <= 1000; ++epoch) {
    Tensor loss = criterion(model(x), y);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    if (epoch % 200 == 0) std::printf("epoch %4d  loss %.4f\n", epoch, loss.item());
  }

  NoGradGuard no_grad;
  const Tensor p = model(x);
  int correct = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const float prob = p.data()(i, 0);
    correct += (prob > 0.5f) == (y.data()(i, 0) > 0.5f);
    std::printf("%g XOR %g -> %.3f\n", x.data()(i, 0), x.data()(i, 1), prob);
  }
  std::printf("accuracy: %d/4 (%.0f%%)\n", correct, 100.0 * correct / 4);
  return correct == 4 ? 0 : 1;
}
