// Module 07 — Training: the loop machinery around model, loss and optimizer.
//
//   CosineSchedule   lr(e) = min + (max − min)·(1 + cos(π·e/T))/2 for e < T, min after
//   clip_grad_norm   n = √(Σ_p Σ g²); if n > max_norm every grad is scaled by max_norm/n;
//                    returns the norm before clipping
//   Trainer          train_epoch: forward, loss, backward, (clip), step, zero_grad per
//                    `accumulation_steps` batches; evaluate: mean loss and accuracy without
//                    recording; checkpoints (model, optimizer and loop state) in the
//                    safetensors format of tinytorch/io/ (save()/load() there keep weights only)
//
//   Trainer trainer(model, optimizer, cross_entropy);
//   for (int e = 0; e < 10; ++e) {
//     float train_loss = trainer.train_epoch(train_loader);
//     EvalResult r = trainer.evaluate(test_loader);   // r.loss, r.accuracy
//   }
//   trainer.save_checkpoint("checkpoints/last.safetensors");
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <tinytorch/core/module.hpp>
#include <tinytorch/core/optimizers.hpp>
#include <tinytorch/core/tensor.hpp>
#include <tinytorch/data/loader.hpp>
#include <tinytorch/train/parallel.hpp>

namespace tinytorch {

class CosineSchedule {
 public:
  explicit CosineSchedule(float max_lr = 0.1f, float min_lr = 0.01f,
                          std::size_t total_epochs = 100);
  float get_lr(std::size_t epoch) const;
  float max_lr() const { return max_lr_; }
  float min_lr() const { return min_lr_; }
  std::size_t total_epochs() const { return total_epochs_; }

 private:
  float max_lr_, min_lr_;
  std::size_t total_epochs_;
};

/// Scales all gradients together so their global L2 norm is at most max_norm; returns the
/// norm before clipping (0 for no gradients).
float clip_grad_norm(const std::vector<Tensor>& parameters, float max_norm = 1.0f);

/// A loss: (model output, target) -> 0-d tensor. cross_entropy and mse_loss fit. The Trainer
/// throws ShapeError when it returns more than one value ("Trainer: the loss function must
/// return one value (a scalar), got shape [4]"), std::invalid_argument when undefined.
using LossFn = std::function<Tensor(const Tensor&, const Tensor&)>;

struct EvalResult {
  float loss = 0.0f;
  float accuracy = 0.0f;  ///< fraction in [0, 1]
};

struct History {
  std::vector<float> train_loss, eval_loss, eval_accuracy, learning_rates;
  /// Per epoch: the share of training batches predicted right (classification outputs only:
  /// empty when the outputs have no accuracy), and the seconds train_epoch took.
  std::vector<float> train_accuracy, epoch_seconds;
};

/// Called after every training batch: (batch index, batches per epoch, batch loss).
using BatchCallback = std::function<void(std::size_t, std::size_t, float)>;

class Trainer;
/// Called whenever the history grows: after every train_epoch and every evaluate, with the
/// figures of all processes (a training report rewrites its page from here).
using HistoryCallback = std::function<void(const Trainer&)>;

class Trainer {
 public:
  Trainer(Module& model, Optimizer& optimizer, LossFn loss,
          std::optional<CosineSchedule> scheduler = std::nullopt,
          std::optional<float> grad_clip_norm = std::nullopt);

  /// One pass over `loader` in training mode; returns the mean loss per update. A NaN or
  /// infinity in the loss or in a parameter's gradient throws NonFiniteError before the
  /// optimizer writes it into the weights, naming the epoch, step and batch, the parameter,
  /// and (found by replaying the batch under DetectAnomalyGuard) the first op or backward node
  /// that made it; the model's gradients and buffers are left as the failing batch made them.
  /// A step that turns a parameter non-finite from finite gradients (a huge learning rate)
  /// throws too, naming the parameter, right after that step.
  float train_epoch(DataLoader& loader, std::size_t accumulation_steps = 1);
  /// The same over batches already in memory, in their order (no DataLoader needed).
  float train_epoch(const std::vector<Batch>& batches, std::size_t accumulation_steps = 1);
  /// Mean loss and accuracy over `loader` in eval mode, without recording a graph.
  EvalResult evaluate(DataLoader& loader);
  EvalResult evaluate(const std::vector<Batch>& batches);

