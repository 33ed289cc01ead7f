// The drawing pieces of the training report (report.hpp) and of the guides' diagrams: colour
// maps, a PNG encoder, and a small SVG writer with a line chart. Everything is text: a page
// made of them needs no server, no script and no file beside it.
//
//   Rgb c = diverging(w, max_abs);     // −max_abs blue, 0 near-white, +max_abs red
//   Rgb v = viridis(t);                // t in [0, 1]: dark purple → yellow
//   Svg svg(320, 200);
//   svg.rect(10, 10, 20, 20, c);
//   svg.text(10, 50, "kernel 1 <of 8>");   // escaped
//   std::string page = svg.str();          // <svg xmlns=...>...</svg>
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tinytorch {

/// An sRGB colour, 8 bits a channel.
struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb& o) const { return r == o.r && g == o.g && b == o.b; }
  bool operator!=(const Rgb& o) const { return !(*this == o); }
  /// "#rrggbb"
  std::string hex() const;
};

/// The diverging map for weights: value/max_abs in [−1, 1] runs blue (#2166ac) → near-white
/// (#f7f7f7, exactly at 0) → red (#b2182b), through ColorBrewer's RdBu, which readers with the
/// common colour-vision deficiencies tell apart. Values beyond ±max_abs take the end colours;
/// max_abs ≤ 0 (all weights zero) and NaN give the middle.
Rgb diverging(float value, float max_abs);
/// The perceptually uniform viridis map for magnitudes: t = 0 dark purple (#440154), t = 1
/// yellow (#fde725), clamped; NaN gives t = 0.
Rgb viridis(float t);
/// Grey: t = 0 black, t = 1 white, clamped (pictures of the data themselves).
Rgb grey(float t);

/// The bytes of a PNG file (8-bit RGB, no interlace) of width × height pixels given row by
/// row. Throws std::invalid_argument for an empty picture or a pixel count that does not match.
std::string encode_png(std::size_t width, std::size_t height, const std::vector<Rgb>& pixels);
/// "data:image/png;base64,..." of the same picture.
std::string png_data_uri(std::size_t width, std::size_t height, const std::vector<Rgb>& pixels);
std::string base64(const std::string& bytes);

/// Text made safe inside XML and HTML: & < > " ' become entities; bytes that XML 1.0 forbids
/// (control characters other than tab and newline) become U+FFFD.
std::string xml_escape(const std::string& text);
/// A number as SVG attributes want it: at most 2 decimals, no trailing zeros ("12.5", "3").
std::string svg_number(double v);

/// An SVG picture built element by element. Coordinates in user units (pixels at scale 1).
class Svg {
 public:
  Svg(double width, double height);

  void rect(double x, double y, double w, double h, Rgb fill, const std::string& attributes = "");
  void line(double x1, double y1, double x2, double y2, Rgb stroke, double width = 1.0,
            const std::string& attributes = "");
  /// An open line through the points (x0, y0, x1, y1, ...).
  void polyline(const std::vector<double>& xy, Rgb stroke, double width = 1.5,
                const std::string& attributes = "");
  void circle(double cx, double cy, double r, Rgb fill, const std::string& attributes = "");
  /// `anchor` is start, middle or end; the text is escaped.
  void text(double x, double y, const std::string& text, double size = 11.0,
            const std::string& anchor = "start", const std::string& attributes = "");
  /// A picture of w × h pixels drawn into the box (x, y, box_w, box_h), each pixel a crisp
  /// square: one <image> with a PNG data URI.
  void image(double x, double y, double box_w, double box_h, std::size_t w, std::size_t h,
             const std::vector<Rgb>& pixels, const std::string& attributes = "");
  /// Opens a group (<g attributes>); close() ends the innermost one.
  void group(const std::string& attributes);
  void close();
  /// Raw markup, as given (for the callers' own well-formed pieces).
  void raw(const std::string& markup);

  double width() const { return width_; }
  double height() const { return height_; }
  /// The whole <svg> element; `attributes` go on it (an id, a class, a role).
  std::string str(const std::string& attributes = "") const;

 private:
  double width_, height_;
  std::string body_;
  int open_groups_ = 0;
};

/// One line of a chart: its name in the legend, its values at x = 1, 2, ... (NaN: a gap), and
/// how it is told apart without colour (dashed, a marker).
struct Series {
  std::string name;
  std::vector<double> values;
  Rgb colour;
  bool dashed = false;
};

/// A line chart with axes, "nice" ticks, axis titles and a legend (x: 1..n, for epochs).
/// Throws std::invalid_argument when no series has a finite value.
Svg line_chart(const std::string& title, const std::string& x_label, const std::string& y_label,
               const std::vector<Series>& series, double width = 360, double height = 230);
/// The same over the x values `xs` (every series has one value per x; xs increasing).
Svg xy_chart(const std::string& title, const std::string& x_label, const std::string& y_label,
             const std::vector<double>& xs, const std::vector<Series>& series,
             double width = 360, double height = 230);

/// Colours for chart lines that stay apart for colour-blind readers (Okabe and Ito).
Rgb chart_colour(std::size_t index);

}  // namespace tinytorch
