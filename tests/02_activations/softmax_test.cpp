// Module 02 — Softmax and log-softmax: known values, properties, stability for huge logits,
// and the regression test for xtensor 0.24.3's keep_dims reducers (DESIGN.md): every line
// along every axis of random 2-D/3-D data sums to 1.
#include <cmath>
#include <vector>

#include <tinytorch/core/activations.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_near;
using testing::expect_throw_with;

TEST(Softmax, MatchesReferenceValues) {
  expect_near(softmax(Tensor({1, 2, 3})), Tensor({0.090031f, 0.244728f, 0.665241f}), 1e-6f);
}

TEST(Softmax, LogSoftmaxMatchesReferenceValues) {
  expect_near(log_softmax(Tensor({{1, 2, 3}})), Tensor({{-2.407606f, -1.407606f, -0.407606f}}),
              1e-5f);
}

TEST(Softmax, OutputsArePositiveSumToOneAndKeepTheArgmax) {
  const Tensor p = softmax(Tensor({0.3f, -1.2f, 2.5f, 0.0f}));
  EXPECT_NEAR(p.sum().item(), 1.0f, 1e-6f);
  for (float v : p.data()) {
    EXPECT_GT(v, 0.0f);
    EXPECT_LT(v, 1.0f);
  }
  EXPECT_EQ(p.argmax(0).item(), 2.0f);
}

TEST(Softmax, IsInvariantToAddingAConstant) {
  expect_near(softmax(Tensor({1, 2, 3})), softmax(Tensor({11, 12, 13})), 1e-6f);
  expect_near(log_softmax(Tensor({1, 2, 3})), log_softmax(Tensor({101, 102, 103})), 1e-5f);
}

TEST(Softmax, HugeLogitsStayFiniteAndSumToOne) {
  const Tensor p = softmax(Tensor({1000, 1001, 1002}));
  for (float v : p.data()) EXPECT_TRUE(std::isfinite(v));
  EXPECT_NEAR(p.sum().item(), 1.0f, 1e-6f);
  expect_near(p, Tensor({0.090031f, 0.244728f, 0.665241f}), 1e-6f);
  const Tensor lp = log_softmax(Tensor({100, 101, 102}));
  for (float v : lp.data()) EXPECT_TRUE(std::isfinite(v));
  expect_near(lp, Tensor({-2.407606f, -1.407606f, -0.407606f}), 1e-5f);
}

TEST(Softmax, LogSoftmaxOfAVanishingProbabilityIsFinite) {
  // softmax rounds e^-200 to 0; log_softmax must still give −200, not −inf.
  const Tensor lp = log_softmax(Tensor({0, -200}));
  EXPECT_NEAR(lp.data()(1), -200.0f, 1e-3f);
}

TEST(Softmax, RowsOfAMatrixEachSumToOne) {
  const Tensor p = softmax(Tensor({{1, 2, 3}, {-1, 0, 4}}), -1);
  expect_near(p.sum({1}), Tensor({1, 1}), 1e-6f);
  const Tensor q = softmax(Tensor({{1, 2, 3}, {-1, 0, 4}}), 0);
  expect_near(q.sum({0}), Tensor({1, 1, 1}), 1e-6f);
}

TEST(SoftmaxGiven, AxisOutOfRangeAndZeroDimInputAreRejected) {
  expect_throw_with<ShapeError>(
      [] {
        softmax(Tensor({{1, 2}}), 2);
      },
      "softmax: axis 2 is out of range for a tensor of rank 2");
  expect_throw_with<ShapeError>(
      [] {
        log_softmax(Tensor({1, 2}), -2);
      },
      "log_softmax: axis -2 is out of range");
  expect_throw_with<ShapeError>([] { softmax(Tensor::scalar(1.0f)); },
                                "softmax: expected at least 1-D");
  expect_throw_with<ShapeError>([] { log_softmax(Tensor::scalar(1.0f)); }, "expected at least 1-D");
}

// ---- regression: xtensor 0.24.3 keep_dims reducers ----------------------------------------

