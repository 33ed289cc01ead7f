// Module 08 — DataLoader: TensorDataset rows, default_collate, and the batching loop.
#include <tinytorch/data/loader.hpp>

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include <tinytorch/core/autograd.hpp>
#include <tinytorch/detail/common.hpp>

namespace tinytorch {

// ---- TensorDataset ----------------------------------------------------------------------

TensorDataset::TensorDataset(std::vector<Tensor> tensors) : tensors_(std::move(tensors)) {
  if (tensors_.empty()) {
    detail::fail_arg("TensorDataset: expected at least one tensor, got none");
  }
  for (std::size_t i = 0; i < tensors_.size(); ++i) {
    if (!tensors_[i].defined() || tensors_[i].ndim() == 0) {
      detail::fail_arg("TensorDataset: tensor {} has no first dimension to index (it is {})", i,
                       tensors_[i].defined() ? "0-d" : "undefined");
    }
  }
  const std::size_t n = tensors_[0].dim(0);
  for (std::size_t i = 1; i < tensors_.size(); ++i) {
    if (tensors_[i].dim(0) != n) {
      detail::fail_arg(
          "TensorDataset: all tensors must have the same size in the first dimension; "
          "tensor 0: {}, tensor {}: {}",
          n, i, tensors_[i].dim(0));
    }
  }
}

std::size_t TensorDataset::size() const {
  return tensors_[0].dim(0);
}

namespace {

[[noreturn]] void fail_index(std::size_t i, std::size_t n) {
  throw std::out_of_range(
      fmt::format("TensorDataset: index {} out of range for dataset of size {}", i, n));
}

}  // namespace

Sample TensorDataset::get(std::size_t i) const {
  // Hint: example i is row i of every tensor (t[i]), taken under a NoGradGuard; out of range is
  // fail_index(i, size()).
  // BEGIN SOLUTION 08_dataloader tensor_dataset_get
  if (i >= size()) fail_index(i, size());
  // Rows are copies cut from the graph: a sample is data, not part of anyone's history.
  NoGradGuard no_grad;
  Sample sample;
  sample.reserve(tensors_.size());
  for (const Tensor& t : tensors_) sample.push_back(t[static_cast<long>(i)]);
  return sample;
  // END SOLUTION
}

Batch TensorDataset::get_batch(const std::vector<std::size_t>& indices) const {
  for (std::size_t i : indices) {
    if (i >= size()) fail_index(i, size());
  }
  NoGradGuard no_grad;
  Batch batch;
  batch.reserve(tensors_.size());
  for (const Tensor& t : tensors_) batch.push_back(t.index_select(indices));
  return batch;
}

// ---- default_collate --------------------------------------------------------------------

namespace {

// stack() would also catch a shape mismatch, but only this function knows which sample and
// field the user should look at.
void check_same_layout(const std::vector<Sample>& samples) {
  const Sample& first = samples[0];
  for (std::size_t s = 1; s < samples.size(); ++s) {
    if (samples[s].size() != first.size()) {
      detail::fail_arg("default_collate: sample {} has {} fields, sample 0 has {}", s,
                       samples[s].size(), first.size());
    }
    for (std::size_t f = 0; f < first.size(); ++f) {
      if (samples[s][f].shape() != first[f].shape()) {
        detail::fail_shape("default_collate: field {} of sample {} has shape {}, sample 0 has {}",
                           f, s, shape_str(samples[s][f].shape()), shape_str(first[f].shape()));
      }
    }
  }
}

}  // namespace

Batch default_collate(const std::vector<Sample>& samples) {
  // Hint: after check_same_layout, field f of the batch is stack() of field f of every sample.
  // BEGIN SOLUTION 08_dataloader collate
  if (samples.empty()) return {};
  check_same_layout(samples);
  Batch batch;
  batch.reserve(samples[0].size());
  std::vector<Tensor> field(samples.size());
  for (std::size_t f = 0; f < samples[0].size(); ++f) {
    for (std::size_t s = 0; s < samples.size(); ++s) field[s] = samples[s][f];
    batch.push_back(stack(field));
  }
  return batch;
  // END SOLUTION
}

// ---- DataLoader -------------------------------------------------------------------------

namespace {

// The library generator is a 32-bit mt19937; two draws make the 64-bit seed.
std::uint64_t seed_from_library_rng() {
  const std::uint64_t high = detail::rng()();
  const std::uint64_t low = detail::rng()();
  return (high << 32) | low;
}

}  // namespace

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)), options_(std::move(options)) {
  if (!dataset_) detail::fail_arg("DataLoader: dataset is null");
  if (options_.batch_size_ == 0) detail::fail_arg("DataLoader: batch size must be positive, got 0");
  if (options_.sampler_ && options_.shuffle_) {
    detail::fail_arg(
        "DataLoader: shuffle(true) and a sampler exclude each other; the sampler decides the "
        "order (shuffle there, or drop shuffle)");
  }
  // Seeded once: passes differ from each other, while the same seed replays the same passes.
  generator_.seed(options_.seed_ ? *options_.seed_ : seed_from_library_rng());
  // A sampler's order exists only once a pass begins (asking it earlier would count as a pass).
  if (!options_.sampler_) {
    order_.resize(dataset_->size());
    std::iota(order_.begin(), order_.end(), std::size_t{0});
  }
}

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, std::size_t batch_size, bool shuffle)
    : DataLoader(std::move(dataset), DataLoaderOptions(batch_size).shuffle(shuffle)) {}

