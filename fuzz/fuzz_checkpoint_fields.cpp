// Trainer::load_checkpoint on checkpoints whose fields are mutated, not their bytes: a custom
// mutator (LLVMFuzzerCustomMutator) parses the safetensors header, changes what a checkpoint
// holds — metadata counts, the schedule, the history, shapes, dtypes, offsets, names, the
// values of step_count, lr and the moments — and writes a well-formed file again, so inputs
// get past the JSON to the checks behind it. Relaying the data after a change of shape keeps
// the offsets consistent, so the model and optimizer checks are reached too. What is run on
// each input is what fuzz_checkpoint runs (checkpoint_harness.hpp).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "checkpoint_harness.hpp"
#include "fuzz_input.hpp"

extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size,
                                        std::size_t max_size);

namespace {

using nlohmann::json;
using Rng = std::mt19937_64;

constexpr const char* kMetadata = "__metadata__";

/// A safetensors file taken apart: its header (metadata included) and the bytes after it.
struct File {
  json header;
  std::string data;
};

std::optional<File> parse(const std::uint8_t* bytes, std::size_t size) {
  if (size < 8) return std::nullopt;
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
  if (n > size - 8) return std::nullopt;
  File file;
  try {
    file.header = json::parse(bytes + 8, bytes + 8 + n);
  } catch (const json::exception&) {
    return std::nullopt;
  }
  if (!file.header.is_object()) return std::nullopt;
  file.data.assign(reinterpret_cast<const char*>(bytes) + 8 + n,
                   reinterpret_cast<const char*>(bytes) + size);
  return file;
}

std::string with_length(const std::string& header, const std::string& data, std::uint64_t n) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>(n >> (8 * i));
  return out + header + data;
}

