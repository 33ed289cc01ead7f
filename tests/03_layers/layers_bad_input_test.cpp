// Module 03 — bad input to the layers: shapes that do not fit, sizes too large to make, a
// probability outside [0, 1] (NaN included) and modules that are not there.
#include <limits>
#include <memory>

#include <tinytorch/core/activations.hpp>
#include <tinytorch/core/layers.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_throw_with;

TEST(LinearGiven, ALayerTooLargeToIndexIsRejectedBeforeItsWeightIsDrawn) {
  expect_throw_with<ShapeError>([] { Linear(std::size_t{1} << 32, std::size_t{1} << 32); },
                                "Linear: shape [4294967296, 4294967296] is too large");
}

TEST(LinearGiven, LinearRejectsWeightsInputsAndBiasesOfTheWrongShape) {
  const Tensor x = Tensor::zeros({2, 3});
  expect_throw_with<ShapeError>([&] { linear(x, Tensor::zeros({3})); },
                                "linear: expected a 2-D weight [in, out], got [3]");
  expect_throw_with<ShapeError>(
      [&] {
        linear(x, Tensor::zeros({4, 2}));
      },
      "linear: expected input [N, 4], got [2, 3]");
  expect_throw_with<ShapeError>(
      [&] {
        linear(x, Tensor::zeros({3, 2}), Tensor::zeros({3}));
      },
      "linear: expected bias [2], got [3]");
}

TEST(DropoutGiven, AProbabilityOutsideZeroToOneOrNaNIsRejected) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  expect_throw_with<std::invalid_argument>(
      [&] { dropout(Tensor::zeros({2}), nan); },
      "dropout: probability must be between 0.0 and 1.0, got nan");
  expect_throw_with<std::invalid_argument>(
      [] { Dropout(-0.5f); }, "Dropout: probability must be between 0.0 and 1.0, got -0.5");
  expect_throw_with<std::invalid_argument>(
      [] { Dropout(std::numeric_limits<float>::infinity()); },
      "Dropout: probability must be between 0.0 and 1.0, got inf");
}

TEST(SequentialGiven, ANullModuleOrAnIndexPastTheEndIsRejected) {
  Sequential seq;
  seq.push_back(std::make_shared<ReLU>());
  expect_throw_with<std::invalid_argument>([&] { seq.push_back(nullptr); },
                                           "Sequential: module 1 is null");
  expect_throw_with<std::out_of_range>([&] { seq[1]; }, "Sequential");
}

}  // namespace
}  // namespace tinytorch
