// Module 01 — Tensor: matmul, reshape, transpose, flatten and row indexing.
#include <tinytorch/core/tensor.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_near;
using testing::expect_throw_with;

// ---- matmul -----------------------------------------------------------------------------

TEST(Tensor, MatmulOfTwoByTwoMatchesHandComputedProduct) {
  expect_near(Tensor({{1, 2}, {3, 4}}).matmul(Tensor({{5, 6}, {7, 8}})),
              Tensor({{19, 22}, {43, 50}}));
}

TEST(Tensor, MatmulOfTwoByThreeAndThreeByTwoMatchesHandComputedProduct) {
  const Tensor a({{1, 2, 3}, {4, 5, 6}});
  const Tensor b({{7, 8}, {9, 10}, {11, 12}});
  expect_near(matmul(a, b), Tensor({{58, 64}, {139, 154}}));
}

TEST(Tensor, MatmulOfMatrixAndVectorGivesAVector) {
  expect_near(Tensor({{1, 2, 3}, {4, 5, 6}}).matmul(Tensor({1, 2, 3})), Tensor({14, 32}));
}

TEST(Tensor, MatmulOfVectorAndMatrixGivesAVector) {
  expect_near(Tensor({1, 2}).matmul(Tensor({{1, 2, 3}, {4, 5, 6}})), Tensor({9, 12, 15}));
}

TEST(Tensor, MatmulOfTwoVectorsIsAZeroDimDotProduct) {
  const Tensor d = Tensor({1, 2, 3}).matmul(Tensor({4, 5, 6}));
  EXPECT_EQ(d.shape(), Shape{});
  EXPECT_FLOAT_EQ(d.item(), 32.0f);
}

TEST(Tensor, MatmulWithAZeroDimOperandIsElementWise) {
  expect_near(Tensor::scalar(2.0f).matmul(Tensor({1, 2})), Tensor({2, 4}));
  expect_near(Tensor({{1, 2}}).matmul(Tensor::scalar(3.0f)), Tensor({{3, 6}}));
}

TEST(Tensor, BatchedMatmulMultipliesEachBatchEntry) {
  // Batch 0 is the identity times b, batch 1 doubles it.
  const Tensor a({{{1, 0}, {0, 1}}, {{2, 0}, {0, 2}}});
  const Tensor b({{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}});
  expect_near(a.matmul(b), Tensor({{{1, 2}, {3, 4}}, {{10, 12}, {14, 16}}}));
}

TEST(Tensor, BatchedMatmulBroadcastsBatchDims) {
  // [2, 1, 2, 2] @ [3, 2, 2] -> [2, 3, 2, 2]; a 2-D operand is shared by every batch entry.
  manual_seed(5);
  const Tensor a = Tensor::randn({2, 1, 2, 2});
  const Tensor b = Tensor::randn({3, 2, 2});
  const Tensor c = a.matmul(b);
  ASSERT_EQ(c.shape(), (Shape{2, 3, 2, 2}));
  for (std::size_t i = 0; i < 2; ++i) {
    for (std::size_t j = 0; j < 3; ++j) {
      for (std::size_t r = 0; r < 2; ++r) {
        for (std::size_t s = 0; s < 2; ++s) {
          const float expected =
              a.data()(i, 0, r, 0) * b.data()(j, 0, s) + a.data()(i, 0, r, 1) * b.data()(j, 1, s);
          EXPECT_NEAR(c.data()(i, j, r, s), expected, 1e-5f);
        }
      }
    }
  }
  EXPECT_EQ(Tensor::ones({4, 2, 3}).matmul(Tensor::ones({3, 5})).shape(), (Shape{4, 2, 5}));
  EXPECT_EQ(Tensor::ones({3}).matmul(Tensor::ones({4, 3, 5})).shape(), (Shape{4, 5}));
  EXPECT_EQ(Tensor::ones({4, 2, 3}).matmul(Tensor::ones({3})).shape(), (Shape{4, 2}));
}

