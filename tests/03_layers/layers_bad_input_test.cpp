// Module 03 — bad input to the layers: shapes that do not fit, sizes too large to make, a
// probability outside [0, 1] (NaN included), modules that are not there and names a module
// registers twice.
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

// A module whose register_* calls a test can make from outside.
struct Registering : Module {
  using Module::register_buffer;
  using Module::register_module;
  using Module::register_parameter;
  Tensor forward(const Tensor& x) override { return x; }
  std::string name() const override { return "Registering"; }
};

TEST(ModuleGiven, RegisteringAnUndefinedTensorOrANullModuleIsRejected) {
  Registering m;
  expect_throw_with<std::invalid_argument>([&] { m.register_parameter("w", Tensor()); },
                                           "register_parameter: tensor 'w' is undefined");
  expect_throw_with<std::invalid_argument>([&] { m.register_buffer("stats", Tensor()); },
                                           "register_buffer: tensor 'stats' is undefined");
  expect_throw_with<std::invalid_argument>(
      [&] { m.register_module("fc", std::shared_ptr<ReLU>()); },
      "register_module: module 'fc' is null");
  EXPECT_TRUE(m.children().empty());
}

TEST(ModuleGiven, AnEmptyNameIsRejected) {
  Registering m;
  expect_throw_with<std::invalid_argument>([&] { m.register_parameter("", Tensor::zeros({1})); },
                                           "register_parameter: the name must not be empty");
  expect_throw_with<std::invalid_argument>([&] { m.register_buffer("", Tensor::zeros({1})); },
                                           "register_buffer: the name must not be empty");
  expect_throw_with<std::invalid_argument>([&] { m.register_module("", std::make_shared<ReLU>()); },
                                           "register_module: the name must not be empty");
}

TEST(ModuleGiven, ANameTakenByAParameterBufferOrSubmoduleIsRejected) {
  Registering m;
  m.register_parameter("w", Tensor::zeros({2}));
  m.register_buffer("stats", Tensor::zeros({2}));
  m.register_module("act", std::make_shared<ReLU>());
  expect_throw_with<std::invalid_argument>(
      [&] { m.register_parameter("w", Tensor::zeros({3})); },
      "register_parameter: name 'w' is already taken by a parameter of this module");
  expect_throw_with<std::invalid_argument>(
      [&] { m.register_buffer("w", Tensor::zeros({3})); },
      "register_buffer: name 'w' is already taken by a parameter of this module");
  expect_throw_with<std::invalid_argument>(
      [&] { m.register_parameter("stats", Tensor::zeros({3})); },
      "register_parameter: name 'stats' is already taken by a buffer of this module");
  expect_throw_with<std::invalid_argument>(
      [&] { m.register_module("act", std::make_shared<ReLU>()); },
      "register_module: name 'act' is already taken by a submodule of this module");
  expect_throw_with<std::invalid_argument>(
      [&] { m.register_buffer("act", Tensor::zeros({3})); },
      "register_buffer: name 'act' is already taken by a submodule of this module");
  EXPECT_EQ(m.children().size(), 1u);  // nothing half-registered
}

}  // namespace
}  // namespace tinytorch
