// Distributed training — gradient averaging: GradientAverager (buckets allreduced during
// backward) and DeterministicDataParallel (fixed shards summed in shard order).
#include <tinytorch/distributed/data_parallel.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <random>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include <tinytorch/core/autograd.hpp>
#include <tinytorch/detail/errors.hpp>
#include <tinytorch/detail/rng.hpp>
#include <tinytorch/distributed/internal/mpi.hpp>

namespace tinytorch {

namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Parameter indices grouped into buckets of at least `bucket_bytes` (the last bucket may be
// smaller), walking the parameters backwards: the order in which backward finishes them.
std::vector<std::vector<std::size_t>> make_buckets(const std::vector<Tensor>& params,
                                                   std::size_t bucket_bytes) {
  std::vector<std::vector<std::size_t>> buckets(1);
  std::size_t bytes = 0;
  for (std::size_t i = params.size(); i-- > 0;) {
    if (bytes >= bucket_bytes) {
      buckets.emplace_back();
      bytes = 0;
    }
    buckets.back().push_back(i);
    bytes += params[i].size() * sizeof(float);
  }
  return buckets;
}

// Copies `values` into t's gradient, making the gradient (zeros) when t has none yet.
void write_grad(Tensor& t, const float* values, float scale) {
  Tensor grad = t.grad();
  if (!grad.defined() || grad.shape() != t.shape()) {
    grad = Tensor::zeros(t.shape());
    t.set_grad(grad);
  }
  float* out = grad.data().data();
  const std::size_t n = grad.size();  // once: size() is a call, not a field
  for (std::size_t i = 0; i < n; ++i) out[i] = values[i] * scale;
}

// Appends t's values (or t.size() zeros for an undefined tensor standing in for it).
void append_values(std::vector<float>& out, const Tensor& t, std::size_t size) {
  if (!t.defined()) {
    out.insert(out.end(), size, 0.0f);
    return;
  }
  const float* v = t.data().data();
  out.insert(out.end(), v, v + t.size());
}

}  // namespace

double CommStats::hidden_share() const {
  if (allreduce_seconds <= 0.0) return 0.0;
  return std::clamp(1.0 - wait_seconds / allreduce_seconds, 0.0, 1.0);
}

// ---- GradientAverager ---------------------------------------------------------------------

namespace {

// A group of parameters averaged by one allreduce.
struct Bucket {
  std::vector<std::size_t> params;  // indices, in the order their values sit in `values`
  std::vector<float> values;
  std::size_t waiting = 0;  // parameters of this step whose gradient has not come yet
  MPI_Request request = MPI_REQUEST_NULL;
  bool started = false, done = false;
};

// A parameter's state in the current step.
enum class Ready : char { kNo, kYes, kAsZeros };

}  // namespace

struct GradientAverager::Impl {
  Impl(std::vector<Tensor> parameters, ProcessGroup& group, GradientAveragerOptions options);

  void on_leaf(const Tensor& leaf);
  void start_ready_buckets();
  void start(Bucket& bucket);
  void poll();
  void wait_for_all();
  void write_means();
  void reset_step();

  ProcessGroup& group;
  GradientAveragerOptions options;
  std::vector<Tensor> params;
  std::unordered_map<const void*, std::size_t> index;  // a parameter's id() → its index
  std::vector<std::size_t> bucket_of;                  // per parameter
  std::vector<Ready> ready;                            // per parameter
  std::vector<Bucket> buckets;
  std::size_t next_start = 0;  // buckets start in index order on every rank (MPI needs that)
  double first_ready = -1.0, last_ready = 0.0;  // this step's first and last gradient
  double first_start = -1.0;                     // this step's first allreduce
  CommStats stats;
  std::unique_ptr<LeafGradientHook> hook;
};

GradientAverager::Impl::Impl(std::vector<Tensor> parameters, ProcessGroup& group_,
                             GradientAveragerOptions options_)
    : group(group_), options(options_), params(std::move(parameters)) {
  if (params.empty()) detail::fail_arg("GradientAverager: got an empty parameter list");
  if (options.bucket_bytes_ == 0) {
    detail::fail_arg("GradientAverager: bucket_bytes must be positive, got 0");
  }
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (!params[i].defined()) detail::fail_arg("GradientAverager: parameter {} is undefined", i);
    if (!index.emplace(params[i].id(), i).second) {
      detail::fail_arg(
          "GradientAverager: parameter {} is the same tensor as parameter {}; give "
          "each parameter once",
          i, index.at(params[i].id()));
    }
  }
  bucket_of.resize(params.size());
  ready.assign(params.size(), Ready::kNo);
  for (std::vector<std::size_t>& members : make_buckets(params, options.bucket_bytes_)) {
    Bucket bucket;
    std::size_t size = 0;
    for (std::size_t p : members) {
      bucket_of[p] = buckets.size();
      size += params[p].size();
    }
    detail::mpi_count(size, "GradientAverager");
    bucket.values.resize(size);
    bucket.waiting = members.size();
    bucket.params = std::move(members);
    buckets.push_back(std::move(bucket));
  }
  hook = std::make_unique<LeafGradientHook>([this](const Tensor& leaf) { on_leaf(leaf); });
}

