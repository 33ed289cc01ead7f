// Module 05 — a numerical gradient check (central differences, see gradcheck() in
// autograd.hpp) for every differentiable op of modules 01–04, on random shapes, including
// broadcasting, every matmul rank combination and every reduction axis form.
// expect_gradcheck also asserts that every input received a non-zero gradient.
//
// Inputs are chosen where each op is smooth: divisors and relu inputs are kept away from 0,
// log/sqrt/pow inputs are positive, max inputs are distinct (no ties within eps), and BCE
// probabilities lie inside (0.05, 0.95).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include <tinytorch/core/activations.hpp>
#include <tinytorch/core/layers.hpp>
#include <tinytorch/core/losses.hpp>
#include <tinytorch/core/tensor.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_gradcheck;
using Inputs = std::vector<Tensor>;

Tensor randn_leaf(const Shape& shape) {
  return Tensor::randn(shape, true);
}

Tensor uniform_leaf(const Shape& shape, float lo, float hi) {
  Tensor t = Tensor::rand(shape, true);
  for (float& v : t.data()) v = lo + (hi - lo) * v;
  return t;
}

// Standard normal samples moved at least `margin` away from 0 (division, relu's kink).
Tensor away_from_zero_leaf(const Shape& shape, float margin) {
  Tensor t = Tensor::randn(shape, true);
  for (float& v : t.data()) v = v < 0.0f ? v - margin : v + margin;
  return t;
}

// A shuffled grid spaced 0.1 apart and centred on 0: every value is distinct, so a max never
// ties and a ±eps perturbation never changes which element is the maximum.
Tensor distinct_leaf(const Shape& shape, unsigned seed) {
  Tensor t = Tensor::zeros(shape, true);
  std::vector<float> values(t.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    values[i] = 0.1f * static_cast<float>(i) - 0.05f * static_cast<float>(values.size());
  }
  std::mt19937 gen(seed);
  std::shuffle(values.begin(), values.end(), gen);
  std::copy(values.begin(), values.end(), t.data().begin());
  return t;
}

// ---- arithmetic -------------------------------------------------------------------------

TEST(Gradcheck, Add) {
  manual_seed(1);
  expect_gradcheck([](const Inputs& in) { return in[0] + in[1]; },
                   {randn_leaf({3, 4}), randn_leaf({3, 4})});
}

TEST(Gradcheck, AddBroadcastRow) {
  manual_seed(2);
  expect_gradcheck([](const Inputs& in) { return in[0] + in[1]; },
                   {randn_leaf({2, 3, 4}), randn_leaf({4})});
}

TEST(Gradcheck, AddBroadcastColumnAgainstRow) {
  manual_seed(3);
  expect_gradcheck([](const Inputs& in) { return in[0] + in[1]; },
                   {randn_leaf({4, 1}), randn_leaf({1, 3})});
}

TEST(Gradcheck, AddBroadcastZeroDim) {
  manual_seed(4);
  expect_gradcheck([](const Inputs& in) { return in[0] + in[1]; },
                   {Tensor::scalar(0.7f, true), randn_leaf({2, 3})});
}

TEST(Gradcheck, Sub) {
  manual_seed(5);
  expect_gradcheck([](const Inputs& in) { return in[0] - in[1]; },
                   {randn_leaf({5}), randn_leaf({5})});
}

TEST(Gradcheck, SubBroadcast) {
  manual_seed(6);
  expect_gradcheck([](const Inputs& in) { return in[0] - in[1]; },
                   {randn_leaf({3, 1, 2}), randn_leaf({4, 1})});
}

TEST(Gradcheck, Mul) {
  manual_seed(7);
  expect_gradcheck([](const Inputs& in) { return in[0] * in[1]; },
                   {randn_leaf({3, 4}), randn_leaf({3, 4})});
}

TEST(Gradcheck, MulBroadcast) {
  manual_seed(8);
  expect_gradcheck([](const Inputs& in) { return in[0] * in[1]; },
                   {randn_leaf({2, 3, 4}), randn_leaf({3, 1})});
}

TEST(Gradcheck, MulByATensorThatNeedsNoGrad) {
  manual_seed(9);
  const Tensor constant = Tensor::randn({3, 4});
  expect_gradcheck([constant](const Inputs& in) { return in[0] * constant; }, {randn_leaf({3, 4})});
}

