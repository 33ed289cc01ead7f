#include "processes.hpp"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

#include "ui.hpp"

#ifdef TINYTORCH_MILESTONES_MPI
#include <tinytorch/distributed/distributed.hpp>
#endif

namespace milestone {

using namespace tinytorch;

namespace {

// Whether mpirun (Open MPI, or a PMI launcher such as Slurm's srun) started this process.
bool started_by_a_launcher() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

Processes* g_current = nullptr;

}  // namespace

Processes* current_processes() {
  return g_current;
}

#ifdef TINYTORCH_MILESTONES_MPI

struct Processes::Impl {
  std::unique_ptr<ProcessGroup> group;
  std::shared_ptr<DistributedSampler> sampler;
};

Processes::Processes() : impl_(std::make_unique<Impl>()) {
  g_current = this;
  if (!started_by_a_launcher()) return;
  impl_->group = std::make_unique<ProcessGroup>();
  rank_ = impl_->group->rank();
  count_ = impl_->group->world_size();
  set_process(rank_, count_);
  // One voice: the others' stdout (progress, tables, plots) goes nowhere; errors still show.
  if (rank_ != 0 && std::freopen("/dev/null", "w", stdout) == nullptr) {
    throw std::runtime_error("cannot silence the standard output of rank " +
                             std::to_string(rank_));
  }
}

void Processes::share(Module& model, Trainer& trainer) {
  if (alone()) return;
  trainer.set_parallel(data_parallel(model, *impl_->group));
}

std::shared_ptr<Sampler> Processes::sampler(std::uint64_t seed) {
  if (alone()) return nullptr;
  impl_->sampler = std::make_shared<DistributedSampler>(
      *impl_->group, DistributedSamplerOptions().seed(seed).drop_last(false));
  return impl_->sampler;
}

void Processes::set_epoch(std::size_t epoch) {
  if (impl_->sampler) impl_->sampler->set_epoch(epoch);
}

int Processes::finish(int code) {
  if (code != 0 && !alone()) {
    std::fflush(stdout);
    std::fflush(stderr);
    impl_->group->abort(code);  // ends every process of the job
  }
  return code;
}

#else  // built without MPI: always one process

struct Processes::Impl {};

Processes::Processes() : impl_(std::make_unique<Impl>()) {
  g_current = this;
  if (started_by_a_launcher()) {
    hint("note: started by mpirun, but the milestones were built without MPI: each process "
         "trains alone (install libopenmpi-dev and rebuild)");
  }
}

void Processes::share(Module&, Trainer&) {}
std::shared_ptr<Sampler> Processes::sampler(std::uint64_t) {
  return nullptr;
}
void Processes::set_epoch(std::size_t) {}
int Processes::finish(int code) {
  return code;
}

#endif

Processes::Processes(Alone) : impl_(std::make_unique<Impl>()) {}

Processes::~Processes() {
  if (g_current == this) g_current = nullptr;
}

std::size_t Processes::local_batch(std::size_t batch) const {
  if (batch % static_cast<std::size_t>(count_) != 0) {
    throw std::invalid_argument(fmt::format(
        "--batch-size {} cannot be shared evenly by {} processes: give a multiple of {}", batch,
        count_, count_));
  }
  return batch / static_cast<std::size_t>(count_);
}

}  // namespace milestone
