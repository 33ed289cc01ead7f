#include <tinytorch/report/report.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <numeric>
#include <stdexcept>

#include <fmt/format.h>

#include <tinytorch/core/autograd.hpp>
#include <tinytorch/detail/atomic_file.hpp>
#include <tinytorch/report/svg.hpp>

#ifndef TINYTORCH_VERSION_STRING
#define TINYTORCH_VERSION_STRING "unknown"
#endif

namespace tinytorch {

namespace {

constexpr std::size_t kMaxFeatureImages = 4;
constexpr std::size_t kMaxMapsPerStage = 32;
constexpr std::size_t kMaxKernelsPerLayer = 1024;

const Rgb kInk{30, 30, 30};

[[noreturn]] void fail(const std::string& message) { throw std::invalid_argument(message); }

/// Puts a module back into the mode it had, also when a forward throws.
class EvalMode {
 public:
  explicit EvalMode(Module& m) : module_(m), was_training_(m.is_training()) { m.eval(); }
  ~EvalMode() { module_.train(was_training_); }
  EvalMode(const EvalMode&) = delete;
  EvalMode& operator=(const EvalMode&) = delete;

 private:
  Module& module_;
  bool was_training_;
};

// The layers of `model` in the order its forward runs them: a Sequential's children (nested
// ones opened), or those of a module whose only child is a Sequential. Empty otherwise.
void ordered_layers(Module& module, std::vector<Module*>& out) {
  for (const auto& [name, child] : module.children()) {
    if (child->name() == "Sequential") {
      ordered_layers(*child, out);
    } else {
      out.push_back(child.get());
    }
  }
}

std::vector<Module*> layers_in_order(Module& model) {
  std::vector<Module*> out;
  if (model.name() == "Sequential") {
    ordered_layers(model, out);
  } else if (model.children().size() == 1 && model.children()[0].second->name() == "Sequential") {
    ordered_layers(*model.children()[0].second, out);
  }
  return out;
}

Shape with_batch(const Shape& sample) {
  Shape s{1};
  s.insert(s.end(), sample.begin(), sample.end());
  return s;
}

Shape without_batch(const Shape& s) { return s.empty() ? s : Shape(s.begin() + 1, s.end()); }

std::vector<long> as_long(const Shape& s) { return std::vector<long>(s.begin(), s.end()); }

std::string label_text(float l) { return std::isnan(l) ? std::string("nan") : fmt::format("{}", l); }

std::string percent(double fraction) { return fmt::format("{:.1f} %", 100.0 * fraction); }

std::string figure(double v, const char* format = "{:.4f}") {
  return std::isfinite(v) ? fmt::format(fmt::runtime(format), v) : std::string("–");
}

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

std::string table(const std::vector<std::string>& head,
                  const std::vector<std::vector<std::string>>& rows, const std::string& cls = "") {
  std::string out = cls.empty() ? "<table>" : "<table class=\"" + cls + "\">";
  out += "<thead><tr>";
  for (const auto& h : head) out += "<th>" + xml_escape(h) + "</th>";
  out += "</tr></thead><tbody>";
  for (const auto& row : rows) {
    out += "<tr>";
    for (const auto& cell : row) out += "<td>" + xml_escape(cell) + "</td>";
    out += "</tr>";
  }
  return out + "</tbody></table>";
}

// A colour bar for the diverging map: −m … 0 … +m.
std::string diverging_legend(float m) {
  Svg svg(230, 34);
  for (int i = 0; i < 100; ++i) {
    const float v = m * (static_cast<float>(i) / 49.5f - 1.0f);
    svg.rect(15 + i * 2.0, 2, 2.0, 14, diverging(v, m));
  }
  svg.text(15, 30, fmt::format("{:.3g}", -m), 10, "middle");
  svg.text(115, 30, "0", 10, "middle");
  svg.text(215, 30, fmt::format("{:.3g}", m), 10, "middle");
  return svg.str(R"(class="legend" role="img" aria-label="colour scale of the weights")");
}

const char* kStyle = R"(
body { font-family: system-ui, sans-serif; color: #1e1e1e; margin: 0 auto; max-width: 1180px;
       padding: 12px 20px; line-height: 1.4; }
h1 { font-size: 1.5em; margin: 0.2em 0; }
h2 { font-size: 1.15em; border-bottom: 1px solid #ccc; margin-top: 1.4em; }
nav a { margin-right: 1em; }
section { break-inside: avoid; page-break-inside: avoid; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.4em 0; }
td, th { border: 1px solid #ddd; padding: 2px 8px; text-align: left; }
th { background: #f3f3f3; }
.row { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.note { color: #555; font-size: 0.9em; }
figure { margin: 0.3em 0; }
figcaption { font-size: 0.85em; color: #444; }
@media print { nav { display: none; } body { max-width: none; } }
)";

}  // namespace

std::string library_version() { return TINYTORCH_VERSION_STRING; }

TrainingReport::TrainingReport(std::string title) : title_(std::move(title)) {}

void TrainingReport::set(const std::string& name, const std::string& value) {
  for (auto& [n, v] : settings_) {
    if (n == name) {
      v = value;
      return;
    }
  }
  settings_.emplace_back(name, value);
}

void TrainingReport::set_class_names(std::vector<std::string> names) {
  class_names_ = std::move(names);
}

std::string TrainingReport::class_name(std::size_t k) const {
  return k < class_names_.size() ? class_names_[k] : std::to_string(k);
}

void TrainingReport::set_model(Module& model, const Shape& sample_shape) {
  model_ = &model;
  model_name_ = model.name();
  sample_shape_ = sample_shape;
  layers_.clear();
  {
    EvalMode eval(model);
    NoGradGuard no_grad;
    const std::vector<Module*> layers = layers_in_order(model);
    Tensor x = Tensor::zeros(with_batch(sample_shape));
    if (layers.empty()) {  // not a chain of layers: the model as one row
      try {
        x = model(x);
      } catch (const std::exception& e) {
        fail(fmt::format("TrainingReport::set_model: {} cannot take one example of shape {}: {}",
                         model.name(), shape_str(sample_shape), e.what()));
      }
      layers_.push_back({model.name(), shape_str(without_batch(x.shape())),
                         model.parameter_count()});
    }
    for (Module* layer : layers) {
      try {
        x = (*layer)(x);
      } catch (const std::exception& e) {
        fail(fmt::format(
            "TrainingReport::set_model: layer {} ({}) cannot take the output of the layers "
            "before it for one example of shape {}: {}",
            layers_.size() + 1, layer->name(), shape_str(sample_shape), e.what()));
      }
      layers_.push_back({layer->repr(), shape_str(without_batch(x.shape())),
                         layer->parameter_count()});
    }
  }
  const std::vector<Kernels> convs = conv_weights();
  first_kernels_before_ = convs.empty() ? Tensor() : convs.front().weight.clone();
}

void TrainingReport::add_epoch(const EpochFigures& figures) { epochs_.push_back(figures); }

void TrainingReport::follow(Trainer& trainer, std::string path) {
  if (path.empty()) fail("TrainingReport::follow: the report's path is empty");
  auto seen = std::make_shared<std::size_t>(trainer.history().eval_loss.size());
  const double first_lr = trainer.optimizer().lr();
  trainer.on_history([this, path, seen, first_lr](const Trainer& t) {
    const History& h = t.history();
    if (epochs_.size() < h.train_loss.size()) epochs_.resize(h.train_loss.size());
    for (std::size_t i = 0; i < h.train_loss.size(); ++i) {
      EpochFigures& e = epochs_[i];
      e.train_loss = h.train_loss[i];
      if (i < h.train_accuracy.size()) e.train_accuracy = h.train_accuracy[i];
      if (i < h.epoch_seconds.size()) e.seconds = h.epoch_seconds[i];
      // learning_rates[i] is set after epoch i, for the next one.
      if (i == 0) {
        e.learning_rate = first_lr;
      } else if (i - 1 < h.learning_rates.size()) {
        e.learning_rate = h.learning_rates[i - 1];
      }
    }
    if (h.eval_loss.size() > *seen) {
      if (t.epoch() > 0 && t.epoch() <= epochs_.size()) {
        epochs_[t.epoch() - 1].test_loss = h.eval_loss.back();
        epochs_[t.epoch() - 1].test_accuracy = h.eval_accuracy.back();
      } else if (t.epoch() == 0) {
        set("test accuracy before training", percent(h.eval_accuracy.back()));
      }
      *seen = h.eval_loss.size();
    }
    const bool primary = t.parallel() == nullptr || t.parallel()->rank() == 0;
    if (primary && !epochs_.empty()) write(path);
  });
}

std::vector<TrainingReport::Kernels> TrainingReport::conv_weights() const {
  std::vector<Kernels> out;
  if (model_ == nullptr) return out;
  // Every Conv2d, found by walking the module tree; its weight is the parameter "weight".
  struct Walk {
    static void run(const Module& m, const std::string& prefix, std::vector<Kernels>& out) {
      if (m.name() == "Conv2d") {
        for (const auto& [name, p] : m.named_parameters()) {
          if (name == "weight" && p.ndim() == 4) out.push_back({prefix + "weight", p});
        }
      }
      for (const auto& [name, child] : m.children()) run(*child, prefix + name + ".", out);
    }
  };
  Walk::run(*model_, "", out);
  return out;
}

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
      std::vector<float> p(classes);
      if (c == 1) {  // one output: the probability of class 1
        p[1] = std::clamp(o[r], 0.0f, 1.0f);
        p[0] = 1.0f - p[1];
      } else {
        const float* row = o + r * c;
        const float m = *std::max_element(row, row + c);
        double sum = 0.0;
        for (std::size_t j = 0; j < c; ++j) sum += std::exp(static_cast<double>(row[j] - m));
        for (std::size_t j = 0; j < c; ++j) {
          p[j] = static_cast<float>(std::exp(static_cast<double>(row[j] - m)) / sum);
        }
      }
      // The first largest, as argmax (and the Trainer's accuracy) pick it.
      predicted[begin + r] =
          c == 1 ? (o[r] > 0.5f ? 1 : 0)
                 : static_cast<std::size_t>(std::max_element(o + r * c, o + (r + 1) * c) - (o + r * c));
      probabilities.insert(probabilities.end(), p.begin(), p.end());
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
  for (std::size_t i = 0; i < r * r; ++i) {
    float p;
    if (c == 1) {
      p = std::clamp(out.data().data()[i], 0.0f, 1.0f);
    } else {
      const float* row = out.data().data() + i * c;
      const float m = *std::max_element(row, row + c);
      double sum = 0.0;
      for (std::size_t j = 0; j < c; ++j) sum += std::exp(static_cast<double>(row[j] - m));
      p = static_cast<float>(std::exp(static_cast<double>(row[1] - m)) / sum);
    }
    px[i] = diverging(p - 0.5f, 0.5f);
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

std::string TrainingReport::section_run() const {
  std::string out = "<section id=\"run\"><h2>The run</h2><div class=\"row\">";
  if (!layers_.empty()) {
    std::vector<std::vector<std::string>> rows;
    std::size_t total = 0;
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      const Layer& l = layers_[i];
      std::string description = l.description;
      std::replace(description.begin(), description.end(), '\n', ' ');
      rows.push_back({std::to_string(i + 1), description, l.output_shape,
                      fmt::format("{}", l.parameters)});
      total += l.parameters;
    }
    rows.push_back({"", "total", "", fmt::format("{}", total)});
    out += "<div><h3>" + xml_escape(model_name_) + " for inputs " +
           xml_escape(shape_str(sample_shape_)) + "</h3>" +
           table({"#", "layer", "output", "parameters"}, rows, "summary") + "</div>";
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& [n, v] : settings_) rows.push_back({n, v});
  double total = 0.0;
  std::vector<double> times;
  for (const EpochFigures& e : epochs_) {
    if (std::isfinite(e.seconds)) times.push_back(e.seconds);
  }
  if (!times.empty()) {
    total = std::accumulate(times.begin(), times.end(), 0.0);
    std::vector<double> sorted = times;
    std::sort(sorted.begin(), sorted.end());
    rows.push_back({"time per epoch", fmt::format("{:.3g} s (median of {}), {:.3g} s in all",
                                                  sorted[sorted.size() / 2], sorted.size(), total)});
  }
  rows.push_back({"epochs recorded", std::to_string(epochs_.size())});
  rows.push_back({"library", "tinytorch " + library_version()});
  out += "<div><h3>Settings</h3>" + table({"setting", "value"}, rows, "settings") + "</div>";
  return out + "</div></section>";
}

std::string TrainingReport::section_curves() const {
  auto column = [&](double EpochFigures::*field, double scale) {
    std::vector<double> v;
    for (const EpochFigures& e : epochs_) v.push_back(e.*field * scale);
    return v;
  };
  auto any = [](const std::vector<double>& v) {
    return std::any_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
  };
  std::string charts;
  const auto train_loss = column(&EpochFigures::train_loss, 1), test_loss = column(&EpochFigures::test_loss, 1);
  if (any(train_loss) || any(test_loss)) {
    charts += line_chart("Loss", "epoch", "loss",
                         {{"train loss", train_loss, chart_colour(0), false},
                          {"test loss", test_loss, chart_colour(1), true}})
                  .str(R"(class="chart" data-chart="loss")");
  }
  const auto train_acc = column(&EpochFigures::train_accuracy, 100),
             test_acc = column(&EpochFigures::test_accuracy, 100);
  if (any(train_acc) || any(test_acc)) {
    charts += line_chart("Accuracy", "epoch", "accuracy (%)",
                         {{"train accuracy", train_acc, chart_colour(0), false},
                          {"test accuracy", test_acc, chart_colour(1), true}})
                  .str(R"(class="chart" data-chart="accuracy")");
  }
  const auto lr = column(&EpochFigures::learning_rate, 1);
  bool moved = false;
  for (double v : lr) moved = moved || (std::isfinite(v) && std::isfinite(lr[0]) && v != lr[0]);
  if (moved) {
    charts += line_chart("Learning rate", "epoch", "lr", {{"learning rate", lr, chart_colour(2), false}})
                  .str(R"(class="chart" data-chart="learning-rate")");
  }
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i = 0; i < epochs_.size(); ++i) {
    const EpochFigures& e = epochs_[i];
    auto pct = [](double v) { return std::isfinite(v) ? percent(v) : std::string("–"); };
    rows.push_back({std::to_string(i + 1), figure(e.train_loss), pct(e.train_accuracy),
                    figure(e.test_loss), pct(e.test_accuracy), figure(e.learning_rate, "{:.4g}"),
                    figure(e.seconds, "{:.3g}")});
  }
  const std::size_t shown = 12;  // the table: the first and last epochs of a long run
  if (rows.size() > shown) {
    std::vector<std::vector<std::string>> cut(rows.begin(), rows.begin() + shown / 2);
    cut.push_back({"…", "", "", "", "", "", ""});
    cut.insert(cut.end(), rows.end() - shown / 2, rows.end());
    rows = cut;
  }
  return "<section id=\"curves\"><h2>Curves</h2><div class=\"row\">" + charts + "</div>" +
         table({"epoch", "train loss", "train accuracy", "test loss", "test accuracy", "lr",
                "seconds"},
               rows, "epochs") +
         "</section>";
}

std::string TrainingReport::section_kernels() const {
  const std::vector<Kernels> convs = conv_weights();
  if (convs.empty()) return "";
  std::string out =
      "<section id=\"kernels\"><h2>Learned kernels</h2><p class=\"note\">Each small square is "
      "one kernel (one output channel × one input channel), its weights on a diverging map "
      "symmetric around 0 for the whole layer: blue negative, near-white 0, red positive.</p>";
  auto grid = [](const Tensor& w, const std::string& name, const std::string& cls, float m) {
    const std::size_t o = w.dim(0), in = w.dim(1), kh = w.dim(2), kw = w.dim(3);
    const std::size_t shown = std::min(o * in, kMaxKernelsPerLayer);
    const double px = std::clamp(60.0 / static_cast<double>(std::max(kh, kw)), 3.0, 16.0);
    const double kw_px = px * static_cast<double>(kw), kh_px = px * static_cast<double>(kh);
    const std::size_t per_row = in == 1 ? std::min<std::size_t>(o, 16) : in;
    const std::size_t lines = (shown + per_row - 1) / per_row;
    Svg svg(static_cast<double>(per_row) * (kw_px + 4) + 4,
            static_cast<double>(lines) * (kh_px + 4) + 4);
    const float* v = w.data().data();
    for (std::size_t k = 0; k < shown; ++k) {
      const double x0 = 2 + static_cast<double>(k % per_row) * (kw_px + 4);
      const double y0 = 2 + static_cast<double>(k / per_row) * (kh_px + 4);
      svg.group(fmt::format(R"(class="{}" data-layer="{}" data-out="{}" data-in="{}")", cls,
                            xml_escape(name), k / in, k % in));
      for (std::size_t r = 0; r < kh; ++r) {
        for (std::size_t c = 0; c < kw; ++c) {
          svg.rect(x0 + px * static_cast<double>(c), y0 + px * static_cast<double>(r), px, px,
                   diverging(v[k * kh * kw + r * kw + c], m));
        }
      }
      svg.close();
    }
    return svg.str(fmt::format(R"(class="kernel-grid" data-layer="{}")", xml_escape(name)));
  };
  auto max_abs = [](const Tensor& w) {
    float m = 0.0f;
    const float* v = w.data().data();
    for (std::size_t i = 0; i < w.size(); ++i) {
      if (std::isfinite(v[i])) m = std::max(m, std::abs(v[i]));
    }
    return m;
  };
  for (std::size_t i = 0; i < convs.size(); ++i) {
    const Kernels& k = convs[i];
    const Shape s = k.weight.shape();
    const std::string heading = fmt::format(
        "{} — {} kernels {}×{} ({} out × {} in)", k.name, s[0] * s[1], s[2], s[3], s[0], s[1]);
    if (i == 0 && first_kernels_before_.defined() &&
        first_kernels_before_.shape() == k.weight.shape()) {
      // Before and after on one scale, so that what moved is what changed colour.
      const float m = std::max(max_abs(first_kernels_before_), max_abs(k.weight));
      out += "<h3>" + xml_escape(heading) + "</h3><div class=\"row\"><figure>" +
             grid(first_kernels_before_, k.name, "kernel-before", m) +
             "<figcaption>before training</figcaption></figure><figure>" +
             grid(k.weight, k.name, "kernel", m) +
             "<figcaption>after training</figcaption></figure><figure>" + diverging_legend(m) +
             "<figcaption>weight</figcaption></figure></div>";
    } else {
      const float m = max_abs(k.weight);
      out += "<h3>" + xml_escape(heading) + "</h3><div class=\"row\"><figure>" +
             grid(k.weight, k.name, "kernel", m) + "</figure><figure>" + diverging_legend(m) +
             "<figcaption>weight</figcaption></figure></div>";
    }
  }
  return out + "</section>";
}

std::string TrainingReport::html() const {
  if (epochs_.empty()) {
    fail("TrainingReport: no epoch is recorded yet (add_epoch, or follow a Trainer through an "
         "epoch), so there is nothing to report");
  }
  std::string nav = "<nav><a href=\"#run\">run</a><a href=\"#curves\">curves</a>";
  const std::string kernels = section_kernels();
  if (!kernels.empty()) nav += "<a href=\"#kernels\">kernels</a>";
  if (!feature_maps_.empty()) nav += "<a href=\"#feature-maps\">feature maps</a>";
  if (!confusion_svg_.empty()) nav += "<a href=\"#confusion\">confusion</a><a href=\"#mistakes\">mistakes</a>";
  if (!boundary_.empty()) nav += "<a href=\"#decision\">decision map</a>";
  nav += "</nav>";
  const std::time_t now = std::time(nullptr);
  char when[64] = "";
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", std::localtime(&now));
  std::string page =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!DOCTYPE html>\n"
      "<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\"><head><meta charset=\"utf-8\"/>"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/><title>" +
      xml_escape(title_) + "</title><style>" + kStyle + "</style></head><body><h1>" +
      xml_escape(title_) + "</h1><p class=\"note\">Written " + when + " by tinytorch " +
      xml_escape(library_version()) + "; " + std::to_string(epochs_.size()) + " epoch" +
      (epochs_.size() == 1 ? "" : "s") + ".</p>" + nav + section_run() + section_curves() +
      kernels;
  if (!feature_maps_.empty()) {
    page += "<section id=\"feature-maps\"><h2>Feature maps</h2>" + feature_maps_ + "</section>";
  }
  if (!confusion_svg_.empty()) {
    page += "<section id=\"confusion\"><h2>Confusion matrix</h2>" + confusion_svg_ +
            "</section><section id=\"mistakes\"><h2>Mistakes</h2>" + mistakes_ + "</section>";
  }
  if (!boundary_.empty()) {
    page += "<section id=\"decision\"><h2>Decision map</h2>" + boundary_ + "</section>";
  }
  return page + "</body></html>\n";
}

void TrainingReport::write(const std::string& path) const {
  const char* op = "TrainingReport::write";
  if (path.empty()) fail(fmt::format("{}: the path is empty", op));
  if (path.find('\0') != std::string::npos) fail(fmt::format("{}: the path has a NUL byte", op));
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    fail(fmt::format("{}: '{}' is a folder; give a file name, such as '{}/report.html'", op, path,
                     path));
  }
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty() && !fs::is_directory(parent, ec)) {
    fail(fmt::format("{}: the folder '{}' of '{}' does not exist", op, parent.string(), path));
  }
  const std::string page = html();  // throws before any file is made
  detail::AtomicFile file(op, path);
  file.write(page.data(), page.size());
  file.commit();
}

}  // namespace tinytorch
