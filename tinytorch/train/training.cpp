// Module 07 — Training: the cosine schedule, gradient clipping, accuracy and the Trainer's
// loop. The Trainer's checkpoints are in checkpoint.cpp.
#include <tinytorch/train/training.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include <tinytorch/core/autograd.hpp>
#include <tinytorch/detail/common.hpp>
#include <tinytorch/detail/text.hpp>

namespace tinytorch {

// ---- CosineSchedule ---------------------------------------------------------------------

CosineSchedule::CosineSchedule(float max_lr, float min_lr, std::size_t total_epochs)
    : max_lr_(max_lr), min_lr_(min_lr), total_epochs_(total_epochs) {
  if (total_epochs == 0) detail::fail_arg("CosineSchedule: total_epochs must be >= 1, got 0");
  if (!std::isfinite(max_lr))
    detail::fail_arg("CosineSchedule: max_lr must be finite, got {}", max_lr);
  if (!(min_lr >= 0.0f && min_lr <= max_lr)) {
    detail::fail_arg("CosineSchedule: need 0 <= min_lr <= max_lr, got min_lr {} and max_lr {}",
                     min_lr, max_lr);
  }
}

float CosineSchedule::get_lr(std::size_t epoch) const {
  // Hint: lr(e) = min + (max − min)·(1 + cos(π·e/T))/2 while e < T, and min from then on.
  // BEGIN SOLUTION 07_training cosine_schedule
  if (epoch >= total_epochs_) return min_lr_;
  const double progress = static_cast<double>(epoch) / static_cast<double>(total_epochs_);
  constexpr double kPi = 3.14159265358979323846;
  const double cosine = (1.0 + std::cos(kPi * progress)) / 2.0;  // 1 at the start, 0 at T
  return static_cast<float>(min_lr_ + (static_cast<double>(max_lr_) - min_lr_) * cosine);
  // END SOLUTION
}

// ---- clip_grad_norm ---------------------------------------------------------------------

namespace {

// Summed in double: millions of float squares would otherwise lose the small ones.
double global_grad_norm(const std::vector<Tensor>& parameters) {
  double sum_sq = 0.0;
  for (const Tensor& p : parameters) {
    if (!p.defined() || !p.grad().defined()) continue;
    const Tensor grad = p.grad();
    const float* g = grad.data().data();
    const std::size_t n = grad.size();  // once: size() is a call, not a field
    for (std::size_t i = 0; i < n; ++i) sum_sq += static_cast<double>(g[i]) * g[i];
  }
  return std::sqrt(sum_sq);
}

void scale_grads(const std::vector<Tensor>& parameters, double factor) {
  for (const Tensor& p : parameters) {
    if (!p.defined() || !p.grad().defined()) continue;
    Tensor grad = p.grad();  // a handle: scaling it scales the parameter's gradient
    float* g = grad.data().data();
    const std::size_t n = grad.size();
    for (std::size_t i = 0; i < n; ++i) g[i] = static_cast<float>(g[i] * factor);
  }
}

}  // namespace

float clip_grad_norm(const std::vector<Tensor>& parameters, float max_norm) {
  // Hint: n = √(Σ over every gradient element of g²), summed in double; if n > max_norm scale every
  // gradient by max_norm/n in place. Return n.
  // BEGIN SOLUTION 07_training clip_grad_norm
  if (!(max_norm > 0.0f))
    detail::fail_arg("clip_grad_norm: max_norm must be > 0, got {}", max_norm);
  const double total = global_grad_norm(parameters);
  if (total > max_norm) scale_grads(parameters, max_norm / total);
  return static_cast<float>(total);
  // END SOLUTION
}

// ---- accuracy ---------------------------------------------------------------------------

namespace {

std::size_t row_argmax(const float* row, std::size_t n) {
  return static_cast<std::size_t>(std::max_element(row, row + n) - row);  // first maximum
}

/// Rows of `t`: dim 0, or 1 for a 0-d tensor.
std::size_t rows_of(const Tensor& t) {
  return t.ndim() == 0 ? 1 : t.dim(0);
}

double seconds_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Columns per row of a [N] or [N, C] tensor (1 for [N]).
std::size_t cols_of(const Tensor& t) {
  return t.ndim() == 2 ? t.dim(1) : 1;
}

/// Can `outputs` be scored against `labels`? [N] or [N, C] outputs; labels [N], [N, 1] or,
/// for one-hot targets, the outputs' shape.
bool accuracy_applies(const Tensor& outputs, const Tensor& labels) {
  if (outputs.ndim() < 1 || outputs.ndim() > 2 || labels.ndim() < 1 || labels.ndim() > 2)
    return false;
  if (outputs.dim(0) != labels.dim(0)) return false;
  return cols_of(labels) == 1 || labels.shape() == outputs.shape();
}

/// Number of rows whose prediction matches the label (see accuracy() for the rules).
std::size_t count_correct(const Tensor& outputs, const Tensor& labels) {
  // Hint: c == 1: compare out > 0.5 with label > 0.5; class labels: argmax of the row (first
  // maximum) equals the label; one-hot: the two row argmaxes agree.
  // BEGIN SOLUTION 07_training accuracy
  const std::size_t n = outputs.dim(0), c = cols_of(outputs), lc = cols_of(labels);
  const float* out = outputs.data().data();
  const float* lab = labels.data().data();
  std::size_t correct = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (c == 1) {  // one probability per row: threshold at 0.5
      correct += (out[i] > 0.5f) == (lab[i] > 0.5f);
    } else if (lc == 1) {  // class index labels
      correct += static_cast<float>(row_argmax(out + i * c, c)) == lab[i];
    } else {  // one-hot labels
      correct += row_argmax(out + i * c, c) == row_argmax(lab + i * c, c);
    }
  }
  return correct;
  // END SOLUTION
}

}  // namespace

