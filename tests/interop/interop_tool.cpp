// The C++ half of the interop tests (run_interop.py drives it with python/tinytorch_io.py
// and python/torch_interop.py). Each command prints one line and exits 0 on success:
//
//   export-cnn DIR            train SimpleCNN briefly on the digits; write DIR/cnn.safetensors
//                             (save()) and DIR/batch.safetensors: 64 test images, their labels
//                             and this model's logits
//   check-cnn WEIGHTS BATCH   load WEIGHTS into a SimpleCNN (load()) and compare its logits on
//                             BATCH's images with BATCH's logits
//   write-sample FILE         a few F32 tensors of known values
//   check-dtypes FILE         every tensor named like "f64" ... "i32" equals "expected_float"
//                             or "expected_int" exactly, after conversion to float
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <tinytorch/tinytorch.hpp>

using namespace tinytorch;

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: interop_tool export-cnn DIR | check-cnn WEIGHTS BATCH | write-sample FILE | "
               "check-dtypes FILE\n");
  return 2;
}

std::size_t argmax_row(const Tensor& logits, std::size_t row) {
  const float* r = logits.data().data() + row * logits.dim(1);
  return static_cast<std::size_t>(std::max_element(r, r + logits.dim(1)) - r);
}

int export_cnn(const std::string& dir) {
  manual_seed(7);
  const DigitsSplit digits = load_digits();
  auto train_set = std::make_shared<TensorDataset>(
      std::vector<Tensor>{digits.train.images, digits.train.labels});
  DataLoader loader(train_set, DataLoaderOptions(32).shuffle(true).seed(7));
  SimpleCNN model;
  SGD optimizer(model.parameters(), SGDOptions(0.05f).momentum(0.9f));
  for (int epoch = 0; epoch < 3; ++epoch) {
    for (const Batch& batch : loader) {
      const Tensor loss = cross_entropy(model(batch[0]), batch[1]);
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
    }
  }
  save(model, dir + "/cnn.safetensors");
  NoGradGuard no_grad;
  model.eval();
  const Tensor images = digits.test.images.slice(0, 64);
  const Tensor labels = digits.test.labels.slice(0, 64);
  const Tensor logits = model(images);
  save_safetensors(dir + "/batch.safetensors",
                   {{"images", images}, {"labels", labels}, {"logits", logits}});
  std::printf("export-cnn: trained SimpleCNN 3 epochs, accuracy on the batch %.1f%%\n",
              100.0 * accuracy(logits, labels));
  return 0;
}

int check_cnn(const std::string& weights, const std::string& batch_path) {
  SimpleCNN model;
  load(model, weights);
  const TensorMap batch = load_safetensors(batch_path);
  NoGradGuard no_grad;
  model.eval();
  const Tensor logits = model(batch.at("images"));
  const Tensor& expected = batch.at("logits");
  if (logits.shape() != expected.shape()) {
    std::printf("check-cnn: logits %s, expected %s\n", shape_str(logits.shape()).c_str(),
                shape_str(expected.shape()).c_str());
    return 1;
  }
  float diff = 0.0f;
  for (std::size_t i = 0; i < logits.size(); ++i)
    diff = std::max(diff, std::abs(logits.data().data()[i] - expected.data().data()[i]));
  std::size_t same = 0;
  for (std::size_t r = 0; r < logits.dim(0); ++r)
    same += argmax_row(logits, r) == argmax_row(expected, r);
  std::printf(
      "check-cnn: %zu images, max |logit difference| %.2e, same prediction %zu/%zu, tinytorch "
      "accuracy %.1f%%\n",
      logits.dim(0), static_cast<double>(diff), same, logits.dim(0),
      100.0 * accuracy(logits, batch.at("labels")));
  return diff <= 1e-4f && same == logits.dim(0) ? 0 : 1;
}

int write_sample(const std::string& file) {
  save_safetensors(file,
                   {{"matrix", Tensor({{1, 2, 3}, {4, 5, 6}})},
                    {"scalar", Tensor::scalar(-3.5f)},
                    {"empty", Tensor::zeros({0, 2})},
                    {"tiny", Tensor({1e-30f, -0.0f, 3.4e38f})}},
                   {{"note", "written by interop_tool"}});
  std::printf("write-sample: wrote %s\n", file.c_str());
  return 0;
}

int check_dtypes(const std::string& file) {
  const TensorMap t = load_safetensors(file);
  int bad = 0, checked = 0;
  for (const auto& [name, tensor] : t) {
    if (name.rfind("expected", 0) == 0) continue;
    const bool integer = name[0] == 'i';
    const Tensor& expected = t.at(integer ? "expected_int" : "expected_float");
    const bool same =
        tensor.shape() == expected.shape() &&
        std::equal(tensor.data().begin(), tensor.data().end(), expected.data().begin());
    std::printf("check-dtypes: %-5s %s %s\n", name.c_str(), shape_str(tensor.shape()).c_str(),
                same ? "ok" : "DIFFERENT");
    bad += !same;
    ++checked;
  }
  return bad == 0 && checked > 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() == 2 && args[0] == "export-cnn") return export_cnn(args[1]);
    if (args.size() == 3 && args[0] == "check-cnn") return check_cnn(args[1], args[2]);
    if (args.size() == 2 && args[0] == "write-sample") return write_sample(args[1]);
    if (args.size() == 2 && args[0] == "check-dtypes") return check_dtypes(args[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "interop_tool: %s\n", e.what());
    return 1;
  }
  return usage();
}
