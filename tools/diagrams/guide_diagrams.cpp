// The guides' diagrams, drawn from what the library computes (so a picture cannot disagree
// with the code it explains):
//
//   02_activations.svg       ReLU, sigmoid, tanh and GELU over [−4, 4]
//   05_graph.svg             the graph of y = (a*b + a).sum() and the order backward visits it
//   05_unbroadcast.svg       b [3] broadcast over a [2, 3]: its gradient sums the rows
//   07_cosine_schedule.svg   CosineSchedule(0.1, 0.01, 50) over 60 epochs
//   09_im2col.svg            a 4×4 image, padding 1, 3×3 kernel, stride 2: its im2col matrix
//   09_maxpool_routing.svg   max pooling 2×2: each gradient goes to the input that won
//
//   guide_diagrams OUT_DIR       (scripts/guide-figures.sh writes docs/modules/figures)
//
// The output is the same on every run and machine (a test compares it with the committed
// files).
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>

#include <tinytorch/report/svg.hpp>
#include <tinytorch/tinytorch.hpp>

using namespace tinytorch;

namespace {

const Rgb kGrey{120, 120, 120}, kPale{240, 240, 240}, kWhite{255, 255, 255};

void save(const std::filesystem::path& dir, const std::string& name, const std::string& svg) {
  std::ofstream out(dir / name, std::ios::binary);
  out << svg << "\n";
  if (!out) throw std::runtime_error("cannot write " + (dir / name).string());
}

std::string number(float v) {
  if (v == 0.0f) return "0";  // not −0
  return fmt::format("{:g}", v);
}

// Values of a 1-D or 2-D tensor as text: "[5, 7, 9]", "[[2, 1, 0], [2, 1, 0]]".
std::string values(const Tensor& t) {
  const float* v = t.data().data();
  auto row = [&](std::size_t begin, std::size_t n) {
    std::string s = "[";
    for (std::size_t i = 0; i < n; ++i) s += (i ? ", " : "") + number(v[begin + i]);
    return s + "]";
  };
  if (t.ndim() == 0) return number(v[0]);
  if (t.ndim() == 1) return row(0, t.size());
  std::string s = "[";
  const std::size_t cols = t.dim(-1);
  for (std::size_t r = 0; r < t.size() / cols; ++r) s += (r ? ", " : "") + row(r * cols, cols);
  return s + "]";
}

const char* kArrowDefs =
    R"(<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" )"
    R"(markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" )"
    R"(fill="#555555"/></marker></defs>)";

// A grid of numbers: cell (r, c) at (x + c·s, y + r·s), filled by `fill`.
void number_grid(Svg& svg, double x, double y, double s, std::size_t rows, std::size_t cols,
                 const std::function<float(std::size_t, std::size_t)>& value,
                 const std::function<Rgb(std::size_t, std::size_t)>& fill) {
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      const double cx = x + static_cast<double>(c) * s, cy = y + static_cast<double>(r) * s;
      svg.rect(cx, cy, s, s, fill(r, c), R"(stroke="#888888" stroke-width="0.8")");
      svg.text(cx + s / 2, cy + s / 2 + 4, number(value(r, c)), 11, "middle");
    }
  }
}

void activations(const std::filesystem::path& dir) {
  std::vector<float> xs;
  for (int i = -80; i <= 80; ++i) xs.push_back(static_cast<float>(i) / 20.0f);
  const Tensor x = Tensor::from(xs, {xs.size()});
  auto series = [&](const char* name, const Tensor& y, std::size_t colour, bool dashed) {
    const float* v = y.data().data();
    return Series{name, std::vector<double>(v, v + y.size()), chart_colour(colour), dashed};
  };
  const std::vector<double> x_values(xs.begin(), xs.end());
  Svg chart = xy_chart("Activations", "x", "f(x)", x_values,
                       {series("ReLU", relu(x), 0, false), series("sigmoid", sigmoid(x), 1, true),
                        series("tanh", tanh(x), 2, false), series("GELU", gelu(x), 3, true)},
                       520, 300);
  save(dir, "02_activations.svg", chart.str(R"(role="img" aria-label="activation curves")"));
}