void GradientAverager::Impl::on_leaf(const Tensor& leaf) {
  const auto it = index.find(leaf.id());
  if (it == index.end()) return;  // a leaf that is not one of ours
  const std::size_t p = it->second;
  if (ready[p] != Ready::kNo) {
    throw std::logic_error(fmt::format(
        "GradientAverager: parameter {} got a second gradient before finish(); call finish() "
        "after every backward (one backward per step)",
        p));
  }
  ready[p] = Ready::kYes;
  last_ready = now_seconds();
  if (first_ready < 0.0) first_ready = last_ready;
  --buckets[bucket_of[p]].waiting;
  if (!options.overlap_) return;
  start_ready_buckets();
  poll();  // Open MPI moves a non-blocking collective on only inside MPI calls
}

void GradientAverager::Impl::start_ready_buckets() {
  while (next_start < buckets.size() && buckets[next_start].waiting == 0) {
    start(buckets[next_start++]);
  }
}

void GradientAverager::Impl::start(Bucket& bucket) {
  bucket.values.clear();
  for (std::size_t p : bucket.params) {
    const bool has = ready[p] == Ready::kYes;
    append_values(bucket.values, has ? params[p].grad() : Tensor(), params[p].size());
  }
  if (first_start < 0.0) first_start = now_seconds();
  detail::check_mpi(
      MPI_Iallreduce(MPI_IN_PLACE, bucket.values.data(), static_cast<int>(bucket.values.size()),
                     MPI_FLOAT, MPI_SUM, detail::comm(group), &bucket.request),
      "MPI_Iallreduce");
  bucket.started = true;
  ++stats.allreduces;
  stats.bytes += bucket.values.size() * sizeof(float);
}

void GradientAverager::Impl::poll() {
  for (Bucket& bucket : buckets) {
    if (!bucket.started || bucket.done) continue;
    int flag = 0;
    detail::check_mpi(MPI_Test(&bucket.request, &flag, MPI_STATUS_IGNORE), "MPI_Test");
    bucket.done = flag != 0;
  }
}

void GradientAverager::Impl::wait_for_all() {
  const double waiting_since = now_seconds();
  for (Bucket& bucket : buckets) {
    if (bucket.done) continue;
    detail::check_mpi(MPI_Wait(&bucket.request, MPI_STATUS_IGNORE), "MPI_Wait");
    bucket.done = true;
  }
  const double done = now_seconds();
  stats.wait_seconds += done - waiting_since;
  stats.allreduce_seconds += done - first_start;
}

void GradientAverager::Impl::write_means() {
  const float scale = 1.0f / static_cast<float>(group.world_size());
  for (const Bucket& bucket : buckets) {
    const float* values = bucket.values.data();
    for (std::size_t p : bucket.params) {
      write_grad(params[p], values, scale);
      values += params[p].size();
    }
  }
}

void GradientAverager::Impl::reset_step() {
  std::fill(ready.begin(), ready.end(), Ready::kNo);
  for (Bucket& bucket : buckets) {
    bucket.waiting = bucket.params.size();
    bucket.started = bucket.done = false;
  }
  next_start = 0;
  first_ready = first_start = -1.0;
}

GradientAverager::GradientAverager(std::vector<Tensor> parameters, ProcessGroup& group,
                                   GradientAveragerOptions options)
    : impl_(std::make_unique<Impl>(std::move(parameters), group, options)) {}