float accuracy(const Tensor& outputs, const Tensor& labels) {
  if (!accuracy_applies(outputs, labels)) {
    detail::fail_shape(
        "accuracy: expected outputs [N, C], [N, 1] or [N] with labels [N], [N, 1] "
        "or one-hot [N, C]; got outputs {} and labels {}",
        shape_str(outputs.shape()), shape_str(labels.shape()));
  }
  const std::size_t n = outputs.dim(0);
  if (n == 0) return 0.0f;
  return static_cast<float>(static_cast<double>(count_correct(outputs, labels)) / n);
}

// ---- Trainer: the loop ------------------------------------------------------------------

namespace {

void check_batch(const char* op, const Batch& batch) {
  if (batch.size() < 2) {
    detail::fail_arg("{}: a batch needs (input, target) tensors, got {} tensor(s)", op,
                     batch.size());
  }
}

}  // namespace

Trainer::Trainer(Module& model, Optimizer& optimizer, LossFn loss,
                 std::optional<CosineSchedule> scheduler, std::optional<float> grad_clip_norm)
    : model_(model),
      optimizer_(optimizer),
      loss_(std::move(loss)),
      scheduler_(std::move(scheduler)),
      grad_clip_norm_(grad_clip_norm) {
  if (!loss_) detail::fail_arg("Trainer: the loss function is empty");
  // Every call of the loss (train_epoch, evaluate, the anomaly replay) goes through this check:
  // a loss that is not one value would otherwise fail in item() or backward() with a message
  // that does not say the loss function is at fault.
  loss_ = [user = std::move(loss_)](const Tensor& outputs, const Tensor& targets) {
    Tensor value = user(outputs, targets);
    if (!value.defined())
      detail::fail_arg("Trainer: the loss function returned an undefined tensor");
    if (value.size() != 1) {
      detail::fail_shape(
          "Trainer: the loss function must return one value (a scalar), got shape {}; reduce "
          "it, e.g. with .mean()",
          shape_str(value.shape()));
    }
    return value;
  };
  if (grad_clip_norm_ && !(*grad_clip_norm_ > 0.0f)) {
    detail::fail_arg("Trainer: grad_clip_norm must be > 0, got {}", *grad_clip_norm_);
  }
  // An optimizer made over another model's parameters() steps those, and this model trains
  // for epochs at a constant loss without a word.
  const std::vector<Tensor> own = model_.parameters();
  const auto is_own = [&](const Tensor& p) {
    return std::any_of(own.begin(), own.end(), [&](const Tensor& q) { return q.same(p); });
  };
  if (!std::any_of(optimizer_.params().begin(), optimizer_.params().end(), is_own)) {
    detail::fail_arg(
        "Trainer: the optimizer holds none of the model's {} parameters (was it made with "
        "another model's parameters()?); make it with this model's parameters()",
        own.size());
  }
}

namespace {

/// Whether all n floats are finite: their exponent bits are not all ones. Integer operations
/// only, so the compiler vectorises the loop (a float comparison chain would not be), and it
/// runs over every parameter and gradient at every step.
bool all_finite(const float* v, std::size_t n) {
  std::uint32_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, v + i, sizeof bits);
    bad |= static_cast<std::uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
  }
  return bad == 0;
}

