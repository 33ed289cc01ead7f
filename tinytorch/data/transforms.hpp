// Module 08 — data augmentation: random flips and crops applied to each example as it is
// loaded, so every epoch sees slightly different images.
//
//   RandomHorizontalFlip(p)    with probability p, reverse the last (width) axis
//   RandomCrop(size, padding)  zero-pad H and W by `padding`, then cut a size×size window at
//                              a uniformly random position
//   Compose({t1, t2})          apply t1, then t2
//
// Images are [H, W] or [C, H, W]; an undefined tensor is std::invalid_argument naming the
// transform, and RandomCrop refuses an empty image (H or W 0) with a ShapeError, as conv2d does.
// Randomness comes from the library generator (manual_seed).
//
//   auto augmented = std::make_shared<TransformDataset>(
//       train_set, Compose({RandomHorizontalFlip(0.5f), RandomCrop(8, 2)}));
//   DataLoader loader(augmented, DataLoaderOptions(32).shuffle(true));
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include <tinytorch/core/tensor.hpp>
#include <tinytorch/data/loader.hpp>

namespace tinytorch {

/// Maps one image to another (not differentiable: data preparation).
using Transform = std::function<Tensor(const Tensor&)>;

class RandomHorizontalFlip {
 public:
  /// Throws std::invalid_argument unless 0 <= p <= 1.
  explicit RandomHorizontalFlip(float p = 0.5f);
  Tensor operator()(const Tensor& image) const;

 private:
  float p_;
};

class RandomCrop {
 public:
  RandomCrop(std::size_t size, std::size_t padding = 4) : RandomCrop(size, size, padding) {}
  RandomCrop(std::size_t height, std::size_t width, std::size_t padding);
  Tensor operator()(const Tensor& image) const;

 private:
  std::size_t height_, width_, padding_;
};

class Compose {
 public:
  /// Every transform must be callable: an empty std::function is rejected here, naming its
  /// index, not when the first image goes through.
  explicit Compose(std::vector<Transform> transforms);
  Tensor operator()(const Tensor& image) const;

 private:
  std::vector<Transform> transforms_;
};

/// A dataset whose field `field` (default: the input) passes through `transform` on get().
class TransformDataset : public Dataset {
 public:
  TransformDataset(std::shared_ptr<const Dataset> dataset, Transform transform,
                   std::size_t field = 0);
  std::size_t size() const override { return dataset_->size(); }
  Sample get(std::size_t i) const override;

 private:
  std::shared_ptr<const Dataset> dataset_;
  Transform transform_;
  std::size_t field_;
};

}  // namespace tinytorch
