// Module 07 — Training: cosine schedule, gradient clipping, the Trainer loop, and
// checkpoints in the safetensors format (readable by Python's safetensors and PyTorch).
#include <tinytorch/core/training.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include <tinytorch/core/autograd.hpp>
#include <tinytorch/detail/common.hpp>
#include <tinytorch/detail/text.hpp>
#include <tinytorch/io/serialize.hpp>

namespace tinytorch {

using nlohmann::json;

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
    for (std::size_t i = 0; i < grad.size(); ++i) sum_sq += static_cast<double>(g[i]) * g[i];
  }
  return std::sqrt(sum_sq);
}

void scale_grads(const std::vector<Tensor>& parameters, double factor) {
  for (const Tensor& p : parameters) {
    if (!p.defined() || !p.grad().defined()) continue;
    Tensor grad = p.grad();  // a handle: scaling it scales the parameter's gradient
    float* g = grad.data().data();
    for (std::size_t i = 0; i < grad.size(); ++i) g[i] = static_cast<float>(g[i] * factor);
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

/// Puts a module back into the mode it had, also when evaluation throws.
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

/// "gradient of parameter '0.weight' [4, 8] holds nan at element 3" for the first of `params`
/// (or of their gradients, when `grads`) that is not finite; "" when all are. Names are looked
/// up only then: the success path allocates nothing.
std::string first_non_finite(const std::vector<Tensor>& params, const Module& model, bool grads) {
  for (const Tensor& p : params) {
    const Tensor t = grads ? p.grad() : p;
    if (!t.defined()) continue;
    const float* v = t.data().data();
    for (std::size_t i = 0; i < t.size(); ++i) {
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
  const Tensor loss = loss_(model_(batch[0]), batch[1]);
  const float value = loss.item();
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

float Trainer::train_epoch(DataLoader& loader, std::size_t accumulation_steps) {
  loader.check_has_batches("train_epoch");  // says why, where drop_last left none
  return run_epoch(loader, accumulation_steps);
}

float Trainer::train_epoch(const std::vector<Batch>& batches, std::size_t accumulation_steps) {
  return run_epoch(batches, accumulation_steps);
}

EvalResult Trainer::evaluate(DataLoader& loader) {
  loader.check_has_batches("evaluate");
  return run_evaluation(loader);
}

EvalResult Trainer::evaluate(const std::vector<Batch>& batches) {
  return run_evaluation(batches);
}

// ---- Trainer: checkpoints ---------------------------------------------------------------

namespace {

constexpr const char* kCheckpointFormat = "tinytorch-checkpoint-1";
constexpr const char* kLoad = "load_checkpoint";
/// Counts (epochs, steps) are whole numbers up to 2^53, exact in a double and far from a wrap.
constexpr std::uint64_t kMaxCount = std::uint64_t{1} << 53;

/// Why a count cannot be in a checkpoint: one wording for save_checkpoint and load_checkpoint,
/// so that the writer refuses exactly what the reader would.
std::string count_out_of_range(const std::string& field, const std::string& shown) {
  return fmt::format("metadata '{}' must be a whole number in [0, 2^53], got {}", field, shown);
}

/// Refuses to write a count load_checkpoint would refuse: a checkpoint that cannot be loaded
/// is found out when it is needed, long after the run that wrote it.
void check_count_to_save(const std::string& path, const char* field, std::uint64_t value) {
  if (value > kMaxCount) {
    throw SerializationError(
        fmt::format("save_checkpoint: {}: {} (load_checkpoint would refuse the file)", path,
                    count_out_of_range(field, std::to_string(value))));
  }
}

// JSON has no NaN/Inf: non-finite values (an evaluation that diverged) are stored as null.
json floats_to_json(const std::vector<float>& values) {
  json out = json::array();
  for (float v : values) out.push_back(std::isfinite(v) ? json(v) : json(nullptr));
  return out;
}

json history_to_json(const History& h) {
  return {{"train_loss", floats_to_json(h.train_loss)},
          {"eval_loss", floats_to_json(h.eval_loss)},
          {"eval_accuracy", floats_to_json(h.eval_accuracy)},
          {"learning_rates", floats_to_json(h.learning_rates)}};
}

std::string scheduler_to_json(const std::optional<CosineSchedule>& s) {
  if (!s) return "null";
  return json{{"max_lr", s->max_lr()}, {"min_lr", s->min_lr()}, {"total_epochs", s->total_epochs()}}
      .dump();
}

/// Reads the metadata of one checkpoint; every error names the file and the field.
class MetadataReader {
 public:
  MetadataReader(const std::string& path, const Metadata& meta) : path_(path), meta_(meta) {}

  template <class... Args>
  [[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) const {
    throw SerializationError(
        fmt::format("{}: {}: {}", kLoad, path_, fmt::format(format, std::forward<Args>(args)...)));
  }

  /// The JSON text stored under `key`.
  json field(const std::string& key) const {
    auto it = meta_.find(key);
    if (it == meta_.end()) fail("metadata has no '{}'", key);
    try {
      return json::parse(it->second);
    } catch (const json::exception&) {
      // The file's own text, which may hold a newline or a NUL: escaped.
      fail("metadata '{}' is not JSON: '{}'", key, detail::escaped(shown(it->second)));
    }
  }

  /// The one checked parse of a count (epoch, step, total_epochs): a JSON integer in
  /// [0, 2^53]. "-1" (which get<size_t>() wraps to 2^64 - 1), "1e300" (undefined as an
  /// integer), "2.5" and "18446744073709551616" are errors.
  std::size_t count(const std::string& field, const json& value) const {
    if (!value.is_number_unsigned() || value.get<std::uint64_t>() > kMaxCount) {
      fail("{}", count_out_of_range(field, shown(value.dump())));
    }
    return static_cast<std::size_t>(value.get<std::uint64_t>());
  }

  /// A float: a JSON number within float range, or null (a value that was not finite) when
  /// `null_is_nan`.
  float number(const std::string& field, const json& value, bool null_is_nan) const {
    if (null_is_nan && value.is_null()) return std::numeric_limits<float>::quiet_NaN();
    if (!value.is_number() ||
        std::abs(value.get<double>()) > static_cast<double>(std::numeric_limits<float>::max())) {
      fail("metadata '{}' must be a number within float range{}, got {}", field,
           null_is_nan ? " or null" : "", shown(value.dump()));
    }
    return static_cast<float>(value.get<double>());
  }

  std::vector<float> numbers(const std::string& field, const json& history) const {
    const auto it = history.find(field);
    if (it == history.end() || !it->is_array()) {
      fail("metadata 'history' must hold a list '{}'", field);
    }
    std::vector<float> out;
    for (const json& v : *it) out.push_back(number("history." + field, v, true));
    return out;
  }

 private:
  static std::string shown(const std::string& text) {
    return text.size() > 40 ? text.substr(0, 40) + "..." : text;
  }
  const std::string& path_;
  const Metadata& meta_;
};

/// What the metadata of a checkpoint holds, parsed before anything in the Trainer changes.
struct CheckpointInfo {
  std::size_t epoch = 0, step = 0;
  bool training_mode = true;
  std::optional<CosineSchedule> scheduler;
  History history;
};

std::optional<CosineSchedule> read_scheduler(const MetadataReader& in) {
  const json j = in.field("scheduler");
  if (j.is_null()) return std::nullopt;
  if (!j.is_object() || !j.contains("max_lr") || !j.contains("min_lr") ||
      !j.contains("total_epochs")) {
    in.fail("metadata 'scheduler' must be null or hold max_lr, min_lr and total_epochs");
  }
  const float max_lr = in.number("scheduler.max_lr", j["max_lr"], false);
  const float min_lr = in.number("scheduler.min_lr", j["min_lr"], false);
  const std::size_t total = in.count("scheduler.total_epochs", j["total_epochs"]);
  try {
    return CosineSchedule(max_lr, min_lr, total);
  } catch (const std::invalid_argument& e) {
    in.fail("metadata 'scheduler' does not make a schedule: {}", e.what());
  }
}

History read_history(const MetadataReader& in) {
  const json j = in.field("history");
  if (!j.is_object()) in.fail("metadata 'history' must be a JSON object");
  History h;
  h.train_loss = in.numbers("train_loss", j);
  h.eval_loss = in.numbers("eval_loss", j);
  h.eval_accuracy = in.numbers("eval_accuracy", j);
  h.learning_rates = in.numbers("learning_rates", j);
  return h;
}

CheckpointInfo parse_checkpoint_info(const std::string& path, const Metadata& meta) {
  auto format = meta.find("format");
  if (format == meta.end() || format->second != kCheckpointFormat) {
    throw SerializationError(
        fmt::format("load_checkpoint: {}: not a tinytorch checkpoint (metadata 'format' should be "
                    "'{}'); a weights-only file written by save(model, path) loads with "
                    "load(model, path)",
                    path, kCheckpointFormat));
  }
  const MetadataReader in(path, meta);
  CheckpointInfo info;
  info.epoch = in.count("epoch", in.field("epoch"));
  info.step = in.count("step", in.field("step"));
  const json mode = in.field("training_mode");
  if (!mode.is_boolean()) in.fail("metadata 'training_mode' must be true or false");
  info.training_mode = mode.get<bool>();
  info.scheduler = read_scheduler(in);
  info.history = read_history(in);
  return info;
}

bool starts_with(const std::string& s, const char* prefix) {
  return s.compare(0, std::char_traits<char>::length(prefix), prefix) == 0;
}

/// The optimizer's part of a checkpoint ("optimizer.m.0" → "m.0"), checked as the optimizer
/// would load it; a tensor that belongs to neither model nor optimizer is an error too.
OptimizerState checked_optimizer_state(const std::string& path, const TensorMap& tensors,
                                       const Optimizer& optimizer) {
  OptimizerState state;
  for (const auto& [key, t] : tensors) {
    const std::string shown = detail::escaped(key);
    if (starts_with(key, "optimizer.")) {
      // No optimizer state has a name with control bytes or non-UTF-8 in it; refused here,
      // such a name never reaches the optimizer's messages, which print names as they are.
      if (shown != key) {
        throw SerializationError(fmt::format(
            "load_checkpoint: {}: tensor '{}' is no state an optimizer has", path, shown));
      }
      state[key.substr(10)] = t;
    } else if (!starts_with(key, "model.")) {
      throw SerializationError(
          fmt::format("load_checkpoint: {}: tensor '{}' belongs to neither the model ('model.') "
                      "nor the optimizer ('optimizer.')",
                      path, shown));
    }
  }
  try {
    optimizer.check_state_dict(state);
  } catch (const std::invalid_argument& e) {
    throw SerializationError(fmt::format("load_checkpoint: {}: {}", path, e.what()));
  }
  return state;
}

}  // namespace

void Trainer::save_checkpoint(const std::string& path) const {
  detail::check_path("save_checkpoint", path);
  check_count_to_save(path, "epoch", epoch_);
  check_count_to_save(path, "step", step_);
  if (scheduler_) check_count_to_save(path, "scheduler.total_epochs", scheduler_->total_epochs());
  TensorMap tensors;
  for (const auto& [name, p] : model_.state_dict()) tensors["model." + name] = p;
  for (const auto& [key, t] : optimizer_.state_dict()) tensors["optimizer." + key] = t;
  const Metadata metadata{{"format", kCheckpointFormat},
                          {"epoch", std::to_string(epoch_)},
                          {"step", std::to_string(step_)},
                          {"training_mode", model_.is_training() ? "true" : "false"},
                          {"scheduler", scheduler_to_json(scheduler_)},
                          {"history", history_to_json(history_).dump()}};
  detail::save_safetensors("save_checkpoint", path, tensors, metadata);
}

void Trainer::load_checkpoint(const std::string& path) {
  detail::check_path("load_checkpoint", path);
  Metadata metadata;
  const TensorMap tensors = load_safetensors(path, &metadata);
  // The whole file is checked before anything changes (metadata, model tensors, optimizer
  // state): a checkpoint that does not fit leaves model, optimizer and Trainer as they were.
  CheckpointInfo info = parse_checkpoint_info(path, metadata);
  const detail::CheckedState model_state =
      detail::check_state_dict("load_checkpoint", path, model_, tensors, "model.", true);
  const OptimizerState optimizer_state = checked_optimizer_state(path, tensors, optimizer_);
  optimizer_.load_state_dict(optimizer_state);
  model_state.apply();
  epoch_ = info.epoch;
  step_ = info.step;
  history_ = std::move(info.history);
  // As in the course: a schedule is restored only into a Trainer that has one.
  if (scheduler_ && info.scheduler) scheduler_ = info.scheduler;
  model_.train(info.training_mode);
}

}  // namespace tinytorch
