// Module 01 — Tensor: storage, construction, arithmetic, matmul, reductions and views.
// Each op computes a materialised result, then records its backward node (rules in
// autograd.cpp) when an input requires grad.
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

// ---- arithmetic -------------------------------------------------------------------------
// Each op is an exercise-sized forward on arrays (what a student writes in module 01), and a
// wrapper that checks the shapes and records the backward node (module 05).

namespace {

Array add_forward(const Array& a, const Array& b) {
  // Hint: xtensor broadcasts like NumPy: a + b already has the broadcast shape.
  // BEGIN SOLUTION 01_tensor add
  return a + b;
  // END SOLUTION
}

Array sub_forward(const Array& a, const Array& b) {
  // Hint: the element-wise difference a − b, broadcast like add.
  // BEGIN SOLUTION 01_tensor sub
  return a - b;
  // END SOLUTION
}

Array mul_forward(const Array& a, const Array& b) {
  // Hint: the element-wise (Hadamard) product, broadcast like add — not a matrix product.
  // BEGIN SOLUTION 01_tensor mul
  return a * b;
  // END SOLUTION
}

Array div_forward(const Array& a, const Array& b) {
  // Hint: the element-wise quotient; dividing by zero gives ±inf, as in NumPy (no check).
  // BEGIN SOLUTION 01_tensor div
  return a / b;
  // END SOLUTION
}

// The broadcast check runs before the exercise, so its message names the op and both shapes.
void check_broadcast(const char* op, const Tensor& a, const Tensor& b) {
  if (a.data().shape() != b.data().shape()) detail::broadcast_shapes(op, a.shape(), b.shape());
}

}  // namespace

Tensor operator+(const Tensor& a, const Tensor& b) {
  check_broadcast("add", a, b);
  Tensor out(add_forward(a.data(), b.data()));
  if (detail::should_record({&a, &b}))
    return detail::attach(out, std::make_shared<detail::AddBackward>(a, b));
  return out;
}

Tensor operator-(const Tensor& a, const Tensor& b) {
  check_broadcast("sub", a, b);
  Tensor out(sub_forward(a.data(), b.data()));
  if (detail::should_record({&a, &b}))
    return detail::attach(out, std::make_shared<detail::SubBackward>(a, b));
  return out;
}

Tensor operator*(const Tensor& a, const Tensor& b) {
  check_broadcast("mul", a, b);
  Tensor out(mul_forward(a.data(), b.data()));
  if (detail::should_record({&a, &b}))
    return detail::attach(out, std::make_shared<detail::MulBackward>(a, b));
  return out;
}

Tensor operator/(const Tensor& a, const Tensor& b) {
  check_broadcast("div", a, b);
  Tensor out(div_forward(a.data(), b.data()));
  if (detail::should_record({&a, &b}))
    return detail::attach(out, std::make_shared<detail::DivBackward>(a, b));
  return out;
}

Tensor operator-(const Tensor& a) {
  Tensor out(Array(-a.data()));
  if (detail::should_record({&a}))
    return detail::attach(out, std::make_shared<detail::NegBackward>(a));
  return out;
}

Tensor operator+(const Tensor& a, float b) {
  return a + Tensor::scalar(b);
}
Tensor operator-(const Tensor& a, float b) {
  return a - Tensor::scalar(b);
}
Tensor operator*(const Tensor& a, float b) {
  return a * Tensor::scalar(b);
}
Tensor operator/(const Tensor& a, float b) {
  return a / Tensor::scalar(b);
}
Tensor operator+(float a, const Tensor& b) {
  return Tensor::scalar(a) + b;
}
Tensor operator-(float a, const Tensor& b) {
  return Tensor::scalar(a) - b;
}
Tensor operator*(float a, const Tensor& b) {
  return Tensor::scalar(a) * b;
}
Tensor operator/(float a, const Tensor& b) {
  return Tensor::scalar(a) / b;
}

Tensor Tensor::exp() const {
  Tensor out(Array(xt::exp(data())));
  if (detail::should_record({this}))
    return detail::attach(out, std::make_shared<detail::ExpBackward>(*this, out));
  return out;
}