TEST(Gradcheck, MulOfATensorWithItself) {
  manual_seed(10);
  expect_gradcheck([](const Inputs& in) { return in[0] * in[0]; }, {randn_leaf({6})});
}

TEST(Gradcheck, Div) {
  manual_seed(11);
  expect_gradcheck([](const Inputs& in) { return in[0] / in[1]; },
                   {randn_leaf({3, 4}), away_from_zero_leaf({3, 4}, 0.5f)});
}

TEST(Gradcheck, DivBroadcast) {
  manual_seed(12);
  expect_gradcheck([](const Inputs& in) { return in[0] / in[1]; },
                   {randn_leaf({2, 3, 4}), away_from_zero_leaf({3, 1}, 0.5f)});
}

TEST(Gradcheck, Neg) {
  manual_seed(13);
  expect_gradcheck([](const Inputs& in) { return -in[0]; }, {randn_leaf({2, 5})});
}

TEST(Gradcheck, AddScalarRight) {
  manual_seed(14);
  expect_gradcheck([](const Inputs& in) { return in[0] + 2.0f; }, {randn_leaf({4})});
}

TEST(Gradcheck, AddScalarLeft) {
  manual_seed(15);
  expect_gradcheck([](const Inputs& in) { return 2.0f + in[0]; }, {randn_leaf({4})});
}

TEST(Gradcheck, SubScalarRight) {
  manual_seed(16);
  expect_gradcheck([](const Inputs& in) { return in[0] - 3.0f; }, {randn_leaf({2, 2})});
}

TEST(Gradcheck, SubScalarLeft) {
  manual_seed(17);
  expect_gradcheck([](const Inputs& in) { return 3.0f - in[0]; }, {randn_leaf({2, 2})});
}

TEST(Gradcheck, MulScalarRight) {
  manual_seed(18);
  expect_gradcheck([](const Inputs& in) { return in[0] * 2.5f; }, {randn_leaf({3})});
}

TEST(Gradcheck, MulScalarLeft) {
  manual_seed(19);
  expect_gradcheck([](const Inputs& in) { return -1.5f * in[0]; }, {randn_leaf({3})});
}

TEST(Gradcheck, DivScalarRight) {
  manual_seed(20);
  expect_gradcheck([](const Inputs& in) { return in[0] / 4.0f; }, {randn_leaf({3, 2})});
}

TEST(Gradcheck, DivScalarLeft) {
  manual_seed(21);
  expect_gradcheck([](const Inputs& in) { return 2.0f / in[0]; },
                   {away_from_zero_leaf({3, 2}, 0.5f)});
}

// ---- matmul -----------------------------------------------------------------------------

TEST(Gradcheck, Matmul2D) {
  manual_seed(30);
  expect_gradcheck([](const Inputs& in) { return in[0].matmul(in[1]); },
                   {randn_leaf({3, 4}), randn_leaf({4, 5})});
}

TEST(Gradcheck, MatmulVectorMatrix) {
  manual_seed(31);
  expect_gradcheck([](const Inputs& in) { return matmul(in[0], in[1]); },
                   {randn_leaf({4}), randn_leaf({4, 3})});
}

TEST(Gradcheck, MatmulMatrixVector) {
  manual_seed(32);
  expect_gradcheck([](const Inputs& in) { return matmul(in[0], in[1]); },
                   {randn_leaf({3, 4}), randn_leaf({4})});
}

TEST(Gradcheck, MatmulVectorVector) {
  manual_seed(33);
  expect_gradcheck([](const Inputs& in) { return matmul(in[0], in[1]); },
                   {randn_leaf({5}), randn_leaf({5})});
}

TEST(Gradcheck, MatmulBatched) {
  manual_seed(34);
  expect_gradcheck([](const Inputs& in) { return matmul(in[0], in[1]); },
                   {randn_leaf({2, 3, 4}), randn_leaf({2, 4, 2})});
}

TEST(Gradcheck, MatmulBatchedBroadcast) {
  manual_seed(35);
  expect_gradcheck([](const Inputs& in) { return matmul(in[0], in[1]); },
                   {randn_leaf({2, 1, 3, 4}), randn_leaf({3, 4, 2})});
}

TEST(Gradcheck, MatmulBatchedWithMatrix) {
  manual_seed(36);
  expect_gradcheck([](const Inputs& in) { return matmul(in[0], in[1]); },
                   {randn_leaf({2, 3, 4}), randn_leaf({4, 5})});
}

