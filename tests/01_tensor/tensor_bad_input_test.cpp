// Module 01 — bad input to the Tensor API: every call that takes user data refuses a bad rank,
// shape, axis, index or pointer with an error that names the op and what was wrong.
#include <stdexcept>

#include <tinytorch/core/tensor.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_throw_with;

TEST(TensorGiven, FromANullPointerWithACountIsRejected) {
  expect_throw_with<std::invalid_argument>([] { Tensor::from(nullptr, 2, {2}); },
                                           "Tensor::from: data is null");
  EXPECT_EQ(Tensor::from(nullptr, 0, {0, 3}).shape(), (Shape{0, 3}));  // nothing to copy
}

TEST(TensorGiven, AnUndefinedTensorIsALogicErrorNotACrash) {
  const Tensor undefined;
  expect_throw_with<std::logic_error>([&] { undefined.shape(); },
                                      "Tensor: use of an undefined tensor");
  expect_throw_with<std::logic_error>([&] { undefined.item(); },
                                      "Tensor: use of an undefined tensor");
  expect_throw_with<std::logic_error>([&] { undefined.reshape({1}); },
                                      "Tensor: use of an undefined tensor");
}

TEST(TensorGiven, DimWithAnAxisOutOfRangeIsRejected) {
  const Tensor t = Tensor::zeros({2, 3});
  expect_throw_with<ShapeError>([&] { t.dim(2); },
                                "dim: axis 2 is out of range for a tensor of rank 2");
  expect_throw_with<ShapeError>([&] { t.dim(-3); },
                                "dim: axis -3 is out of range for a tensor of rank 2");
}

TEST(TensorGiven, RowsOutsideTheFirstAxisAreOutOfRange) {
  const Tensor t = Tensor::zeros({3, 2});
  expect_throw_with<std::out_of_range>([&] { t.slice(2, 1); },
                                       "slice: rows [2, 1) are out of range for axis 0 of size 3");
  expect_throw_with<std::out_of_range>([&] { t.slice(0, 4); },
                                       "slice: rows [0, 4) are out of range for axis 0 of size 3");
  expect_throw_with<std::out_of_range>(
      [&] {
        t.index_select({0, 3});
      },
      "index_select: index 3 is out of range for axis 0 of size 3");
  expect_throw_with<std::out_of_range>([&] { t[-4]; },
                                       "index: index -4 is out of range for axis 0 of size 3");
  expect_throw_with<ShapeError>([] { Tensor::scalar(1.0f).slice(0, 1); },
                                "slice: cannot slice a 0-d tensor");
  expect_throw_with<ShapeError>([] { Tensor::scalar(1.0f).index_select({0}); },
                                "index_select: cannot index a 0-d tensor");
}

TEST(TensorGiven, FlattenAndArgmaxRejectAnAxisOutOfRange) {
  const Tensor t = Tensor::zeros({2, 3});
  expect_throw_with<ShapeError>([&] { t.flatten(2); },
                                "flatten: axis 2 is out of range for a tensor of rank 2");
  expect_throw_with<ShapeError>([&] { t.argmax(-3); },
                                "argmax: axis -3 is out of range for a tensor of rank 2");
  expect_throw_with<ShapeError>(
      [] {
        Tensor::zeros({0, 3}).argmax(0);
      },
      "argmax: cannot reduce over an empty axis; got shape [0, 3]");
}

TEST(TensorGiven, ReductionsRejectAxesOutOfRangeAndRepeats) {
  const Tensor t = Tensor::zeros({2, 3});
  expect_throw_with<ShapeError>([&] { t.sum({5}); },
                                "sum: axis 5 is out of range for a tensor of rank 2");
  expect_throw_with<ShapeError>([&] { t.mean({0, -2}); }, "mean: axis repeated in [0, -2]");
  expect_throw_with<ShapeError>([&] { t.max({2}); },
                                "max: axis 2 is out of range for a tensor of rank 2");
}

TEST(Tensor, ArithmeticOfShapesThatDoNotBroadcastNamesTheOpAndBothShapes) {
  const Tensor a = Tensor::zeros({2, 3});
  const Tensor b = Tensor::zeros({4});
  expect_throw_with<ShapeError>([&] { a + b; }, "add: shapes [2, 3] and [4] do not broadcast");
  expect_throw_with<ShapeError>([&] { a - b; }, "sub: shapes [2, 3] and [4] do not broadcast");
  expect_throw_with<ShapeError>([&] { a* b; }, "mul: shapes [2, 3] and [4] do not broadcast");
  expect_throw_with<ShapeError>([&] { a / b; }, "div: shapes [2, 3] and [4] do not broadcast");
}

TEST(Tensor, ReshapeRejectsBadRequestsNamingBothShapes) {
  const Tensor t = Tensor::zeros({2, 3});
  expect_throw_with<ShapeError>(
      [&] {
        t.reshape({-1, -1});
      },
      "reshape: only one dimension can be -1; got [-1, -1]");
  expect_throw_with<ShapeError>(
      [&] {
        t.reshape({-2, 3});
      },
      "reshape: invalid dimension -2 in [-2, 3]");
  expect_throw_with<ShapeError>(
      [&] {
        t.reshape({4, 2});
      },
      "reshape: total elements must match: [2, 3] has 6, [4, 2] asks for 8");
}

}  // namespace
}  // namespace tinytorch
