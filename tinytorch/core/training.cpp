// Module 07 — Training: cosine schedule, gradient clipping, the Trainer loop, and
// checkpoints in the safetensors format (readable by Python's safetensors and PyTorch).
#include <tinytorch/core/training.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include <tinytorch/core/autograd.hpp>
#include <tinytorch/detail/common.hpp>
#include <tinytorch/io/serialize.hpp>

namespace tinytorch {

using nlohmann::json;

// ---- CosineSchedule ---------------------------------------------------------------------

CosineSchedule::CosineSchedule(float max_lr, float min_lr, std::size_t total_epochs)
    : max_lr_(max_lr), min_lr_(min_lr), total_epochs_(total_epochs) {
  if (total_epochs == 0) detail::fail_arg("CosineSchedule: total_epochs must be >= 1, got 0");
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
  if (grad_clip_norm_ && !(*grad_clip_norm_ > 0.0f)) {
    detail::fail_arg("Trainer: grad_clip_norm must be > 0, got {}", *grad_clip_norm_);
  }
}

float Trainer::train_batch(const Batch& batch, std::size_t index) {
  check_batch("train_epoch", batch);
  const Tensor loss = loss_(model_(batch[0]), batch[1]);
  const float value = loss.item();
  // Stop before backward: a NaN would otherwise spread silently into every parameter.
  if (!std::isfinite(value)) {
    throw std::runtime_error(fmt::format("train_epoch: loss is {} at epoch {}, step {} (batch {})",
                                         value, epoch_, step_, index));
  }
  loss.backward();  // unscaled: accumulated gradients add up, as in the course
  return value;
}

void Trainer::apply_update() {
  if (grad_clip_norm_) clip_grad_norm(model_.parameters(), *grad_clip_norm_);
  optimizer_.step();
  optimizer_.zero_grad();
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
  return run_epoch(loader, accumulation_steps);
}

float Trainer::train_epoch(const std::vector<Batch>& batches, std::size_t accumulation_steps) {
  return run_epoch(batches, accumulation_steps);
}

EvalResult Trainer::evaluate(DataLoader& loader) {
  return run_evaluation(loader);
}

EvalResult Trainer::evaluate(const std::vector<Batch>& batches) {
  return run_evaluation(batches);
}

// ---- Trainer: checkpoints ---------------------------------------------------------------

namespace {

constexpr const char* kCheckpointFormat = "tinytorch-checkpoint-1";

// JSON has no NaN/Inf: non-finite values (an evaluation that diverged) are stored as null.
json floats_to_json(const std::vector<float>& values) {
  json out = json::array();
  for (float v : values) out.push_back(std::isfinite(v) ? json(v) : json(nullptr));
  return out;
}

std::vector<float> floats_from_json(const json& values) {
  std::vector<float> out;
  for (const json& v : values) {
    out.push_back(v.is_null() ? std::numeric_limits<float>::quiet_NaN() : v.get<float>());
  }
  return out;
}

json history_to_json(const History& h) {
  return {{"train_loss", floats_to_json(h.train_loss)},
          {"eval_loss", floats_to_json(h.eval_loss)},
          {"eval_accuracy", floats_to_json(h.eval_accuracy)},
          {"learning_rates", floats_to_json(h.learning_rates)}};
}

History history_from_json(const json& j) {
  History h;
  h.train_loss = floats_from_json(j.at("train_loss"));
  h.eval_loss = floats_from_json(j.at("eval_loss"));
  h.eval_accuracy = floats_from_json(j.at("eval_accuracy"));
  h.learning_rates = floats_from_json(j.at("learning_rates"));
  return h;
}

std::string scheduler_to_json(const std::optional<CosineSchedule>& s) {
  if (!s) return "null";
  return json{{"max_lr", s->max_lr()}, {"min_lr", s->min_lr()}, {"total_epochs", s->total_epochs()}}
      .dump();
}

std::optional<CosineSchedule> scheduler_from_json(const json& j) {
  if (j.is_null()) return std::nullopt;
  return CosineSchedule(j.at("max_lr").get<float>(), j.at("min_lr").get<float>(),
                        j.at("total_epochs").get<std::size_t>());
}

/// What the metadata of a checkpoint holds, parsed before anything in the Trainer changes.
struct CheckpointInfo {
  std::size_t epoch = 0, step = 0;
  bool training_mode = true;
  std::optional<CosineSchedule> scheduler;
  History history;
};

const std::string& metadata_field(const std::string& path, const Metadata& meta,
                                  const std::string& key) {
  auto it = meta.find(key);
  if (it == meta.end()) {
    throw SerializationError(fmt::format("load_checkpoint: {}: metadata has no '{}'", path, key));
  }
  return it->second;
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
  CheckpointInfo info;
  try {
    info.epoch = json::parse(metadata_field(path, meta, "epoch")).get<std::size_t>();
    info.step = json::parse(metadata_field(path, meta, "step")).get<std::size_t>();
    info.training_mode = json::parse(metadata_field(path, meta, "training_mode")).get<bool>();
    info.scheduler = scheduler_from_json(json::parse(metadata_field(path, meta, "scheduler")));
    info.history = history_from_json(json::parse(metadata_field(path, meta, "history")));
  } catch (const json::exception& e) {
    throw SerializationError(
        fmt::format("load_checkpoint: {}: malformed metadata ({})", path, e.what()));
  }
  return info;
}

OptimizerState optimizer_tensors(const TensorMap& tensors) {
  OptimizerState state;
  for (const auto& [key, t] : tensors) {
    if (key.compare(0, 10, "optimizer.") == 0) state[key.substr(10)] = t;
  }
  return state;
}

}  // namespace

void Trainer::save_checkpoint(const std::string& path) const {
  TensorMap tensors;
  for (const auto& [name, p] : model_.state_dict()) tensors["model." + name] = p;
  for (const auto& [key, t] : optimizer_.state_dict()) tensors["optimizer." + key] = t;
  const Metadata metadata{{"format", kCheckpointFormat},
                          {"epoch", std::to_string(epoch_)},
                          {"step", std::to_string(step_)},
                          {"training_mode", model_.is_training() ? "true" : "false"},
                          {"scheduler", scheduler_to_json(scheduler_)},
                          {"history", history_to_json(history_).dump()}};
  save_safetensors(path, tensors, metadata);
}

void Trainer::load_checkpoint(const std::string& path) {
  Metadata metadata;
  const TensorMap tensors = load_safetensors(path, &metadata);
  // Metadata and model tensors are checked before anything changes: a checkpoint of another
  // model leaves this one as it was.
  CheckpointInfo info = parse_checkpoint_info(path, metadata);
  const detail::CheckedState model_state =
      detail::check_state_dict("load_checkpoint", path, model_, tensors, "model.", true);
  optimizer_.load_state_dict(optimizer_tensors(tensors));
  model_state.apply();
  epoch_ = info.epoch;
  step_ = info.step;
  history_ = std::move(info.history);
  // As in the course: a schedule is restored only into a Trainer that has one.
  if (scheduler_ && info.scheduler) scheduler_ = info.scheduler;
  model_.train(info.training_mode);
}

}  // namespace tinytorch
