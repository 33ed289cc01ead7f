// Module 01 — Tensor: construction, handles, printing and element-wise arithmetic.
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include <tinytorch/core/tensor.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_near;
using testing::expect_throw_with;

// ---- construction -----------------------------------------------------------------------

TEST(TensorGiven, ScalarHoldsValueWithEmptyShapeAndSizeOne) {
  const Tensor t = Tensor::scalar(5.0f);  // the course's Tensor(5.0)
  EXPECT_EQ(t.item(), 5.0f);
  EXPECT_EQ(t.shape(), Shape{});
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.ndim(), 0u);
  EXPECT_FALSE(t.requires_grad());
  EXPECT_FALSE(t.grad().defined());
  static_assert(std::is_same_v<Array::value_type, float>, "every tensor stores float32");
}

TEST(TensorGiven, ScalarCanRequireGrad) {
  const Tensor t = Tensor::scalar(-2.5f, true);
  EXPECT_EQ(t.shape(), Shape{});
  EXPECT_EQ(t.item(), -2.5f);
  EXPECT_TRUE(t.requires_grad());
}

TEST(TensorGiven, DoubleLiteralsAreStoredAsFloat32) {
  const Tensor t({1.5, 2.25, 0.1});
  EXPECT_EQ(t.shape(), (Shape{3}));
  EXPECT_EQ(t.data()(0), 1.5f);
  EXPECT_EQ(t.data()(1), 2.25f);
  EXPECT_EQ(t.data()(2), 0.1f);  // rounded to the nearest float, as NumPy's astype(float32)
}

TEST(TensorGiven, NestedBracesOfOneToFourLevelsKeepTheirShape) {
  EXPECT_EQ(Tensor({1, 2, 3}).shape(), (Shape{3}));
  EXPECT_EQ(Tensor({{1, 2, 3}, {4, 5, 6}}).shape(), (Shape{2, 3}));
  EXPECT_EQ(Tensor({{{1, 2}}, {{3, 4}}}).shape(), (Shape{2, 1, 2}));
  EXPECT_EQ(Tensor({{{{1, 2}}}}).shape(), (Shape{1, 1, 1, 2}));
  const Tensor t({{1, 2, 3}, {4, 5, 6}});
  EXPECT_EQ(t.data()(1, 2), 6.0f);
  EXPECT_EQ(t.size(), 6u);
}

TEST(TensorGiven, RaggedNestedListIsRejected) {
  expect_throw_with<ShapeError>([] { Tensor({{1, 2}, {3}}); }, "ragged nested list");
}

TEST(TensorGiven, ConstructionFromAnArrayCopiesIt) {
  Array source = {1.0f, 2.0f, 3.0f};
  const Tensor t(source);
  source(0) = 99.0f;
  EXPECT_EQ(t.data()(0), 1.0f);
}

TEST(TensorGiven, FromAFlatBufferAndAShape) {
  const std::vector<float> buffer{1, 2, 3, 4, 5, 6};
  const Tensor t = Tensor::from(buffer, {2, 3});
  expect_near(t, Tensor({{1, 2, 3}, {4, 5, 6}}), 0.0f);
  EXPECT_FALSE(t.requires_grad());
  EXPECT_TRUE(Tensor::from({1, 2}, {2}, /*requires_grad=*/true).requires_grad());
  EXPECT_EQ(Tensor::from({7}, {}).ndim(), 0u);
  EXPECT_EQ(Tensor::from({}, {0, 3}).shape(), (Shape{0, 3}));
}

TEST(TensorGiven, FromAPointerAndCountCopiesTheValues) {
  float raw[4] = {1, 2, 3, 4};
  const Tensor t = Tensor::from(raw, 4, {2, 2});
  raw[0] = 100;  // the tensor holds its own copy
  expect_near(t, Tensor({{1, 2}, {3, 4}}), 0.0f);
}

TEST(TensorGiven, FromRejectsACountThatDoesNotFillTheShape) {
  expect_throw_with<ShapeError>(
      [] {
        Tensor::from({1, 2, 3, 4, 5}, {2, 3});
      },
      "Tensor::from: 5 values cannot fill shape [2, 3], which has 6 "
      "elements");
  const float one = 1.0f;
  expect_throw_with<ShapeError>([&] { Tensor::from(&one, 1, {2}); }, "1 values cannot fill");
}