Tensor Tensor::log() const {
  Tensor out(Array(xt::log(data())));
  if (detail::should_record({this}))
    return detail::attach(out, std::make_shared<detail::LogBackward>(*this));
  return out;
}

Tensor Tensor::sqrt() const {
  Tensor out(Array(xt::sqrt(data())));
  if (detail::should_record({this}))
    return detail::attach(out, std::make_shared<detail::SqrtBackward>(*this, out));
  return out;
}

Tensor Tensor::pow(float exponent) const {
  Tensor out(Array(xt::pow(data(), exponent)));
  if (detail::should_record({this}))
    return detail::attach(out, std::make_shared<detail::PowBackward>(*this, exponent));
  return out;
}

// ---- matmul -----------------------------------------------------------------------------

namespace {

// The result of a @ b following NumPy: a 1-D left operand is a row [1, K] and a 1-D right
// operand a column [K, 1]; the added axis is removed from the result.
Array matmul_forward(const Array& a, const Array& b) {
  // Hint: check a's last axis against b's second-to-last, then one detail::gemm for 2-D @ 2-D;
  // promote 1-D operands to a row/column, use detail::batched_matmul, drop the added axis.
  // BEGIN SOLUTION 01_tensor matmul
  const std::size_t ra = a.dimension(), rb = b.dimension();
  const std::size_t ka = a.shape()[ra - 1];
  const std::size_t kb = rb == 1 ? b.shape()[0] : b.shape()[rb - 2];
  if (ka != kb) {
    detail::fail_shape("matmul: inner dimensions differ: {} @ {} ({} != {})",
                       shape_str(detail::to_shape(a.shape())),
                       shape_str(detail::to_shape(b.shape())), ka, kb);
  }
  if (ra == 2 && rb == 2) {  // the hot path: one sgemm, no reshapes
    Array out = Array::from_shape({a.shape()[0], b.shape()[1]});
    detail::gemm(false, false, a.shape()[0], b.shape()[1], ka, 1.0f, a.data(), b.data(), 0.0f,
                 out.data());
    return out;
  }
  Array a2 = a, b2 = b;
  if (ra == 1) a2.reshape({1, ka});
  if (rb == 1) b2.reshape({kb, 1});
  Array out = detail::batched_matmul(a2, b2);
  Shape shape = detail::to_shape(out.shape());
  if (rb == 1) shape.erase(shape.end() - 1);
  if (ra == 1) shape.erase(shape.end() - (rb == 1 ? 1 : 2));
  out.reshape(shape);
  return out;
  // END SOLUTION
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  if (a.ndim() == 0 || b.ndim() == 0) return a * b;  // NumPy/course: 0-d is element-wise
  Tensor out(matmul_forward(a.data(), b.data()));
  if (detail::should_record({&a, &b}))
    return detail::attach(out, std::make_shared<detail::MatmulBackward>(a, b));
  return out;
}

Tensor Tensor::matmul(const Tensor& other) const {
  return tinytorch::matmul(*this, other);
}

// ---- shape ops --------------------------------------------------------------------------

namespace {

// The shape `request` asks for, with its one −1 inferred from the element count.
Shape reshape_target(const Shape& from, std::size_t size, const std::vector<long>& request) {
  // Hint: at most one −1; it becomes size / (product of the others). Any other negative
  // entry, or a product that differs from `size`, is a ShapeError naming both shapes.
  // BEGIN SOLUTION 01_tensor reshape
  Shape target(request.size());
  long known = 1;
  int unknown = -1;
  for (std::size_t i = 0; i < request.size(); ++i) {
    if (request[i] == -1) {
      if (unknown >= 0) {
        detail::fail_shape("reshape: only one dimension can be -1; got [{}]",
                           fmt::join(request, ", "));
      }
      unknown = static_cast<int>(i);
    } else if (request[i] < 0) {
      detail::fail_shape("reshape: invalid dimension {} in [{}]", request[i],
                         fmt::join(request, ", "));
    } else {
      known *= request[i];
      target[i] = static_cast<std::size_t>(request[i]);
    }
  }
  if (unknown >= 0) target[static_cast<std::size_t>(unknown)] = known == 0 ? 0 : size / known;
  if (detail::product(target) != size || (unknown >= 0 && known == 0)) {
    detail::fail_shape("reshape: total elements must match: {} has {}, [{}] asks for {}",
                       shape_str(from), size, fmt::join(request, ", "),
                       unknown >= 0 ? known : static_cast<long>(detail::product(target)));
  }
  return target;
  // END SOLUTION
}

// The request's explicit dimensions must fit a tensor before the exercise multiplies them (as
// long, where an overflow is undefined): an empty tensor must not become [2^32, 2^32].
void check_reshape_request(const Shape& from, const std::vector<long>& request) {
  Shape explicit_dims;
  for (long d : request) {
    if (d >= 0) explicit_dims.push_back(static_cast<std::size_t>(d));
  }
  try {
    detail::checked_numel("reshape", explicit_dims);
  } catch (const ShapeError&) {
    detail::fail_shape("reshape: [{}] asks for more than 2^61 - 1 elements; the tensor {} has {}",
                       fmt::join(request, ", "), shape_str(from), detail::product(from));
  }
}

}  // namespace

Tensor Tensor::reshape(const std::vector<long>& shape) const {
  check_reshape_request(this->shape(), shape);
  const Shape target = reshape_target(this->shape(), size(), shape);
  Array out = data();
  out.reshape(target);
  Tensor result(std::move(out));
  if (detail::should_record({this}))
    return detail::attach(result, std::make_shared<detail::ReshapeBackward>(*this));
  return result;
}

Tensor Tensor::flatten(int start_dim) const {
  if (ndim() == 0) return reshape({1});
  const std::size_t start = detail::normalize_axis("flatten", start_dim, ndim());
  std::vector<long> target;
  for (std::size_t i = 0; i < start; ++i) target.push_back(static_cast<long>(data().shape()[i]));
  std::size_t rest = 1;
  for (std::size_t i = start; i < ndim(); ++i) rest *= data().shape()[i];
  target.push_back(static_cast<long>(rest));
  return reshape(target);
}

namespace {

// `a` with axes d0 and d1 swapped (a new, contiguous array).
Array transpose_forward(const Array& a, std::size_t d0, std::size_t d1) {
  // Hint: build the axis permutation 0, 1, …, n−1, swap entries d0 and d1, and let
  // xt::transpose(a, perm) do the rest; assigning it to an Array makes the copy.
  // BEGIN SOLUTION 01_tensor transpose
  std::vector<std::size_t> perm(a.dimension());
  for (std::size_t i = 0; i < perm.size(); ++i) perm[i] = i;
  std::swap(perm[d0], perm[d1]);
  return xt::transpose(a, perm);
  // END SOLUTION
}

}  // namespace

Tensor Tensor::transpose(int dim0, int dim1) const {
  if (ndim() < 2) {
    // The course's 1-D transpose is the identity; an explicit axis must still exist.
    if (dim0 != -2 || dim1 != -1) {
      detail::normalize_axis("transpose", dim0, ndim());
      detail::normalize_axis("transpose", dim1, ndim());
    }
    Tensor out{Array(data())};
    if (detail::should_record({this}))
      return detail::attach(out, std::make_shared<detail::ReshapeBackward>(*this));
    return out;
  }
  const std::size_t d0 = detail::normalize_axis("transpose", dim0, ndim());
  const std::size_t d1 = detail::normalize_axis("transpose", dim1, ndim());
  Tensor out(transpose_forward(data(), d0, d1));
  if (detail::should_record({this}))
    return detail::attach(out, std::make_shared<detail::TransposeBackward>(*this, d0, d1));
  return out;
}

namespace {

// Copies whole rows (blocks of `row_size` floats along axis 0) — contiguous, so memcpy.
Array gather_rows(const Array& src, const std::vector<std::size_t>& rows, Shape out_shape) {
  // Hint: a row along axis 0 is size/shape[0] contiguous floats; memcpy row rows[i] of src
  // to row i of the result (indices were checked by the caller).
  // BEGIN SOLUTION 01_tensor gather_rows
  const std::size_t row_size =
      src.dimension() == 0 || src.shape()[0] == 0 ? 0 : src.size() / src.shape()[0];
  Array out = Array::from_shape(out_shape);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (row_size)
      std::memcpy(out.data() + i * row_size, src.data() + rows[i] * row_size,
                  row_size * sizeof(float));
  }
  return out;
  // END SOLUTION
}

}  // namespace

