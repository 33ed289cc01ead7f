// Module 01 — Tensor: sum, mean and max over all axes, one axis or several, with keepdims;
// plus a regression test for xtensor 0.24.3's keep_dims reducers (DESIGN.md, "xtensor rules").
#include <algorithm>
#include <limits>
#include <vector>

#include <tinytorch/core/tensor.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_near;
using testing::expect_throw_with;

const Tensor& two_by_three() {
  static const Tensor t({{1, 2, 3}, {4, 5, 6}});
  return t;
}

TEST(Tensor, SumOverEverythingIsAZeroDimTensor) {
  const Tensor s = two_by_three().sum();
  EXPECT_EQ(s.shape(), Shape{});
  EXPECT_FLOAT_EQ(s.item(), 21.0f);
}

TEST(Tensor, SumOverOneAxisDropsIt) {
  expect_near(two_by_three().sum({0}), Tensor({5, 7, 9}));
  expect_near(two_by_three().sum({1}), Tensor({6, 15}));
  expect_near(two_by_three().sum({-1}), Tensor({6, 15}));
}

TEST(Tensor, SumWithKeepdimsKeepsAnAxisOfSizeOne) {
  expect_near(two_by_three().sum({1}, true), Tensor({{6}, {15}}));
  expect_near(two_by_three().sum({0}, true), Tensor({{5, 7, 9}}));
}

TEST(Tensor, SumOverSeveralAxes) {
  const Tensor t = Tensor::arange(0, 8).reshape({2, 2, 2});
  expect_near(t.sum({0, 2}), Tensor({1 + 4 + 5, 2 + 3 + 6 + 7}));
  expect_near(t.sum({2, 0}, true), Tensor({{{10}, {18}}}));
}

TEST(Tensor, MeanOverEverythingAndOverAnAxis) {
  EXPECT_FLOAT_EQ(two_by_three().mean().item(), 3.5f);
  EXPECT_EQ(two_by_three().mean().shape(), Shape{});
  expect_near(two_by_three().mean({0}), Tensor({2.5f, 3.5f, 4.5f}));
  expect_near(two_by_three().mean({1}, true), Tensor({{2}, {5}}));
}

TEST(Tensor, MeanOverTwoAxesOfACubeKeepsTheFirstAxis) {
  const Tensor t = Tensor::arange(0, 8).reshape({2, 2, 2});
  const Tensor m = t.mean({1, 2});
  EXPECT_EQ(m.shape(), (Shape{2}));
  expect_near(m, Tensor({1.5f, 5.5f}));
}

TEST(Tensor, MaxOverEverythingAndOverAnAxis) {
  EXPECT_FLOAT_EQ(two_by_three().max().item(), 6.0f);
  EXPECT_EQ(two_by_three().max().shape(), Shape{});
  expect_near(two_by_three().max({1}), Tensor({3, 6}));
  expect_near(two_by_three().max({0}, true), Tensor({{4, 5, 6}}));
  expect_near(Tensor({{-3, -1}, {-7, -2}}).max({-1}), Tensor({-1, -2}));
}

TEST(Tensor, ReductionsOfAZeroDimTensorReturnIt) {
  EXPECT_EQ(Tensor::scalar(4.0f).sum().item(), 4.0f);
  EXPECT_EQ(Tensor::scalar(4.0f).mean().item(), 4.0f);
  EXPECT_EQ(Tensor::scalar(4.0f).max().item(), 4.0f);
}

TEST(TensorGiven, ReductionAxisOutOfRangeIsRejected) {
  expect_throw_with<ShapeError>([] { two_by_three().sum({2}); },
                                "sum: axis 2 is out of range for a tensor of rank 2");
  expect_throw_with<ShapeError>([] { two_by_three().mean({-3}); }, "mean: axis -3 is out of range");
  expect_throw_with<ShapeError>([] { two_by_three().max({5}); }, "max: axis 5 is out of range");
}

TEST(TensorGiven, ReductionWithARepeatedAxisIsRejected) {
  expect_throw_with<ShapeError>(
      [] {
        two_by_three().sum({1, -1});
      },
      "sum: axis repeated in [1, -1]");
}

TEST(TensorGiven, MaxOverAnEmptyAxisIsRejected) {
  expect_throw_with<ShapeError>(
      [] {
        Tensor::zeros({0, 3}).max({0});
      },
      "cannot reduce over an empty axis");
}