TEST(Tensor, ToVectorReturnsTheValuesInRowMajorOrder) {
  const Tensor t({{1, 2}, {3, 4}});
  EXPECT_EQ(t.to_vector(), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(t.transpose().to_vector(), (std::vector<float>{1, 3, 2, 4}));
  EXPECT_EQ(Tensor::scalar(5).to_vector(), std::vector<float>{5});
  EXPECT_THROW(Tensor().to_vector(), std::logic_error);
}

TEST(TensorGiven, FactoriesFillTheRequestedShape) {
  expect_near(Tensor::zeros({2, 2}), Tensor({{0, 0}, {0, 0}}));
  expect_near(Tensor::ones({3}), Tensor({1, 1, 1}));
  expect_near(Tensor::full({2}, 7.0f), Tensor({7, 7}));
  expect_near(Tensor::arange(0, 5), Tensor({0, 1, 2, 3, 4}));
  expect_near(Tensor::arange(1, 2, 0.25f), Tensor({1, 1.25f, 1.5f, 1.75f}));
  EXPECT_EQ(Tensor::zeros({2, 3, 4, 5}).shape(), (Shape{2, 3, 4, 5}));
  EXPECT_TRUE(Tensor::ones({2}, true).requires_grad());
}

TEST(TensorGiven, ArangeWithZeroStepIsRejected) {
  expect_throw_with<std::invalid_argument>([] { Tensor::arange(0, 1, 0); },
                                           "step must be non-zero");
}

TEST(TensorGiven, ManualSeedMakesRandomTensorsReproducible) {
  manual_seed(3);
  const Tensor a = Tensor::randn({4, 5});
  const Tensor u = Tensor::rand({10});
  manual_seed(3);
  expect_near(Tensor::randn({4, 5}), a, 0.0f);
  expect_near(Tensor::rand({10}), u, 0.0f);
  for (float v : u.data()) {
    EXPECT_GE(v, 0.0f);
    EXPECT_LT(v, 1.0f);
  }
}

TEST(Tensor, RandnHasRoughlyZeroMeanAndUnitStd) {
  manual_seed(11);
  const Tensor t = Tensor::randn({10000});
  const float mean = t.mean().item();
  const float var = ((t - mean) * (t - mean)).mean().item();
  EXPECT_NEAR(mean, 0.0f, 0.05f);
  EXPECT_NEAR(std::sqrt(var), 1.0f, 0.05f);
}

TEST(TensorGiven, DimCountsNegativeAxesFromTheEnd) {
  const Tensor t = Tensor::zeros({2, 3, 4});
  EXPECT_EQ(t.dim(0), 2u);
  EXPECT_EQ(t.dim(-1), 4u);
  expect_throw_with<ShapeError>([&] { t.dim(3); }, "out of range");
}

// ---- handles ----------------------------------------------------------------------------

TEST(TensorGiven, CopyAliasesTheSameStorage) {
  Tensor a({1, 2, 3});
  Tensor b = a;
  b.data()(0) = 10.0f;
  EXPECT_EQ(a.data()(0), 10.0f);
  EXPECT_TRUE(a.same(b));
}

TEST(Tensor, CloneCopiesValuesWithoutHistory) {
  Tensor a({1, 2, 3}, true);
  Tensor b = a * 2.0f;
  Tensor c = b.clone();
  c.data()(0) = -1.0f;
  EXPECT_EQ(b.data()(0), 2.0f);
  EXPECT_FALSE(c.same(b));
  EXPECT_EQ(c.grad_fn(), nullptr);
  EXPECT_FALSE(c.requires_grad());
}

TEST(Tensor, DetachKeepsValuesAndDropsHistory) {
  Tensor a({1, 2}, true);
  const Tensor d = (a * 3.0f).detach();
  expect_near(d, Tensor({3, 6}));
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.is_leaf());
}

TEST(TensorGiven, DetachSharesStorageLikePyTorch) {
  Tensor a({1, 2, 3}, true);
  Tensor d = a.detach();
  d.data()(0) = 10.0f;  // torch: a.detach()[0] = 10 changes a too
  EXPECT_EQ(a.data()(0), 10.0f);
  EXPECT_FALSE(d.same(a));  // a different handle: its own grad and history
  EXPECT_TRUE(a.requires_grad());
  EXPECT_FALSE(d.requires_grad());
}

TEST(TensorGiven, DefaultConstructedTensorIsUndefined) {
  const Tensor t;
  EXPECT_FALSE(t.defined());
  EXPECT_FALSE(t.requires_grad());
  EXPECT_EQ(t.to_string(), "Tensor(undefined)");
  expect_throw_with<std::logic_error>([&] { t.shape(); }, "undefined tensor");
}

TEST(TensorGiven, ItemOfAMultiElementTensorIsRejected) {
  expect_throw_with<ShapeError>(
      [] {
        Tensor({1, 2}).item();
      },
      "item: expected a tensor with one element, got shape [2]");
  EXPECT_EQ(Tensor({{4}}).item(), 4.0f);
}