void cosine_schedule(const std::filesystem::path& dir) {
  const CosineSchedule schedule(0.1f, 0.01f, 50);
  std::vector<double> epochs, lr;
  for (std::size_t e = 0; e < 60; ++e) {
    epochs.push_back(static_cast<double>(e));
    lr.push_back(schedule.get_lr(e));
  }
  Svg chart = xy_chart("CosineSchedule(max 0.1, min 0.01, 50 epochs)", "epoch e", "get_lr(e)",
                       epochs, {{"learning rate", lr, chart_colour(0), false}}, 520, 280);
  save(dir, "07_cosine_schedule.svg", chart.str(R"(role="img" aria-label="cosine schedule")"));
}

// The graph of the guide's worked example, walked through grad_fn edges as backward walks
// it: depth-first from y, each tensor after every tensor made from it.
void autograd_graph(const std::filesystem::path& dir) {
  Tensor a({{1, 2, 3}, {4, 5, 6}}, true), b({1, 0, -1}, true);
  Tensor p = a * b;
  Tensor q = p + a;
  Tensor y = q.sum();
  const std::map<const void*, std::string> names{
      {a.id(), "a"}, {b.id(), "b"}, {p.id(), "p = a*b"}, {q.id(), "q = p + a"}, {y.id(), "y = q.sum()"}};

  std::vector<Tensor> post;
  std::unordered_set<const void*> seen;
  std::function<void(const Tensor&)> visit = [&](const Tensor& t) {
    if (!seen.insert(t.id()).second) return;
    if (t.grad_fn()) {
      for (const Tensor& input : t.grad_fn()->inputs()) {
        if (input.requires_grad()) visit(input);
      }
    }
    post.push_back(t);
  };
  visit(y);
  const std::vector<Tensor> order(post.rbegin(), post.rend());  // y first

  // Columns by depth from the leaves; the edges and node names, read before backward frees
  // the graph.
  std::map<const void*, int> depth;
  std::map<const void*, std::string> node_name;
  std::vector<std::pair<const void*, const void*>> edges;  // (input, output)
  for (const Tensor& t : post) {
    int d = 0;
    if (t.grad_fn()) {
      node_name[t.id()] = t.grad_fn()->name();
      for (const Tensor& input : t.grad_fn()->inputs()) {
        if (!input.requires_grad()) continue;
        d = std::max(d, depth[input.id()] + 1);
        edges.emplace_back(input.id(), t.id());
      }
    }
    depth[t.id()] = d;
  }
  y.backward();
  std::map<int, int> used;
  std::map<const void*, std::pair<double, double>> at;
  const double w = 196, h = 78, gap_x = 60, gap_y = 40;
  for (const Tensor& t : post) {
    const int d = depth[t.id()];
    at[t.id()] = {20 + d * (w + gap_x), 96 + used[d]++ * (h + gap_y)};
  }
  int columns = 0, rows = 0;
  for (auto [d, n] : used) {
    columns = std::max(columns, d + 1);
    rows = std::max(rows, n);
  }
  Svg svg(40 + columns * (w + gap_x) - gap_x, 96 + rows * (h + gap_y) + 30);
  svg.raw(kArrowDefs);
  svg.text(20, 20, "y = (a*b + a).sum(): forward left to right; backward visits the numbered "
                   "steps in order", 13, "start", R"(font-weight="bold")");
  svg.text(20, 38, "each box: the tensor, the node that made it, and the gradient backward "
                   "leaves in it", 11, "start", R"(fill="#555555")");
  for (const auto& [from, to] : edges) {  // forward edges
    const auto [x0, y0] = at[from];
    const auto [x1, y1] = at[to];
    if (depth[to] - depth[from] == 1) {
      svg.line(x0 + w, y0 + h / 2, x1 - 2, y1 + h / 2, Rgb{85, 85, 85}, 1.4,
               R"x(marker-end="url(#arrow)")x");
    } else {  // over the boxes between them
      svg.raw(fmt::format(
          R"x(<path d="M{},{} C{},{} {},{} {},{}" fill="none" stroke="#555555" stroke-width="1.4" marker-end="url(#arrow)"/>)x",
          svg_number(x0 + w * 0.7), svg_number(y0), svg_number(x0 + w * 0.7), svg_number(y0 - 38),
          svg_number(x1 + w * 0.3), svg_number(y1 - 38), svg_number(x1 + w * 0.3), svg_number(y1 - 2)));
    }
  }
  for (std::size_t k = 0; k < order.size(); ++k) {
    const Tensor& t = order[k];
    const auto [x, yy] = at[t.id()];
    const bool leaf = node_name.count(t.id()) == 0;
    svg.rect(x, yy, w, h, leaf ? Rgb{222, 235, 247} : Rgb{253, 236, 214},
             R"(rx="8" stroke="#555555" stroke-width="1")");
    svg.text(x + 10, yy + 18, names.at(t.id()), 12, "start", R"(font-weight="bold")");
    svg.text(x + 10, yy + 36,
             leaf ? fmt::format("leaf {}", shape_str(t.shape()))
                  : fmt::format("{} {}", node_name.at(t.id()), shape_str(t.shape())),
             11);
    const Tensor g = t.grad();
    svg.text(x + 10, yy + 54, g.defined() ? "grad " + values(g) : "grad: passed on, not kept", 10,
             "start", R"(fill="#333333")");
    svg.circle(x + w - 4, yy + 4, 11, Rgb{0, 114, 178});
    svg.text(x + w - 4, yy + 8, std::to_string(k + 1), 11, "middle",
             R"(fill="#ffffff" font-weight="bold")");
  }
  svg.text(20, 96 + rows * (h + gap_y) + 14,
           "a is used twice (by p and by q): backward visits it after both, when its two "
           "gradients have been added up.",
           11);
  save(dir, "05_graph.svg", svg.str(R"(role="img" aria-label="computation graph")"));
}

void unbroadcast(const std::filesystem::path& dir) {
  Tensor a({{1, 2, 3}, {4, 5, 6}}), b({1, 0, -1}, true);
  (a * b).sum().backward();  // ∂/∂b of Σ a_ij b_j: g·a summed over the broadcast axis
  const Tensor per_row = a;  // the upstream gradient 1 times a, before the sum
  const Tensor grad = b.grad();
  const double s = 34;
  Svg svg(560, 250);
  svg.raw(kArrowDefs);
  svg.text(20, 20, "b [3] was broadcast over the rows of a [2, 3]: its gradient sums them", 13,
           "start", R"(font-weight="bold")");
  svg.text(20, 52, "g · a  [2, 3]  (one row per copy of b)", 11);
  number_grid(svg, 20, 62, s, 2, 3, [&](std::size_t r, std::size_t c) { return per_row.data()(r, c); },
              [](std::size_t r, std::size_t) { return r == 0 ? Rgb{222, 235, 247} : Rgb{253, 236, 214}; });
  svg.text(20 + 1.5 * s, 62 + 2 * s + 26, "sum over axis 0", 11, "middle", R"(fill="#555555")");
  for (int c = 0; c < 3; ++c) {
    const double x = 20 + (c + 0.5) * s;
    svg.line(x, 62 + 2 * s + 32, x, 62 + 2 * s + 62, Rgb{85, 85, 85}, 1.4, R"x(marker-end="url(#arrow)")x");
  }
  svg.text(20, 62 + 2 * s + 80, "b.grad()  [3]", 11);
  number_grid(svg, 20, 62 + 2 * s + 86, s, 1, 3, [&](std::size_t, std::size_t c) { return grad.data()(c); },
              [](std::size_t, std::size_t) { return Rgb{232, 245, 233}; });
  // The rule in words beside the picture.
  const double tx = 190;
  svg.text(tx, 70, "forward: b [3] is read as [1, 3], then stretched to [2, 3]", 11);
  svg.text(tx, 90, "backward: every copy of b_j sent a gradient;", 11);
  svg.text(tx, 106, "b_j's gradient is their sum down column j", 11);
  svg.text(tx, 134, fmt::format("b.grad() = {} = the column sums of a", values(grad)), 11, "start",
           R"(font-weight="bold")");
  svg.text(tx, 162, "unbroadcast(g, shape): sum the axes broadcasting added", 11);
  svg.text(tx, 178, "(leading ones), then keep-dims sums over the axes", 11);
  svg.text(tx, 194, "where the shape had 1 and g has more", 11);
  save(dir, "05_unbroadcast.svg", svg.str(R"(role="img" aria-label="unbroadcast")"));
}

void im2col(const std::filesystem::path& dir) {
  const std::size_t n = 4, k = 3, pad = 1, stride = 2, out = (n + 2 * pad - k) / stride + 1;
  std::vector<float> pixels(n * n);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<float>(i + 1);
  const Tensor x = Tensor::from(pixels, {1, 1, n, n});
  // Row t of the im2col matrix is what a kernel with a single 1 at tap t sees at each output
  // position: the library's conv2d computes the matrix the picture shows.
  std::vector<std::vector<float>> cols(k * k, std::vector<float>(out * out));
  for (std::size_t t = 0; t < k * k; ++t) {
    std::vector<float> one_hot(k * k, 0.0f);
    one_hot[t] = 1.0f;
    const Tensor row = conv2d(x, Tensor::from(one_hot, {1, 1, k, k}), Tensor(), stride, pad);
    for (std::size_t j = 0; j < out * out; ++j) cols[t][j] = row.data().data()[j];
  }
  auto padded = [&](std::size_t r, std::size_t c) -> float {
    if (r < pad || c < pad || r >= n + pad || c >= n + pad) return 0.0f;
    return pixels[(r - pad) * n + (c - pad)];
  };
  const double s = 30, x0 = 20, y0 = 70;
  const std::size_t side = n + 2 * pad;
  Svg svg(700, 430);
  svg.text(20, 20, "im2col: a 4×4 image, padding 1, a 3×3 kernel, stride 2 → 2×2 outputs", 13,
           "start", R"(font-weight="bold")");
  svg.text(20, 38, "each output position's window becomes one column; each kernel tap (u, v) one row",
           11, "start", R"(fill="#555555")");
  svg.text(x0, y0 - 8, "x_pad [6, 6] (grey: padding)", 11);
  number_grid(svg, x0, y0, s, side, side, padded, [&](std::size_t r, std::size_t c) {
    return (r < pad || c < pad || r >= n + pad || c >= n + pad) ? Rgb{215, 215, 215} : kWhite;
  });
  for (std::size_t j = 0; j < out * out; ++j) {  // the windows, each in its colour
    const double wr = static_cast<double>((j / out) * stride), wc = static_cast<double>((j % out) * stride);
    const double inset = 2.0 + 2.5 * static_cast<double>(j);
    svg.rect(x0 + wc * s + inset, y0 + wr * s + inset, k * s - 2 * inset, k * s - 2 * inset, kWhite,
             fmt::format(R"(fill-opacity="0" stroke="{}" stroke-width="2.5")", chart_colour(j).hex()));
  }
  const double mx = 300, my = y0;
  svg.text(mx, my - 8, "cols [9, 4]: row (u, v), column = output position i·2 + j", 11);
  for (std::size_t j = 0; j < out * out; ++j) {
    svg.rect(mx + 60 + static_cast<double>(j) * s, my, s, 8, chart_colour(j));
  }
  number_grid(svg, mx + 60, my + 10, s, k * k, out * out,
              [&](std::size_t r, std::size_t c) { return cols[r][c]; },
              [](std::size_t, std::size_t) { return kWhite; });
  for (std::size_t t = 0; t < k * k; ++t) {
    svg.text(mx + 54, my + 10 + (static_cast<double>(t) + 0.5) * s + 4,
             fmt::format("({}, {})", t / k, t % k), 10, "end");
  }
  svg.text(mx, my + 10 + 9 * s + 24, "y = W [1, 9] · cols [9, 4]: one matrix product for all", 11);
  svg.text(mx, my + 10 + 9 * s + 40, "outputs; a column's zeros are the padding it covers", 11);
  save(dir, "09_im2col.svg", svg.str(R"(role="img" aria-label="im2col layout")"));
}

void maxpool_routing(const std::filesystem::path& dir) {
  const std::vector<float> input{1, 6, 2, 0, 4, 3, 8, 5, 7, 2, 1, 3, 0, 9, 4, 6};
  Tensor x = Tensor::from(input, {1, 1, 4, 4}, true);
  const Tensor y = max_pool2d(x, {2, 2});
  const Tensor upstream = Tensor::from(std::vector<float>{10, 20, 30, 40}, {1, 1, 2, 2});
  y.backward(upstream);
  const Tensor dx = x.grad();
  const float* g = dx.data().data();
  const float* v = x.data().data();
  const double s = 34;
  Svg svg(720, 250);
  svg.raw(kArrowDefs);
  svg.text(20, 20, "Max pooling 2×2, stride 2: forward keeps each window's largest input; "
                   "backward sends the gradient there", 13, "start", R"(font-weight="bold")");
  auto window_colour = [](std::size_t r, std::size_t c) { return chart_colour((r / 2) * 2 + c / 2); };
  auto tint = [](Rgb c) {  // a light version of a window's colour
    return Rgb{static_cast<std::uint8_t>(255 - (255 - c.r) / 4), static_cast<std::uint8_t>(255 - (255 - c.g) / 4),
               static_cast<std::uint8_t>(255 - (255 - c.b) / 4)};
  };
  auto won = [&](std::size_t r, std::size_t c) { return g[r * 4 + c] != 0.0f; };
  svg.text(20, 56, "x [4, 4] (bold: the winners)", 11);
  number_grid(svg, 20, 64, s, 4, 4, [&](std::size_t r, std::size_t c) { return v[r * 4 + c]; },
              [&](std::size_t r, std::size_t c) { return won(r, c) ? window_colour(r, c) : tint(window_colour(r, c)); });
  svg.line(20 + 4 * s + 10, 64 + 2 * s, 20 + 4 * s + 50, 64 + 2 * s, kGrey, 1.4, R"x(marker-end="url(#arrow)")x");
  svg.text(210, 56, "y = max_pool2d(x) [2, 2]", 11);
  number_grid(svg, 210, 64 + s, s, 2, 2, [&](std::size_t r, std::size_t c) { return y.data().data()[r * 2 + c]; },
              [&](std::size_t r, std::size_t c) { return window_colour(2 * r, 2 * c); });
  svg.text(380, 56, "gradient in [2, 2]", 11);
  number_grid(svg, 380, 64 + s, s, 2, 2, [&](std::size_t r, std::size_t c) { return upstream.data().data()[r * 2 + c]; },
              [&](std::size_t r, std::size_t c) { return tint(window_colour(2 * r, 2 * c)); });
  svg.line(380 + 2 * s + 10, 64 + 2 * s, 380 + 2 * s + 50, 64 + 2 * s, kGrey, 1.4, R"x(marker-end="url(#arrow)")x");
  svg.text(510, 56, "x.grad() [4, 4]", 11);
  number_grid(svg, 510, 64, s, 4, 4, [&](std::size_t r, std::size_t c) { return g[r * 4 + c]; },
              [&](std::size_t r, std::size_t c) { return won(r, c) ? window_colour(r, c) : kPale; });
  svg.text(20, 64 + 4 * s + 30, "Only the input that won a window moved the output, so only it gets "
                                "that window's gradient; the other three get 0.", 11);
  svg.text(20, 64 + 4 * s + 48, "(A tie sends it to the first maximum in reading order, as the "
                                "library does.)", 11, "start", R"(fill="#555555")");
  save(dir, "09_maxpool_routing.svg", svg.str(R"(role="img" aria-label="max pooling routing")"));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: guide_diagrams OUT_DIR\n");
    return 2;
  }
  try {
    const std::filesystem::path dir(argv[1]);
    std::filesystem::create_directories(dir);
    activations(dir);
    autograd_graph(dir);
    unbroadcast(dir);
    cosine_schedule(dir);
    im2col(dir);
    maxpool_routing(dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "guide_diagrams: %s\n", e.what());
    return 1;
  }
  return 0;
}