// ---- regression: xtensor 0.24.3 keep_dims reducers ----------------------------------------
// Reference reductions written as plain loops over flat indices, compared with sum/max for
// every axis subset of random 2-D, 3-D and 4-D tensors, keepdims on and off.

struct LoopReduction {
  Shape kept_shape;  // the keepdims shape
  std::vector<float> sum, max;
};

LoopReduction loop_reduce(const Tensor& t, const std::vector<std::size_t>& axes) {
  const Shape in = t.shape();
  LoopReduction r;
  r.kept_shape = in;
  for (std::size_t a : axes) r.kept_shape[a] = 1;
  std::size_t out_size = 1;
  for (std::size_t d : r.kept_shape) out_size *= d;
  r.sum.assign(out_size, 0.0f);
  r.max.assign(out_size, -std::numeric_limits<float>::infinity());
  std::vector<std::size_t> index(in.size(), 0);
  for (std::size_t flat = 0; flat < t.size(); ++flat) {
    std::size_t out = 0;  // row-major offset in the keepdims shape
    for (std::size_t d = 0; d < in.size(); ++d)
      out = out * r.kept_shape[d] + (r.kept_shape[d] == 1 ? 0 : index[d]);
    const float v = t.data().data()[flat];
    r.sum[out] += v;
    r.max[out] = std::max(r.max[out], v);
    for (std::size_t d = in.size(); d-- > 0;) {  // advance the row-major index
      if (++index[d] < in[d]) break;
      index[d] = 0;
    }
  }
  return r;
}

std::vector<std::vector<std::size_t>> non_empty_axis_subsets(std::size_t ndim) {
  std::vector<std::vector<std::size_t>> subsets;
  for (std::size_t mask = 1; mask < (1u << ndim); ++mask) {
    std::vector<std::size_t> axes;
    for (std::size_t a = 0; a < ndim; ++a)
      if (mask & (1u << a)) axes.push_back(a);
    subsets.push_back(axes);
  }
  return subsets;
}

void expect_values(const Tensor& actual, const std::vector<float>& expected, float tol) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(actual.data().data()[i], expected[i], tol) << "at flat index " << i;
  }
}

TEST(XtensorReducerRegression, SumAndMaxWithKeepdimsMatchAHandWrittenLoop) {
  manual_seed(2024);
  for (const Shape& shape : {Shape{4, 5}, Shape{3, 4, 5}, Shape{2, 3, 4, 3}}) {
    const Tensor t = Tensor::randn(shape) * 3.0f;
    for (const auto& axes : non_empty_axis_subsets(shape.size())) {
      SCOPED_TRACE(::testing::Message()
                   << "shape " << shape_str(shape) << " axes " << shape_str(axes));
      const LoopReduction ref = loop_reduce(t, axes);
      const std::vector<int> ax(axes.begin(), axes.end());
      const Tensor sum_kept = t.sum(ax, true), max_kept = t.max(ax, true);
      EXPECT_EQ(sum_kept.shape(), ref.kept_shape);
      EXPECT_EQ(max_kept.shape(), ref.kept_shape);
      expect_values(sum_kept, ref.sum, 1e-4f);
      expect_values(max_kept, ref.max, 0.0f);
      expect_values(t.sum(ax, false), ref.sum, 1e-4f);
      expect_values(t.max(ax, false), ref.max, 0.0f);
      EXPECT_EQ(t.sum(ax, false).ndim(), shape.size() - axes.size());
    }
  }
}

TEST(XtensorReducerRegression, KeepdimsResultsBroadcastBackCorrectly) {
  // The failing 0.24.3 pattern: t − max(t, keep_dims) and e / sum(e, keep_dims).
  manual_seed(7);
  const Tensor t = Tensor::randn({6, 7}) * 5.0f;
  const Tensor shifted = t - t.max({1}, true);
  const Tensor e = shifted.exp();
  const Tensor p = e / e.sum({1}, true);
  for (std::size_t i = 0; i < 6; ++i) {
    float row_max = -std::numeric_limits<float>::infinity(), row_sum = 0.0f;
    for (std::size_t j = 0; j < 7; ++j) {
      row_max = std::max(row_max, shifted.data()(i, j));
      row_sum += p.data()(i, j);
    }
    EXPECT_EQ(row_max, 0.0f);
    EXPECT_NEAR(row_sum, 1.0f, 1e-6f);
  }
}

}  // namespace
}  // namespace tinytorch
