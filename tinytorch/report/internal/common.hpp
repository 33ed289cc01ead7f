// What the report's two sources share (report.cpp: the page; views.cpp: what the model makes
// of chosen images). Not installed.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <tinytorch/core/module.hpp>
#include <tinytorch/types.hpp>

namespace tinytorch::report_internal {

[[noreturn]] inline void fail(const std::string& message) { throw std::invalid_argument(message); }

/// Eval mode for the scope (a report's forwards must not move BatchNorm's statistics or
/// draw Dropout masks); the mode the module had comes back after it, also on an exception.
class EvalMode {
 public:
  explicit EvalMode(Module& m) : restore_(m) { m.eval(); }

 private:
  ModeRestorer restore_;
};

// The layers of `model` in the order its forward runs them: a Sequential's children (nested
// ones opened), or those of a module whose only child is a Sequential. Empty otherwise.
inline void ordered_layers(Module& module, std::vector<Module*>& out) {
  for (const auto& [name, child] : module.children()) {
    if (child->name() == "Sequential") {
      ordered_layers(*child, out);
    } else {
      out.push_back(child.get());
    }
  }
}

inline std::vector<Module*> layers_in_order(Module& model) {
  std::vector<Module*> out;
  if (model.name() == "Sequential") {
    ordered_layers(model, out);
  } else if (model.children().size() == 1 && model.children()[0].second->name() == "Sequential") {
    ordered_layers(*model.children()[0].second, out);
  }
  return out;
}

inline Shape with_batch(const Shape& sample) {
  Shape s{1};
  s.insert(s.end(), sample.begin(), sample.end());
  return s;
}

inline Shape without_batch(const Shape& s) { return s.empty() ? s : Shape(s.begin() + 1, s.end()); }

inline std::vector<long> as_long(const Shape& s) { return std::vector<long>(s.begin(), s.end()); }


inline std::string percent(double fraction) { return fmt::format("{:.1f} %", 100.0 * fraction); }

}  // namespace tinytorch::report_internal
