// io: save(module, path) / load(module, path) — weights and buffers only, no Trainer; a load
// that does not fit throws naming the file and the tensors, and leaves the model as it was.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <tinytorch/core/activations.hpp>
#include <tinytorch/core/autograd.hpp>
#include <tinytorch/core/batchnorm.hpp>
#include <tinytorch/core/layers.hpp>
#include <tinytorch/core/losses.hpp>
#include <tinytorch/core/models.hpp>
#include <tinytorch/core/optimizers.hpp>
#include <tinytorch/core/spatial.hpp>
#include <tinytorch/io/serialize.hpp>

#include "support/scratch_dir.hpp"
#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_throw_with;
using testing::ScratchDir;

/// Bitwise copies of every state tensor (parameters and buffers).
std::vector<Tensor> state_values(const Module& m) {
  std::vector<Tensor> out;
  for (const auto& [name, t] : m.state_dict()) out.push_back(t.clone());
  return out;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && (a.size() == 0 || std::memcmp(a.data().data(), b.data().data(),
                                                                 a.size() * sizeof(float)) == 0);
}

void expect_state_equal(const Module& m, const std::vector<Tensor>& values) {
  const auto state = m.state_dict();
  ASSERT_EQ(state.size(), values.size());
  for (std::size_t i = 0; i < state.size(); ++i)
    EXPECT_TRUE(same_bits(state[i].second, values[i])) << state[i].first;
}

std::shared_ptr<Sequential> mlp(std::size_t in, std::size_t hidden, std::size_t out,
                                bool last_bias = true) {
  return std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
      std::make_shared<Linear>(in, hidden), std::make_shared<ReLU>(),
      std::make_shared<Linear>(hidden, out, last_bias)});
}

/// Conv → BatchNorm → ReLU → pool → Linear: parameters and buffers.
std::shared_ptr<Sequential> cnn_with_batchnorm() {
  return std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
      std::make_shared<Conv2d>(1, 4, 3), std::make_shared<BatchNorm2d>(4), std::make_shared<ReLU>(),
      std::make_shared<MaxPool2d>(2), std::make_shared<Flatten>(),
      std::make_shared<Linear>(36, 3)});
}

TEST(SaveLoad, RoundTripReproducesPredictionsExactly) {
  ScratchDir dir;
  const std::string path = dir.file("cnn.safetensors");
  manual_seed(1);
  SimpleCNN model;
  const Tensor x = Tensor::randn({5, 1, 8, 8});
  save(model, path);

  manual_seed(2);  // a different initialisation, replaced by the file
  SimpleCNN restored;
  load(restored, path);
  NoGradGuard no_grad;
  EXPECT_TRUE(same_bits(model(x), restored(x)));
  expect_state_equal(restored, state_values(model));
}

TEST(SaveLoad, FileHoldsTheStateDictUnderItsNamesAndAFormatTag) {
  ScratchDir dir;
  const std::string path = dir.file("cnn.safetensors");
  SimpleCNN model;
  save(model, path, {{"note", "digits"}});
  Metadata meta;
  const TensorMap tensors = load_safetensors(path, &meta);
  EXPECT_EQ(meta.at("format"), "tinytorch-weights-1");
  EXPECT_EQ(meta.at("note"), "digits");
  std::vector<std::string> names;
  for (const auto& [name, t] : tensors) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"layers.0.bias", "layers.0.weight", "layers.4.bias",
                                             "layers.4.weight"}));
  EXPECT_EQ(tensors.at("layers.4.weight").shape(), (Shape{72, 10}));  // Linear: [in, out]
}

TEST(SaveLoad, BuffersTravelWithTheWeights) {
  ScratchDir dir;
  const std::string path = dir.file("bn.safetensors");
  manual_seed(3);
  auto model = cnn_with_batchnorm();
  (*model)(Tensor::randn({8, 1, 8, 8}));  // training mode: updates the running statistics
  save(*model, path);
  const TensorMap tensors = load_safetensors(path);
  EXPECT_EQ(tensors.count("1.running_mean"), 1u);
  EXPECT_EQ(tensors.count("1.running_var"), 1u);

  manual_seed(4);
  auto restored = cnn_with_batchnorm();
  load(*restored, path);
  expect_state_equal(*restored, state_values(*model));
  model->eval();
  restored->eval();
  NoGradGuard no_grad;
  const Tensor x = Tensor::randn({2, 1, 8, 8});
  EXPECT_TRUE(same_bits((*model)(x), (*restored)(x)));
}