TEST(TensorGiven, SetGradWithTheWrongShapeIsRejected) {
  Tensor t({1, 2, 3}, true);
  expect_throw_with<ShapeError>([&] { t.set_grad(Tensor({1, 2})); }, "gradient of shape [2]");
}

// ---- printing ---------------------------------------------------------------------------

TEST(Tensor, ToStringPrintsNestedBrackets) {
  EXPECT_EQ(Tensor({{1, 2}, {3, 4}}).to_string(), "Tensor([[1, 2], [3, 4]])");
  EXPECT_EQ(Tensor::scalar(2.5f).to_string(), "Tensor(2.5)");
  std::ostringstream os;
  os << Tensor({0.5f, -1});
  EXPECT_EQ(os.str(), "Tensor([0.5, -1])");
  EXPECT_EQ(fmt::format("{}", Tensor({1, 2})), "Tensor([1, 2])");
}

TEST(Tensor, ReprShowsShapeAndRequiresGrad) {
  EXPECT_EQ(Tensor({{1, 2}, {3, 4}}).repr(), "Tensor(data=[[1, 2], [3, 4]], shape=[2, 2])");
  EXPECT_EQ(Tensor({1, 2}, true).repr(), "Tensor(data=[1, 2], shape=[2], requires_grad=true)");
}

TEST(TensorGiven, ShapeStrFormatsLikeErrorMessages) {
  EXPECT_EQ(shape_str({2, 3}), "[2, 3]");
  EXPECT_EQ(shape_str({}), "[]");
}

// ---- arithmetic -------------------------------------------------------------------------

TEST(Tensor, AddOfTwoVectorsIsElementWise) {
  expect_near(Tensor({1, 2, 3}) + Tensor({4, 5, 6}), Tensor({5, 7, 9}));
}

TEST(Tensor, AddOfAScalarBroadcasts) {
  expect_near(Tensor({1, 2, 3}) + 10.0f, Tensor({11, 12, 13}));
  expect_near(10.0f + Tensor({1, 2, 3}), Tensor({11, 12, 13}));
}

TEST(Tensor, AddOfMatrixAndRowBroadcastsOverRows) {
  expect_near(Tensor({{1, 2}, {3, 4}}) + Tensor({10, 20}), Tensor({{11, 22}, {13, 24}}));
  EXPECT_EQ((Tensor::ones({2, 3}) + Tensor::ones({3})).shape(), (Shape{2, 3}));
}

TEST(Tensor, AddOfColumnAndRowBroadcastsToAMatrix) {
  expect_near(Tensor({{1}, {2}}) + Tensor({10, 20, 30}), Tensor({{11, 21, 31}, {12, 22, 32}}));
}

TEST(Tensor, ZeroDimTensorPlusVectorBroadcasts) {
  expect_near(Tensor::scalar(2.0f) + Tensor({1, 2, 3}), Tensor({3, 4, 5}));
}

TEST(Tensor, SubMulDivMatchHandComputedValues) {
  const Tensor a({1, 2, 3}), b({4, 5, 6});
  expect_near(b - a, Tensor({3, 3, 3}));
  expect_near(a * 2.0f, Tensor({2, 4, 6}));
  expect_near(a * b, Tensor({4, 10, 18}));
  expect_near(b / 2.0f, Tensor({2, 2.5f, 3}));
  expect_near((a - 2.0f) / 2.0f, Tensor({-0.5f, 0, 0.5f}));
  expect_near(b / a, Tensor({4, 2.5f, 2}));
}

TEST(Tensor, ScalarOnTheLeftWorksForEveryOperator) {
  const Tensor a({1, 2, 4});
  expect_near(2.0f * a, Tensor({2, 4, 8}));
  expect_near(10.0f - a, Tensor({9, 8, 6}));
  expect_near(8.0f / a, Tensor({8, 4, 2}));
  expect_near(-a, Tensor({-1, -2, -4}));
}

TEST(Tensor, DivisionByZeroGivesInfinityNotAnError) {
  const Tensor q = Tensor({1, -1}) / Tensor({0, 0});
  EXPECT_EQ(q.data()(0), std::numeric_limits<float>::infinity());
  EXPECT_EQ(q.data()(1), -std::numeric_limits<float>::infinity());
}

TEST(Tensor, ArithmeticDoesNotModifyItsInputs) {
  const Tensor a({1, 2}), b({3, 4});
  (void)(a + b);
  (void)(a * b);
  (void)(-a);
  expect_near(a, Tensor({1, 2}));
  expect_near(b, Tensor({3, 4}));
}