TEST(Tensor, MatmulWithDifferentInnerDimensionsNamesBothShapes) {
  expect_throw_with<ShapeError>(
      [] {
        Tensor::ones({1, 2}).matmul(Tensor::ones({3, 1}));
      },
      "matmul: inner dimensions differ: [1, 2] @ [3, 1]");
  expect_throw_with<ShapeError>([] { Tensor::ones({3}).matmul(Tensor::ones({4})); },
                                "matmul: inner dimensions differ: [3] @ [4]");
  expect_throw_with<ShapeError>(
      [] {
        Tensor::ones({2, 3}).matmul(Tensor::ones({2}));
      },
      "inner dimensions differ");
}

TEST(Tensor, BatchedMatmulWithBatchDimsThatDoNotBroadcastIsRejected) {
  expect_throw_with<ShapeError>(
      [] {
        Tensor::ones({2, 3, 4}).matmul(Tensor::ones({3, 4, 5}));
      },
      "do not broadcast");
}

TEST(Tensor, MatmulOfEmptyInnerDimensionIsZero) {
  expect_near(Tensor::ones({2, 0}).matmul(Tensor::ones({0, 3})), Tensor::zeros({2, 3}));
}

// ---- reshape / flatten ------------------------------------------------------------------

TEST(Tensor, ReshapeKeepsRowMajorOrder) {
  const Tensor t = Tensor::arange(0, 6);
  expect_near(t.reshape({2, 3}), Tensor({{0, 1, 2}, {3, 4, 5}}));
  expect_near(t.reshape({3, 2}), Tensor({{0, 1}, {2, 3}, {4, 5}}));
}

TEST(Tensor, ReshapeInfersTheMinusOneDimension) {
  EXPECT_EQ(Tensor::arange(0, 6).reshape({2, -1}).shape(), (Shape{2, 3}));
  EXPECT_EQ(Tensor::zeros({2, 3, 4}).reshape({2, -1}).shape(), (Shape{2, 12}));
  EXPECT_EQ(Tensor::zeros({2, 3, 4}).reshape({-1}).shape(), (Shape{24}));
}

TEST(Tensor, ReshapeThenTransposeSwapsTheLastTwoAxes) {
  EXPECT_EQ(Tensor::arange(0, 12).reshape({2, 2, 3}).transpose().shape(), (Shape{2, 3, 2}));
}

TEST(Tensor, ReshapeToADifferentSizeNamesBothSizes) {
  expect_throw_with<ShapeError>(
      [] {
        Tensor::arange(0, 6).reshape({2, 2});
      },
      "reshape: total elements must match: [6] has 6, [2, 2] asks for 4");
  expect_throw_with<ShapeError>(
      [] {
        Tensor::arange(0, 6).reshape({4, -1});
      },
      "total elements must match");
}

TEST(Tensor, ReshapeWithTwoUnknownDimensionsIsRejected) {
  expect_throw_with<ShapeError>(
      [] {
        Tensor::arange(0, 6).reshape({-1, -1});
      },
      "only one dimension can be -1");
}

TEST(Tensor, ReshapeWithANegativeDimensionOtherThanMinusOneIsRejected) {
  expect_throw_with<ShapeError>(
      [] {
        Tensor::arange(0, 6).reshape({-2, -3});
      },
      "invalid dimension -2");
}

TEST(Tensor, ReshapeDoesNotAliasItsInput) {
  Tensor t = Tensor::arange(0, 4);
  Tensor r = t.reshape({2, 2});
  r.data()(0, 0) = 42.0f;
  EXPECT_EQ(t.data()(0), 0.0f);
}

TEST(Tensor, FlattenCollapsesTheTrailingAxes) {
  EXPECT_EQ(Tensor::zeros({2, 3, 4, 5}).flatten(1).shape(), (Shape{2, 60}));
  EXPECT_EQ(Tensor::zeros({2, 3, 4, 5}).flatten().shape(), (Shape{120}));
  EXPECT_EQ(Tensor::zeros({2, 3, 4, 5}).flatten(-2).shape(), (Shape{2, 3, 20}));
  EXPECT_EQ(Tensor::scalar(3.0f).flatten().shape(), (Shape{1}));
  expect_throw_with<ShapeError>(
      [] {
        Tensor::zeros({2, 3}).flatten(2);
      },
      "flatten: axis 2 is out of range");
}

