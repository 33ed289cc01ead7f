// The report's views of the model at work: feature maps of chosen images, the confusion
// matrix and mistakes over a test set, and the decision map of a two-input model.
#include <tinytorch/report/report.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include <fmt/format.h>

#include <tinytorch/core/autograd.hpp>
#include <tinytorch/report/internal/common.hpp>
#include <tinytorch/report/svg.hpp>

namespace tinytorch {

using namespace report_internal;

namespace {

constexpr std::size_t kMaxFeatureImages = 4;
constexpr std::size_t kMaxMapsPerStage = 32;

// The class probabilities of one output row of c values, appended to `out`: one output is
// class 1's probability (clamped to [0, 1]; class 0 gets the rest), more are logits (softmax,
// the row's maximum subtracted first).
void append_probabilities(const float* row, std::size_t c, std::vector<float>& out) {
  if (c == 1) {
    const float p1 = std::clamp(row[0], 0.0f, 1.0f);
    out.push_back(1.0f - p1);
    out.push_back(p1);
    return;
  }
  const float m = *std::max_element(row, row + c);
  double sum = 0.0;
  for (std::size_t j = 0; j < c; ++j) sum += std::exp(static_cast<double>(row[j] - m));
  for (std::size_t j = 0; j < c; ++j) {
    out.push_back(static_cast<float>(std::exp(static_cast<double>(row[j] - m)) / sum));
  }
}

std::string label_text(float l) { return std::isnan(l) ? std::string("nan") : fmt::format("{}", l); }

// A picture of one 2-D plane of floats: diverging around 0 when it has negative values,
// viridis from 0 to its largest value otherwise.
std::vector<Rgb> plane_pixels(const float* v, std::size_t n) {
  float lo = 0.0f, hi = 0.0f;
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(v[i])) continue;
    lo = std::min(lo, v[i]);
    hi = std::max(hi, v[i]);
  }
  std::vector<Rgb> px(n);
  const float m = std::max(-lo, hi);
  for (std::size_t i = 0; i < n; ++i) {
    px[i] = lo < 0.0f ? diverging(v[i], m) : viridis(hi > 0.0f ? v[i] / hi : 0.0f);
  }
  return px;
}

// An input image as grey: [0, 1] data as is, anything else stretched from its min to its max.
std::vector<Rgb> image_pixels(const float* v, std::size_t n) {
  float lo = v[0], hi = v[0];
  for (std::size_t i = 0; i < n; ++i) {
    lo = std::min(lo, v[i]);
    hi = std::max(hi, v[i]);
  }
  const bool unit = lo >= 0.0f && hi <= 1.0f;
  std::vector<Rgb> px(n);
  for (std::size_t i = 0; i < n; ++i) {
    px[i] = grey(unit ? v[i] : (hi > lo ? (v[i] - lo) / (hi - lo) : 0.0f));
  }
  return px;
}

// The side of the square picture of a [D] row (digits flattened to 64: 8), or 0.
std::size_t square_side(std::size_t d) {
  const auto s = static_cast<std::size_t>(std::lround(std::sqrt(static_cast<double>(d))));
  return s * s == d ? s : 0;
}

double display_size(std::size_t pixels) {
  return std::clamp(8.0 * static_cast<double>(pixels), 48.0, 96.0);
}

}  // namespace

