#include <tinytorch/report/svg.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>
#include <zlib.h>

namespace tinytorch {

namespace {

// Linear interpolation between evenly spaced colour stops, t in [0, 1].
template <std::size_t N>
Rgb interpolate(const std::array<Rgb, N>& stops, double t) {
  t = std::clamp(t, 0.0, 1.0);
  const double at = t * static_cast<double>(N - 1);
  const auto i = std::min(static_cast<std::size_t>(at), N - 2);
  const double f = at - static_cast<double>(i);
  auto mix = [f](std::uint8_t a, std::uint8_t b) {
    return static_cast<std::uint8_t>(std::lround(a + (b - a) * f));
  };
  const Rgb& a = stops[i];
  const Rgb& b = stops[i + 1];
  return {mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b)};
}

// viridis sampled at t = 0, 1/8, ..., 1.
constexpr std::array<Rgb, 9> kViridis{{{68, 1, 84},
                                       {71, 45, 123},
                                       {59, 82, 139},
                                       {44, 114, 142},
                                       {33, 145, 140},
                                       {40, 174, 128},
                                       {94, 201, 98},
                                       {173, 220, 48},
                                       {253, 231, 37}}};
// ColorBrewer RdBu (7 classes), negative (blue) first, so that its middle stop is 0.
constexpr std::array<Rgb, 7> kRdBu{{{33, 102, 172},
                                    {103, 169, 207},
                                    {209, 229, 240},
                                    {247, 247, 247},
                                    {253, 219, 199},
                                    {239, 138, 98},
                                    {178, 24, 43}}};

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

void put_chunk(std::string& out, const char* type, const std::string& data) {
  put_u32(out, static_cast<std::uint32_t>(data.size()));
  const std::string body = std::string(type, 4) + data;
  out += body;
  const auto crc = ::crc32(0L, reinterpret_cast<const Bytef*>(body.data()),
                           static_cast<uInt>(body.size()));
  put_u32(out, static_cast<std::uint32_t>(crc));
}

// Ticks at 1, 2 or 5 × 10^k covering [lo, hi], about `target` of them.
std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo)) {
    const double pad = lo == 0.0 ? 1.0 : std::abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const double rough = (hi - lo) / target;
  const double power = std::pow(10.0, std::floor(std::log10(rough)));
  double step = power;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * power;
    if (step >= rough) break;
  }
  std::vector<double> ticks;
  for (double v = std::floor(lo / step) * step; v <= hi + step * 0.5; v += step) {
    ticks.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
    if (ticks.size() > 50) break;
  }
  return ticks;
}

std::string tick_label(double v, double step) {
  const int decimals = step >= 1.0 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  return fmt::format("{:.{}f}", v, std::clamp(decimals, 0, 6));
}

}  // namespace

std::string Rgb::hex() const { return fmt::format("#{:02x}{:02x}{:02x}", r, g, b); }

Rgb diverging(float value, float max_abs) {
  if (!(max_abs > 0.0f) || std::isinf(max_abs) || std::isnan(value)) return kRdBu[3];
  return interpolate(kRdBu, (static_cast<double>(value) / static_cast<double>(max_abs) + 1.0) / 2.0);
}

Rgb viridis(float t) { return interpolate(kViridis, std::isnan(t) ? 0.0 : static_cast<double>(t)); }

Rgb grey(float t) {
  const double c = std::clamp(std::isnan(t) ? 0.0 : static_cast<double>(t), 0.0, 1.0);
  const auto v = static_cast<std::uint8_t>(std::lround(255.0 * c));
  return {v, v, v};
}

std::string encode_png(std::size_t width, std::size_t height, const std::vector<Rgb>& pixels) {
  if (width == 0 || height == 0 || width > (1u << 24) || height > (1u << 24)) {
    throw std::invalid_argument(
        fmt::format("encode_png: expected a picture of 1 to 2^24 pixels a side, got {} × {}",
                    width, height));
  }
  if (pixels.size() != width * height) {
    throw std::invalid_argument(fmt::format(
        "encode_png: a {} × {} picture needs {} pixels, got {}", width, height, width * height,
        pixels.size()));
  }
  std::string raw;  // each row: filter byte 0 (none), then RGB triples
  raw.reserve(height * (1 + 3 * width));
  for (std::size_t y = 0; y < height; ++y) {
    raw.push_back('\0');
    for (std::size_t x = 0; x < width; ++x) {
      const Rgb& p = pixels[y * width + x];
      raw.push_back(static_cast<char>(p.r));
      raw.push_back(static_cast<char>(p.g));
      raw.push_back(static_cast<char>(p.b));
    }
  }
  uLongf packed_size = ::compressBound(static_cast<uLong>(raw.size()));
  std::string packed(packed_size, '\0');
  if (::compress2(reinterpret_cast<Bytef*>(packed.data()), &packed_size,
                  reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()),
                  Z_BEST_COMPRESSION) != Z_OK) {
    throw std::runtime_error("encode_png: zlib could not compress the picture");
  }
  packed.resize(packed_size);
  std::string png("\x89PNG\r\n\x1a\n", 8);
  std::string header;
  put_u32(header, static_cast<std::uint32_t>(width));
  put_u32(header, static_cast<std::uint32_t>(height));
  header += std::string("\x08\x02\x00\x00\x00", 5);  // 8 bits, RGB, deflate, filters, no interlace
  put_chunk(png, "IHDR", header);
  put_chunk(png, "IDAT", packed);
  put_chunk(png, "IEND", "");
  return png;
}