Tensor Tensor::operator[](long i) const {
  if (ndim() == 0) detail::fail_shape("index: cannot index a 0-d tensor");
  const long n = static_cast<long>(data().shape()[0]);
  const long row = i < 0 ? i + n : i;
  if (row < 0 || row >= n) {
    throw std::out_of_range(
        fmt::format("index: index {} is out of range for axis 0 of size {}", i, n));
  }
  const std::vector<std::size_t> rows{static_cast<std::size_t>(row)};
  Shape out_shape = shape();
  out_shape.erase(out_shape.begin());
  Tensor out(gather_rows(data(), rows, out_shape));
  if (detail::should_record({this}))
    return detail::attach(out, std::make_shared<detail::SliceBackward>(*this, rows));
  return out;
}

Tensor Tensor::slice(std::size_t start, std::size_t stop) const {
  if (ndim() == 0) detail::fail_shape("slice: cannot slice a 0-d tensor");
  const std::size_t n = data().shape()[0];
  if (start > stop || stop > n) {
    throw std::out_of_range(
        fmt::format("slice: rows [{}, {}) are out of range for axis 0 of size {}", start, stop, n));
  }
  std::vector<std::size_t> rows(stop - start);
  for (std::size_t r = 0; r < rows.size(); ++r) rows[r] = start + r;
  return index_select(rows);
}