// Σ over each line along `axis` of `values`, by plain loops: one entry per line.
std::vector<double> line_sums(const Tensor& values, std::size_t axis, bool exponentiate) {
  const Shape shape = values.shape();
  std::size_t outer = 1, inner = 1;
  for (std::size_t d = 0; d < axis; ++d) outer *= shape[d];
  for (std::size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
  std::vector<double> sums;
  for (std::size_t o = 0; o < outer; ++o) {
    for (std::size_t i = 0; i < inner; ++i) {
      double total = 0.0;
      for (std::size_t k = 0; k < shape[axis]; ++k) {
        const float v = values.data().data()[(o * shape[axis] + k) * inner + i];
        total += exponentiate ? std::exp(static_cast<double>(v)) : v;
      }
      sums.push_back(total);
    }
  }
  return sums;
}

void expect_every_line_is_a_distribution(const Tensor& logits) {
  for (std::size_t axis = 0; axis < logits.ndim(); ++axis) {
    SCOPED_TRACE(::testing::Message() << "shape " << shape_str(logits.shape()) << " axis " << axis);
    const int dims[] = {static_cast<int>(axis),
                        static_cast<int>(axis) - static_cast<int>(logits.ndim())};
    for (int dim : dims) {
      const Tensor p = softmax(logits, dim);
      const Tensor lp = log_softmax(logits, dim);
      for (float v : p.data()) ASSERT_TRUE(std::isfinite(v) && v >= 0.0f && v <= 1.0f) << v;
      for (float v : lp.data()) ASSERT_TRUE(std::isfinite(v) && v <= 0.0f) << v;
      for (double s : line_sums(p, axis, false)) EXPECT_NEAR(s, 1.0, 1e-6);
      for (double s : line_sums(lp, axis, true)) EXPECT_NEAR(s, 1.0, 1e-6);
    }
  }
}

TEST(XtensorReducerRegression, SoftmaxLinesSumToOneOnRandomData) {
  manual_seed(99);
  for (const Shape& shape : {Shape{5, 7}, Shape{1, 9}, Shape{3, 4, 6}, Shape{2, 1, 5}}) {
    expect_every_line_is_a_distribution(Tensor::randn(shape) * 4.0f);
  }
}

TEST(XtensorReducerRegression, SoftmaxLinesSumToOneForLogitsOfPlusMinusThousand) {
  manual_seed(100);
  for (const Shape& shape : {Shape{4, 6}, Shape{3, 4, 5}}) {
    Tensor logits = Tensor::rand(shape);
    // Each entry is +1000 or −1000, plus a little noise so that lines differ.
    for (float& v : logits.data()) v = (v < 0.5f ? -1000.0f : 1000.0f) + v;
    expect_every_line_is_a_distribution(logits);
    expect_every_line_is_a_distribution(Tensor::full(shape, 1000.0f));
    expect_every_line_is_a_distribution(Tensor::full(shape, -1000.0f));
  }
}

TEST(XtensorReducerRegression, SoftmaxLinesSumToOneForConsecutiveHugeLogits) {
  const Tensor rows({{1000, 1001, 1002}, {1002, 1000, 1001}});
  expect_every_line_is_a_distribution(rows);
  expect_near(softmax(rows, -1)[1], Tensor({0.665241f, 0.090031f, 0.244728f}), 1e-6f);
  manual_seed(101);
  expect_every_line_is_a_distribution(Tensor::randn({3, 4, 5}) + 1000.0f);
}

TEST(LogSoftmax, LogSoftmaxKeepsShapeAndItsExpSumsToOne) {
  manual_seed(4);
  const Tensor x = Tensor::randn({3, 5});
  const Tensor lp = log_softmax(x, -1);
  EXPECT_EQ(lp.shape(), (Shape{3, 5}));
  expect_near(lp.exp().sum({1}), Tensor({1, 1, 1}), 1e-6f);
}

TEST(LogSoftmax, LogSoftmaxOfLargeLogitsIsFinite) {
  const Tensor lp = log_softmax(Tensor({{100, 101, 102}}));
  for (float v : lp.data()) EXPECT_TRUE(std::isfinite(v));
}

}  // namespace
}  // namespace tinytorch