GradientAverager::~GradientAverager() {
  // Buckets still in flight (backward threw before finish()): waiting could hang when the other
  // ranks stopped too, and freeing their buffers under MPI is worse; let them go (the job is
  // ending: run_distributed aborts it).
  for (Bucket& bucket : impl_->buckets) {
    if (bucket.started && !bucket.done) new std::vector<float>(std::move(bucket.values));
  }
}

void GradientAverager::finish() {
  Impl& s = *impl_;
  for (std::size_t p = 0; p < s.params.size(); ++p) {
    if (s.ready[p] != Ready::kNo) continue;
    s.ready[p] = Ready::kAsZeros;  // no gradient this step: zeros, so no rank waits for it
    --s.buckets[s.bucket_of[p]].waiting;
  }
  s.start_ready_buckets();
  s.wait_for_all();
  if (s.first_ready >= 0.0) s.stats.backward_seconds += s.last_ready - s.first_ready;
  ++s.stats.steps;
  s.write_means();
  s.reset_step();
}

std::vector<std::vector<std::size_t>> GradientAverager::buckets() const {
  std::vector<std::vector<std::size_t>> out;
  for (const Bucket& bucket : impl_->buckets) out.push_back(bucket.params);
  return out;
}

const CommStats& GradientAverager::stats() const {
  return impl_->stats;
}

void GradientAverager::reset_stats() {
  impl_->stats = CommStats();
}

// ---- DeterministicDataParallel ------------------------------------------------------------

namespace {

std::size_t total_size(const std::vector<Tensor>& tensors) {
  std::size_t n = 0;
  for (const Tensor& t : tensors) n += t.size();
  return n;
}

// While alive, the library generator (dropout, randn) is seeded from (seed, step, shard), so a
// shard draws the same numbers on whichever rank computes it; the caller's state comes back after.
class ShardGenerator {
 public:
  ShardGenerator(std::uint64_t seed, std::uint64_t step, std::uint64_t shard)
      : saved_(detail::rng()) {
    std::seed_seq words{static_cast<std::uint32_t>(seed),  static_cast<std::uint32_t>(seed >> 32),
                        static_cast<std::uint32_t>(step),  static_cast<std::uint32_t>(step >> 32),
                        static_cast<std::uint32_t>(shard), static_cast<std::uint32_t>(shard >> 32)};
    detail::rng().seed(words);
  }
  ~ShardGenerator() { detail::rng() = saved_; }
  ShardGenerator(const ShardGenerator&) = delete;
  ShardGenerator& operator=(const ShardGenerator&) = delete;

 private:
  std::mt19937 saved_;
};

}  // namespace

DeterministicDataParallel::DeterministicDataParallel(Module& model, ProcessGroup& group,
                                                     std::size_t shards, std::uint64_t seed)
    : model_(model), group_(group), shards_(shards), seed_(seed) {
  const auto world = static_cast<std::size_t>(group.world_size());
  if (shards == 0 || shards % world != 0) {
    detail::fail_arg(
        "DeterministicDataParallel: {} shards cannot be split evenly over {} ranks; use a "
        "shard count that is a positive multiple of the world size (the same count for every "
        "world size you want the same weights from)",
        shards, world);
  }
  parameters_ = model.parameters();
  for (auto& named : model.named_buffers()) buffers_.push_back(named.second);
  parameter_values_ = total_size(parameters_);
  buffer_values_ = total_size(buffers_);
}

std::size_t DeterministicDataParallel::first_shard() const {
  return static_cast<std::size_t>(group_.rank()) * (shards_ / group_.world_size());
}