/// A valid checkpoint of the harness's run after two steps: where mutation starts when an
/// input is not a checkpoint at all.
const File& base_checkpoint() {
  static const File file = [] {
    char dir[] = "/tmp/fuzz_checkpoint_fields_XXXXXX";
    if (::mkdtemp(dir) == nullptr) std::abort();
    const std::string path = std::string(dir) + "/base.safetensors";
    fuzz::Run run = fuzz::make_run();
    run.trainer->train_epoch(fuzz::one_batch());
    run.trainer->train_epoch(fuzz::one_batch());
    run.trainer->save_checkpoint(path);
    std::FILE* f = std::fopen(path.c_str(), "rb");
    std::string bytes;
    char buffer[4096];
    for (std::size_t got; (got = std::fread(buffer, 1, sizeof buffer, f)) > 0;) {
      bytes.append(buffer, got);
    }
    std::fclose(f);
    std::remove(path.c_str());
    ::rmdir(dir);
    return *parse(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  }();
  return file;
}

template <class T>
const T& pick(const std::vector<T>& items, Rng& rng) {
  return items[rng() % items.size()];
}

/// Numbers and values that sit on the edges of what the checks allow.
json edge_value(Rng& rng) {
  static const std::vector<json> values = {
      json(0u), json(1u), json(2u), json(3u), json(4u), json(8u), json(65535u),
      json(std::uint64_t{1} << 31), json(std::uint64_t{1} << 32), json(std::uint64_t{1} << 53),
      json((std::uint64_t{1} << 53) + 1), json(std::uint64_t{1} << 62),
      json(std::uint64_t{1} << 63), json(std::numeric_limits<std::uint64_t>::max()), json(-1),
      json(std::numeric_limits<std::int64_t>::min()), json(2.5), json(1e300), json(-0.0),
      json(1e-300), json(3.4e38), json(-3.4e38), json(""), json("3"), json("x"), json(true),
      json(nullptr), json::array(), json::object(), json::array({1, 2})};
  if (rng() % 4 == 0) return json(static_cast<std::uint64_t>(rng() % 100000));
  return pick(values, rng);
}

/// Text a metadata field may be set to (they hold JSON text).
std::string edge_text(Rng& rng) {
  static const std::vector<std::string> texts = {
      "0", "1", "7", "-1", "1e300", "2.5", "18446744073709551615", "18446744073709551616",
      "9007199254740992", "9007199254740993", "NaN", "\"3\"", "true", "false", "null", "",
      "[]", "{}", "1e-5", "-0", "3 ", " 4", "[1,2]", "{\"a\":1}"};
  if (rng() % 4 == 0) return std::to_string(rng() % 100000);
  return pick(texts, rng);
}

float edge_float(Rng& rng) {
  static const std::vector<float> values = {
      std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
      -std::numeric_limits<float>::infinity(), 0.0f, -0.0f, 1.0f, -1.0f, 0.5f, 2.5f,
      1e30f, -1e30f, 3.4e38f, 1e-45f, 16777217.0f, 9007199254740992.0f, 1.8446744e19f,
      1.8446746e19f, 1e-8f};
  if (rng() % 4 == 0) return std::uniform_real_distribution<float>(-10.0f, 10.0f)(rng);
  return pick(values, rng);
}

std::vector<std::string> tensor_names(const File& file) {
  std::vector<std::string> names;
  for (const auto& [name, entry] : file.header.items()) {
    if (name != kMetadata) names.push_back(name);
  }
  return names;
}

std::size_t dtype_size(const json& dtype) {
  if (!dtype.is_string()) return 4;
  const std::string d = dtype.get<std::string>();
  if (d == "F64" || d == "I64") return 8;
  if (d == "F16" || d == "BF16") return 2;
  return 4;
}

/// The element count of a shape, if it is a list of small integers (else nothing).
std::optional<std::uint64_t> small_count(const json& shape) {
  if (!shape.is_array()) return std::nullopt;
  std::uint64_t n = 1;
  for (const json& d : shape) {
    if (!d.is_number_unsigned() || d.get<std::uint64_t>() > 4096) return std::nullopt;
    n *= d.get<std::uint64_t>();
    if (n > 4096) return std::nullopt;
  }
  return n;
}

/// Rewrites the offsets so that they tile the data again, each tensor keeping what bytes it had
/// (cut or zero-padded to what its shape and dtype need). Entries whose shape is not small are
/// left as they are, to fail the checks.
void relayout(File& file) {
  std::vector<std::string> names = tensor_names(file);
  const auto begin_of = [&](const std::string& name) -> std::uint64_t {
    const json& entry = file.header[name];
    if (!entry.is_object()) return 0;
    const json& offsets = entry.value("data_offsets", json());
    return offsets.is_array() && !offsets.empty() && offsets[0].is_number_unsigned()
               ? offsets[0].get<std::uint64_t>()
               : 0;
  };
  std::stable_sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
    return begin_of(a) < begin_of(b);
  });
  std::string data;
  for (const std::string& name : names) {
    json& entry = file.header[name];
    if (!entry.is_object()) continue;
    const auto count = small_count(entry.value("shape", json()));
    if (!count) continue;
    const std::uint64_t need = *count * dtype_size(entry.value("dtype", json()));
    std::string bytes;
    const json& offsets = entry.value("data_offsets", json());
    if (offsets.is_array() && offsets.size() == 2 && offsets[0].is_number_unsigned() &&
        offsets[1].is_number_unsigned()) {
      const std::uint64_t b = offsets[0].get<std::uint64_t>(), e = offsets[1].get<std::uint64_t>();
      if (b <= e && e <= file.data.size()) bytes = file.data.substr(b, e - b);
    }
    bytes.resize(need, '\0');
    entry["data_offsets"] = json::array({data.size(), data.size() + need});
    data += bytes;
  }
  file.data = std::move(data);
}

/// Where a tensor's bytes are, if its offsets make sense for the data.
std::optional<std::pair<std::size_t, std::size_t>> span_of(const File& file,
                                                           const std::string& name) {
  const auto it = file.header.find(name);
  if (it == file.header.end() || !it->is_object()) return std::nullopt;
  const json& entry = *it;
  const json& offsets = entry.value("data_offsets", json());
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned()) {
    return std::nullopt;
  }
  const std::uint64_t b = offsets[0].get<std::uint64_t>(), e = offsets[1].get<std::uint64_t>();
  if (b > e || e > file.data.size()) return std::nullopt;
  return std::make_pair(static_cast<std::size_t>(b), static_cast<std::size_t>(e));
}

