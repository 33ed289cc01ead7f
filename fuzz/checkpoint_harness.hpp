// The model, optimizer and Trainer the checkpoint fuzzers load into, and what they do with a
// checkpoint that loads: train one step on it, so that state that loads but cannot be trained
// on (a step count that wraps, a negative second moment) shows up as a finding too.
//
//   Linear(3, 4) → ReLU → Linear(4, 2), Adam(lr 0.01), CosineSchedule(0.1, 0.01, 10)
//
// make_seeds.cpp writes the seed checkpoints from the same pieces.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <tinytorch/tinytorch.hpp>

namespace fuzz {

struct Run {
  std::shared_ptr<tinytorch::Sequential> model;
  std::unique_ptr<tinytorch::Adam> optimizer;
  std::unique_ptr<tinytorch::Trainer> trainer;
};

inline std::shared_ptr<tinytorch::Sequential> small_model() {
  using namespace tinytorch;
  manual_seed(7);
  return std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
      std::make_shared<Linear>(3, 4), std::make_shared<ReLU>(), std::make_shared<Linear>(4, 2)});
}

inline Run make_run() {
  using namespace tinytorch;
  Run run;
  run.model = small_model();
  run.optimizer = std::make_unique<Adam>(run.model->parameters(), 0.01f);
  run.trainer = std::make_unique<Trainer>(*run.model, *run.optimizer, cross_entropy,
                                          CosineSchedule(0.1f, 0.01f, 10));
  return run;
}

/// Two rows of three features and their classes.
inline std::vector<tinytorch::Batch> one_batch() {
  using namespace tinytorch;
  return {{Tensor({{0.5f, -1.0f, 2.0f}, {1.5f, 0.25f, -0.5f}}), Tensor({0.0f, 1.0f})}};
}

/// Loads `path` into a fresh run; if it loads, trains one step. Only the library's own errors
/// for bad files and bad numbers may come out of it; anything else is a finding.
inline void load_and_train(const std::string& path) {
  Run run = make_run();
  try {
    run.trainer->load_checkpoint(path);
  } catch (const tinytorch::SerializationError&) {
    return;
  }
  try {
    run.trainer->train_epoch(one_batch());
  } catch (const tinytorch::NonFiniteError&) {  // loaded weights can be huge: that is reported
  }
}

}  // namespace fuzz