void TrainingReport::show_feature_maps(const Tensor& images) {
  if (model_ == nullptr) fail("TrainingReport::show_feature_maps: call set_model first");
  const Tensor batch = images.ndim() == 3 ? images.reshape(as_long(with_batch(images.shape()))) : images;
  if (batch.ndim() != 4 || batch.dim(0) == 0) {
    fail(fmt::format(
        "TrainingReport::show_feature_maps: expected images [K, C, H, W] or one [C, H, W], "
        "got {}",
        shape_str(images.shape())));
  }
  const std::vector<Module*> layers = layers_in_order(*model_);
  if (layers.empty()) {
    fail(fmt::format(
        "TrainingReport::show_feature_maps: {} is not a chain of layers (a Sequential, or a "
        "module whose only child is one), so its feature maps cannot be taken apart",
        model_->name()));
  }
  EvalMode eval(*model_);
  NoGradGuard no_grad;
  const std::size_t count = std::min(batch.dim(0), kMaxFeatureImages);
  std::string out;
  for (std::size_t k = 0; k < count; ++k) {
    // Stages: the image, then each conv, ReLU and pool output until the maps end.
    struct Stage {
      std::string label;
      Tensor maps;  // [C, H, W]
    };
    std::vector<Stage> stages;
    Tensor x = batch.slice(k, k + 1);
    stages.push_back({fmt::format("image {}", shape_str(without_batch(x.shape()))),
                      x.reshape(as_long(without_batch(x.shape())))});
    for (std::size_t i = 0; i < layers.size(); ++i) {
      const std::string kind = layers[i]->name();
      if (kind == "Flatten") break;
      x = (*layers[i])(x);
      if (x.ndim() != 4) break;
      if (kind == "Conv2d" || kind == "ReLU" || kind == "MaxPool2d" || kind == "AvgPool2d") {
        stages.push_back({fmt::format("{} {} {}", i + 1, kind, shape_str(without_batch(x.shape()))),
                          x.reshape(as_long(without_batch(x.shape())))});
      }
    }
    double height = 8, width = 260;  // room for the longest label
    std::vector<double> rows;
    for (std::size_t si = 0; si < stages.size(); ++si) {
      const Stage& s = stages[si];
      const double size = display_size(s.maps.dim(1));
      const double map_w = size * static_cast<double>(s.maps.dim(2)) / static_cast<double>(s.maps.dim(1));
      const std::size_t n = si == 0 ? 1 : std::min(s.maps.dim(0), kMaxMapsPerStage);
      const std::size_t per_row = std::max<std::size_t>(1, static_cast<std::size_t>(940 / (size + 4)));
      const std::size_t lines = (n + per_row - 1) / per_row;
      width = std::max(width, static_cast<double>(std::min(n, per_row) - 1) * (size + 4) + map_w);
      rows.push_back(height);
      height += 18 + static_cast<double>(lines) * (size + 4) + 8;
    }
    Svg svg(width, height);
    for (std::size_t si = 0; si < stages.size(); ++si) {
      const Stage& s = stages[si];
      const std::size_t channels = s.maps.dim(0), h = s.maps.dim(1), w = s.maps.dim(2);
      const double size = display_size(h);
      const std::size_t n = si == 0 ? 1 : std::min(channels, kMaxMapsPerStage);
      const std::size_t per_row = std::max<std::size_t>(1, static_cast<std::size_t>(940 / (size + 4)));
      std::string label = s.label;
      if (si > 0 && channels > n) label += fmt::format(" (first {} of {})", n, channels);
      svg.text(0, rows[si] + 12, label, 12, "start", R"(font-weight="bold")");
      const float* data = s.maps.data().data();
      for (std::size_t c = 0; c < n; ++c) {
        const double x0 = static_cast<double>(c % per_row) * (size + 4);
        const double y0 = rows[si] + 18 + static_cast<double>(c / per_row) * (size + 4);
        const std::vector<Rgb> px = si == 0 ? image_pixels(data, h * w)  // the first channel
                                            : plane_pixels(data + c * h * w, h * w);
        const std::string cls = si == 0 ? R"(class="input-image")"
                                        : fmt::format(R"(class="feature-map" data-stage="{}")", si);
        svg.image(x0, y0, size * static_cast<double>(w) / static_cast<double>(h), size, w, h, px,
                  cls);
      }
    }
    out += "<figure>" + svg.str(fmt::format(R"(class="feature-maps" data-image="{}")", k)) +
           fmt::format("<figcaption>Test image {}: the image and what each layer made of it "
                       "(negative values blue, positive red; after a ReLU, dark to yellow)."
                       "</figcaption></figure>",
                       k + 1);
  }
  feature_maps_ = out;
}