TEST(SaveLoad, LoadFillsTheExistingTensorsSoAnOptimizerKeepsWorking) {
  ScratchDir dir;
  const std::string path = dir.file("mlp.safetensors");
  manual_seed(5);
  auto source = mlp(4, 8, 3);
  save(*source, path);
  auto model = mlp(4, 8, 3);
  const auto handles = model->parameters();
  SGD optimizer(model->parameters(), SGDOptions(0.1f));
  load(*model, path);
  const auto params = model->parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(params[i].same(handles[i]));
    EXPECT_TRUE(params[i].requires_grad());
  }
  cross_entropy((*model)(Tensor::randn({6, 4})), Tensor({0, 1, 2, 0, 1, 2})).backward();
  optimizer.step();
  EXPECT_FALSE(same_bits(model->parameters()[0], source->parameters()[0]));  // it trained on
}

TEST(SaveLoad, SaveIsAtomicAndLeavesNoTemporaryFile) {
  ScratchDir dir;
  const std::string path = dir.file("nested/dir/m.safetensors");
  auto model = mlp(2, 2, 1);
  save(*model, path);
  save(*model, path);
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir.path() / "nested/dir"))
    names.push_back(e.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"m.safetensors"});
}

TEST(SaveLoad, AF64FileWithTheRightNamesLoads) {
  ScratchDir dir;
  const std::string path = dir.file("f64.safetensors");
  auto model = mlp(1, 1, 1);
  // 0.weight [1,1], 0.bias [1], 2.weight [1,1], 2.bias [1] as doubles 1, 2, 3, 4.
  std::string header = R"({"0.bias":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},)"
                       R"("0.weight":{"dtype":"F64","shape":[1,1],"data_offsets":[8,16]},)"
                       R"("2.bias":{"dtype":"F64","shape":[1],"data_offsets":[16,24]},)"
                       R"("2.weight":{"dtype":"F64","shape":[1,1],"data_offsets":[24,32]}})";
  std::string bytes(8, '\0');
  for (std::size_t i = 0; i < 8; ++i)
    bytes[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  bytes += header;
  for (double v : {2.0, 1.0, 4.0, 3.0}) bytes.append(reinterpret_cast<const char*>(&v), 8);
  {
    std::ofstream out(path, std::ios::binary);
    out << bytes;
  }
  load(*model, path);
  const auto state = model->state_dict();
  EXPECT_EQ(state[0].second.item(), 1.0f);  // 0.weight
  EXPECT_EQ(state[1].second.item(), 2.0f);  // 0.bias
  EXPECT_EQ(state[2].second.item(), 3.0f);  // 2.weight
  EXPECT_EQ(state[3].second.item(), 4.0f);  // 2.bias
}

// ---- loads that do not fit: named, and the model is left as it was ---------------------

class LoadMismatch : public ::testing::Test {
 protected:
  void SetUp() override {
    manual_seed(7);
    save(*mlp(4, 8, 3), path_);
  }
  /// load(model, path_) throws naming the file and `fragment`; the model's state is unchanged.
  void expect_load_fails(Module& model, const std::string& fragment, bool strict = true) {
    const auto before = state_values(model);
    expect_throw_with<SerializationError>([&] { load(model, path_, strict); }, fragment);
    expect_throw_with<SerializationError>([&] { load(model, path_, strict); }, "load: " + path_);
    expect_state_equal(model, before);
  }
  ScratchDir dir_;
  std::string path_ = dir_.file("mlp.safetensors");
};

TEST_F(LoadMismatch, AModelOfAnotherShapeNamesTheTensorAndBothShapes) {
  auto wider = mlp(4, 16, 3);
  expect_load_fails(*wider,
                    "tensor '0.weight' has shape [4, 8] in the file but [4, 16] in the model");
  expect_load_fails(*wider,
                    "tensor '2.weight' has shape [8, 3] in the file but [16, 3] in the model");
}

TEST_F(LoadMismatch, MissingTensorsAreAllListed) {
  auto deeper = std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
      std::make_shared<Linear>(4, 8), std::make_shared<ReLU>(), std::make_shared<Linear>(8, 3),
      std::make_shared<Linear>(3, 3)});
  expect_load_fails(
      *deeper, "2 tensors of the model missing from the file: '3.weight' [3, 3], '3.bias' [3]");
}