Tensor Tensor::index_select(const std::vector<std::size_t>& indices) const {
  if (ndim() == 0) detail::fail_shape("index_select: cannot index a 0-d tensor");
  const std::size_t n = data().shape()[0];
  for (std::size_t i : indices) {
    if (i >= n) {
      throw std::out_of_range(
          fmt::format("index_select: index {} is out of range for axis 0 of size {}", i, n));
    }
  }
  Shape out_shape = shape();
  out_shape[0] = indices.size();
  detail::checked_numel("index_select", out_shape);
  Tensor out(gather_rows(data(), indices, out_shape));
  if (detail::should_record({this})) {
    return detail::attach(out, std::make_shared<detail::SliceBackward>(*this, indices));
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors) {
  if (tensors.empty()) detail::fail_shape("stack: expected at least one tensor, got none");
  const Shape item = tensors[0].shape();
  Shape out_shape{tensors.size()};
  out_shape.insert(out_shape.end(), item.begin(), item.end());
  Array out = detail::make_array("stack", out_shape);
  const std::size_t n = tensors[0].size();
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    if (tensors[i].data().shape() != tensors[0].data().shape()) {
      detail::fail_shape("stack: tensor {} has shape {}, tensor 0 has {}", i,
                         shape_str(tensors[i].shape()), shape_str(item));
    }
    std::copy(tensors[i].data().begin(), tensors[i].data().end(), out.data() + i * n);
  }
  return Tensor(std::move(out));
}

// ---- reductions -------------------------------------------------------------------------

namespace {

std::vector<std::size_t> all_axes(std::size_t ndim) {
  std::vector<std::size_t> axes(ndim);
  for (std::size_t i = 0; i < ndim; ++i) axes[i] = i;
  return axes;
}

// The reduced shape: `in` without `axes` (or with them set to 1 when keepdims).
Shape reduced_shape(const Shape& in, const std::vector<std::size_t>& axes, bool keepdims) {
  if (keepdims) return detail::keepdims_shape(in, axes);
  Shape out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (std::find(axes.begin(), axes.end(), i) == axes.end()) out.push_back(in[i]);
  }
  return out;
}

Array sum_over(const Array& a, const std::vector<std::size_t>& axes, bool keepdims) {
  // Hint: xt::sum(a, axes, xt::evaluation_strategy::immediate) drops the axes; reshape the
  // result to reduced_shape(...) so keepdims keeps them as 1. No axes: a copy of a.
  // BEGIN SOLUTION 01_tensor sum
  const Shape out_shape = reduced_shape(detail::to_shape(a.shape()), axes, keepdims);
  if (axes.empty()) return a;
  Array out = xt::sum(a, axes, xt::evaluation_strategy::immediate);
  out.reshape(out_shape);
  return out;
  // END SOLUTION
}

