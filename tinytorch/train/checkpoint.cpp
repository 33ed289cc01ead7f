// The Trainer's checkpoints: the model, the optimizer's state and the loop's place (epoch,
// step, history, schedule) in one safetensors file, written atomically. The format is
// "tinytorch-checkpoint-1": tensors "model.<name>" and "optimizer.<name>", and JSON metadata
// for the rest. Loading checks the whole file against the Trainer before it changes anything.
#include <tinytorch/train/training.hpp>

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include <tinytorch/detail/errors.hpp>
#include <tinytorch/detail/text.hpp>
#include <tinytorch/io/internal/state.hpp>
#include <tinytorch/io/serialize.hpp>

namespace tinytorch {

using nlohmann::json;

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
          {"learning_rates", floats_to_json(h.learning_rates)},
          {"train_accuracy", floats_to_json(h.train_accuracy)},
          {"epoch_seconds", floats_to_json(h.epoch_seconds)}};
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
  std::size_t world_size = 1;  ///< processes of the run that wrote it
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
  // Written since 0.1 (a checkpoint without them resumes with those curves empty).
  if (j.contains("train_accuracy")) h.train_accuracy = in.numbers("train_accuracy", j);
  if (j.contains("epoch_seconds")) h.epoch_seconds = in.numbers("epoch_seconds", j);
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
  // Written alone (or before processes were recorded): 1.
  info.world_size = meta.count("world_size") ? in.count("world_size", in.field("world_size")) : 1;
  if (info.world_size == 0) in.fail("metadata 'world_size' must be at least 1, got 0");
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
  Metadata metadata{{"format", kCheckpointFormat},
                          {"epoch", std::to_string(epoch_)},
                          {"step", std::to_string(step_)},
                          {"training_mode", model_.is_training() ? "true" : "false"},
                          {"scheduler", scheduler_to_json(scheduler_)},
                          {"history", history_to_json(history_).dump()}};
  if (parallel_) metadata["world_size"] = std::to_string(parallel_->world_size());
  // Over several processes the primary writes, and the others wait until the file is there
  // (a resume right after must find it).
  if (!parallel_ || parallel_->is_primary())
    detail::save_safetensors("save_checkpoint", path, tensors, metadata);
  if (parallel_) parallel_->barrier();
}

void Trainer::load_checkpoint(const std::string& path) {
  detail::check_path("load_checkpoint", path);
  Metadata metadata;
  const TensorMap tensors = load_safetensors(path, &metadata);
  // The whole file is checked before anything changes (metadata, model tensors, optimizer
  // state): a checkpoint that does not fit leaves model, optimizer and Trainer as they were.
  CheckpointInfo info = parse_checkpoint_info(path, metadata);
  const std::size_t processes =
      parallel_ ? static_cast<std::size_t>(parallel_->world_size()) : std::size_t{1};
  if (info.world_size != processes) {
    throw SerializationError(fmt::format(
        "load_checkpoint: {}: written by a run over {} process{}, this one has {}: each "
        "process's part of the data would differ, so the resumed run would not continue the "
        "same training; resume it over {}",
        path, info.world_size, info.world_size == 1 ? "" : "es", processes, info.world_size));
  }
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
