// io: saving is atomic and durable — threads saving to one path never show a reader a torn
// file, every failure carries the system's error text, and no failure (nor a process killed
// mid-write) leaves a temporary file behind.
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <tinytorch/io/safetensors.hpp>

#include "support/scratch_dir.hpp"
#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_throw_with;
using testing::ScratchDir;

std::vector<std::string> names_in(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

/// Writer k's file: 20000 copies of k, and k in the metadata, so a reader can tell a whole
/// file from one stitched together from two writers.
void save_version(const std::string& path, int k) {
  save_safetensors(path, {{"w", Tensor::full({20000}, static_cast<float>(k))}},
                   {{"writer", std::to_string(k)}});
}

/// A temporary limit on the size of files this process writes (RLIMIT_FSIZE), with SIGXFSZ
/// ignored so that a write past it fails with EFBIG instead of killing the process.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &saved_);
    previous_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    EXPECT_EQ(::setrlimit(RLIMIT_FSIZE, &limit), 0);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, previous_);
  }

 private:
  rlimit saved_{};
  void (*previous_)(int) = nullptr;
};

TEST(AtomicSave, ThreadsSavingToOnePathNeverShowAReaderATornFile) {
  // The temporary used to be path + ".tmp." + pid, shared by every thread of the process.
  ScratchDir dir;
  const std::string path = dir.file("shared.safetensors");
  save_version(path, 0);
  std::atomic<bool> done{false};
  std::atomic<int> loads{0};
  std::vector<std::string> problems;
  std::thread reader([&] {
    while (!done) {
      try {
        Metadata meta;
        const TensorMap t = load_safetensors(path, &meta);
        const float k = std::stof(meta.at("writer"));
        const std::vector<float> values = t.at("w").to_vector();
        if (values.size() != 20000 ||
            std::any_of(values.begin(), values.end(), [&](float v) { return v != k; })) {
          problems.push_back("a file mixing two writers");
        }
      } catch (const std::exception& e) {
        problems.push_back(e.what());
      }
      ++loads;
    }
  });
  std::vector<std::thread> writers;
  std::vector<std::string> write_errors(4);
  for (int k = 1; k <= 4; ++k) {
    writers.emplace_back([&, k] {
      try {
        for (int i = 0; i < 25; ++i) save_version(path, k);
      } catch (const std::exception& e) {
        write_errors[static_cast<std::size_t>(k - 1)] = e.what();
      }
    });
  }
  for (std::thread& w : writers) w.join();
  done = true;
  reader.join();
  for (const std::string& e : write_errors) EXPECT_EQ(e, "");
  EXPECT_TRUE(problems.empty()) << problems.size() << " bad loads of " << loads
                                << ", first: " << problems.front();
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"shared.safetensors"});
}

TEST(AtomicSave, AFailedRenameGivesTheSystemsReasonAndLeavesNoTemporary) {
  ScratchDir dir;
  const std::string target = dir.file("taken");
  std::filesystem::create_directories(std::filesystem::path(target) / "inside");
  expect_throw_with<SerializationError>(
      [&] { save_version(target, 1); },
      "save_safetensors: " + target +
          ": is a directory; cannot replace it with a file: " + std::strerror(EISDIR));
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"taken"});
}

TEST(AtomicSave, AFailedWriteGivesTheSystemsReasonKeepsTheOldFileAndLeavesNoTemporary) {
  ScratchDir dir;
  const std::string path = dir.file("model.safetensors");
  save_version(path, 1);
  {
    const FileSizeLimit limit(1000);  // the new file needs 80 KB
    expect_throw_with<SerializationError>(
        [&] { save_version(path, 2); },
        "save_safetensors: " + path +
            ": writing the temporary file failed: " + std::strerror(EFBIG));
  }
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"model.safetensors"});
  Metadata meta;
  load_safetensors(path, &meta);
  EXPECT_EQ(meta.at("writer"), "1");
}

bool supports_unnamed_temporaries(const std::string& dir) {
#ifdef O_TMPFILE
  const int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY, 0600);
  if (fd < 0) return false;
  ::close(fd);
  return true;
#else
  (void)dir;
  return false;
#endif
}

TEST(AtomicSave, AProcessKilledMidWriteLeavesNoTemporaryFile) {
  ScratchDir dir;
  if (!supports_unnamed_temporaries(dir.path().string())) {
    GTEST_SKIP() << "the file system of " << dir.path() << " has no O_TMPFILE";
  }
  const std::string path = dir.file("model.safetensors");
  save_version(path, 1);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Past 1000 bytes the kernel kills the process with SIGXFSZ, in the middle of write().
    rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    rlimit limit{1000, 1000};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    std::signal(SIGXFSZ, SIG_DFL);
    try {
      save_version(path, 2);
    } catch (...) {
    }
    ::_exit(0);  // not reached when the signal came
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child was not killed mid-write";
  EXPECT_EQ(WTERMSIG(status), SIGXFSZ);
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"model.safetensors"});
  Metadata meta;
  load_safetensors(path, &meta);
  EXPECT_EQ(meta.at("writer"), "1");
}

TEST(AtomicSave, AnEmptyPathIsRejected) {
  expect_throw_with<std::invalid_argument>([] { save_version("", 1); },
                                           "save_safetensors: the path is empty");
}

}  // namespace
}  // namespace tinytorch
