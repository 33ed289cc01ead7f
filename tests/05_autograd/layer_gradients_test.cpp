// Module 05 with the layers of module 03: gradients reach every parameter of a model, batch
// losses average them, and zero_grad makes the next backward start from nothing.
#include <cmath>
#include <memory>
#include <vector>

#include <tinytorch/tinytorch.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

/// ‖dL/dW‖ of one fresh backward of the MSE of `layer` on (x, y).
float weight_grad_norm(Linear& layer, const Tensor& x, const Tensor& y) {
  layer.zero_grad();
  mse_loss(layer(x), y).backward();
  double sum = 0.0;
  for (float g : layer.weight.grad().data()) sum += static_cast<double>(g) * g;
  return static_cast<float>(std::sqrt(sum));
}

TEST(LayerGradients, ModuleZeroGradDropsEveryParametersGradient) {
  Sequential net({std::make_shared<Linear>(3, 2), std::make_shared<Linear>(2, 1)});
  net(Tensor::ones({4, 3})).sum().backward();
  for (const Tensor& p : net.parameters()) EXPECT_TRUE(p.grad().defined());
  net.zero_grad();
  for (const Tensor& p : net.parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(LayerGradients, BatchGradientsAreAveraged) {
  manual_seed(16);
  Linear layer(3, 1);
  const Tensor x({{1.0f, -2.0f, 0.5f}});
  const Tensor y({{3.0f}});
  const float single = weight_grad_norm(layer, x, y);
  const float repeated =
      weight_grad_norm(layer, stack({x[0], x[0], x[0], x[0]}), stack({y[0], y[0], y[0], y[0]}));
  EXPECT_GT(single, 0.0f);
  EXPECT_GE(repeated, 0.8f * single);
  EXPECT_LE(repeated, 1.2f * single);
}

TEST(LayerGradients, SecondBackwardAfterZeroGradHasTheSameMagnitude) {
  manual_seed(17);
  Linear layer(3, 2);
  const Tensor x = Tensor::randn({4, 3});
  const Tensor y = Tensor::randn({4, 2});
  const float first = weight_grad_norm(layer, x, y);
  const float second = weight_grad_norm(layer, x, y);
  EXPECT_GT(first, 0.0f);
  EXPECT_FLOAT_EQ(first, second);
}

}  // namespace
}  // namespace tinytorch
