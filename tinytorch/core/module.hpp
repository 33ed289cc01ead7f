// Module 03 (base) — Module: what every layer, activation and model has in common.
//
// A Module owns parameters (tensors that require grad) and child modules, each under a name,
// so named_parameters() can report dotted paths like "0.weight" or "conv1.bias". forward()
// maps a tensor to a tensor; operator() calls it. train()/eval() set a mode flag on the
// module and all its children (Dropout reads it).
//
//   struct TwoLayer : Module {
//     std::shared_ptr<Linear> fc1 = register_module("fc1", std::make_shared<Linear>(2, 4));
//     std::shared_ptr<Linear> fc2 = register_module("fc2", std::make_shared<Linear>(4, 1));
//     Tensor forward(const Tensor& x) override { return (*fc2)(relu((*fc1)(x))); }
//   };
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <tinytorch/core/tensor.hpp>

namespace tinytorch {

class Module {
 public:
  virtual ~Module() = default;

  /// The computation. Every concrete module defines it.
  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }

  /// The class name, as in the course's repr ("Linear", "ReLU").
  virtual std::string name() const = 0;
  /// A readable description; defaults to "Name()" and, for containers, one child per line.
  virtual std::string repr() const;

  /// Every parameter of this module and its children (the same handles, not copies).
  std::vector<Tensor> parameters() const;
  /// Number of scalars in all parameters (810 for SimpleCNN).
  std::size_t parameter_count() const;
  /// Parameters with dotted names: "weight", "0.bias", "conv1.weight".
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  /// Tensors that are state but not trained (BatchNorm2d's running statistics), dotted names.
  std::vector<std::pair<std::string, Tensor>> named_buffers() const;
  /// named_parameters() then named_buffers(): everything a checkpoint stores (save() and
  /// load() in tinytorch/io/serialize.hpp write and read it as a file).
  std::vector<std::pair<std::string, Tensor>> state_dict() const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const {
    return children_;
  }

  /// Sets training mode on this module and its children.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  /// Drops the gradient of every parameter.
  void zero_grad();

 protected:
  /// Registers `value` as a parameter named `name` (it is set to require grad).
  /// Each register_* call throws std::invalid_argument, naming the call and the name, for an
  /// empty name, a name this module already gives a parameter, buffer or child, and an
  /// undefined tensor or null module: "register_parameter: name 'w' is already taken by a
  /// parameter of this module".
  Tensor register_parameter(const std::string& name, Tensor value);
  /// Registers `value` as a buffer: saved in checkpoints, never given to an optimizer.
  Tensor register_buffer(const std::string& name, Tensor value);
  /// Registers a child module so its parameters and mode follow this one.
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    check_new_name("register_module", name);
    if (!module) fail_null_module(name);
    children_.emplace_back(name, module);
    return module;
  }

 private:
  using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
  void collect(const std::string& prefix, NamedTensors Module::*list, NamedTensors& out) const;
  /// Throws unless `name` is non-empty and not yet a parameter, buffer or child of this module.
  void check_new_name(const char* op, const std::string& name) const;
  [[noreturn]] static void fail_null_module(const std::string& name);

  NamedTensors parameters_;
  NamedTensors buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

/// Puts a module back into the mode (training or eval) it had when the guard was made, also
/// when an exception ends the scope: `ModeRestorer restore(model); model.eval(); ...`.
class ModeRestorer {
 public:
  explicit ModeRestorer(Module& module) : module_(module), was_training_(module.is_training()) {}
  ~ModeRestorer() { module_.train(was_training_); }
  ModeRestorer(const ModeRestorer&) = delete;
  ModeRestorer& operator=(const ModeRestorer&) = delete;

 private:
  Module& module_;
  bool was_training_;
};

}  // namespace tinytorch