/// "gradient of parameter '0.weight' [4, 8] holds nan at element 3" for the first of `params`
/// (or of their gradients, when `grads`) that is not finite; "" when all are. Names are looked
/// up only then: the success path allocates nothing.
std::string first_non_finite(const std::vector<Tensor>& params, const Module& model, bool grads) {
  for (const Tensor& p : params) {
    const Tensor t = grads ? p.grad() : p;
    if (!t.defined()) continue;
    const float* v = t.data().data();
    const std::size_t n = t.size();
    if (all_finite(v, n)) continue;  // the common case, in one vectorised pass
    for (std::size_t i = 0; i < n; ++i) {
      if (std::isfinite(v[i])) continue;
      std::string name = "(not in the model)";
      for (const auto& [n, named] : model.named_parameters()) {
        if (named.same(p)) name = "'" + detail::escaped(n) + "'";
      }
      return fmt::format("{}parameter {} {} holds {} at element {}", grads ? "gradient of " : "",
                         name, shape_str(t.shape()), detail::number_text(v[i]), i);
    }
  }
  return "";
}

}  // namespace

float Trainer::train_batch(const Batch& batch, std::size_t index) {
  check_batch("train_epoch", batch);
  const std::mt19937 rng = detail::rng();  // to replay the batch if something goes wrong
  const Tensor outputs = model_(batch[0]);
  const Tensor loss = loss_(outputs, batch[1]);
  const float value = loss.item();
  if (epoch_has_accuracy_ && accuracy_applies(outputs, batch[1])) {
    try {
      epoch_correct_ += count_correct(outputs, batch[1]);
      epoch_samples_ += rows_of(batch[0]);
    } catch (const NotImplemented&) {  // module 07's accuracy exercise is not written yet
      epoch_has_accuracy_ = false;
    }
  } else {
    epoch_has_accuracy_ = false;  // regression outputs: the epoch has no train accuracy
  }
  // Stop before backward: a NaN would otherwise spread silently into every parameter.
  if (!std::isfinite(value)) {
    fail_non_finite("loss is " + detail::number_text(value), batch, index, rng);
  }
  loss.backward();  // unscaled: accumulated gradients add up, as in the course
  // A finite loss can still give NaN gradients (a NaN input that max pooling passed over, a
  // 0·inf): they must not reach the optimizer either.
  const std::string bad = first_non_finite(optimizer_.params(), model_, true);
  if (!bad.empty()) fail_non_finite(bad, batch, index, rng);
  return value;
}

void Trainer::fail_non_finite(const std::string& found, const Batch& batch, std::size_t index,
                              const std::mt19937& rng) {
  const std::string origin = replay_with_anomaly_detection(batch, rng);
  throw NonFiniteError(
      fmt::format("train_epoch: {} at epoch {}, step {} (batch {}){}; the optimizer did not step",
                  found, epoch_, step_, index, origin.empty() ? "" : "; replayed with " + origin));
}

std::string Trainer::replay_with_anomaly_detection(const Batch& batch, const std::mt19937& rng) {
  // What the replay may change is saved first: gradients (handles: the replay accumulates
  // into fresh ones), buffers (BatchNorm's running statistics move in training mode) and the
  // generator (Dropout draws the same masks again from the saved state).
  std::vector<Tensor> grads;
  for (Tensor p : optimizer_.params()) {  // handles: zero_grad() reaches the parameter
    grads.push_back(p.grad());
    p.zero_grad();
  }
  std::vector<std::pair<Tensor, Tensor>> buffers;
  for (const auto& [name, b] : model_.named_buffers()) buffers.emplace_back(b, b.clone());
  const std::mt19937 rng_now = detail::rng();
  detail::rng() = rng;
  std::string origin;
  try {
    DetectAnomalyGuard anomaly;
    anomaly.set_position(epoch_, step_);
    anomaly.set_names(model_.state_dict());
    loss_(model_(batch[0]), batch[1]).backward();
  } catch (const NonFiniteError& e) {
    origin = e.what();
  } catch (const std::exception&) {  // the replay is a diagnosis; it must not hide the error
  }
  detail::rng() = rng_now;
  for (auto& [live, saved] : buffers) live.data() = saved.data();
  for (std::size_t i = 0; i < grads.size(); ++i) {
    Tensor p = optimizer_.params()[i];
    p.set_grad(grads[i]);
  }
  return origin;
}