  /// Model parameters, optimizer state, epoch, step, scheduler and history, written to a
  /// temporary file and renamed into place (over several processes: by the primary alone,
  /// and every process returns once it is written). What load_checkpoint would refuse is not written:
  /// an epoch, step or schedule length past 2^53 throws SerializationError with the loader's
  /// wording.
  void save_checkpoint(const std::string& path) const;
  /// Restores what save_checkpoint wrote; a checkpoint that does not match the model throws,
  /// as does one written by a run over another number of processes (each process's part of
  /// the data, and so the training that follows, would differ).
  void load_checkpoint(const std::string& path);

  /// Trains over several processes from now on (see train/parallel.hpp): gradients are
  /// averaged before every step, the figures train_epoch and evaluate return (and the history
  /// records) are over all processes, and only the primary writes checkpoints. Each process's
  /// loader should give its own part of the data. Null: alone again.
  void set_parallel(std::shared_ptr<TrainerParallel> parallel) { parallel_ = std::move(parallel); }
  const TrainerParallel* parallel() const { return parallel_.get(); }

  std::size_t epoch() const { return epoch_; }
  void set_epoch(std::size_t e) { epoch_ = e; }
  std::size_t step() const { return step_; }
  const History& history() const { return history_; }
  void on_batch(BatchCallback callback) { on_batch_ = std::move(callback); }
  void on_history(HistoryCallback callback) { on_history_ = std::move(callback); }
  const Module& model() const { return model_; }
  const Optimizer& optimizer() const { return optimizer_; }

 private:
  /// The epoch and the evaluation over any range of batches (a DataLoader, a vector).
  template <class Batches>
  float run_epoch(Batches& batches, std::size_t accumulation_steps);
  template <class Batches>
  EvalResult run_evaluation(Batches& batches);
  /// Forward, loss, finiteness check, backward and gradient check of one batch; returns the
  /// batch loss.
  float train_batch(const Batch& batch, std::size_t index);
  /// Clip (if asked), optimizer step, zero_grad, parameter check, ++step.
  void apply_update();
  /// Throws NonFiniteError: `found` at the current epoch and step, and what a replay of
  /// `batch` from generator state `rng` under anomaly detection names as its origin.
  [[noreturn]] void fail_non_finite(const std::string& found, const Batch& batch, std::size_t index,
                                    const std::mt19937& rng);
  /// Runs `batch` again under DetectAnomalyGuard; returns its error message ("" if none), and
  /// puts gradients, buffers and the generator back as they were.
  std::string replay_with_anomaly_detection(const Batch& batch, const std::mt19937& rng);
  /// Records the epoch's loss (the mean over the processes), applies the schedule, ++epoch.
  void finish_epoch(float mean_loss);
  /// After an epoch: the train accuracy over every process, the seconds, on_history.
  void record_epoch(std::size_t epochs_before, double seconds);
  /// run_epoch with the train accuracy counted and the epoch timed; returns the epoch's
  /// loss over every process.
  template <class Batches>
  float recorded_epoch(Batches& batches, std::size_t accumulation_steps);
  /// Refuses what training over several processes cannot do: gradient accumulation, and
  /// processes with different numbers of batches (a collective: every process calls it).
  void check_parallel_epoch(std::size_t accumulation_steps, std::size_t batches) const;
  /// The last evaluation's figures over every process, from this one's over `samples`.
  EvalResult combine_evaluation(EvalResult local, std::size_t samples);

  Module& model_;
  Optimizer& optimizer_;
  LossFn loss_;
  std::optional<CosineSchedule> scheduler_;
  std::optional<float> grad_clip_norm_;
  std::size_t epoch_ = 0, step_ = 0;
  History history_;
  BatchCallback on_batch_;
  HistoryCallback on_history_;
  /// This epoch's training predictions (train_batch counts them; the wrappers add them up).
  std::size_t epoch_correct_ = 0, epoch_samples_ = 0;
  bool epoch_has_accuracy_ = true;
  std::shared_ptr<TrainerParallel> parallel_;
};

/// Fraction of rows whose prediction matches `labels`: argmax over axis 1 for [N, C] outputs
/// (C > 1), threshold 0.5 for [N, 1] or [N] outputs.
float accuracy(const Tensor& outputs, const Tensor& labels);

}  // namespace tinytorch
