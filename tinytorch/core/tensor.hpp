// Module 01 — Tensor: the one data structure of the framework.
//
// A Tensor is an n-dimensional float32 array (an xt::xarray<float>, row-major) plus the
// fields autograd needs: requires_grad, grad and the node that produced it. A Tensor is a
// cheap handle: copying one aliases the same storage, grad and node, like torch::Tensor.
// detach() gives a handle to the same values without the history; clone() copies them.
//
// Arithmetic follows NumPy broadcasting (align shapes from the right; each dimension must
// match, be 1 or be missing). Every op returns a new tensor and never modifies its inputs.
//
//   Shapes: N = batch, C = channels/classes, H, W = height, width.
//
//   Tensor a({{1, 2}, {3, 4}});                 // shape [2, 2]
//   Tensor f = Tensor::from(buffer, {2, 2});    // from a std::vector<float>; f.to_vector()
//   Tensor b = Tensor::ones({2}, /*requires_grad=*/true);
//   Tensor c = (a * b + 1.0f).sum();            // 0-d tensor holding 15
//   c.backward();                               // b.grad() == [6, 8]
//   fmt::print("{}\n", a.matmul(a));            // Tensor([[7, 10], [15, 22]])
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <xtensor/xarray.hpp>

#include <tinytorch/types.hpp>

namespace tinytorch {

/// Seeds the library's random generator (init, randn/rand, dropout, shuffling).
void manual_seed(std::uint64_t seed);
/// Threads the batch kernels (Conv2d, pooling, Linear, ReLU) share their work over; default 1.
/// A count outside 1..1024 throws std::invalid_argument and changes nothing; threads the
/// system cannot start throw too, leaving the pool as it was.
/// The work is split the same way for every count, so results are identical bit for bit.
void set_num_threads(int n);
int get_num_threads();

class Node;
struct TensorImpl;

/// A braced literal of any depth ({{1, 2}, {3, 4}}), checked to be rectangular.
class NestedList {
 public:
  NestedList(float value) : values_{value} {}  // NOLINT: implicit on purpose, for braces
  NestedList(std::initializer_list<NestedList> items);
  const Shape& shape() const { return shape_; }
  const std::vector<float>& values() const { return values_; }

 private:
  Shape shape_;
  std::vector<float> values_;
};

class Tensor {
 public:
  /// An undefined tensor (no storage), like a default torch::Tensor; defined() is false.
  Tensor() = default;
  /// Takes the array (a copy is made only if an lvalue is passed). Only an Array binds here,
  /// so that braced lists always go to the NestedList constructor below.
  template <class A, std::enable_if_t<std::is_same_v<std::decay_t<A>, Array>, int> = 0>
  explicit Tensor(A&& data, bool requires_grad = false) {
    init(std::forward<A>(data), requires_grad);
  }
  /// Nested braces of any depth: Tensor({1, 2, 3}) is [3], Tensor({{1}, {2}}) is [2, 1],
  /// Tensor({{{1, 2}}}) is [1, 1, 2]. (A 0-d tensor is Tensor::scalar(5).) Taking an
  /// initializer_list here, not a NestedList, makes this overload beat the copy constructor
  /// for single-element outer lists such as Tensor({{1, 2, 3}}).
  Tensor(std::initializer_list<NestedList> values, bool requires_grad = false);

  /// A tensor of `shape` holding a copy of `values` in row-major order; the number of values
  /// must equal the number of elements: Tensor::from({1, 2, 3, 4, 5, 6}, {2, 3}).
  static Tensor from(const std::vector<float>& values, const Shape& shape,
                     bool requires_grad = false);
  /// The same from `count` floats at `data` (a buffer of your own, copied; a span).
  static Tensor from(const float* data, std::size_t count, const Shape& shape,
                     bool requires_grad = false);
  /// A 0-d tensor holding `value`.
  static Tensor scalar(float value, bool requires_grad = false);
  static Tensor zeros(const Shape& shape, bool requires_grad = false);
  static Tensor ones(const Shape& shape, bool requires_grad = false);
  static Tensor full(const Shape& shape, float value, bool requires_grad = false);
  /// 1-D tensor start, start+step, ... (< stop).
  static Tensor arange(float start, float stop, float step = 1.0f);
  /// Standard normal samples from the library generator (see manual_seed).
  static Tensor randn(const Shape& shape, bool requires_grad = false);
  /// Uniform [0, 1) samples from the library generator.
  static Tensor rand(const Shape& shape, bool requires_grad = false);

  bool defined() const { return impl_ != nullptr; }
  Shape shape() const;
  std::size_t size() const;  ///< number of elements
  std::size_t ndim() const;
  std::size_t dim(int axis) const;  ///< size of one axis (negative counts from the end)
  float item() const;               ///< the value of a one-element tensor
  /// A copy of the values in row-major order (no xtensor needed to read them).
  std::vector<float> to_vector() const;