TEST(Tensor, ShapesThatDoNotBroadcastAreRejectedByEveryOperator) {
  const Tensor a = Tensor::ones({2, 3}), b = Tensor::ones({4});
  expect_throw_with<ShapeError>([&] { (void)(a + b); },
                                "add: shapes [2, 3] and [4] do not broadcast");
  expect_throw_with<ShapeError>([&] { (void)(a - b); },
                                "sub: shapes [2, 3] and [4] do not broadcast");
  expect_throw_with<ShapeError>([&] { (void)(a * b); },
                                "mul: shapes [2, 3] and [4] do not broadcast");
  expect_throw_with<ShapeError>([&] { (void)(a / b); },
                                "div: shapes [2, 3] and [4] do not broadcast");
  expect_throw_with<ShapeError>(
      [] {
        (void)(Tensor::ones({2, 1, 3}) + Tensor::ones({4, 2}));
      },
      "do not broadcast");
}

TEST(Tensor, ShapeErrorIsAnInvalidArgument) {
  EXPECT_THROW((void)(Tensor::ones({2}) + Tensor::ones({3})), std::invalid_argument);
}

// ---- element-wise math ------------------------------------------------------------------

TEST(TensorGiven, ExpLogSqrtPowMatchHandComputedValues) {
  expect_near(Tensor({0, 1}).exp(), Tensor({1, 2.718282f}));
  expect_near(Tensor({1, 2.718282f}).log(), Tensor({0, 1}));
  expect_near(Tensor({4, 9, 2}).sqrt(), Tensor({2, 3, 1.414214f}));
  expect_near(Tensor({2, 3}).pow(3), Tensor({8, 27}));
  expect_near(Tensor({4, 9}).pow(0.5f), Tensor({2, 3}));
  expect_near(Tensor({-2}).pow(2), Tensor({4}));
}

// ---- course placeholders ----------------------------------------------------------------

TEST(Tensor, RequiresGradIsStoredAndArithmeticLeavesGradUnset) {
  Tensor t({1, 2, 3}, true);
  EXPECT_TRUE(t.requires_grad());
  (void)(t + 5.0f);
  EXPECT_FALSE(t.grad().defined());
  Tensor off({1, 2});
  EXPECT_FALSE(off.requires_grad());
  off.requires_grad_();
  EXPECT_TRUE(off.requires_grad());
}

// The course: "t.backward() does not raise" for a tensor created with requires_grad. A tensor
// without it has nothing to differentiate, and backward() says so (PyTorch's behaviour; the
// message is pinned in tests/05_autograd).
TEST(TensorGiven, BackwardOnATensorThatRequiresGradDoesNotRaise) {
  const Tensor t = Tensor::scalar(3.0f, true);
  EXPECT_NO_THROW(t.backward());
}

TEST(TensorGiven, BackwardOnATensorWithoutGradRaises) {
  const Tensor t({1, 2, 3});
  EXPECT_THROW(t.backward(), std::logic_error);
  EXPECT_FALSE(t.grad().defined());
}

TEST(TensorGiven, BackwardOnAScalarLeafSeedsItsGradWithOne) {
  Tensor t = Tensor::scalar(5.0f, true);
  t.backward();
  EXPECT_EQ(t.grad().item(), 1.0f);
}

// ---- stack / argmax ---------------------------------------------------------------------

TEST(TensorGiven, StackAddsANewLeadingAxis) {
  const Tensor s = stack({Tensor({1, 2}), Tensor({3, 4}), Tensor({5, 6})});
  expect_near(s, Tensor({{1, 2}, {3, 4}, {5, 6}}));
}

TEST(TensorGiven, StackRejectsMismatchedShapesAndEmptyLists) {
  expect_throw_with<ShapeError>(
      [] {
        stack({Tensor({1, 2}), Tensor({1, 2, 3})});
      },
      "stack: tensor 1 has shape [3], tensor 0 has [2]");
  expect_throw_with<ShapeError>([] { stack({}); }, "at least one tensor");
}

TEST(Tensor, ArgmaxReturnsTheFirstMaximumAlongAnAxis) {
  const Tensor t({{1, 5, 5}, {7, 0, 7}});
  expect_near(t.argmax(1), Tensor({1, 0}));
  expect_near(t.argmax(0), Tensor({1, 0, 1}));
  expect_near(t.argmax(-1), Tensor({1, 0}));
  expect_throw_with<ShapeError>([&] { t.argmax(2); }, "argmax: axis 2 is out of range");
}

}  // namespace
}  // namespace tinytorch
