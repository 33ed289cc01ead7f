// Module 08 — data augmentation. Kernels copy rows of raw memory; no graph is recorded.
#include <tinytorch/data/transforms.hpp>

#include <algorithm>

#include <tinytorch/detail/common.hpp>

namespace tinytorch {

namespace {

// An image seen as `planes` planes of height×width floats ([H, W] is one plane).
struct ImageLayout {
  std::size_t planes, height, width;
};

ImageLayout layout(const char* op, const Tensor& image) {
  if (!image.defined()) {
    detail::fail_arg("{}: the image is undefined; expected a tensor [H, W] or [C, H, W]", op);
  }
  if (image.ndim() == 2) return {1, image.dim(0), image.dim(1)};
  if (image.ndim() == 3) return {image.dim(0), image.dim(1), image.dim(2)};
  detail::fail_shape("{}: expected an image [H, W] or [C, H, W], got {}", op,
                     shape_str(image.shape()));
}

std::size_t uniform_index(std::size_t count) {  // in [0, count)
  return std::uniform_int_distribution<std::size_t>(0, count - 1)(detail::rng());
}

}  // namespace

RandomHorizontalFlip::RandomHorizontalFlip(float p) : p_(p) {
  if (!(p >= 0.0f && p <= 1.0f)) {
    detail::fail_arg("RandomHorizontalFlip: probability must be between 0 and 1, got {}",
                     detail::number_text(p));
  }
}

Tensor RandomHorizontalFlip::operator()(const Tensor& image) const {
  const ImageLayout l = layout("RandomHorizontalFlip", image);
  const bool flip = std::uniform_real_distribution<float>(0.0f, 1.0f)(detail::rng()) < p_;
  Tensor out = image.clone();
  if (!flip) return out;
  float* data = out.data().data();
  for (std::size_t row = 0; row < l.planes * l.height; ++row) {
    std::reverse(data + row * l.width, data + (row + 1) * l.width);
  }
  return out;
}

RandomCrop::RandomCrop(std::size_t height, std::size_t width, std::size_t padding)
    : height_(height), width_(width), padding_(padding) {
  if (height == 0 || width == 0)
    detail::fail_arg("RandomCrop: crop size must be >= 1, got {}x{}", height, width);
}

Tensor RandomCrop::operator()(const Tensor& image) const {
  const ImageLayout l = layout("RandomCrop", image);
  // As conv2d and pooling: a window over an empty image would cut nothing but padding, and
  // hand on an all-zero image as if it were data.
  if (l.height == 0 || l.width == 0) {
    detail::fail_shape("RandomCrop: input {} has an empty {}x{} image; expected H and W >= 1",
                       shape_str(image.shape()), l.height, l.width);
  }
  const std::size_t padded_h = detail::padded_length("RandomCrop", l.height, padding_);
  const std::size_t padded_w = detail::padded_length("RandomCrop", l.width, padding_);
  if (height_ > padded_h || width_ > padded_w) {
    detail::fail_shape(
        "RandomCrop: crop {}x{} is larger than the padded image {}x{} (image {}, padding {})",
        height_, width_, padded_h, padded_w, shape_str(image.shape()), padding_);
  }
  // Top-left corner of the window in padded coordinates.
  const std::size_t top = uniform_index(padded_h - height_ + 1),
                    left = uniform_index(padded_w - width_ + 1);
  Shape shape = image.shape();
  shape[shape.size() - 2] = height_;
  shape[shape.size() - 1] = width_;
  Tensor out = Tensor::zeros(shape);  // whatever falls in the padding stays 0
  const float* src = image.data().data();
  float* dst = out.data().data();
  for (std::size_t plane = 0; plane < l.planes; ++plane) {
    for (std::size_t r = 0; r < height_; ++r) {
      const long row = static_cast<long>(top + r) - static_cast<long>(padding_);
      if (row < 0 || row >= static_cast<long>(l.height)) continue;
      for (std::size_t c = 0; c < width_; ++c) {
        const long col = static_cast<long>(left + c) - static_cast<long>(padding_);
        if (col < 0 || col >= static_cast<long>(l.width)) continue;
        dst[(plane * height_ + r) * width_ + c] =
            src[(plane * l.height + static_cast<std::size_t>(row)) * l.width +
                static_cast<std::size_t>(col)];
      }
    }
  }
  return out;
}

Compose::Compose(std::vector<Transform> transforms) : transforms_(std::move(transforms)) {
  for (std::size_t i = 0; i < transforms_.size(); ++i) {
    if (!transforms_[i]) detail::fail_arg("Compose: transform {} is empty", i);
  }
}

Tensor Compose::operator()(const Tensor& image) const {
  Tensor out = image;
  for (const Transform& t : transforms_) out = t(out);
  return out;
}

TransformDataset::TransformDataset(std::shared_ptr<const Dataset> dataset, Transform transform,
                                   std::size_t field)
    : dataset_(std::move(dataset)), transform_(std::move(transform)), field_(field) {
  if (!dataset_) detail::fail_arg("TransformDataset: dataset is null");
  if (!transform_) detail::fail_arg("TransformDataset: transform is empty");
}

Sample TransformDataset::get(std::size_t i) const {
  Sample sample = dataset_->get(i);
  if (field_ >= sample.size()) {
    detail::fail_arg("TransformDataset: field {} does not exist; samples have {} fields", field_,
                     sample.size());
  }
  if (!sample[field_].defined()) {
    detail::fail_arg(
        "TransformDataset: field {} of sample {} is undefined; the transform needs a tensor",
        field_, i);
  }
  sample[field_] = transform_(sample[field_]);
  if (!sample[field_].defined()) {
    detail::fail_arg("TransformDataset: the transform returned an undefined tensor for sample {}",
                     i);
  }
  return sample;
}

}  // namespace tinytorch
