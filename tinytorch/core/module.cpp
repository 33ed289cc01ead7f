#include <tinytorch/core/module.hpp>

#include <fmt/format.h>

#include <tinytorch/detail/errors.hpp>
#include <tinytorch/detail/text.hpp>

namespace tinytorch {

std::string Module::repr() const {
  if (children_.empty()) return name() + "()";
  std::string out = name() + "(\n";
  for (const auto& [child_name, child] : children_) {
    std::string child_repr = child->repr();
    // Indent nested lines so the tree reads like PyTorch's printout.
    for (std::size_t pos = child_repr.find('\n'); pos != std::string::npos;
         pos = child_repr.find('\n', pos + 1)) {
      child_repr.insert(pos + 1, "  ");
    }
    out += fmt::format("  ({}): {}\n", child_name, child_repr);
  }
  return out + ")";
}

void Module::check_new_name(const char* op, const std::string& name) const {
  if (name.empty()) detail::fail_arg("{}: the name must not be empty", op);
  const auto taken = [&](const auto& list) {
    for (const auto& entry : list) {
      if (entry.first == name) return true;
    }
    return false;
  };
  const char* kind = taken(parameters_) ? "parameter"
                     : taken(buffers_)  ? "buffer"
                     : taken(children_) ? "submodule"
                                        : nullptr;
  if (kind != nullptr) {
    detail::fail_arg("{}: name '{}' is already taken by a {} of this module", op,
                     detail::escaped(name), kind);
  }
}

void Module::fail_null_module(const std::string& name) {
  detail::fail_arg("register_module: module '{}' is null", detail::escaped(name));
}

Tensor Module::register_parameter(const std::string& name, Tensor value) {
  check_new_name("register_parameter", name);
  if (!value.defined()) {
    detail::fail_arg("register_parameter: tensor '{}' is undefined", detail::escaped(name));
  }
  value.requires_grad_(true);
  parameters_.emplace_back(name, std::move(value));
  return parameters_.back().second;
}

Tensor Module::register_buffer(const std::string& name, Tensor value) {
  check_new_name("register_buffer", name);
  if (!value.defined()) {
    detail::fail_arg("register_buffer: tensor '{}' is undefined", detail::escaped(name));
  }
  buffers_.emplace_back(name, value);
  return value;
}

void Module::collect(const std::string& prefix, NamedTensors Module::*list,
                     NamedTensors& out) const {
  // Hint: append this module's own (prefix + name, tensor) pairs from this->*list, then
  // recurse into each child with prefix + child name + "." — that gives "0.weight".
  // BEGIN SOLUTION 03_layers named_parameters
  for (const auto& [name, tensor] : this->*list) out.emplace_back(prefix + name, tensor);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", list, out);
  // END SOLUTION
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  NamedTensors out;
  collect("", &Module::parameters_, out);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers() const {
  NamedTensors out;
  collect("", &Module::buffers_, out);
  return out;
}

std::vector<std::pair<std::string, Tensor>> Module::state_dict() const {
  NamedTensors out = named_parameters();
  for (auto& named : named_buffers()) out.push_back(std::move(named));
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& named : named_parameters()) out.push_back(std::move(named.second));
  return out;
}

std::size_t Module::parameter_count() const {
  std::size_t n = 0;
  for (const Tensor& p : parameters()) n += p.size();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& child : children_) child.second->train(on);
}

void Module::zero_grad() {
  for (Tensor& p : parameters()) p.zero_grad();
}

}  // namespace tinytorch