void Trainer::apply_update() {
  if (parallel_) parallel_->average_gradients();
  if (grad_clip_norm_) clip_grad_norm(model_.parameters(), *grad_clip_norm_);
  optimizer_.step();
  optimizer_.zero_grad();
  // Finite gradients can still overflow a parameter (a huge learning rate): say so at once.
  const std::string bad = first_non_finite(optimizer_.params(), model_, false);
  if (!bad.empty()) {
    throw NonFiniteError(fmt::format(
        "train_epoch: the optimizer step at epoch {}, step {} left {} (from finite gradients; "
        "lr is {})",
        epoch_, step_, bad, optimizer_.lr()));
  }
  ++step_;
}

void Trainer::finish_epoch(float mean_loss) {
  if (parallel_) {  // every process ran the same number of updates: the mean of the means
    std::vector<double> sum{static_cast<double>(mean_loss)};
    parallel_->sum(sum);
    mean_loss = static_cast<float>(sum[0] / static_cast<double>(parallel_->world_size()));
  }
  history_.train_loss.push_back(mean_loss);
  // Set after the epoch with the epoch just finished, so epoch 0 runs at the optimizer's lr.
  if (scheduler_) {
    const float lr = scheduler_->get_lr(epoch_);
    optimizer_.set_lr(lr);
    history_.learning_rates.push_back(lr);
  }
  ++epoch_;
}

template <class Batches>
float Trainer::run_epoch(Batches& batches, std::size_t accumulation_steps) {
  // Hint: model_.train(), zero_grad; per batch train_batch(); every accumulation_steps batches
  // apply_update(); left-overs get an update too; finish_epoch(mean loss per update).
  // BEGIN SOLUTION 07_training train_epoch
  if (accumulation_steps == 0)
    detail::fail_arg("train_epoch: accumulation_steps must be >= 1, got 0");
  const std::size_t count = batches.size();
  if (count == 0) detail::fail_arg("train_epoch: there are no batches (is the dataset empty?)");
  model_.train();
  optimizer_.zero_grad();  // gradients left from outside the loop must not leak into step 1
  double update_loss = 0.0, loss_sum = 0.0;
  std::size_t pending = 0, updates = 0, index = 0;
  for (const Batch& batch : batches) {
    const float loss = train_batch(batch, index);
    update_loss += static_cast<double>(loss) / static_cast<double>(accumulation_steps);
    if (++pending == accumulation_steps) {
      apply_update();
      loss_sum += update_loss;
      update_loss = 0.0;
      pending = 0;
      ++updates;
    }
    if (on_batch_) on_batch_(index, count, loss);
    ++index;
  }
  if (pending > 0) {  // the left-over batches still get their update
    apply_update();
    loss_sum += update_loss;
    ++updates;
  }
  const float mean_loss = static_cast<float>(loss_sum / static_cast<double>(updates));
  finish_epoch(mean_loss);
  return mean_loss;
  // END SOLUTION
}

template <class Batches>
EvalResult Trainer::run_evaluation(Batches& batches) {
  // Hint: eval mode (ModeRestorer puts it back) and a NoGradGuard; sum loss × batch rows and
  // correct predictions over the batches; divide by the sample count.
  // BEGIN SOLUTION 07_training evaluate
  if (batches.size() == 0)
    detail::fail_arg("evaluate: there are no batches (is the dataset empty?)");
  ModeRestorer restore(model_);
  model_.eval();
  NoGradGuard no_grad;
  double loss_sum = 0.0;
  std::size_t samples = 0, correct = 0;
  for (const Batch& batch : batches) {
    check_batch("evaluate", batch);
    const Tensor outputs = model_(batch[0]);
    const std::size_t n = rows_of(batch[0]);
    loss_sum += static_cast<double>(loss_(outputs, batch[1]).item()) * static_cast<double>(n);
    samples += n;
    // Regression outputs have no accuracy; they simply count nothing.
    if (accuracy_applies(outputs, batch[1])) correct += count_correct(outputs, batch[1]);
  }
  EvalResult result;
  if (samples > 0) {
    result.loss = static_cast<float>(loss_sum / static_cast<double>(samples));
    result.accuracy =
        static_cast<float>(static_cast<double>(correct) / static_cast<double>(samples));
  }
  history_.eval_loss.push_back(result.loss);
  history_.eval_accuracy.push_back(result.accuracy);
  return result;
  // END SOLUTION
}

