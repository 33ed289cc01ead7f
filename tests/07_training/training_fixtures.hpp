// Small models, data and a scratch directory shared by the module 07 tests.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <tinytorch/tinytorch.hpp>

#include "support/scratch_dir.hpp"

namespace tinytorch::testing {

/// Linear(4, 8) → ReLU → Linear(8, 3), initialised from the library generator.
inline std::shared_ptr<Sequential> small_mlp(std::size_t hidden = 8) {
  return std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{
      std::make_shared<Linear>(4, hidden), std::make_shared<ReLU>(),
      std::make_shared<Linear>(hidden, 3)});
}

/// `n` points in R^4 around three class centres, labels [n] in {0, 1, 2}. Drawn from a
/// private generator so the data never depends on how the library generator was used.
inline std::shared_ptr<TensorDataset> three_blobs(std::size_t n, std::uint32_t seed = 3) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> noise(0.0f, 0.5f);
  Array x = Array::from_shape(Shape{n, 4});
  Array y = Array::from_shape(Shape{n});
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t label = i % 3;
    y(i) = static_cast<float>(label);
    for (std::size_t j = 0; j < 4; ++j) x(i, j) = (j == label ? 2.0f : 0.0f) + noise(gen);
  }
  return std::make_shared<TensorDataset>(
      std::vector<Tensor>{Tensor(std::move(x)), Tensor(std::move(y))});
}

/// The rows of `data` in batches of `batch_size`, in the order `rows` gives (0..n-1 when
/// empty): what a DataLoader hands the Trainer, built without one, because module 07 comes
/// before the DataLoader of module 08.
inline std::vector<Batch> batches_of(const std::shared_ptr<TensorDataset>& data,
                                     std::size_t batch_size, std::vector<std::size_t> rows = {}) {
  const std::size_t n = data->size();
  if (rows.empty()) {
    for (std::size_t i = 0; i < n; ++i) rows.push_back(i);
  }
  std::vector<Batch> out;
  for (std::size_t start = 0; start < n; start += batch_size) {
    const std::vector<std::size_t> picked(
        rows.begin() + static_cast<long>(start),
        rows.begin() + static_cast<long>(std::min(n, start + batch_size)));
    Batch batch;
    for (const Tensor& t : data->tensors()) batch.push_back(t.index_select(picked));
    out.push_back(batch);
  }
  return out;
}

/// batches_of() over a permutation of the rows drawn from `seed`: a new order per epoch.
inline std::vector<Batch> shuffled_batches(const std::shared_ptr<TensorDataset>& data,
                                           std::size_t batch_size, std::uint32_t seed) {
  std::vector<std::size_t> rows(data->size());
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  std::shuffle(rows.begin(), rows.end(), std::mt19937(seed));
  return batches_of(data, batch_size, rows);
}

/// Copies of the values of every parameter (not handles: later training must not change them).
inline std::vector<Tensor> snapshot(const Module& model) {
  std::vector<Tensor> out;
  for (const Tensor& p : model.parameters()) out.push_back(p.clone());
  return out;
}

/// Bitwise equality of float data (NaN-safe and stricter than ==).
inline bool same_bits(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return false;
  if (a.size() == 0) return true;  // memcmp must not see the null data of an empty array
  return std::memcmp(a.data().data(), b.data().data(), a.size() * sizeof(float)) == 0;
}

}  // namespace tinytorch::testing
