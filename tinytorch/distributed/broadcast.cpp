// Distributed training — broadcast_parameters: every rank checks that all ranks hold the same
// tensors (names and shapes, gathered from every rank), then takes rank 0's values.
#include <tinytorch/distributed/broadcast.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include <tinytorch/detail/errors.hpp>
#include <tinytorch/distributed/internal/mpi.hpp>

namespace tinytorch {

namespace {

/// What a rank says about one of its tensors.
struct TensorInfo {
  std::string name;
  Shape shape;
};

using Layout = std::vector<TensorInfo>;

// ---- a rank's layout as bytes (names may hold any byte, so lengths go first) ---------------

void put(std::string& out, std::uint64_t value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

std::uint64_t take(const char*& in) {
  std::uint64_t value = 0;
  std::memcpy(&value, in, sizeof value);
  in += sizeof value;
  return value;
}

std::string encode(const std::vector<std::pair<std::string, Tensor>>& named) {
  std::string out;
  put(out, named.size());
  for (const auto& [name, tensor] : named) {
    put(out, name.size());
    out += name;
    const Shape shape = tensor.shape();
    put(out, shape.size());
    for (std::size_t d : shape) put(out, d);
  }
  return out;
}

// Only ever reads what encode() wrote on a rank of the same program.
Layout decode(const char* in) {
  Layout layout(take(in));
  for (TensorInfo& info : layout) {
    const std::size_t length = take(in);
    info.name.assign(in, length);
    in += length;
    info.shape.resize(take(in));
    for (std::size_t& d : info.shape) d = take(in);
  }
  return layout;
}

// ---- every rank's layout, on every rank ----------------------------------------------------

std::vector<Layout> gather_layouts(const std::string& mine, ProcessGroup& group) {
  const int world = group.world_size();
  const int my_length = detail::mpi_count(mine.size(), "broadcast_parameters");
  std::vector<int> lengths(world), offsets(world, 0);
  detail::check_mpi(
      MPI_Allgather(&my_length, 1, MPI_INT, lengths.data(), 1, MPI_INT, detail::comm(group)),
      "MPI_Allgather");
  std::size_t total = 0;
  for (int r = 0; r < world; ++r) {
    offsets[r] = detail::mpi_count(total, "broadcast_parameters");
    total += static_cast<std::size_t>(lengths[r]);
  }
  std::vector<char> all(total);
  detail::check_mpi(MPI_Allgatherv(mine.data(), my_length, MPI_CHAR, all.data(), lengths.data(),
                                   offsets.data(), MPI_CHAR, detail::comm(group)),
                    "MPI_Allgatherv");
  std::vector<Layout> layouts;
  for (int r = 0; r < world; ++r) layouts.push_back(decode(all.data() + offsets[r]));
  return layouts;
}

// ---- the first difference to rank 0 ---------------------------------------------------------

std::string describe(const TensorInfo& info) {
  return fmt::format("'{}' of shape {}", info.name, shape_str(info.shape));
}

// Why `layout` (rank r's) differs from rank 0's, or nothing when it does not.
std::optional<std::string> difference(const Layout& layout, int r, const Layout& root) {
  const std::size_t common = std::min(layout.size(), root.size());
  for (std::size_t i = 0; i < common; ++i) {
    const TensorInfo &mine = layout[i], &theirs = root[i];
    if (mine.name == theirs.name && mine.shape == theirs.shape) continue;
    if (mine.name == theirs.name) {
      return fmt::format("rank {} has {}, rank 0 has {}", r, describe(mine),
                         shape_str(theirs.shape));
    }
    return fmt::format("rank {}'s tensor {} is {}, rank 0's is {}", r, i, describe(mine),
                       describe(theirs));
  }
  if (layout.size() == root.size()) return std::nullopt;
  const bool fewer = layout.size() < root.size();
  return fmt::format(
      "rank {} has {} tensors, rank 0 has {} ({} {})", r, layout.size(), root.size(),
      fewer ? "the first one rank " + std::to_string(r) + " lacks:" : "the first extra one:",
      describe(fewer ? root[common] : layout[common]));
}

// Every rank runs this on the same gathered layouts, so every rank throws the same error.
void check_same_layouts(const std::vector<Layout>& layouts) {
  for (std::size_t r = 1; r < layouts.size(); ++r) {
    if (auto why = difference(layouts[r], static_cast<int>(r), layouts[0])) {
      detail::fail_arg(
          "broadcast_parameters: {}; every rank must build the same model (the same tensors, "
          "names and shapes) before the broadcast",
          *why);
    }
  }
}

}  // namespace

void broadcast_parameters(Module& model, ProcessGroup& group) {
  std::vector<std::pair<std::string, Tensor>> named = model.state_dict();
  check_same_layouts(gather_layouts(encode(named), group));
  for (auto& [name, tensor] : named) {
    Array& values = tensor.data();  // written in place on every rank but 0
    detail::check_mpi(
        MPI_Bcast(values.data(), detail::mpi_count(values.size(), "broadcast_parameters"),
                  MPI_FLOAT, 0, detail::comm(group)),
        "MPI_Bcast");
  }
}

}  // namespace tinytorch