  /// The underlying array. Writing through it bypasses autograd (optimizers do this). The
  /// non-const form counts as a write and bumps version(), even when the caller only reads:
  /// read through numpy() or a const reference between a forward pass and its backward.
  Array& data();
  const Array& data() const;
  /// How many times the values may have been written through data() (shared with detach()ed
  /// handles): backward refuses to use values that changed after the forward pass read them.
  std::uint64_t version() const;
  const Array& numpy() const { return data(); }  ///< course name for data()

  // ---- autograd fields (module 05 gives them meaning) ----
  bool requires_grad() const;
  /// Leaves only, when turning it off: a computed tensor keeps its history (std::logic_error,
  /// as in PyTorch; use detach() for values without one).
  Tensor& requires_grad_(bool on = true);
  /// The accumulated gradient; undefined until a backward pass reaches this leaf.
  Tensor grad() const;
  void set_grad(const Tensor& grad);
  void zero_grad();  ///< drops the gradient (grad() becomes undefined), as in the course
  const std::shared_ptr<Node>& grad_fn() const;
  void set_grad_fn(std::shared_ptr<Node> node);
  bool is_leaf() const { return grad_fn() == nullptr; }
  /// Seeds with 1 (one-element tensors only) and runs reverse-mode autodiff. A tensor that
  /// does not require grad has nothing to differentiate: std::logic_error, as in PyTorch.
  void backward(bool retain_graph = false) const;
  /// Seeds with `gradient` (same shape as this tensor; undefined: std::invalid_argument).
  void backward(const Tensor& gradient, bool retain_graph = false) const;

  Tensor clone() const;  ///< new storage, same values, no history
  /// The same storage without history (requires_grad false): writes show in both, as in PyTorch.
  Tensor detach() const;
  bool same(const Tensor& other) const { return impl_ == other.impl_; }
  /// Identity of the shared storage (used as a key by the backward engine).
  const void* id() const { return impl_.get(); }

  // ---- shape ops (differentiable) ----
  /// One entry may be -1 and is inferred.
  Tensor reshape(const std::vector<long>& shape) const;
  /// Swaps two axes; with no arguments swaps the last two.
  Tensor transpose(int dim0 = -2, int dim1 = -1) const;
  /// Collapses axes start_dim..end into one: [N, C, H, W].flatten(1) is [N, C*H*W].
  Tensor flatten(int start_dim = 0) const;
  /// Row `i` along axis 0 (the axis is dropped); negative counts from the end.
  Tensor operator[](long i) const;
  /// Rows [start, stop) along axis 0.
  Tensor slice(std::size_t start, std::size_t stop) const;
  /// Rows at `indices` along axis 0, in that order (a gather).
  Tensor index_select(const std::vector<std::size_t>& indices) const;

  // ---- reductions (differentiable) ----
  // An empty axis list reduces over every axis (a 0-d result); negative axes count from the end.
  Tensor sum() const;
  Tensor sum(const std::vector<int>& axes, bool keepdims = false) const;
  Tensor mean() const;
  Tensor mean(const std::vector<int>& axes, bool keepdims = false) const;
  Tensor max() const;
  Tensor max(const std::vector<int>& axes, bool keepdims = false) const;
  /// Index of the first maximum along `axis` (not differentiable; values are integers).
  Tensor argmax(int axis) const;

  // ---- element-wise math (differentiable) ----
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor pow(float exponent) const;
  Tensor matmul(const Tensor& other) const;

  std::string to_string() const;  ///< Tensor([[1, 2], [3, 4]])
  std::string repr() const;       ///< Tensor(data=..., shape=[2, 2], requires_grad=true)

 private:
  friend struct TensorImpl;  // its destructor unlinks long tapes without recursion
  void init(Array data, bool requires_grad);
  std::shared_ptr<TensorImpl> impl_;
  const TensorImpl& impl() const;
  TensorImpl& impl();
};

// Arithmetic with NumPy broadcasting; a float on either side acts as a 0-d tensor.
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, float b);
Tensor operator-(const Tensor& a, float b);
Tensor operator*(const Tensor& a, float b);
Tensor operator/(const Tensor& a, float b);
Tensor operator+(float a, const Tensor& b);
Tensor operator-(float a, const Tensor& b);
Tensor operator*(float a, const Tensor& b);
Tensor operator/(float a, const Tensor& b);
Tensor operator-(const Tensor& a);

/// Matrix product with NumPy matmul rules: 1-D, 2-D and batched (batch dims broadcast).
Tensor matmul(const Tensor& a, const Tensor& b);

/// Stacks same-shaped tensors along a new axis 0 (not differentiable; used for batching).
Tensor stack(const std::vector<Tensor>& tensors);

std::ostream& operator<<(std::ostream& os, const Tensor& t);

}  // namespace tinytorch

template <>
struct fmt::formatter<tinytorch::Tensor> : fmt::formatter<fmt::string_view> {
  template <class FormatContext>
  auto format(const tinytorch::Tensor& t, FormatContext& ctx) const {
    const std::string text = t.to_string();
    return fmt::formatter<fmt::string_view>::format(fmt::string_view(text), ctx);
  }
};
