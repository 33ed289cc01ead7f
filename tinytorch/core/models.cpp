// Module 09 — the models built from the module's layers: SimpleCNN (the CNN milestone's) and
// LeNet-5.
#include <tinytorch/core/models.hpp>

#include <memory>

#include <tinytorch/core/activations.hpp>
#include <tinytorch/detail/common.hpp>

namespace tinytorch {

namespace {

// Checked by the models themselves: otherwise Linear reports "out_features" of a layer the
// user never made.
void check_num_classes(const char* op, std::size_t num_classes) {
  if (num_classes == 0) detail::fail_arg("{}: num_classes must be >= 1, got 0", op);
}

}  // namespace

SimpleCNN::SimpleCNN(std::size_t num_classes) {
  check_num_classes("SimpleCNN", num_classes);
  // [N,1,8,8] -conv 3x3-> [N,8,6,6] -pool 2-> [N,8,3,3] -flatten-> [N,72] -linear-> [N,classes]
  layers_ =
      register_module("layers", std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
                                    std::make_shared<Conv2d>(1, 8, 3), std::make_shared<ReLU>(),
                                    std::make_shared<MaxPool2d>(2), std::make_shared<Flatten>(),
                                    std::make_shared<Linear>(72, num_classes)}));
}

SimpleCNN::SimpleCNN(Blocks, std::size_t in_channels, std::size_t image_size,
                     std::size_t num_classes) {
  check_num_classes("SimpleCNN::two_block", num_classes);
  if (image_size < 4) detail::fail_arg("SimpleCNN: image_size must be >= 4, got {}", image_size);
  const std::size_t side = image_size / 2 / 2;  // padding 1 keeps the size; each pool halves it
  layers_ = register_module(
      "layers",
      std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
          std::make_shared<Conv2d>(in_channels, 16, 3, 1, 1), std::make_shared<ReLU>(),
          std::make_shared<MaxPool2d>(2), std::make_shared<Conv2d>(16, 32, 3, 1, 1),
          std::make_shared<ReLU>(), std::make_shared<MaxPool2d>(2), std::make_shared<Flatten>(),
          std::make_shared<Linear>(32 * side * side, num_classes)}));
}

std::shared_ptr<SimpleCNN> SimpleCNN::two_block(std::size_t in_channels, std::size_t image_size,
                                                std::size_t num_classes) {
  return std::shared_ptr<SimpleCNN>(new SimpleCNN(Blocks{}, in_channels, image_size, num_classes));
}

Tensor SimpleCNN::features(const Tensor& x) {
  Tensor h = x;
  for (std::size_t i = 0; i + 1 < layers_->size(); ++i) h = (*layers_)[i](h);
  return h;
}

// Each conv block pools before its ReLU: max_pool2d(relu(x)) and relu(max_pool2d(x)) are the
// same function with the same gradient (max commutes with the monotone ReLU; a window whose
// maximum is ≤ 0 gives 0 and passes no gradient either way), and this order runs the ReLU and
// its backward on a quarter of the values. (spatial_test checks both orders agree.)
namespace {

// LeNet-5's first Linear layer takes the 16×5×5 features of a 28×28 image; any other size
// used to fail there, in `linear`, with shapes that never mention the image. Its layers stay
// those of a Sequential ("0.weight", ...), so its files and state_dict are unchanged.
class LeNet5 : public Sequential {
 public:
  using Sequential::Sequential;
  Tensor forward(const Tensor& x) override {
    if (x.defined() && x.ndim() == 4 && (x.dim(2) != kSide || x.dim(3) != kSide)) {
      detail::fail_shape(
          "lenet5: expected {}x{} images [N, 1, {}, {}], got input {}: the first Linear layer "
          "takes the 16x5x5 features of a {}x{} image (crop or resize the images to {}x{})",
          kSide, kSide, kSide, kSide, shape_str(x.shape()), kSide, kSide, kSide, kSide);
    }
    return Sequential::forward(x);
  }

 private:
  static constexpr std::size_t kSide = 28;
};

}  // namespace

std::shared_ptr<Sequential> lenet5(std::size_t num_classes) {
  check_num_classes("lenet5", num_classes);
  return std::make_shared<LeNet5>(std::vector<std::shared_ptr<Module>>{
      std::make_shared<Conv2d>(1, 6, 5, 1, 2), std::make_shared<MaxPool2d>(2),
      std::make_shared<ReLU>(), std::make_shared<Conv2d>(6, 16, 5), std::make_shared<MaxPool2d>(2),
      std::make_shared<ReLU>(), std::make_shared<Flatten>(), std::make_shared<Linear>(400, 120),
      std::make_shared<ReLU>(), std::make_shared<Linear>(120, 84), std::make_shared<ReLU>(),
      std::make_shared<Linear>(84, num_classes)});
}

}  // namespace tinytorch