std::size_t DataLoader::pass_size() const {
  return options_.sampler_ ? options_.sampler_->size(dataset_->size()) : dataset_->size();
}

std::size_t DataLoader::size() const {
  const std::size_t n = pass_size(), b = options_.batch_size_;
  // ceil(n / b) without n + b − 1, which wraps for a batch size near SIZE_MAX.
  return options_.drop_last_ ? n / b : n / b + (n % b != 0);
}

std::size_t DataLoader::samples_per_pass() const {
  const std::size_t n = pass_size();
  return options_.drop_last_ ? n / options_.batch_size_ * options_.batch_size_ : n;
}

void DataLoader::check_has_batches(const char* op) const {
  if (size() > 0) return;
  const std::size_t n = dataset_->size();
  if (n == 0) detail::fail_arg("{}: the DataLoader gives no batches: the dataset is empty", op);
  if (pass_size() == 0) {
    detail::fail_arg(
        "{}: the DataLoader gives no batches: its sampler gives no indices for a "
        "dataset of {} examples",
        op, n);
  }
  // As torch.utils.data.DataLoader, drop_last drops the only batch when it is partial; a pass
  // is then empty, which a loop over it takes silently but an epoch cannot.
  detail::fail_arg(
      "{}: the DataLoader gives no batches: drop_last drops the last, partial batch, and the "
      "dataset has {} example{}, fewer than one batch of {}; lower the batch size or set "
      "drop_last(false)",
      op, n, n == 1 ? "" : "s", options_.batch_size_);
}

DataLoader::Iterator DataLoader::begin_sampled() {
  const std::size_t n = dataset_->size(), want = options_.sampler_->size(n);
  std::vector<std::size_t> indices = options_.sampler_->indices(n);
  if (indices.size() != want) {
    throw std::logic_error(
        fmt::format("DataLoader: the sampler gave {} indices for a pass, but its size() said {}",
                    indices.size(), want));
  }
  for (std::size_t i : indices) {
    if (i >= n) {
      throw std::logic_error(
          fmt::format("DataLoader: the sampler gave index {} for a dataset of {} examples", i, n));
    }
  }
  order_ = std::move(indices);
  return Iterator(this, 0);
}

DataLoader::Iterator DataLoader::begin() {
  if (options_.sampler_) return begin_sampled();
  // Hint: reset order_ to 0..n−1 (the dataset may have changed size), std::shuffle it with
  // generator_ when shuffling, return Iterator(this, 0).
  // BEGIN SOLUTION 08_dataloader shuffle
  // Rebuilt every pass (not only reshuffled) in case a user's Dataset changed its size.
  order_.resize(dataset_->size());
  std::iota(order_.begin(), order_.end(), std::size_t{0});
  if (options_.shuffle_) std::shuffle(order_.begin(), order_.end(), generator_);
  return Iterator(this, 0);
  // END SOLUTION
}

DataLoader::Iterator DataLoader::end() const {
  return Iterator(this, size());
}

Batch DataLoader::batch(std::size_t b) const {
  if (options_.sampler_ && order_.size() != pass_size()) {
    throw std::logic_error(
        "DataLoader: batch() with a sampler before a pass began (or after its size changed); "
        "call begin() (or loop over the loader) first: the sampler gives each pass's order "
        "when the pass begins");
  }
  // Hint: batch b holds order_[b·bs .. min(n, (b+1)·bs)); use TensorDataset::get_batch when there
  // is no collate, else get() each sample and collate.
  // BEGIN SOLUTION 08_dataloader batch
  const std::size_t n = order_.size(), bs = options_.batch_size_;
  if (b >= size()) {  // not b·bs >= n: that product wraps for large batch sizes
    throw std::out_of_range(
        fmt::format("DataLoader: batch {} out of range for a pass of {} batches", b, size()));
  }
  const std::size_t start = b * bs, stop = start + std::min(bs, n - start);
  const std::vector<std::size_t> indices(order_.begin() + static_cast<std::ptrdiff_t>(start),
                                         order_.begin() + static_cast<std::ptrdiff_t>(stop));

  // Fast path: one gather per tensor instead of a tensor per sample and a stack.
  const auto* tensors = dynamic_cast<const TensorDataset*>(dataset_.get());
  if (!options_.collate_ && tensors) return tensors->get_batch(indices);

  std::vector<Sample> samples;
  samples.reserve(indices.size());
  for (std::size_t i : indices) samples.push_back(dataset_->get(i));
  return options_.collate_ ? options_.collate_(samples) : default_collate(samples);
  // END SOLUTION
}

// ---- DataLoader::Iterator ---------------------------------------------------------------

DataLoader::Iterator::Iterator(const DataLoader* loader, std::size_t position)
    : loader_(loader), position_(position) {
  load();
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  ++position_;
  load();
  return *this;
}

void DataLoader::Iterator::load() {
  if (position_ < loader_->size()) {
    batch_ = loader_->batch(position_);
  } else {
    batch_.clear();  // past the end: hold no tensors
  }
}

}  // namespace tinytorch