double TrainingReport::evaluate(const Tensor& images, const Tensor& labels,
                                std::size_t max_mistakes) {
  if (model_ == nullptr) fail("TrainingReport::evaluate: call set_model first");
  if (images.ndim() < 2 || images.dim(0) == 0) {
    fail(fmt::format("TrainingReport::evaluate: expected images [N, ...] with N ≥ 1, got {}",
                     shape_str(images.shape())));
  }
  const std::size_t n = images.dim(0);
  if (labels.size() != n) {
    fail(fmt::format("TrainingReport::evaluate: {} images need {} labels, got shape {}", n, n,
                     shape_str(labels.shape())));
  }
  EvalMode eval(*model_);
  NoGradGuard no_grad;
  std::vector<std::size_t> predicted(n);
  std::vector<float> probabilities;  // of each row, kept for the mistakes
  std::size_t classes = 0;
  for (std::size_t begin = 0; begin < n; begin += 256) {
    const std::size_t end = std::min(n, begin + 256);
    const Tensor out = (*model_)(images.slice(begin, end));
    const std::size_t rows = end - begin;
    if (out.size() % rows != 0 || out.dim(0) != rows) {
      fail(fmt::format("TrainingReport::evaluate: the model's outputs {} are not one row per image",
                       shape_str(out.shape())));
    }
    const std::size_t c = out.size() / rows;
    classes = c == 1 ? 2 : c;
    const float* o = out.data().data();
    for (std::size_t r = 0; r < rows; ++r) {
      append_probabilities(o + r * c, c, probabilities);
      // The first largest, as argmax (and the Trainer's accuracy) pick it.
      predicted[begin + r] =
          c == 1 ? (o[r] > 0.5f ? 1 : 0)
                 : static_cast<std::size_t>(std::max_element(o + r * c, o + (r + 1) * c) - (o + r * c));
    }
  }
  confusion_.assign(classes, std::vector<std::size_t>(classes, 0));
  std::vector<std::size_t> wrong;
  const float* lab = labels.data().data();
  for (std::size_t i = 0; i < n; ++i) {
    const float l = lab[i];
    if (!(l >= 0.0f) || l != std::floor(l) || l >= static_cast<float>(classes)) {
      fail(fmt::format("TrainingReport::evaluate: label {} of image {} is not a class of the "
                       "model's {} classes (0 to {})",
                       label_text(l), i, classes, classes - 1));
    }
    const auto t = static_cast<std::size_t>(l);
    ++confusion_[t][predicted[i]];
    if (t != predicted[i] && wrong.size() < max_mistakes) wrong.push_back(i);
  }
  std::size_t right = 0;
  for (std::size_t k = 0; k < classes; ++k) right += confusion_[k][k];
  evaluated_count_ = n;
  evaluated_accuracy_ = static_cast<double>(right) / static_cast<double>(n);

  // The confusion matrix: colour by the share of the row (how each true class is spread).
  const double cell = 36, left = 96, top = 92;
  Svg svg(left + cell * static_cast<double>(classes) + 20, top + cell * static_cast<double>(classes) + 10);
  svg.text(left + cell * static_cast<double>(classes) / 2, 14, "predicted", 12, "middle",
           R"(font-weight="bold")");
  svg.text(12, top + cell * static_cast<double>(classes) / 2, "truth", 12, "middle",
           fmt::format(R"x(font-weight="bold" transform="rotate(-90 12 {})")x",
                       svg_number(top + cell * static_cast<double>(classes) / 2)));
  for (std::size_t k = 0; k < classes; ++k) {
    const double cx = left + cell * (static_cast<double>(k) + 0.5);
    svg.text(cx, top - 8, class_name(k), 10, "start",
             fmt::format(R"x(transform="rotate(-50 {} {})")x", svg_number(cx), svg_number(top - 8)));
    svg.text(left - 6, top + cell * (static_cast<double>(k) + 0.5) + 4, class_name(k), 10, "end");
  }
  for (std::size_t t = 0; t < classes; ++t) {
    const std::size_t row_total = std::accumulate(confusion_[t].begin(), confusion_[t].end(),
                                                  std::size_t{0});
    for (std::size_t p = 0; p < classes; ++p) {
      const std::size_t v = confusion_[t][p];
      const float share = row_total ? static_cast<float>(v) / static_cast<float>(row_total) : 0.0f;
      const double x = left + cell * static_cast<double>(p), y = top + cell * static_cast<double>(t);
      svg.group(fmt::format(R"(class="cell" data-truth="{}" data-predicted="{}" data-count="{}")", t,
                            p, v));
      svg.rect(x, y, cell - 1, cell - 1, viridis(share));
      svg.text(x + cell / 2, y + cell / 2 + 4, std::to_string(v), 11, "middle",
               share > 0.55f ? R"(fill="#000000")" : R"(fill="#ffffff")");
      svg.close();
    }
  }
  confusion_svg_ =
      "<figure>" + svg.str(R"(class="confusion" role="img" aria-label="confusion matrix")") +
      fmt::format("<figcaption>{} test images; the diagonal holds the {} right, accuracy {}. "
                  "Colour: the share of the true class's row (dark 0, yellow 1).</figcaption>"
                  "</figure>",
                  n, right, percent(evaluated_accuracy_));

  // The mistakes: each image with truth, prediction and the three most likely classes.
  std::string m;
  const Shape sample = without_batch(images.shape());
  std::size_t h = 0, w = 0;
  if (sample.size() == 3 && sample[0] == 1) {
    h = sample[1];
    w = sample[2];
  } else if (sample.size() == 1 && square_side(sample[0]) > 0) {
    h = w = square_side(sample[0]);
  } else if (sample.size() == 2) {
    h = sample[0];
    w = sample[1];
  }
  const std::size_t pixels = images.size() / n;
  for (std::size_t i : wrong) {
    const float* p = probabilities.data() + i * classes;
    std::vector<std::size_t> order(classes);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return p[a] > p[b]; });
    const std::size_t t = static_cast<std::size_t>(lab[i]);
    Svg card(150, 150);
    if (h > 0) {
      card.image(35, 2, 80, 80, w, h, image_pixels(images.data().data() + i * pixels, h * w),
                 R"(class="mistake-image")");
    }
    card.text(75, 98, "truth: " + class_name(t), 11, "middle", R"(font-weight="bold")");
    for (std::size_t r = 0; r < std::min<std::size_t>(3, classes); ++r) {
      const std::size_t k = order[r];
      card.text(75, 114 + 12 * static_cast<double>(r),
                fmt::format("{} {:.1f} %{}", class_name(k), 100.0 * p[k],
                            k == predicted[i] ? " ← predicted" : ""),
                10, "middle", k == t ? R"(fill="#006d2c")" : "");
    }
    m += card.str(fmt::format(R"(class="mistake" data-index="{}" data-truth="{}" data-predicted="{}")",
                              i, t, predicted[i]));
  }
  mistakes_ = wrong.empty() ? "<p class=\"note\">No test image was misclassified.</p>"
                            : "<div class=\"row\">" + m + "</div>" +
                                  fmt::format("<p class=\"note\">The first {} of the {} "
                                              "misclassified test images, in test-set order.</p>",
                                              wrong.size(), n - right);
  return evaluated_accuracy_;
}