Array max_over(const Array& a, const std::vector<std::size_t>& axes, bool keepdims) {
  // Hint: like sum_over with xt::amax; the caller has already refused empty axes.
  // BEGIN SOLUTION 01_tensor max
  if (axes.empty()) return a;
  Array out = xt::amax(a, axes, xt::evaluation_strategy::immediate);
  out.reshape(reduced_shape(detail::to_shape(a.shape()), axes, keepdims));
  return out;
  // END SOLUTION
}

// Index of the first maximum of each line along the middle axis of an [outer, n, inner] view.
Array argmax_lines(const float* x, const detail::AxisSplit& s, const Shape& out_shape) {
  // Hint: for each (o, i) walk k = 0..n−1 over x[(o·n + k)·inner + i]; keep the first
  // maximum (strict >), and store its index k as a float.
  // BEGIN SOLUTION 01_tensor argmax
  Array out = Array::from_shape(out_shape);
  for (std::size_t o = 0; o < s.outer; ++o) {
    for (std::size_t i = 0; i < s.inner; ++i) {
      const float* base = x + o * s.n * s.inner + i;
      std::size_t best = 0;
      for (std::size_t k = 1; k < s.n; ++k) {
        if (base[k * s.inner] > base[best * s.inner]) best = k;  // strict: first maximum wins
      }
      out.data()[o * s.inner + i] = static_cast<float>(best);
    }
  }
  return out;
  // END SOLUTION
}

}  // namespace

Tensor Tensor::sum() const {
  return sum(std::vector<int>{}, false);
}

Tensor Tensor::sum(const std::vector<int>& axes, bool keepdims) const {
  const std::vector<std::size_t> ax =
      axes.empty() ? all_axes(ndim()) : detail::normalize_axes("sum", axes, ndim());
  Tensor out(sum_over(data(), ax, keepdims));
  if (detail::should_record({this}))
    return detail::attach(out, std::make_shared<detail::SumBackward>(*this, ax));
  return out;
}

Tensor Tensor::mean() const {
  return mean(std::vector<int>{}, false);
}

Tensor Tensor::mean(const std::vector<int>& axes, bool keepdims) const {
  const std::vector<std::size_t> ax =
      axes.empty() ? all_axes(ndim()) : detail::normalize_axes("mean", axes, ndim());
  std::size_t count = 1;
  for (std::size_t a : ax) count *= data().shape()[a];
  Array s = sum_over(data(), ax, keepdims);
  s /= static_cast<float>(count);
  Tensor out(std::move(s));
  if (detail::should_record({this}))
    return detail::attach(out, std::make_shared<detail::MeanBackward>(*this, ax));
  return out;
}

Tensor Tensor::max() const {
  return max(std::vector<int>{}, false);
}

Tensor Tensor::max(const std::vector<int>& axes, bool keepdims) const {
  const std::vector<std::size_t> ax =
      axes.empty() ? all_axes(ndim()) : detail::normalize_axes("max", axes, ndim());
  for (std::size_t a : ax) {
    if (data().shape()[a] == 0) {
      detail::fail_shape("max: cannot reduce over an empty axis; got shape {}", shape_str(shape()));
    }
  }
  Array m = max_over(data(), ax, keepdims);
  Tensor out(std::move(m));
  if (detail::should_record({this}))
    return detail::attach(out, std::make_shared<detail::MaxBackward>(*this, out, ax));
  return out;
}

Tensor Tensor::argmax(int axis) const {
  const std::size_t ax = detail::normalize_axis("argmax", axis, ndim());
  const detail::AxisSplit s = detail::split_at(shape(), ax);
  if (s.n == 0)
    detail::fail_shape("argmax: cannot reduce over an empty axis; got shape {}",
                       shape_str(shape()));
  Shape out_shape = shape();
  out_shape.erase(out_shape.begin() + static_cast<long>(ax));
  return Tensor(argmax_lines(data().data(), s, out_shape));
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