std::string base64(const std::string& bytes) {
  static const char* digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const auto v = (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16) |
                   (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8) |
                   static_cast<unsigned char>(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(digits[(v >> s) & 63]);
  }
  if (i < bytes.size()) {
    std::uint32_t v = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    const bool two = i + 1 < bytes.size();
    if (two) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out.push_back(digits[(v >> 18) & 63]);
    out.push_back(digits[(v >> 12) & 63]);
    out.push_back(two ? digits[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::string png_data_uri(std::size_t width, std::size_t height, const std::vector<Rgb>& pixels) {
  return "data:image/png;base64," + base64(encode_png(width, height, pixels));
}

std::string xml_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if (c < 0x20 && c != '\t' && c != '\n') {
          out += "\xEF\xBF\xBD";
        } else {
          out.push_back(ch);
        }
    }
  }
  return out;
}

std::string svg_number(double v) {
  if (!std::isfinite(v)) return "0";
  std::string s = fmt::format("{:.2f}", v);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

Svg::Svg(double width, double height) : width_(width), height_(height) {}

void Svg::rect(double x, double y, double w, double h, Rgb fill, const std::string& attributes) {
  body_ += fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" fill="{}"{}{}/>)",
                       svg_number(x), svg_number(y), svg_number(w), svg_number(h), fill.hex(),
                       attributes.empty() ? "" : " ", attributes);
}

void Svg::line(double x1, double y1, double x2, double y2, Rgb stroke, double width,
               const std::string& attributes) {
  body_ += fmt::format(R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="{}"{}{}/>)",
                       svg_number(x1), svg_number(y1), svg_number(x2), svg_number(y2),
                       stroke.hex(), svg_number(width), attributes.empty() ? "" : " ", attributes);
}

void Svg::polyline(const std::vector<double>& xy, Rgb stroke, double width,
                   const std::string& attributes) {
  std::string points;
  for (std::size_t i = 0; i + 1 < xy.size(); i += 2) {
    if (!points.empty()) points += ' ';
    points += svg_number(xy[i]) + "," + svg_number(xy[i + 1]);
  }
  body_ += fmt::format(R"(<polyline points="{}" fill="none" stroke="{}" stroke-width="{}"{}{}/>)",
                       points, stroke.hex(), svg_number(width), attributes.empty() ? "" : " ",
                       attributes);
}

void Svg::circle(double cx, double cy, double r, Rgb fill, const std::string& attributes) {
  body_ += fmt::format(R"(<circle cx="{}" cy="{}" r="{}" fill="{}"{}{}/>)", svg_number(cx),
                       svg_number(cy), svg_number(r), fill.hex(), attributes.empty() ? "" : " ",
                       attributes);
}

void Svg::text(double x, double y, const std::string& text, double size, const std::string& anchor,
               const std::string& attributes) {
  body_ += fmt::format(R"(<text x="{}" y="{}" font-size="{}" text-anchor="{}"{}{}>{}</text>)",
                       svg_number(x), svg_number(y), svg_number(size), anchor,
                       attributes.empty() ? "" : " ", attributes, xml_escape(text));
}

void Svg::image(double x, double y, double box_w, double box_h, std::size_t w, std::size_t h,
                const std::vector<Rgb>& pixels, const std::string& attributes) {
  body_ += fmt::format(
      R"(<image x="{}" y="{}" width="{}" height="{}" preserveAspectRatio="none" )"
      R"(style="image-rendering:pixelated" href="{}"{}{}/>)",
      svg_number(x), svg_number(y), svg_number(box_w), svg_number(box_h),
      png_data_uri(w, h, pixels), attributes.empty() ? "" : " ", attributes);
}

void Svg::group(const std::string& attributes) {
  body_ += attributes.empty() ? "<g>" : "<g " + attributes + ">";
  ++open_groups_;
}

void Svg::close() {
  if (open_groups_ == 0) throw std::logic_error("Svg::close: no group is open");
  body_ += "</g>";
  --open_groups_;
}

void Svg::raw(const std::string& markup) { body_ += markup; }

std::string Svg::str(const std::string& attributes) const {
  std::string closing;
  for (int i = 0; i < open_groups_; ++i) closing += "</g>";
  return fmt::format(
      R"(<svg xmlns="http://www.w3.org/2000/svg" width="{0}" height="{1}" viewBox="0 0 {0} {1}" )"
      R"(font-family="sans-serif"{2}{3}>{4}{5}</svg>)",
      svg_number(width_), svg_number(height_), attributes.empty() ? "" : " ", attributes, body_,
      closing);
}