void DeterministicDataParallel::run_shard(std::size_t s, const Tensor& inputs,
                                          const Tensor& targets, const Loss& loss,
                                          const std::vector<float>& buffer_snapshot,
                                          std::vector<float>& out) {
  // Every shard starts from the same buffers and no gradients, whichever rank runs it.
  const float* snapshot = buffer_snapshot.data();
  for (Tensor& b : buffers_) {
    std::copy(snapshot, snapshot + b.size(), b.data().data());
    snapshot += b.size();
  }
  for (Tensor& p : parameters_) p.zero_grad();
  const std::size_t rows = inputs.dim(0) / shards_;
  const ShardGenerator generator(seed_, steps_, s);
  const Tensor value =
      loss(model_(inputs.slice(s * rows, (s + 1) * rows)), targets.slice(s * rows, (s + 1) * rows));
  if (!value.defined() || value.size() != 1) {
    detail::fail_shape(
        "DeterministicDataParallel: the loss function must return one value (a "
        "scalar), got {}",
        value.defined() ? "shape " + shape_str(value.shape()) : "an undefined tensor");
  }
  value.backward();
  for (const Tensor& p : parameters_) append_values(out, p.grad(), p.size());
  for (const Tensor& b : buffers_) append_values(out, b, b.size());
  out.push_back(value.item());
}

double DeterministicDataParallel::apply_means(const std::vector<float>& records) {
  const std::size_t values = parameter_values_ + buffer_values_, record = values + 1;
  // Σ_s in shard order, element by element: the same float additions on every rank and for
  // every world size.
  std::vector<float> sum(values, 0.0f);
  double loss = 0.0;
  for (std::size_t s = 0; s < shards_; ++s) {
    const float* r = records.data() + s * record;
    for (std::size_t j = 0; j < values; ++j) sum[j] += r[j];
    loss += r[values];
  }
  const float scale = 1.0f / static_cast<float>(shards_);
  const float* next = sum.data();
  for (Tensor& p : parameters_) {
    write_grad(p, next, scale);
    next += p.size();
  }
  for (Tensor& b : buffers_) {
    float* out = b.data().data();
    const std::size_t n = b.size();
    for (std::size_t i = 0; i < n; ++i) out[i] = next[i] * scale;
    next += n;
  }
  return loss / static_cast<double>(shards_);
}

namespace {

void check_global_batch(const Tensor& inputs, const Tensor& targets, std::size_t shards) {
  if (!inputs.defined() || !targets.defined() || inputs.ndim() == 0 || targets.ndim() == 0) {
    detail::fail_arg(
        "DeterministicDataParallel: inputs and targets must be tensors with a batch "
        "axis, got {} and {}",
        inputs.defined() ? "shape " + shape_str(inputs.shape()) : "undefined",
        targets.defined() ? "shape " + shape_str(targets.shape()) : "undefined");
  }
  const std::size_t n = inputs.dim(0);
  if (targets.dim(0) != n) {
    detail::fail_shape("DeterministicDataParallel: inputs have {} rows, targets {}; got {} and {}",
                       n, targets.dim(0), shape_str(inputs.shape()), shape_str(targets.shape()));
  }
  if (n == 0 || n % shards != 0) {
    detail::fail_arg(
        "DeterministicDataParallel: a batch of {} examples cannot be cut into {} "
        "equal shards; use a global batch size that is a positive multiple of {}",
        n, shards, shards);
  }
}

}  // namespace

double DeterministicDataParallel::compute_gradients(const Tensor& inputs, const Tensor& targets,
                                                    const Loss& loss) {
  check_global_batch(inputs, targets, shards_);
  if (!loss) detail::fail_arg("DeterministicDataParallel: the loss function is empty");
  std::vector<float> snapshot;
  for (const Tensor& b : buffers_) append_values(snapshot, b, b.size());

  const std::size_t mine = shards_ / group_.world_size();
  const std::size_t record = parameter_values_ + buffer_values_ + 1;
  std::vector<float> local;
  local.reserve(mine * record);
  for (std::size_t k = 0; k < mine; ++k) {
    run_shard(first_shard() + k, inputs, targets, loss, snapshot, local);
  }
  // Ranks hold consecutive shards, so rank order is shard order.
  std::vector<float> all(shards_ * record);
  const int count = detail::mpi_count(local.size(), "DeterministicDataParallel");
  detail::check_mpi(MPI_Allgather(local.data(), count, MPI_FLOAT, all.data(), count, MPI_FLOAT,
                                  detail::comm(group_)),
                    "MPI_Allgather");
  ++steps_;
  return apply_means(all);
}

double DeterministicDataParallel::step(const Tensor& inputs, const Tensor& targets,
                                       const Loss& loss, Optimizer& optimizer) {
  const double mean_loss = compute_gradients(inputs, targets, loss);
  optimizer.step();
  return mean_loss;
}

}  // namespace tinytorch
