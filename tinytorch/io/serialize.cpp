// Model save/load: state_dict() to a safetensors file and back, checked before copied.
#include <tinytorch/io/serialize.hpp>

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <tinytorch/detail/text.hpp>
#include <tinytorch/io/internal/state.hpp>

namespace tinytorch {

namespace {

std::string describe(const std::string& name, const Tensor& t) {
  return fmt::format("'{}' {}", detail::escaped(name), shape_str(t.shape()));
}

std::string count_of(std::size_t n, const char* what) {
  return fmt::format("{} {}{}", n, what, n == 1 ? "" : "s");
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

detail::CheckedState detail::check_state_dict(const char* op, const std::string& source,
                                              const Module& module, const TensorMap& tensors,
                                              const std::string& prefix, bool strict) {
  const char* held = source.empty() ? "the given tensors" : "the file";
  CheckedState plan;
  std::vector<std::string> problems, missing, extra;
  const auto state = module.state_dict();
  for (const auto& [name, target] : state) {
    auto it = tensors.find(prefix + name);
    if (it == tensors.end()) {
      missing.push_back(describe(name, target));
    } else if (!it->second.defined()) {
      problems.push_back(
          fmt::format("tensor '{}' is undefined in {}", detail::escaped(name), held));
    } else if (it->second.shape() != target.shape()) {
      problems.push_back(fmt::format("tensor '{}' has shape {} in {} but {} in the model",
                                     detail::escaped(name), shape_str(it->second.shape()), held,
                                     shape_str(target.shape())));
    } else {
      plan.copies.emplace_back(target, it->second);
    }
  }
  if (strict) {
    for (const auto& [key, t] : tensors) {
      if (!starts_with(key, prefix)) continue;
      const std::string name = key.substr(prefix.size());
      const bool known = std::any_of(state.begin(), state.end(),
                                     [&](const auto& named) { return named.first == name; });
      if (!known)
        extra.push_back(t.defined() ? describe(name, t) : "'" + detail::escaped(name) + "'");
    }
  }
  if (!missing.empty()) {
    problems.push_back(fmt::format("{} of the model missing from {}: {}",
                                   count_of(missing.size(), "tensor"), held,
                                   fmt::join(missing, ", ")));
  }
  if (!extra.empty()) {
    problems.push_back(fmt::format(
        "{} in {} that the model does not have: {} (load with strict=false to ignore them)",
        count_of(extra.size(), "tensor"), held, fmt::join(extra, ", ")));
  }
  if (!problems.empty()) {
    const std::string where = source.empty() ? "" : source + ": ";
    throw SerializationError(fmt::format("{}: {}{}", op, where, fmt::join(problems, "; ")));
  }
  return plan;
}

// Copied into the existing storage, so handles held elsewhere (an optimizer's) see the new
// values.
void detail::CheckedState::apply() const {
  for (const auto& [target, source] : copies) {
    if (source.size() == 0) continue;  // memcpy must not see the null data of an empty array
    Tensor into = target;
    std::memcpy(into.data().data(), source.data().data(), source.size() * sizeof(float));
  }
}

void save(const Module& module, const std::string& path, const Metadata& metadata) {
  detail::check_path("save", path);
  TensorMap tensors;
  for (const auto& [name, t] : module.state_dict()) {
    if (!tensors.emplace(name, t).second) {
      throw SerializationError(fmt::format("save: {}: the model has two tensors named '{}'", path,
                                           detail::escaped(name)));
    }
  }
  Metadata meta = metadata;
  meta["format"] = kWeightsFormat;
  detail::save_safetensors("save", path, tensors, meta);
}

void load(Module& module, const std::string& path, bool strict) {
  detail::check_path("load", path);
  const TensorMap tensors = load_safetensors(path);
  detail::check_state_dict("load", path, module, tensors, "", strict).apply();
}

void load_state_dict(Module& module, const TensorMap& tensors, bool strict) {
  detail::check_state_dict("load_state_dict", "", module, tensors, "", strict).apply();
}

}  // namespace tinytorch