Rgb chart_colour(std::size_t index) {
  static constexpr std::array<Rgb, 6> okabe_ito{{{0, 114, 178},
                                                 {230, 159, 0},
                                                 {0, 158, 115},
                                                 {204, 121, 167},
                                                 {86, 180, 233},
                                                 {213, 94, 0}}};
  return okabe_ito[index % okabe_ito.size()];
}

Svg line_chart(const std::string& title, const std::string& x_label, const std::string& y_label,
               const std::vector<Series>& series, double width, double height) {
  std::size_t n = 0;
  for (const Series& s : series) n = std::max(n, s.values.size());
  std::vector<double> xs(std::max<std::size_t>(n, 1));
  for (std::size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<double>(i + 1);
  return xy_chart(title, x_label, y_label, xs, series, width, height);
}

Svg xy_chart(const std::string& title, const std::string& x_label, const std::string& y_label,
             const std::vector<double>& xs, const std::vector<Series>& series, double width,
             double height) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const Series& s : series) {
    if (s.values.size() > xs.size()) {
      throw std::invalid_argument(fmt::format(
          "xy_chart '{}': series '{}' has {} values for {} x values", title, s.name,
          s.values.size(), xs.size()));
    }
    for (double v : s.values) {
      if (!std::isfinite(v)) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (!(lo <= hi) || xs.empty()) {
    throw std::invalid_argument(
        fmt::format("line_chart '{}': no series has a finite value to draw", title));
  }
  const double left = 52, right = 12, top = 26, bottom = 58;
  const double plot_w = width - left - right, plot_h = height - top - bottom;
  const std::vector<double> ys = nice_ticks(lo, hi, 5);
  const double y0 = ys.front(), y1 = ys.back() > y0 ? ys.back() : y0 + 1.0;
  // Epoch charts (x = 1, 2, ...) start at their first point; others at their first tick.
  const bool epochs = xs.front() == 1.0;
  const std::vector<double> x_ticks = nice_ticks(xs.front(), xs.back(), 6);
  const double x_lo = epochs ? 1.0 : std::min(xs.front(), x_ticks.front());
  const double x_hi = epochs ? std::max(2.0, xs.back()) : std::max(xs.back(), x_ticks.back());
  auto px = [&](double x) { return left + (x - x_lo) / (x_hi - x_lo) * plot_w; };
  auto py = [&](double y) { return top + (y1 - y) / (y1 - y0) * plot_h; };

  const Rgb axis{80, 80, 80}, grid{225, 225, 225}, ink{30, 30, 30};
  Svg svg(width, height);
  svg.text(width / 2, 16, title, 13, "middle", R"(font-weight="bold")");
  const double y_step = ys.size() > 1 ? ys[1] - ys[0] : 1.0;
  for (double y : ys) {
    svg.line(left, py(y), left + plot_w, py(y), grid);
    svg.text(left - 6, py(y) + 4, tick_label(y, y_step), 10, "end");
  }
  const double x_step = x_ticks.size() > 1 ? x_ticks[1] - x_ticks[0] : 1.0;
  for (double x : x_ticks) {
    if (x < x_lo - 1e-9 || x > x_hi + 1e-9 || (epochs && x != std::floor(x))) continue;
    svg.line(px(x), top + plot_h, px(x), top + plot_h + 4, axis);
    svg.text(px(x), top + plot_h + 15, tick_label(x, epochs ? 1.0 : x_step), 10, "middle");
  }
  svg.line(left, top, left, top + plot_h, axis);
  svg.line(left, top + plot_h, left + plot_w, top + plot_h, axis);
  svg.text(left + plot_w / 2, top + plot_h + 30, x_label, 11, "middle");
  svg.text(14, top + plot_h / 2, y_label, 11, "middle",
           fmt::format(R"x(transform="rotate(-90 14 {})")x", svg_number(top + plot_h / 2)));

  double legend_x = left;
  for (const Series& s : series) {
    const std::string dash = s.dashed ? R"(stroke-dasharray="5 3")" : "";
    std::vector<double> run;  // the points between gaps
    auto flush = [&] {
      if (run.size() >= 4) svg.polyline(run, s.colour, 2.0, dash);
      run.clear();
    };
    for (std::size_t i = 0; i < s.values.size(); ++i) {
      const double v = s.values[i];
      if (!std::isfinite(v)) {
        if (run.size() == 2) svg.circle(run[0], run[1], 3.5, s.colour);
        flush();
        continue;
      }
      const double x = px(xs[i]), y = py(v);
      run.push_back(x);
      run.push_back(y);
      if (epochs && s.values.size() <= 40) svg.circle(x, y, 2.5, s.colour);
    }
    if (run.size() == 2) svg.circle(run[0], run[1], 3.5, s.colour);
    flush();
    const double ly = height - 10;
    svg.line(legend_x, ly - 4, legend_x + 22, ly - 4, s.colour, 2.5, dash);
    svg.text(legend_x + 26, ly, s.name, 10, "start", "fill=\"" + ink.hex() + "\"");
    legend_x += 34 + 6.2 * static_cast<double>(s.name.size());
  }
  return svg;
}

}  // namespace tinytorch
