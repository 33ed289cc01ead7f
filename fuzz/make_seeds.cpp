// Writes the seed corpora of the safetensors, weights and checkpoint fuzzers from the model,
// optimizer and Trainer of checkpoint_harness.hpp (built in the fuzz preset; not a fuzzer):
//   build-fuzz/fuzz/make_seeds fuzz/corpus
// The committed seeds came from it; run it again when the checkpoint format changes.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "checkpoint_harness.hpp"

namespace fs = std::filesystem;
using namespace tinytorch;

namespace {

void write(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::FILE* f = std::fopen(path.c_str(), "wb");
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  std::printf("%s (%zu bytes)\n", path.c_str(), bytes.size());
}

std::string read(const fs::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  std::string bytes;
  char buffer[4096];
  for (std::size_t got; (got = std::fread(buffer, 1, sizeof buffer, f)) > 0;) bytes.append(buffer, got);
  std::fclose(f);
  return bytes;
}

/// A file written by hand: the u64 header length, the header, the data.
std::string hand_made(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<char>(header.size() >> (8 * i));
  return out + header + data;
}

template <class T>
std::string bytes_of(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path out = argc > 1 ? argv[1] : "fuzz/corpus";
  const fs::path scratch = fs::temp_directory_path() / "tinytorch_make_seeds";
  fs::create_directories(scratch);
  const auto saved = [&](const std::function<void(const std::string&)>& save) {
    const std::string path = (scratch / "file.safetensors").string();
    save(path);
    return read(path);
  };

  // safetensors: every readable dtype, metadata, a scalar, an empty tensor, an empty file.
  write(out / "safetensors" / "every_dtype",
        hand_made(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                  R"("b":{"dtype":"F64","shape":[1],"data_offsets":[8,16]},)"
                  R"("c":{"dtype":"F16","shape":[2],"data_offsets":[16,20]},)"
                  R"("d":{"dtype":"BF16","shape":[1,1],"data_offsets":[20,22]},)"
                  R"("e":{"dtype":"I64","shape":[],"data_offsets":[22,30]},)"
                  R"("f":{"dtype":"I32","shape":[0,3],"data_offsets":[30,30]},)"
                  R"("__metadata__":{"note":"seed"}})",
                  bytes_of<float>({1.5f, -2.0f}) + bytes_of<double>({0.25}) +
                      bytes_of<std::uint16_t>({0x3c00, 0x7c00}) + bytes_of<std::uint16_t>({0x3f80}) +
                      bytes_of<std::int64_t>({-3})));
  write(out / "safetensors" / "written",
        saved([](const std::string& p) {
          save_safetensors(p, {{"w", Tensor({{1, 2}, {3, 4}})}, {"s", Tensor::scalar(5)}},
                           {{"k", "v"}});
        }));
  write(out / "safetensors" / "empty_header", hand_made("{}", ""));
  // Names and metadata encodings: a tensor named twice, a metadata key given twice, metadata
  // that is not UTF-8 (Latin-1 "café"), a NUL and a newline escaped in JSON strings, and a
  // byte-order mark in front of the header.
  const std::string entry = R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})";
  const std::string one_float = bytes_of<float>({1.0f});
  write(out / "safetensors" / "duplicate_name",
        hand_made(R"({"w":)" + entry + R"(,"w":)" + entry + "}", one_float));
  write(out / "safetensors" / "duplicate_metadata_key",
        hand_made(R"({"w":)" + entry + R"(,"__metadata__":{"k":"a","k":"b"}})", one_float));
  write(out / "safetensors" / "metadata_latin1",
        hand_made(R"({"w":)" + entry + ",\"__metadata__\":{\"note\":\"caf\xe9\"}}", one_float));
  write(
      out / "safetensors" / "escaped_nul_and_newline",
      hand_made(R"({"a\u0000b\nc":)" + entry + R"(,"__metadata__":{"k\u0000":"v\n"}})", one_float));
  write(out / "safetensors" / "byte_order_mark", hand_made("\xef\xbb\xbf{}", ""));

  // save_metadata: FuzzedDataProvider input. Strings are read from the front, each ended by
  // "\ " (a backslash and another byte); the counts and floats come from the last bytes.
  const std::string counts("\x00\x00\x80\x3f\x02\x02", 6);  // float 1.0, 2 metadata, 2 tensors
  write(out / "save_metadata" / "utf8",
        std::string("w\\ b\\ note\\ caf\xc3\xa9\\ k\\ v\\ ") + counts);
  write(out / "save_metadata" / "latin1",
        std::string("w\\ b\\ note\\ caf\xe9\\ k\\ v\\ ") + counts);
  write(out / "save_metadata" / "reserved_and_nul",
        std::string("__metadata__\\ a\0b\\ k\0\\ \n\\ ", 26) + counts);

  // weights: save(model) of the harness's model, and one with a tensor it does not have.
  const auto model = fuzz::small_model();
  write(out / "weights" / "small_model",
        saved([&](const std::string& p) { save(*model, p); }));
  write(out / "weights" / "extra_tensor", saved([&](const std::string& p) {
          TensorMap t;
          for (const auto& [name, tensor] : model->state_dict()) t[name] = tensor;
          t["extra"] = Tensor({1.0f});
          save_safetensors(p, t, {{"format", "tinytorch-weights-1"}});
        }));

  // checkpoints: before any step (no moments), after two steps with an evaluation, without a
  // schedule, and one of SGD with momentum (which Adam must refuse).
  const auto checkpoint = [&](int steps, bool schedule, bool sgd) {
    return saved([&](const std::string& p) {
      fuzz::Run run = fuzz::make_run();
      std::unique_ptr<Optimizer> optimizer;
      if (sgd) optimizer = std::make_unique<SGD>(run.model->parameters(), 0.1f, 0.9f);
      Optimizer& opt = sgd ? *optimizer : static_cast<Optimizer&>(*run.optimizer);
      Trainer trainer(*run.model, opt, cross_entropy,
                      schedule ? std::optional<CosineSchedule>(CosineSchedule(0.1f, 0.01f, 10))
                               : std::nullopt);
      for (int i = 0; i < steps; ++i) trainer.train_epoch(fuzz::one_batch());
      if (steps > 0) trainer.evaluate(fuzz::one_batch());
      trainer.save_checkpoint(p);
    });
  };
  for (const char* corpus : {"checkpoint", "checkpoint_fields"}) {
    write(out / corpus / "fresh", checkpoint(0, true, false));
    write(out / corpus / "two_steps", checkpoint(2, true, false));
    write(out / corpus / "no_schedule", checkpoint(1, false, false));
    write(out / corpus / "sgd_momentum", checkpoint(1, true, true));
  }
  fs::remove_all(scratch);
}