void mutate_metadata_json(File& file, const std::string& key, Rng& rng) {
  json& meta = file.header[kMetadata];
  json value;
  try {
    value = json::parse(meta.value(key, std::string("null")));
  } catch (const json::exception&) {
    value = nullptr;
  }
  if (key == "scheduler" && value.is_object() && rng() % 4 != 0) {
    static const std::vector<std::string> fields = {"max_lr", "min_lr", "total_epochs"};
    value[pick(fields, rng)] = edge_value(rng);
  } else if (key == "history" && value.is_object() && rng() % 4 != 0) {
    static const std::vector<std::string> lists = {"train_loss", "eval_loss", "eval_accuracy",
                                                   "learning_rates"};
    json& list = value[pick(lists, rng)];
    if (list.is_array() && !list.empty() && rng() % 2 == 0) {
      list[rng() % list.size()] = edge_value(rng);
    } else if (rng() % 2 == 0 && list.is_array()) {
      list.push_back(edge_value(rng));
    } else {
      list = edge_value(rng);
    }
  } else {
    meta[key] = edge_text(rng);
    return;
  }
  meta[key] = value.dump();
}

void mutate_once(File& file, Rng& rng) {
  if (!file.header.contains(kMetadata) || !file.header[kMetadata].is_object()) {
    file.header[kMetadata] = base_checkpoint().header[kMetadata];
  }
  json& meta = file.header[kMetadata];
  std::vector<std::string> names = tensor_names(file);
  if (names.empty()) names.push_back("model.0.weight");
  const std::string name = pick(names, rng);
  json& entry = file.header[name];
  if (!entry.is_object()) entry = json::object();
  switch (rng() % 15) {
    case 0: {  // a count: epoch or step
      meta[rng() % 2 ? "epoch" : "step"] = edge_text(rng);
      break;
    }
    case 1:
      mutate_metadata_json(file, "scheduler", rng);
      break;
    case 2:
      mutate_metadata_json(file, "history", rng);
      break;
    case 3: {
      static const std::vector<std::string> keys = {"training_mode", "format", "epoch", "step",
                                                    "scheduler", "history"};
      static const std::vector<std::string> texts = {
          "true", "false", "1", "\"true\"", "tinytorch-checkpoint-1", "tinytorch-weights-1", ""};
      const std::string& key = pick(keys, rng);
      if (rng() % 3 == 0) {
        meta.erase(key);
      } else {
        meta[key] = pick(texts, rng);
      }
      break;
    }
    case 4: {  // a shape entry
      json& shape = entry["shape"];
      if (!shape.is_array()) shape = json::array();
      const unsigned what = rng() % 4;
      if (what == 0 || shape.empty()) {
        shape.push_back(edge_value(rng));
      } else if (what == 1) {
        shape.erase(shape.size() - 1);
      } else {
        shape[rng() % shape.size()] = edge_value(rng);
      }
      if (rng() % 2) relayout(file);
      break;
    }
    case 5: {  // an offset
      json& offsets = entry["data_offsets"];
      if (!offsets.is_array() || offsets.size() != 2) offsets = json::array({0u, 0u});
      json& o = offsets[rng() % 2];
      if (o.is_number_unsigned() && rng() % 2) {
        // Moved by -8..8 in unsigned arithmetic (which wraps, where signed would overflow),
        // then stored as the signed value a JSON writer would print.
        const std::uint64_t moved = o.get<std::uint64_t>() + (rng() % 17) - 8;
        o = static_cast<std::int64_t>(moved);
      } else {
        o = edge_value(rng);
      }
      break;
    }
    case 6: {
      static const std::vector<json> dtypes = {"F32", "F64", "F16", "BF16", "I64", "I32",
                                               "U8",  "BOOL", "",   5,      nullptr};
      entry["dtype"] = pick(dtypes, rng);
      if (rng() % 2) relayout(file);
      break;
    }
    case 7:
    case 8: {  // a value: step_count and lr most often, then any float
      static const std::vector<std::string> favourites = {"optimizer.step_count", "optimizer.lr",
                                                          "optimizer.v.0", "optimizer.m.1"};
      const std::string target = rng() % 2 ? pick(favourites, rng) : name;
      const auto span = span_of(file, target);
      if (!span || span->second - span->first < 4) break;
      const std::size_t at = span->first + 4 * (rng() % ((span->second - span->first) / 4));
      const float v = edge_float(rng);
      std::memcpy(&file.data[at], &v, sizeof v);
      break;
    }
    case 9: {
      if (rng() % 2) {
        file.header.erase(name);
      } else {
        static const std::vector<std::string> keys = {"epoch", "step", "scheduler", "history"};
        meta.erase(pick(keys, rng));
      }
      break;
    }
    case 10: {  // a new name for a tensor, or a copy under one
      static const std::vector<std::string> targets = {
          "optimizer.m.9", "optimizer.momentum.0", "stray", "model.9.weight",
          "optimizer.step_count", "optimizer.lr", "optimizer.m.01", "optimizer.v.3",
          "model.0.bias", "optimizer.", "model."};
      const json copy = entry;
      if (rng() % 2) file.header.erase(name);
      file.header[pick(targets, rng)] = copy;
      relayout(file);
      break;
    }
    case 11: {  // the data cut short or run on
      if (rng() % 2 && !file.data.empty()) {
        file.data.resize(rng() % file.data.size());
      } else {
        file.data.append(rng() % 16 + 1, static_cast<char>(rng()));
      }
      break;
    }
    case 12: {  // a consistent new shape: the layout stays valid, the model check must catch it
      const auto count = small_count(entry.value("shape", json()));
      const std::uint64_t n = count ? *count : 1;
      static const std::vector<int> kinds = {0, 1, 2, 3, 4};
      switch (pick(kinds, rng)) {
        case 0:
          entry["shape"] = json::array({n});
          break;
        case 1:
          entry["shape"] = json::array({1u, n});
          break;
        case 2:
          entry["shape"] = json::array({n + 1});
          break;
        case 3:
          entry["shape"] = json::array();
          break;
        default: {
          json shape = entry.value("shape", json::array());
          if (shape.is_array() && shape.size() > 1) std::swap(shape[0], shape[1]);
          entry["shape"] = shape;
        }
      }
      relayout(file);
      break;
    }
    case 13:
      relayout(file);
      break;
    default: {  // all of the metadata of a valid checkpoint back, to move on from broken ones
      meta = base_checkpoint().header[kMetadata];
      break;
    }
  }
}

}  // namespace

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size,
                                               std::size_t max_size, unsigned int seed) {
  Rng rng(seed);
  std::optional<File> parsed = parse(data, size);
  File file = parsed && rng() % 64 != 0 ? std::move(*parsed) : base_checkpoint();
  const unsigned count = 1 + static_cast<unsigned>(rng() % 3);
  for (unsigned i = 0; i < count; ++i) mutate_once(file, rng);
  std::string header = file.header.dump();
  if (rng() % 16 == 0) {  // now and then the header text itself, byte by byte
    header.resize(header.size() + 64);
    header.resize(LLVMFuzzerMutate(reinterpret_cast<std::uint8_t*>(&header[0]),
                                   header.size() - 64, header.size()));
  }
  std::uint64_t length = header.size();
  if (rng() % 32 == 0) length += static_cast<std::uint64_t>(rng() % 9) - 4;  // a wrong length
  const std::string out = with_length(header, file.data, length);
  if (out.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
  std::memcpy(data, out.data(), out.size());
  return out.size();
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::MemoryFile file(data, size);
  fuzz::load_and_train(file.path());
  return 0;
}
