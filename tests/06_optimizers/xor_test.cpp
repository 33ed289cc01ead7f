// Modules 01–06 end to end: a 2-4-1 MLP trained with BCE and plain SGD learns XOR, the
// problem a single-layer perceptron cannot solve (the course's 1969 milestone).
#include <memory>

#include <tinytorch/core/activations.hpp>
#include <tinytorch/core/autograd.hpp>
#include <tinytorch/core/layers.hpp>
#include <tinytorch/core/losses.hpp>
#include <tinytorch/core/optimizers.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

TEST(EndToEnd, MlpLearnsXorWithSgd) {
  manual_seed(0);
  const Tensor x({{0, 0}, {0, 1}, {1, 0}, {1, 1}});
  const Tensor y({{0}, {1}, {1}, {0}});
  Sequential model({std::make_shared<Linear>(2, 4), std::make_shared<ReLU>(),
                    std::make_shared<Linear>(4, 1), std::make_shared<Sigmoid>()});
  SGD optimizer(model.parameters(), /*lr=*/0.5f);
  BinaryCrossEntropyLoss criterion;

  float first_loss = 0.0f, last_loss = 0.0f;
  for (int epoch = 0; epoch < 1000; ++epoch) {
    const Tensor loss = criterion(model(x), y);
    if (epoch == 0) first_loss = loss.item();
    last_loss = loss.item();
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
  }
  EXPECT_LT(last_loss, 0.1f * first_loss);

  NoGradGuard no_grad;
  const Tensor p = model(x);
  EXPECT_FALSE(p.requires_grad());
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(p.data()(i, 0) > 0.5f, y.data()(i, 0) > 0.5f)
        << x.data()(i, 0) << " XOR " << x.data()(i, 1) << " predicted " << p.data()(i, 0);
  }
}

}  // namespace
}  // namespace tinytorch
