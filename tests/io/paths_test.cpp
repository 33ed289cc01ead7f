// io: the paths save and load take. A path with a NUL byte is refused by every function that
// takes one (the system would stop at the NUL and use a file the caller did not name); an
// empty one is named as such; a save to a symbolic link writes the link's target and keeps
// the link.
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <tinytorch/detail/atomic_file.hpp>
#include <tinytorch/tinytorch.hpp>

#include "support/scratch_dir.hpp"
#include "support/testing.hpp"

namespace tinytorch {
namespace {

namespace fs = std::filesystem;
using testing::expect_throw_with;
using testing::ScratchDir;

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

float first_value(const std::string& path) {
  return load_safetensors(path).at("w").data()(0);
}

void save_value(const std::string& path, float v) {
  save_safetensors(path, {{"w", Tensor({v})}});
}

TEST(SafetensorsPaths, APathWithANulByteIsRefusedByEveryFunctionAndNothingIsWritten) {
  ScratchDir dir;
  // Cut at the NUL this is dir/out, which used to be written.
  const std::string path = dir.file("out") + std::string(1, '\0') + ".safetensors";
  const std::string shown = dir.file("out") + "\\0.safetensors";
  Linear model(2, 1);
  expect_throw_with<std::invalid_argument>(
      [&] { save_value(path, 1.0f); },
      "save_safetensors: the path contains a NUL byte: '" + shown + "'");
  expect_throw_with<std::invalid_argument>(
      [&] { load_safetensors(path); },
      "load_safetensors: the path contains a NUL byte: '" + shown + "'");
  expect_throw_with<std::invalid_argument>([&] { save(model, path); },
                                           "save: the path contains a NUL byte: '" + shown + "'");
  expect_throw_with<std::invalid_argument>([&] { load(model, path); },
                                           "load: the path contains a NUL byte: '" + shown + "'");
  expect_throw_with<std::invalid_argument>([&] { detail::AtomicFile("writer", path); },
                                           "writer: the path contains a NUL byte: '" + shown + "'");
  EXPECT_TRUE(names_in(dir.path()).empty());
}

TEST(SafetensorsPaths, AnEmptyPathIsNamedAsEmpty) {
  Linear model(2, 1);
  // It used to reach the reader: "load_safetensors: : no such file".
  expect_throw_with<std::invalid_argument>([&] { load(model, ""); }, "load: the path is empty");
  expect_throw_with<std::invalid_argument>([&] { save(model, ""); }, "save: the path is empty");
  expect_throw_with<std::invalid_argument>([] { load_safetensors(""); },
                                           "load_safetensors: the path is empty");
}

TEST(AtomicSaveLinks, SavingThroughALinkUpdatesItsTargetAndKeepsTheLink) {
  ScratchDir dir;
  const fs::path runs = dir.path() / "runs";
  fs::create_directories(runs);
  const std::string target = (runs / "run7.safetensors").string();
  const std::string link = dir.file("best.safetensors");
  save_value(target, 1.0f);
  fs::create_symlink("runs/run7.safetensors", link);  // relative, as `ln -s` makes them

  save_value(link, 2.0f);
  EXPECT_TRUE(fs::is_symlink(link)) << "the link was replaced by a file";
  EXPECT_EQ(fs::read_symlink(link), fs::path("runs/run7.safetensors"));
  EXPECT_EQ(first_value(target), 2.0f);
  EXPECT_EQ(first_value(link), 2.0f);
  // The temporary was made beside the target (a rename cannot cross file systems) and is gone.
  EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"best.safetensors", "runs"}));
  EXPECT_EQ(names_in(runs), std::vector<std::string>{"run7.safetensors"});
}

TEST(AtomicSaveLinks, ALinkToALinkIsFollowedToTheFile) {
  ScratchDir dir;
  const std::string file = dir.file("file.safetensors");
  save_value(file, 1.0f);
  fs::create_symlink(file, dir.file("middle"));  // absolute
  fs::create_symlink("middle", dir.file("outer"));
  save(Linear(1, 1), dir.file("outer"));
  EXPECT_TRUE(fs::is_symlink(dir.file("outer")));
  EXPECT_TRUE(fs::is_symlink(dir.file("middle")));
  EXPECT_EQ(load_safetensors(file).count("weight"), 1u);
  EXPECT_EQ(names_in(dir.path()),
            (std::vector<std::string>{"file.safetensors", "middle", "outer"}));
}

TEST(AtomicSaveLinks, ADanglingLinkCreatesItsTargetWhereThatDirectoryExists) {
  ScratchDir dir;
  const std::string link = dir.file("latest.safetensors");
  fs::create_symlink("new.safetensors", link);
  save_value(link, 3.0f);
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(first_value(dir.file("new.safetensors")), 3.0f);
  EXPECT_EQ(names_in(dir.path()),
            (std::vector<std::string>{"latest.safetensors", "new.safetensors"}));
}

TEST(AtomicSaveLinks, ADanglingLinkIntoAMissingDirectoryIsAClearError) {
  ScratchDir dir;
  const std::string link = dir.file("latest.safetensors");
  fs::create_symlink("gone/new.safetensors", link);
  expect_throw_with<SerializationError>(
      [&] { save_value(link, 3.0f); },
      "save_safetensors: " + link + " (a symbolic link to '" + dir.file("gone/new.safetensors") +
          "'): the directory '" + dir.file("gone") + "' of the link's target does not exist");
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"latest.safetensors"});
}

TEST(AtomicSaveLinks, ALinkLoopIsAnErrorNotAHang) {
  ScratchDir dir;
  fs::create_symlink("b", dir.file("a"));
  fs::create_symlink("a", dir.file("b"));
  expect_throw_with<SerializationError>([&] { save_value(dir.file("a"), 1.0f); },
                                        "follows more than 40 symbolic links");
  EXPECT_EQ(names_in(dir.path()), (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace tinytorch
