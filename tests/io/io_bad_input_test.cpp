// io: bad input to save() and load_state_dict(): a model whose names collide and tensors that
// are undefined are errors naming the call and the tensor, never a crash.
#include <memory>

#include <gtest/gtest.h>

#include <tinytorch/tinytorch.hpp>

#include "support/scratch_dir.hpp"
#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_throw_with;
using testing::ScratchDir;

struct OneW : Module {
  OneW() { register_parameter("w", Tensor::zeros({2})); }
  Tensor forward(const Tensor& x) override { return x; }
  std::string name() const override { return "OneW"; }
};

// register_parameter refuses a name used twice in one module, but a dotted name can still
// collide with a child's: "a.w" here and child "a"'s "w".
struct TwoNamedAW : Module {
  TwoNamedAW() {
    register_parameter("a.w", Tensor::zeros({3}));
    register_module("a", std::make_shared<OneW>());
  }
  Tensor forward(const Tensor& x) override { return x; }
  std::string name() const override { return "TwoNamedAW"; }
};

TEST(SaveLoadBadInput, AModelWithTwoTensorsOfOneNameCannotBeSaved) {
  ScratchDir dir;
  const std::string path = dir.file("dup.safetensors");
  TwoNamedAW model;
  expect_throw_with<SerializationError>(
      [&] { save(model, path); }, "save: " + path + ": the model has two tensors named 'a.w'");
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(SaveLoadBadInput, UndefinedTensorsAreNamedNotDereferenced) {
  Linear model(2, 1);
  expect_throw_with<SerializationError>(
      [&] {
        load_state_dict(model, {{"weight", Tensor()}, {"bias", Tensor({0.0f})}});
      },
      "load_state_dict: tensor 'weight' is undefined in the given tensors");
  expect_throw_with<SerializationError>(
      [&] {
        load_state_dict(
            model,
            {{"weight", Tensor::zeros({2, 1})}, {"bias", Tensor::zeros({1})}, {"ghost", Tensor()}});
      },
      "1 tensor in the given tensors that the model does not have: 'ghost'");
  expect_throw_with<std::invalid_argument>(
      [] {
        save_safetensors("x.safetensors", {{"u", Tensor()}});
      },
      "save_safetensors: x.safetensors: tensor 'u' is undefined");
}

}  // namespace
}  // namespace tinytorch