TEST_F(LoadMismatch, MissingTensorsFailEvenWhenNotStrict) {
  auto deeper = std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
      std::make_shared<Linear>(4, 8), std::make_shared<ReLU>(), std::make_shared<Linear>(8, 3),
      std::make_shared<Linear>(3, 3)});
  expect_load_fails(*deeper, "missing from the file", /*strict=*/false);
}

TEST_F(LoadMismatch, ExtraTensorsAreListedAndStrictFalseIgnoresThem) {
  auto no_bias = mlp(4, 8, 3, /*last_bias=*/false);
  expect_load_fails(*no_bias,
                    "1 tensor in the file that the model does not have: '2.bias' [3] (load with "
                    "strict=false to ignore them)");
  load(*no_bias, path_, /*strict=*/false);
  const TensorMap file = load_safetensors(path_);
  EXPECT_TRUE(same_bits(no_bias->state_dict()[0].second, file.at("0.weight")));
  EXPECT_TRUE(same_bits(no_bias->state_dict()[2].second, file.at("2.weight")));
}

TEST_F(LoadMismatch, EveryProblemIsReportedAtOnce) {
  auto other = std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
      std::make_shared<Linear>(4, 5), std::make_shared<ReLU>(), std::make_shared<ReLU>(),
      std::make_shared<Linear>(5, 3)});
  const auto before = state_values(*other);
  try {
    load(*other, path_);
    FAIL() << "load did not throw";
  } catch (const SerializationError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("tensor '0.weight' has shape [4, 8]"), std::string::npos) << message;
    EXPECT_NE(message.find("missing from the file: '3.weight' [5, 3], '3.bias' [3]"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("does not have: '2.bias' [3], '2.weight' [8, 3]"), std::string::npos)
        << message;
  }
  expect_state_equal(*other, before);
}

TEST(LoadFiles, ADirectoryAMissingFileAndAnUnknownDtypeAreNamed) {
  ScratchDir dir;
  auto model = mlp(1, 1, 1);
  const auto before = state_values(*model);
  const std::string folder = dir.file("weights");
  std::filesystem::create_directory(folder);
  expect_throw_with<SerializationError>([&] { load(*model, folder); }, folder + ": is a directory");
  const std::string missing = dir.file("missing.safetensors");
  expect_throw_with<SerializationError>([&] { load(*model, missing); }, missing + ": no such file");

  const std::string u8 = dir.file("u8.safetensors");
  const std::string header = R"({"0.weight":{"dtype":"U8","shape":[1,1],"data_offsets":[0,1]}})";
  std::string bytes(8, '\0');
  bytes[0] = static_cast<char>(header.size());
  {
    std::ofstream out(u8, std::ios::binary);
    out << bytes << header << '\x01';
  }
  expect_throw_with<SerializationError>([&] { load(*model, u8); },
                                        u8 + ": tensor '0.weight' has dtype U8");
  expect_state_equal(*model, before);
}

TEST(LoadStateDict, ChecksTensorsInMemoryTheSameWay) {
  auto model = mlp(2, 3, 1);
  const auto before = state_values(*model);
  TensorMap tensors;
  for (const auto& [name, t] : model->state_dict()) tensors[name] = Tensor::ones(t.shape());
  tensors["0.bias"] = Tensor::ones({4});
  expect_throw_with<SerializationError>(
      [&] { load_state_dict(*model, tensors); },
      "load_state_dict: tensor '0.bias' has shape [4] in the given tensors but [3] in the model");
  expect_state_equal(*model, before);
  tensors["0.bias"] = Tensor::ones({3});
  load_state_dict(*model, tensors);
  for (const auto& [name, t] : model->state_dict())
    EXPECT_TRUE(same_bits(t, Tensor::ones(t.shape())));
}

}  // namespace
}  // namespace tinytorch