TEST(Gradcheck, MatmulVectorBatched) {
  manual_seed(37);
  expect_gradcheck([](const Inputs& in) { return matmul(in[0], in[1]); },
                   {randn_leaf({4}), randn_leaf({2, 4, 3})});
}

TEST(Gradcheck, MatmulBatchedVector) {
  manual_seed(38);
  expect_gradcheck([](const Inputs& in) { return matmul(in[0], in[1]); },
                   {randn_leaf({2, 3, 4}), randn_leaf({4})});
}

TEST(Gradcheck, MatmulZeroDimOperand) {
  manual_seed(39);
  expect_gradcheck([](const Inputs& in) { return matmul(in[0], in[1]); },
                   {Tensor::scalar(1.3f, true), randn_leaf({2, 3})});
}

// ---- shape ops --------------------------------------------------------------------------

TEST(Gradcheck, TransposeLastTwoAxes) {
  manual_seed(40);
  expect_gradcheck([](const Inputs& in) { return in[0].transpose(); }, {randn_leaf({2, 3, 4})});
}

TEST(Gradcheck, TransposeOuterAxes) {
  manual_seed(41);
  expect_gradcheck([](const Inputs& in) { return in[0].transpose(0, 2); }, {randn_leaf({2, 3, 4})});
}

TEST(Gradcheck, TransposeNegativeAxes) {
  manual_seed(42);
  expect_gradcheck([](const Inputs& in) { return in[0].transpose(-3, -2); },
                   {randn_leaf({2, 3, 4})});
}

TEST(Gradcheck, TransposeOfAVector) {
  manual_seed(43);
  expect_gradcheck([](const Inputs& in) { return in[0].transpose(); }, {randn_leaf({4})});
}

TEST(Gradcheck, Reshape) {
  manual_seed(44);
  expect_gradcheck([](const Inputs& in) { return in[0].reshape({4, 6}); }, {randn_leaf({2, 3, 4})});
}

TEST(Gradcheck, ReshapeInferred) {
  manual_seed(45);
  expect_gradcheck([](const Inputs& in) { return in[0].reshape({-1, 2}); }, {randn_leaf({3, 4})});
}

TEST(Gradcheck, Flatten) {
  manual_seed(46);
  expect_gradcheck([](const Inputs& in) { return in[0].flatten(1); }, {randn_leaf({2, 3, 2, 2})});
}

TEST(Gradcheck, FlattenAll) {
  manual_seed(47);
  expect_gradcheck([](const Inputs& in) { return in[0].flatten(); }, {randn_leaf({2, 3})});
}

TEST(Gradcheck, Index) {
  manual_seed(48);
  expect_gradcheck([](const Inputs& in) { return in[0][1]; }, {randn_leaf({3, 4})});
}

TEST(Gradcheck, IndexNegative) {
  manual_seed(49);
  expect_gradcheck([](const Inputs& in) { return in[0][-1]; }, {randn_leaf({3, 2, 2})});
}

TEST(Gradcheck, IndexOfAVectorGivesAZeroDimResult) {
  manual_seed(50);
  expect_gradcheck([](const Inputs& in) { return in[0][2]; }, {randn_leaf({4})});
}

TEST(Gradcheck, Slice) {
  manual_seed(51);
  expect_gradcheck([](const Inputs& in) { return in[0].slice(1, 3); }, {randn_leaf({4, 3})});
}

TEST(Gradcheck, IndexSelectWithRepeatedIndices) {
  manual_seed(52);
  expect_gradcheck(
      [](const Inputs& in) {
        return in[0].index_select({2, 0, 2, 2, 3});
      },
      {randn_leaf({4, 3})});
}

// ---- reductions -------------------------------------------------------------------------

TEST(Gradcheck, SumAll) {
  manual_seed(60);
  expect_gradcheck([](const Inputs& in) { return in[0].sum(); }, {randn_leaf({3, 4})});
}

TEST(Gradcheck, SumOneAxis) {
  manual_seed(61);
  expect_gradcheck([](const Inputs& in) { return in[0].sum({1}); }, {randn_leaf({2, 3, 4})});
}

TEST(Gradcheck, SumNegativeAxis) {
  manual_seed(62);
  expect_gradcheck([](const Inputs& in) { return in[0].sum({-1}); }, {randn_leaf({2, 3, 4})});
}

