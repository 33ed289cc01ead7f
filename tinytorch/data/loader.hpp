// Module 08 — DataLoader: datasets and mini-batches.
//
// A Dataset maps an index to a Sample (a few tensors, e.g. {image [1, 8, 8], label []}).
// A DataLoader walks a dataset in batches: each pass (each range-for) draws a new order when
// shuffling, groups batch_size indices, and collates their samples — by default each field
// is stacked along a new axis 0, so images become [B, 1, 8, 8] and labels [B].
//
//   auto data = std::make_shared<TensorDataset>(std::vector<Tensor>{images, labels});
//   DataLoader loader(data, DataLoaderOptions(32).shuffle(true).seed(7));
//   for (const Batch& batch : loader) {   // batch[0]: [32, 1, 8, 8], batch[1]: [32]
//     ...
//   }
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include <tinytorch/core/tensor.hpp>

namespace tinytorch {

/// The tensors of one example, in a fixed order (e.g. {input, target}).
using Sample = std::vector<Tensor>;
/// The tensors of one batch: field i of every sample, collated.
using Batch = std::vector<Tensor>;
/// Turns the samples of one batch into a Batch.
using Collate = std::function<Batch(const std::vector<Sample>&)>;

/// Anything indexable: size() examples, get(i) for i in [0, size()).
class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual std::size_t size() const = 0;
  /// Throws std::out_of_range for i >= size().
  virtual Sample get(std::size_t i) const = 0;
};

/// Examples are the rows (axis 0) of a few tensors that share their first dimension.
class TensorDataset : public Dataset {
 public:
  explicit TensorDataset(std::vector<Tensor> tensors);
  std::size_t size() const override;
  Sample get(std::size_t i) const override;
  /// Rows `indices` of every tensor at once (what the loader uses to avoid per-sample copies).
  Batch get_batch(const std::vector<std::size_t>& indices) const;
  const std::vector<Tensor>& tensors() const { return tensors_; }

 private:
  std::vector<Tensor> tensors_;
};

/// Stacks field i of every sample along a new axis 0; an empty list gives an empty Batch.
Batch default_collate(const std::vector<Sample>& samples);

/// Chooses the examples of each pass and their order. A DataLoader given one asks it once at
/// the start of every pass (begin()) instead of numbering or shuffling the dataset itself; a
/// DistributedSampler (tinytorch/distributed/) gives each process its own part this way.
class Sampler {
 public:
  virtual ~Sampler() = default;
  /// How many indices a pass over a dataset of `dataset_size` examples gives.
  virtual std::size_t size(std::size_t dataset_size) const = 0;
  /// The indices of the next pass: size(dataset_size) of them, each < dataset_size (the
  /// DataLoader checks both and throws std::logic_error naming the sampler's mistake).
  virtual std::vector<std::size_t> indices(std::size_t dataset_size) = 0;
};

/// Options with chained setters: DataLoaderOptions(32).shuffle(true).seed(1).
struct DataLoaderOptions {
  explicit DataLoaderOptions(std::size_t batch_size = 1) : batch_size_(batch_size) {}
  DataLoaderOptions& batch_size(std::size_t n) {
    batch_size_ = n;
    return *this;
  }
  DataLoaderOptions& shuffle(bool on) {
    shuffle_ = on;
    return *this;
  }
  DataLoaderOptions& drop_last(bool on) {
    drop_last_ = on;
    return *this;
  }
  /// Seed of the loader's own shuffling generator; unset: drawn from the library generator.
  DataLoaderOptions& seed(std::uint64_t s) {
    seed_ = s;
    return *this;
  }
  DataLoaderOptions& collate(Collate fn) {
    collate_ = std::move(fn);
    return *this;
  }
  /// Each pass takes its indices from `s` (shared: keep a handle to call set_epoch on it);
  /// shuffle(true) with a sampler is std::invalid_argument, as in PyTorch.
  DataLoaderOptions& sampler(std::shared_ptr<Sampler> s) {
    sampler_ = std::move(s);
    return *this;
  }

  std::size_t batch_size_;
  bool shuffle_ = false;
  bool drop_last_ = false;
  std::optional<std::uint64_t> seed_;
  Collate collate_;  ///< empty: default_collate (or TensorDataset's direct gather)
  /// null: every example of the dataset, in order or shuffled.
  std::shared_ptr<Sampler> sampler_;
};

class DataLoader {
 public:
  /// Throws std::invalid_argument for a null dataset or batch size 0.
  DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options);
  DataLoader(std::shared_ptr<const Dataset> dataset, std::size_t batch_size, bool shuffle = false);

  /// Number of batches per pass: ceil(n / batch) (floor with drop_last), where n is the
  /// dataset's size, or what the sampler gives per pass.
  std::size_t size() const;
  /// Examples per pass: the dataset's size (or the sampler's count), less what drop_last drops.
  std::size_t samples_per_pass() const;
  /// For whoever needs at least one batch (a training epoch): throws std::invalid_argument
  /// naming `op` and why a pass gives none, an empty dataset or drop_last with fewer examples
  /// than one batch ("train_epoch: the DataLoader gives no batches: drop_last drops ...").
  void check_has_batches(const char* op) const;
  const Dataset& dataset() const { return *dataset_; }
  std::size_t batch_size() const { return options_.batch_size_; }

  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    using pointer = const Batch*;
    using reference = const Batch&;

    const Batch& operator*() const { return batch_; }
    const Batch* operator->() const { return &batch_; }
    Iterator& operator++();
    bool operator==(const Iterator& other) const { return position_ == other.position_; }
    bool operator!=(const Iterator& other) const { return position_ != other.position_; }

   private:
    friend class DataLoader;
    Iterator(const DataLoader* loader, std::size_t position);
    void load();
    const DataLoader* loader_;
    std::size_t position_;  ///< batch number
    Batch batch_;
  };

  /// Starts a new pass: reshuffles (when shuffling) or asks the sampler, and loads the first
  /// batch.
  Iterator begin();
  Iterator end() const;

  /// The batch at position `b` of the current pass's order (with a sampler: after begin()).
  Batch batch(std::size_t b) const;

 private:
  /// Examples per pass: the dataset's size, or the sampler's count.
  std::size_t pass_size() const;
  /// begin() with a sampler: its indices, checked, become the pass's order.
  Iterator begin_sampled();

  std::shared_ptr<const Dataset> dataset_;
  DataLoaderOptions options_;
  std::vector<std::size_t> order_;
  std::mt19937_64 generator_;
};

}  // namespace tinytorch
