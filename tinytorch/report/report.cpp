// The training report's page: the run, the curves, the learned kernels, and writing it.
#include <tinytorch/report/report.hpp>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <numeric>
#include <stdexcept>

#include <fmt/format.h>

#include <tinytorch/core/autograd.hpp>
#include <tinytorch/detail/atomic_file.hpp>
#include <tinytorch/report/internal/common.hpp>
#include <tinytorch/report/svg.hpp>

#ifndef TINYTORCH_VERSION_STRING
#define TINYTORCH_VERSION_STRING "unknown"
#endif

namespace tinytorch {

using namespace report_internal;

namespace {

constexpr std::size_t kMaxKernelsPerLayer = 1024;

std::string figure(double v, const char* format = "{:.4f}") {
  return std::isfinite(v) ? fmt::format(fmt::runtime(format), v) : std::string("–");
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