void Trainer::check_parallel_epoch(std::size_t accumulation_steps, std::size_t batches) const {
  if (!parallel_) return;
  if (accumulation_steps > 1) {
    detail::fail_arg(
        "train_epoch: accumulation_steps must be 1 when training over {} processes, got {} "
        "(the gradients are averaged after every batch; make each process's batch larger "
        "instead)",
        parallel_->world_size(), accumulation_steps);
  }
  // Every process must run as many steps: one that finishes early would wait forever for the
  // others' next averaging. The counts are all equal exactly when W·Σc² = (Σc)², which every
  // process finds alike, so all of them refuse together.
  const auto c = static_cast<double>(batches);
  std::vector<double> sums{c, c * c};
  parallel_->sum(sums);
  const double w = parallel_->world_size();
  if (w * sums[1] != sums[0] * sums[0]) {
    detail::fail_arg(
        "train_epoch: the {} processes have different numbers of batches this epoch (this one "
        "{}, {} on average); give each the same, as a DistributedSampler does",
        parallel_->world_size(), batches, sums[0] / w);
  }
}

EvalResult Trainer::combine_evaluation(EvalResult local, std::size_t samples) {
  if (!parallel_ || history_.eval_accuracy.empty()) return local;
  const auto n = static_cast<double>(samples);
  std::vector<double> sums{static_cast<double>(local.loss) * n,
                           static_cast<double>(local.accuracy) * n, n};
  parallel_->sum(sums);
  EvalResult all;
  if (sums[2] > 0.0) {
    all.loss = static_cast<float>(sums[0] / sums[2]);
    all.accuracy = static_cast<float>(sums[1] / sums[2]);
  }
  history_.eval_loss.back() = all.loss;
  history_.eval_accuracy.back() = all.accuracy;
  return all;
}

// The wrappers: the epoch and the evaluation (the exercises) see this process's batches; what
// they return is made global here.
float Trainer::train_epoch(DataLoader& loader, std::size_t accumulation_steps) {
  loader.check_has_batches("train_epoch");  // says why, where drop_last left none
  check_parallel_epoch(accumulation_steps, loader.size());
  return recorded_epoch(loader, accumulation_steps);
}

float Trainer::train_epoch(const std::vector<Batch>& batches, std::size_t accumulation_steps) {
  check_parallel_epoch(accumulation_steps, batches.size());
  return recorded_epoch(batches, accumulation_steps);
}

template <class Batches>
float Trainer::recorded_epoch(Batches& batches, std::size_t accumulation_steps) {
  const std::size_t before = history_.train_loss.size();
  epoch_correct_ = epoch_samples_ = 0;
  epoch_has_accuracy_ = true;
  const double start = seconds_now();
  const float local = run_epoch(batches, accumulation_steps);
  record_epoch(before, seconds_now() - start);
  return history_.train_loss.size() > before ? history_.train_loss.back() : local;
}

void Trainer::record_epoch(std::size_t epochs_before, double seconds) {
  if (history_.train_loss.size() == epochs_before) return;  // a stubbed epoch recorded nothing
  std::vector<double> counts{static_cast<double>(epoch_correct_),
                             static_cast<double>(epoch_samples_),
                             epoch_has_accuracy_ ? 0.0 : 1.0, seconds};
  if (parallel_) parallel_->sum(counts);  // the slowest process is what the epoch took: ~ mean
  const double processes = parallel_ ? static_cast<double>(parallel_->world_size()) : 1.0;
  if (counts[2] == 0.0 && counts[1] > 0.0) {
    history_.train_accuracy.push_back(static_cast<float>(counts[0] / counts[1]));
  }
  history_.epoch_seconds.push_back(static_cast<float>(counts[3] / processes));
  if (on_history_) on_history_(*this);
}

EvalResult Trainer::evaluate(DataLoader& loader) {
  loader.check_has_batches("evaluate");
  const std::size_t before = history_.eval_loss.size();
  const EvalResult local = run_evaluation(loader);
  if (history_.eval_loss.size() == before) return local;
  const EvalResult all = combine_evaluation(local, loader.samples_per_pass());
  if (on_history_) on_history_(*this);
  return all;
}

EvalResult Trainer::evaluate(const std::vector<Batch>& batches) {
  const std::size_t before = history_.eval_loss.size();
  const EvalResult local = run_evaluation(batches);
  if (history_.eval_loss.size() == before) return local;
  std::size_t samples = 0;
  for (const Batch& batch : batches) samples += rows_of(batch[0]);
  const EvalResult all = combine_evaluation(local, samples);
  if (on_history_) on_history_(*this);
  return all;
}

}  // namespace tinytorch