TEST(Gradcheck, SumSeveralAxes) {
  manual_seed(63);
  expect_gradcheck([](const Inputs& in) { return in[0].sum({0, 2}); }, {randn_leaf({2, 3, 4})});
}

TEST(Gradcheck, SumKeepdims) {
  manual_seed(64);
  expect_gradcheck([](const Inputs& in) { return in[0].sum({1}, true); }, {randn_leaf({2, 3, 4})});
}

TEST(Gradcheck, SumSeveralAxesKeepdims) {
  manual_seed(65);
  expect_gradcheck(
      [](const Inputs& in) {
        return in[0].sum({-1, 0}, true);
      },
      {randn_leaf({2, 3, 4})});
}

TEST(Gradcheck, MeanAll) {
  manual_seed(66);
  expect_gradcheck([](const Inputs& in) { return in[0].mean(); }, {randn_leaf({3, 4})});
}

TEST(Gradcheck, MeanOneAxis) {
  manual_seed(67);
  expect_gradcheck([](const Inputs& in) { return in[0].mean({0}); }, {randn_leaf({3, 4})});
}

TEST(Gradcheck, MeanNegativeAxis) {
  manual_seed(68);
  expect_gradcheck([](const Inputs& in) { return in[0].mean({-2}); }, {randn_leaf({2, 3, 4})});
}

TEST(Gradcheck, MeanSeveralAxes) {
  manual_seed(69);
  expect_gradcheck([](const Inputs& in) { return in[0].mean({1, 2}); }, {randn_leaf({2, 3, 4})});
}

TEST(Gradcheck, MeanKeepdims) {
  manual_seed(70);
  expect_gradcheck([](const Inputs& in) { return in[0].mean({2}, true); }, {randn_leaf({2, 3, 4})});
}

TEST(Gradcheck, MeanSeveralAxesKeepdims) {
  manual_seed(71);
  expect_gradcheck(
      [](const Inputs& in) {
        return in[0].mean({0, 1}, true);
      },
      {randn_leaf({2, 3, 4})});
}

TEST(Gradcheck, MaxAll) {
  expect_gradcheck([](const Inputs& in) { return in[0].max(); }, {distinct_leaf({3, 4}, 1)});
}

TEST(Gradcheck, MaxOneAxis) {
  expect_gradcheck([](const Inputs& in) { return in[0].max({1}); }, {distinct_leaf({2, 3, 4}, 2)});
}

TEST(Gradcheck, MaxNegativeAxis) {
  expect_gradcheck([](const Inputs& in) { return in[0].max({-1}); }, {distinct_leaf({2, 3, 4}, 3)});
}

TEST(Gradcheck, MaxSeveralAxes) {
  expect_gradcheck(
      [](const Inputs& in) {
        return in[0].max({0, 2});
      },
      {distinct_leaf({2, 3, 4}, 4)});
}

TEST(Gradcheck, MaxKeepdims) {
  expect_gradcheck([](const Inputs& in) { return in[0].max({0}, true); },
                   {distinct_leaf({3, 4}, 5)});
}

TEST(Gradcheck, MaxSeveralAxesKeepdims) {
  expect_gradcheck(
      [](const Inputs& in) {
        return in[0].max({1, -1}, true);
      },
      {distinct_leaf({2, 3, 4}, 6)});
}

// ---- element-wise math ------------------------------------------------------------------

TEST(Gradcheck, Exp) {
  manual_seed(80);
  expect_gradcheck([](const Inputs& in) { return in[0].exp(); }, {randn_leaf({3, 4})});
}

TEST(Gradcheck, Log) {
  manual_seed(81);
  expect_gradcheck([](const Inputs& in) { return in[0].log(); },
                   {uniform_leaf({3, 4}, 0.5f, 2.0f)});
}

TEST(Gradcheck, Sqrt) {
  manual_seed(82);
  expect_gradcheck([](const Inputs& in) { return in[0].sqrt(); },
                   {uniform_leaf({3, 4}, 0.5f, 2.0f)});
}

TEST(Gradcheck, PowSquare) {
  manual_seed(83);
  expect_gradcheck([](const Inputs& in) { return in[0].pow(2.0f); }, {randn_leaf({3, 4})});
}

TEST(Gradcheck, PowCubeOfNegativeInputs) {
  manual_seed(84);
  expect_gradcheck([](const Inputs& in) { return in[0].pow(3.0f); },
                   {uniform_leaf({5}, -1.5f, -0.5f)});
}

