// Module 09 — models built from the module's layers.
//
//   SimpleCNN model;                          // the CNN milestone's 810-parameter digits model
//   Tensor logits = model(images);            // images [N, 1, 8, 8] → logits [N, 10]
//   auto net = lenet5();                      // LeNet-5 for [N, 1, 28, 28] (Fashion-MNIST)
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include <tinytorch/core/layers.hpp>
#include <tinytorch/core/module.hpp>
#include <tinytorch/core/spatial.hpp>
#include <tinytorch/core/tensor.hpp>

namespace tinytorch {

/// Conv2d → ReLU → MaxPool2d → Flatten → Linear, and its two-block sibling.
///
///   SimpleCNN()                  the milestone's digits model: Conv 1→8 3×3, pool 2,
///                                Linear 72→10 (810 parameters) for [N, 1, 8, 8] input
///   SimpleCNN::two_block(...)    the module's variant: Conv 3→16 3×3 pad 1 → ReLU → pool 2 →
///                                Conv 16→32 3×3 pad 1 → ReLU → pool 2 → Linear head
class SimpleCNN : public Module {
 public:
  explicit SimpleCNN(std::size_t num_classes = 10);
  static std::shared_ptr<SimpleCNN> two_block(std::size_t in_channels = 3,
                                              std::size_t image_size = 32,
                                              std::size_t num_classes = 10);
  Tensor forward(const Tensor& x) override { return (*layers_)(x); }
  /// The features before the Linear head ([N, 72] for the digits model).
  Tensor features(const Tensor& x);
  std::string name() const override { return "SimpleCNN"; }
  std::string repr() const override { return layers_->repr(); }
  Sequential& layers() { return *layers_; }

 private:
  struct Blocks {};
  SimpleCNN(Blocks, std::size_t in_channels, std::size_t image_size, std::size_t num_classes);
  std::shared_ptr<Sequential> layers_;
};

/// LeNet-5 for [N, 1, 28, 28] images: Conv(1→6, 5×5, pad 2) → MaxPool 2 → ReLU →
/// Conv(6→16, 5×5) → MaxPool 2 → ReLU → Flatten [400] → Linear(400→120) → ReLU →
/// Linear(120→84) → ReLU → Linear(84→num_classes). (Pooling before the ReLU is the same
/// function as after it, with the same gradient, and costs less.) An image of another size is a
/// ShapeError naming the 28x28 it expects; num_classes 0 is std::invalid_argument.
std::shared_ptr<Sequential> lenet5(std::size_t num_classes = 10);

}  // namespace tinytorch
