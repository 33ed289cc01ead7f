// Distributed training — the Trainer's side of fast-mode data parallelism.
#include <tinytorch/distributed/trainer.hpp>

#include <memory>
#include <vector>

#include <tinytorch/distributed/broadcast.hpp>

namespace tinytorch {

TrainerDataParallel::TrainerDataParallel(Module& model, ProcessGroup& group,
                                         GradientAveragerOptions options)
    : group_(group), averager_(model.parameters(), group, options) {}

int TrainerDataParallel::rank() const {
  return group_.rank();
}

int TrainerDataParallel::world_size() const {
  return group_.world_size();
}

void TrainerDataParallel::average_gradients() {
  averager_.finish();
}

void TrainerDataParallel::sum(std::vector<double>& values) {
  group_.all_reduce_sum(values);
}

void TrainerDataParallel::barrier() {
  group_.barrier();
}

std::shared_ptr<TrainerDataParallel> data_parallel(Module& model, ProcessGroup& group,
                                                   GradientAveragerOptions options) {
  broadcast_parameters(model, group);
  return std::make_shared<TrainerDataParallel>(model, group, options);
}

}  // namespace tinytorch