TEST(Gradcheck, PowFractional) {
  manual_seed(85);
  expect_gradcheck([](const Inputs& in) { return in[0].pow(2.5f); },
                   {uniform_leaf({3, 4}, 0.5f, 2.0f)});
}

TEST(Gradcheck, PowNegative) {
  manual_seed(86);
  expect_gradcheck([](const Inputs& in) { return in[0].pow(-1.5f); },
                   {uniform_leaf({3, 4}, 0.5f, 2.0f)});
}

// ---- activations ------------------------------------------------------------------------

TEST(Gradcheck, Relu) {
  manual_seed(90);
  expect_gradcheck([](const Inputs& in) { return relu(in[0]); },
                   {away_from_zero_leaf({4, 5}, 0.1f)});
}

TEST(Gradcheck, Sigmoid) {
  manual_seed(91);
  expect_gradcheck([](const Inputs& in) { return sigmoid(in[0]); }, {randn_leaf({4, 5})});
}

TEST(Gradcheck, SigmoidOfLargeInputs) {
  manual_seed(92);
  expect_gradcheck([](const Inputs& in) { return sigmoid(in[0] * 4.0f); }, {randn_leaf({10})});
}

TEST(Gradcheck, Tanh) {
  manual_seed(93);
  expect_gradcheck([](const Inputs& in) { return tanh(in[0]); }, {randn_leaf({4, 5})});
}

TEST(Gradcheck, Gelu) {
  manual_seed(94);
  expect_gradcheck([](const Inputs& in) { return gelu(in[0]); }, {randn_leaf({4, 5})});
}

TEST(Gradcheck, SoftmaxLastAxis) {
  manual_seed(95);
  expect_gradcheck([](const Inputs& in) { return softmax(in[0], -1); }, {randn_leaf({3, 5})});
}

TEST(Gradcheck, SoftmaxFirstAxis) {
  manual_seed(96);
  expect_gradcheck([](const Inputs& in) { return softmax(in[0], 0); }, {randn_leaf({3, 5})});
}

TEST(Gradcheck, SoftmaxMiddleAxis) {
  manual_seed(97);
  expect_gradcheck([](const Inputs& in) { return softmax(in[0], 1); }, {randn_leaf({2, 3, 4})});
}

TEST(Gradcheck, LogSoftmaxLastAxis) {
  manual_seed(98);
  expect_gradcheck([](const Inputs& in) { return log_softmax(in[0], -1); }, {randn_leaf({3, 5})});
}

TEST(Gradcheck, LogSoftmaxFirstAxis) {
  manual_seed(99);
  expect_gradcheck([](const Inputs& in) { return log_softmax(in[0], 0); }, {randn_leaf({3, 5})});
}

TEST(Gradcheck, LogSoftmaxMiddleAxis) {
  manual_seed(100);
  expect_gradcheck([](const Inputs& in) { return log_softmax(in[0], -2); },
                   {randn_leaf({2, 3, 4})});
}

// ---- layers -----------------------------------------------------------------------------

TEST(Gradcheck, LinearWithBias) {
  manual_seed(110);
  expect_gradcheck([](const Inputs& in) { return linear(in[0], in[1], in[2]); },
                   {randn_leaf({4, 3}), randn_leaf({3, 2}), randn_leaf({2})});
}

TEST(Gradcheck, LinearWithoutBias) {
  manual_seed(111);
  expect_gradcheck([](const Inputs& in) { return linear(in[0], in[1]); },
                   {randn_leaf({4, 3}), randn_leaf({3, 2})});
}

TEST(Gradcheck, Linear3DInputWithBias) {
  manual_seed(112);
  expect_gradcheck([](const Inputs& in) { return linear(in[0], in[1], in[2]); },
                   {randn_leaf({2, 3, 4}), randn_leaf({4, 2}), randn_leaf({2})});
}

TEST(Gradcheck, Linear3DInputWithoutBias) {
  manual_seed(113);
  expect_gradcheck([](const Inputs& in) { return linear(in[0], in[1]); },
                   {randn_leaf({2, 3, 4}), randn_leaf({4, 2})});
}

TEST(Gradcheck, LinearVectorInput) {
  manual_seed(114);
  expect_gradcheck([](const Inputs& in) { return linear(in[0], in[1], in[2]); },
                   {randn_leaf({3}), randn_leaf({3, 2}), randn_leaf({2})});
}