// ---- transpose --------------------------------------------------------------------------

TEST(Tensor, TransposeOfTwoByThreeSwapsRowsAndColumns) {
  expect_near(Tensor({{1, 2, 3}, {4, 5, 6}}).transpose(), Tensor({{1, 4}, {2, 5}, {3, 6}}));
}

TEST(Tensor, TransposeOfTheOuterAxesMovesEveryElement) {
  const Tensor t = Tensor::arange(0, 8).reshape({2, 2, 2});
  const Tensor u = t.transpose(0, 2);
  EXPECT_EQ(u.shape(), (Shape{2, 2, 2}));
  for (std::size_t i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < 2; ++j)
      for (std::size_t k = 0; k < 2; ++k) EXPECT_EQ(u.data()(i, j, k), t.data()(k, j, i));
}

TEST(TensorGiven, TransposeOfAVectorIsTheIdentity) {
  expect_near(Tensor({1, 2, 3}).transpose(), Tensor({1, 2, 3}));
}

TEST(TensorGiven, TransposeWithAnAxisOutOfRangeIsRejected) {
  expect_throw_with<ShapeError>(
      [] {
        Tensor::zeros({2, 3}).transpose(0, 5);
      },
      "transpose: axis 5 is out of range for a tensor of rank 2");
  expect_throw_with<ShapeError>([] { Tensor::zeros({3}).transpose(0, 1); }, "out of range");
}

// ---- indexing ---------------------------------------------------------------------------

TEST(Tensor, IndexPicksARowAndDropsTheAxis) {
  const Tensor t({{1, 2}, {3, 4}, {5, 6}});
  expect_near(t[1], Tensor({3, 4}));
  expect_near(t[-1], Tensor({5, 6}));
  const Tensor s = Tensor({7, 8, 9})[2];
  EXPECT_EQ(s.shape(), Shape{});
  EXPECT_EQ(s.item(), 9.0f);
}

TEST(Tensor, IndexInheritsRequiresGrad) {
  EXPECT_TRUE(Tensor({{1, 2}}, true)[0].requires_grad());
  EXPECT_FALSE(Tensor({{1, 2}})[0].requires_grad());
}

TEST(Tensor, SliceTakesAHalfOpenRangeOfRows) {
  const Tensor t({{1, 2}, {3, 4}, {5, 6}});
  expect_near(t.slice(1, 3), Tensor({{3, 4}, {5, 6}}));
  EXPECT_EQ(t.slice(1, 1).shape(), (Shape{0, 2}));
}

TEST(Tensor, IndexSelectGathersRowsInOrderWithRepeats) {
  const Tensor t({{1, 2}, {3, 4}, {5, 6}});
  expect_near(t.index_select({2, 0, 2}), Tensor({{5, 6}, {1, 2}, {5, 6}}));
}

TEST(TensorGiven, IndexOutOfRangeThrowsOutOfRange) {
  const Tensor t({{1, 2}, {3, 4}, {5, 6}});
  expect_throw_with<std::out_of_range>([&] { t[3]; },
                                       "index 3 is out of range for axis 0 of size 3");
  expect_throw_with<std::out_of_range>([&] { t[-4]; }, "index -4 is out of range");
  expect_throw_with<std::out_of_range>([&] { t.slice(2, 5); }, "rows [2, 5) are out of range");
  expect_throw_with<std::out_of_range>([&] { t.slice(2, 1); }, "out of range");
  expect_throw_with<std::out_of_range>([&] { t.index_select({0, 7}); }, "index 7 is out of range");
}

TEST(TensorGiven, IndexingAZeroDimTensorIsRejected) {
  expect_throw_with<ShapeError>([] { Tensor::scalar(1.0f)[0]; }, "cannot index a 0-d tensor");
  expect_throw_with<ShapeError>([] { Tensor::scalar(1.0f).slice(0, 1); },
                                "cannot slice a 0-d tensor");
  expect_throw_with<ShapeError>([] { Tensor::scalar(1.0f).index_select({0}); },
                                "cannot index a 0-d tensor");
}

}  // namespace
}  // namespace tinytorch