void TrainingReport::show_decision_boundary(const Tensor& points, const Tensor& labels, double x0,
                                            double x1, double y0, double y1,
                                            std::size_t resolution) {
  if (model_ == nullptr) fail("TrainingReport::show_decision_boundary: call set_model first");
  if (points.ndim() != 2 || points.dim(1) != 2 || labels.size() != points.dim(0)) {
    fail(fmt::format("TrainingReport::show_decision_boundary: expected points [N, 2] and N "
                     "labels, got {} and {}",
                     shape_str(points.shape()), shape_str(labels.shape())));
  }
  if (!(x1 > x0) || !(y1 > y0) || resolution < 2 || resolution > 1024) {
    fail("TrainingReport::show_decision_boundary: expected x0 < x1, y0 < y1 and a resolution of "
         "2 to 1024");
  }
  EvalMode eval(*model_);
  NoGradGuard no_grad;
  const std::size_t r = resolution;
  std::vector<float> grid(r * r * 2);
  for (std::size_t row = 0; row < r; ++row) {
    for (std::size_t col = 0; col < r; ++col) {
      grid[2 * (row * r + col)] = static_cast<float>(x0 + (x1 - x0) * (col + 0.5) / r);
      grid[2 * (row * r + col) + 1] = static_cast<float>(y1 - (y1 - y0) * (row + 0.5) / r);
    }
  }
  const Tensor out = (*model_)(Tensor::from(grid, {r * r, 2}));
  const std::size_t c = out.size() / (r * r);
  std::vector<Rgb> px(r * r);
  std::vector<float> p;
  for (std::size_t i = 0; i < r * r; ++i) {
    p.clear();
    append_probabilities(out.data().data() + i * c, c, p);
    px[i] = diverging(p[1] - 0.5f, 0.5f);
  }
  const double size = 300, pad = 36;
  Svg svg(size + pad + 12, size + pad + 8);
  svg.image(pad, 4, size, size, r, r, px, R"(class="decision-map")");
  auto sx = [&](double x) { return pad + (x - x0) / (x1 - x0) * size; };
  auto sy = [&](double y) { return 4 + (y1 - y) / (y1 - y0) * size; };
  for (std::size_t i = 0; i < points.dim(0); ++i) {
    const float* p = points.data().data() + 2 * i;
    const bool one = labels.data().data()[i] > 0.5f;
    svg.circle(sx(p[0]), sy(p[1]), 4, one ? Rgb{103, 0, 13} : Rgb{5, 48, 97},
               R"(stroke="#ffffff" stroke-width="1.2" class="point")");
  }
  svg.text(pad, size + 20, svg_number(x0), 10, "middle");
  svg.text(pad + size, size + 20, svg_number(x1), 10, "middle");
  svg.text(pad - 4, size + 4, svg_number(y0), 10, "end");
  svg.text(pad - 4, 14, svg_number(y1), 10, "end");
  svg.text(pad + size / 2, size + 34, "input 1 (x) and input 2 (y)", 11, "middle");
  boundary_ = "<figure>" + svg.str(R"(class="decision" role="img" aria-label="decision map")") +
              "<figcaption>The model's probability of class 1 over the plane: blue towards 0, "
              "red towards 1, near-white at 0.5 (the boundary). Dots: the data, dark red "
              "class 1, dark blue class 0.</figcaption></figure>";
}

}  // namespace tinytorch