TEST(Gradcheck, LinearParametersOfAConstantInput) {
  manual_seed(115);
  const Tensor x = Tensor::randn({5, 3});
  expect_gradcheck([x](const Inputs& in) { return linear(x, in[0], in[1]); },
                   {randn_leaf({3, 2}), randn_leaf({2})});
}

TEST(Gradcheck, LinearModule) {
  manual_seed(116);
  Linear layer(3, 2);
  expect_gradcheck([&layer](const Inputs& in) { return layer(in[0]); }, {randn_leaf({4, 3})});
  expect_gradcheck(
      [&layer](const Inputs&) {
        return layer(Tensor({{1, -2, 0.5f}}));
      },
      layer.parameters());
}

TEST(Gradcheck, DropoutWithTheSameMaskInEveryCall) {
  // dropout draws a new mask per call; reseeding inside f gives every evaluation one mask.
  manual_seed(120);
  expect_gradcheck(
      [](const Inputs& in) {
        manual_seed(7);
        return dropout(in[0], 0.4f);
      },
      {randn_leaf({4, 5})});
}

// ---- losses -----------------------------------------------------------------------------

TEST(Gradcheck, MseLoss) {
  manual_seed(130);
  expect_gradcheck([](const Inputs& in) { return mse_loss(in[0], in[1]); },
                   {randn_leaf({4, 3}), randn_leaf({4, 3})});
}

TEST(Gradcheck, BinaryCrossEntropy) {
  manual_seed(131);
  const Tensor targets({{1, 0, 1}, {0, 0, 1}});
  expect_gradcheck([targets](const Inputs& in) { return binary_cross_entropy(in[0], targets); },
                   {uniform_leaf({2, 3}, 0.05f, 0.95f)});
}

TEST(Gradcheck, BinaryCrossEntropySoftTargets) {
  manual_seed(132);
  const Tensor targets = Tensor::rand({6});
  expect_gradcheck([targets](const Inputs& in) { return binary_cross_entropy(in[0], targets); },
                   {uniform_leaf({6}, 0.05f, 0.95f)});
}

TEST(Gradcheck, BinaryCrossEntropyProbabilitiesAndTargets) {
  manual_seed(134);
  expect_gradcheck([](const Inputs& in) { return binary_cross_entropy(in[0], in[1]); },
                   {uniform_leaf({2, 3}, 0.05f, 0.95f), uniform_leaf({2, 3}, 0.0f, 1.0f)});
}

TEST(Gradcheck, CrossEntropy) {
  manual_seed(133);
  const Tensor labels({0, 3, 1, 1, 2});
  expect_gradcheck([labels](const Inputs& in) { return cross_entropy(in[0], labels); },
                   {randn_leaf({5, 4})});
}

TEST(Gradcheck, CrossEntropyOfLargeLogits) {
  manual_seed(134);
  const Tensor labels({2, 0, 1});
  expect_gradcheck(
      [labels](const Inputs& in) { return cross_entropy(in[0] * 3.0f + 50.0f, labels); },
      {randn_leaf({3, 3})});
}

// ---- compositions -----------------------------------------------------------------------

TEST(Gradcheck, TwoLayerPerceptronWithCrossEntropy) {
  manual_seed(140);
  const Tensor x = Tensor::randn({6, 4});
  const Tensor labels({0, 2, 1, 1, 0, 2});
  expect_gradcheck(
      [x, labels](const Inputs& in) {
        const Tensor h = tanh(linear(x, in[0], in[1]));
        return cross_entropy(linear(h, in[2], in[3]), labels);
      },
      {randn_leaf({4, 5}), randn_leaf({5}), randn_leaf({5, 3}), randn_leaf({3})});
}

TEST(Gradcheck, AttentionPattern) {
  manual_seed(141);
  expect_gradcheck(
      [](const Inputs& in) {
        const Tensor scores = in[0].matmul(in[1].transpose()) / 2.0f;
        return softmax(scores, -1).matmul(in[2]);
      },
      {randn_leaf({2, 3, 4}), randn_leaf({2, 3, 4}), randn_leaf({2, 3, 4})});
}

TEST(Gradcheck, DiamondThatReusesATensor) {
  manual_seed(142);
  expect_gradcheck(
      [](const Inputs& in) {
        const Tensor y = in[0] * 0.5f;
        return y * y + y.exp() - y.sum({0}, true);
      },
      {randn_leaf({3, 2})});
}

}  // namespace
}  // namespace tinytorch
