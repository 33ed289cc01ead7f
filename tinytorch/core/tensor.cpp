// Module 01 — Tensor: storage, construction, accessors, the library's settings and printing.
// The ops are in tensor_ops.cpp (arithmetic, matmul, reductions) and tensor_shape.cpp (views,
// indexing, stacking).
#include <tinytorch/core/internal/nodes.hpp>
#include <tinytorch/core/tensor.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <ostream>

#include <tinytorch/core/autograd.hpp>
#include <tinytorch/detail/common.hpp>

namespace tinytorch {

// The values and their version. Every write through a handle that can change them (the
// non-const data(), which optimizers and in-place code use) bumps the version; a backward node
// remembers the versions of the inputs it reads and refuses to run on changed values, as
// PyTorch's version counter does.
struct Storage {
  Array array;
  std::uint64_t version = 0;
};

struct TensorImpl {
  // Shared, so that detach() can alias the values (and their version) without the history.
  std::shared_ptr<Storage> data;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;
  bool requires_grad = false;

  ~TensorImpl();
};

// Dropping the last handle of a tape that was never run backward (or was kept with
// retain_graph) would otherwise destroy tensor → node → input tensor → node ... recursively
// and overflow the stack on a long chain (a 100k-op chain does). Unlink it iteratively: a
// node that only we own first takes the nodes of the inputs that only it owns, then dies
// with inputs that hold no node, so every destructor returns after one level.
TensorImpl::~TensorImpl() {
  std::vector<std::shared_ptr<Node>> doomed;
  if (grad_fn.use_count() == 1) doomed.push_back(std::move(grad_fn));
  while (!doomed.empty()) {
    std::shared_ptr<Node> node = std::move(doomed.back());
    doomed.pop_back();
    const std::vector<Tensor>& inputs = node->inputs();
    for (const Tensor& input : inputs) {
      // Owned by this node alone (x * x lists the same input twice)?
      const auto uses = std::count_if(inputs.begin(), inputs.end(),
                                      [&](const Tensor& t) { return t.impl_ == input.impl_; });
      if (input.impl_ && input.impl_.use_count() == uses && input.impl_->grad_fn.use_count() == 1) {
        doomed.push_back(std::move(input.impl_->grad_fn));
      }
    }
  }  // `node` is destroyed at the end of each iteration, after its inputs were unlinked
}

// ---- the library's settings ------------------------------------------------------------

void manual_seed(std::uint64_t seed) {
  detail::rng().seed(static_cast<std::mt19937::result_type>(seed));
}

void set_num_threads(int n) {
  if (n < 1) detail::fail_arg("set_num_threads: expected a count >= 1, got {}", n);
  detail::set_threads(n);
}

int get_num_threads() {
  return detail::threads();
}

// ---- construction -----------------------------------------------------------------------

NestedList::NestedList(std::initializer_list<NestedList> items) {
  shape_.push_back(items.size());
  if (items.size() == 0) return;
  const Shape& inner = items.begin()->shape();
  shape_.insert(shape_.end(), inner.begin(), inner.end());
  for (const NestedList& item : items) {
    if (item.shape() != inner) {
      detail::fail_shape("Tensor: ragged nested list: elements of shape {} and {}",
                         shape_str(inner), shape_str(item.shape()));
    }
    values_.insert(values_.end(), item.values().begin(), item.values().end());
  }
}

void Tensor::init(Array data, bool requires_grad) {
  impl_ = std::make_shared<TensorImpl>();
  impl_->data = std::make_shared<Storage>(Storage{std::move(data), 0});
  impl_->requires_grad = requires_grad;
}

Tensor::Tensor(std::initializer_list<NestedList> items, bool requires_grad) {
  const NestedList values(items);
  Array a = Array::from_shape(values.shape());
  std::copy(values.values().begin(), values.values().end(), a.data());
  init(std::move(a), requires_grad);
}

Tensor Tensor::from(const float* data, std::size_t count, const Shape& shape, bool requires_grad) {
  const std::size_t elements = detail::checked_numel("Tensor::from", shape);
  if (count != elements) {
    detail::fail_shape("Tensor::from: {} values cannot fill shape {}, which has {} elements", count,
                       shape_str(shape), elements);
  }
  if (data == nullptr && count > 0) detail::fail_arg("Tensor::from: data is null");
  Array a = detail::make_array("Tensor::from", shape);
  std::copy(data, data + count, a.data());
  return Tensor(std::move(a), requires_grad);
}

Tensor Tensor::from(const std::vector<float>& values, const Shape& shape, bool requires_grad) {
  return from(values.data(), values.size(), shape, requires_grad);
}

Tensor Tensor::scalar(float value, bool requires_grad) {
  Array a = Array::from_shape({});
  a() = value;
  return Tensor(std::move(a), requires_grad);
}

namespace {

Array filled(const char* op, const Shape& shape, float value) {
  Array a = detail::make_array(op, shape);
  a.fill(value);
  return a;
}

}  // namespace

Tensor Tensor::full(const Shape& shape, float value, bool requires_grad) {
  return Tensor(filled("full", shape, value), requires_grad);
}

Tensor Tensor::zeros(const Shape& shape, bool requires_grad) {
  return Tensor(filled("zeros", shape, 0.0f), requires_grad);
}

Tensor Tensor::ones(const Shape& shape, bool requires_grad) {
  return Tensor(filled("ones", shape, 1.0f), requires_grad);
}

Tensor Tensor::arange(float start, float stop, float step) {
  if (!std::isfinite(start) || !std::isfinite(stop) || !std::isfinite(step)) {
    detail::fail_arg("arange: start, stop and step must be finite, got {}, {} and {}", start, stop,
                     step);
  }
  if (step == 0.0f) detail::fail_arg("arange: step must be non-zero, got 0");
  const double count = std::ceil((static_cast<double>(stop) - start) / step);
  // Compared as doubles: converting a count beyond size_t (1e30) to an integer is undefined.
  if (count > static_cast<double>(detail::kMaxElements)) {
    detail::fail_arg(
        "arange: [{}, {}) in steps of {} has {:.3g} elements; a tensor holds at most 2^61 - 1",
        start, stop, step, count);
  }
  Array a = detail::make_array("arange", {count > 0 ? static_cast<std::size_t>(count) : 0});
  for (std::size_t i = 0; i < a.size(); ++i) a(i) = start + static_cast<float>(i) * step;
  return Tensor(std::move(a));
}

Tensor Tensor::randn(const Shape& shape, bool requires_grad) {
  Array a = detail::make_array("randn", shape);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (float& v : a) v = normal(detail::rng());
  return Tensor(std::move(a), requires_grad);
}

Tensor Tensor::rand(const Shape& shape, bool requires_grad) {
  Array a = detail::make_array("rand", shape);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  for (float& v : a) v = uniform(detail::rng());
  return Tensor(std::move(a), requires_grad);
}

// ---- accessors --------------------------------------------------------------------------

const TensorImpl& Tensor::impl() const {
  if (!impl_) throw std::logic_error("Tensor: use of an undefined tensor");
  return *impl_;
}

TensorImpl& Tensor::impl() {
  if (!impl_) throw std::logic_error("Tensor: use of an undefined tensor");
  return *impl_;
}

Shape Tensor::shape() const {
  return detail::to_shape(impl().data->array.shape());
}
std::size_t Tensor::size() const {
  return impl().data->array.size();
}
std::size_t Tensor::ndim() const {
  return impl().data->array.dimension();
}

std::size_t Tensor::dim(int axis) const {
  return impl().data->array.shape()[detail::normalize_axis("dim", axis, ndim())];
}

float Tensor::item() const {
  if (size() != 1) {
    detail::fail_shape("item: expected a tensor with one element, got shape {}",
                       shape_str(shape()));
  }
  return *impl().data->array.data();
}

std::vector<float> Tensor::to_vector() const {
  const Array& a = data();
  return std::vector<float>(a.data(), a.data() + a.size());
}

Array& Tensor::data() {
  Storage& storage = *impl().data;
  ++storage.version;  // the caller may write: nodes that read these values will notice
  return storage.array;
}
const Array& Tensor::data() const {
  return impl().data->array;
}

std::uint64_t Tensor::version() const {
  return impl().data->version;
}

bool Tensor::requires_grad() const {
  return impl_ && impl_->requires_grad;
}

Tensor& Tensor::requires_grad_(bool on) {
  if (!on && impl().grad_fn) {  // backward would silently drop every gradient upstream
    throw std::logic_error(fmt::format(
        "requires_grad_: can only turn off requires_grad of a leaf tensor; this one was computed "
        "by {}. For its values without the history use detach()",
        impl().grad_fn->name()));
  }
  impl().requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const {
  return impl().grad;
}

void Tensor::set_grad(const Tensor& grad) {
  if (grad.defined() && grad.shape() != shape()) {
    detail::fail_shape("set_grad: gradient of shape {} for a tensor of shape {}",
                       shape_str(grad.shape()), shape_str(shape()));
  }
  impl().grad = grad;
}

void Tensor::zero_grad() {
  impl().grad = Tensor();
}

const std::shared_ptr<Node>& Tensor::grad_fn() const {
  return impl().grad_fn;
}

void Tensor::set_grad_fn(std::shared_ptr<Node> node) {
  impl().grad_fn = std::move(node);
  if (impl_->grad_fn) impl_->requires_grad = true;
}

Tensor Tensor::clone() const {
  return Tensor(Array(data()), false);
}

Tensor Tensor::detach() const {
  Tensor out;
  out.impl_ = std::make_shared<TensorImpl>();
  out.impl_->data = impl().data;  // the same values; writes through either handle show in both
  return out;
}

// ---- printing ---------------------------------------------------------------------------

namespace {

// Appends axis `axis` of `a` (starting at flat `offset`) as a bracketed, comma-separated list.
void format_axis(std::string& out, const Array& a, std::size_t axis, std::size_t offset) {
  // Hint: '[', then each element ({:.6g}) or, above the last axis, a recursive call at
  // offset + i·stride, separated by ", ", then ']'; over 1000 elements keep 3 + "..." + 3.
  // BEGIN SOLUTION 01_tensor to_string
  const std::size_t n = a.shape()[axis];
  const std::size_t stride = a.strides().empty() ? 1 : static_cast<std::size_t>(a.strides()[axis]);
  const bool summarize = a.size() > 1000 && n > 6;
  out += '[';
  for (std::size_t i = 0; i < n; ++i) {
    if (summarize && i == 3) {
      out += "..., ";
      i = n - 3;
    }
    if (axis + 1 == a.dimension()) {
      out += fmt::format("{:.6g}", a.data()[offset + i * stride]);
    } else {
      format_axis(out, a, axis + 1, offset + i * stride);
    }
    if (i + 1 < n) out += ", ";
  }
  out += ']';
  // END SOLUTION
}

std::string format_array(const Array& a) {
  if (a.dimension() == 0) return fmt::format("{:.6g}", a());
  std::string out;
  format_axis(out, a, 0, 0);
  return out;
}

}  // namespace

std::string Tensor::to_string() const {
  if (!defined()) return "Tensor(undefined)";
  return fmt::format("Tensor({})", format_array(data()));
}

std::string Tensor::repr() const {
  if (!defined()) return "Tensor(undefined)";
  return fmt::format("Tensor(data={}, shape={}{})", format_array(data()), shape_str(shape()),
                     requires_grad() ? ", requires_grad=true" : "");
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  return os << t.to_string();
}

}  // namespace tinytorch
