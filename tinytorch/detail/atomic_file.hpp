// Writing a file so that its path holds either the old contents or all of the new ones, even
// when threads save to the same path at once, the process is killed or the power goes:
//
//   1. the data goes to a temporary file beside the target: an unnamed one (O_TMPFILE) where
//      the file system allows it, so a process killed mid-write leaves nothing behind, and
//      otherwise one with a name unique to this call (pid, a per-process counter, random bits);
//   2. commit(): fsync the file, give it its unique name, rename it over the target (atomic),
//      then fsync the directory so that the rename itself survives a power loss;
//   3. on any failure the temporary is removed and SerializationError says what failed, with
//      the system's own error text ("No space left on device").
//
// A path that is a symbolic link stays one: what a user expects from `ln -s run7.safetensors
// best.safetensors` and a save to best.safetensors is that run7's file gets the new contents,
// not that the link turns into a file of its own (which rename() over the link would do). So
// the link (and any link it names, up to 40) is followed to its target, and the temporary is
// made in the TARGET's directory and renamed onto the target; the link is left as it was. A
// dangling link is written through too, creating its target, when the target's directory
// exists; otherwise SerializationError names the link, its target and the missing directory.
//
// A path with a NUL byte, or an empty one, is std::invalid_argument: the system calls would
// stop at the NUL and write a file the caller did not name.
//
//   AtomicFile file("save_safetensors", path);
//   file.write(bytes, n);
//   file.commit();          // without it, the destructor throws the temporary away
#pragma once

#include <cstddef>
#include <string>

namespace tinytorch::detail {

class AtomicFile {
 public:
  /// Opens the temporary beside `path` (beside its target, when `path` is a symbolic link),
  /// whose directory must exist. `op` and `path` start every error message.
  AtomicFile(const char* op, std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  /// Appends n bytes.
  void write(const void* data, std::size_t n);
  /// Makes the written bytes the contents of `path`, durably.
  void commit();

 private:
  [[noreturn]] void fail(const std::string& what, int error);
  void discard() noexcept;
  void name_temporary();
  /// The file a save to path_ replaces: path_, or where its symbolic links lead.
  std::string follow_links();
  std::string read_link(const std::string& link);

  const char* op_;
  std::string path_;       ///< as the caller named it, for messages
  std::string target_;     ///< the file replaced: path_, or the file its links lead to
  std::string directory_;  ///< target_'s directory, where the temporary is made
  std::string temporary_;  ///< its name once it has one ("" while unnamed)
  int fd_ = -1;
  bool unnamed_ = false;  ///< opened with O_TMPFILE
  bool committed_ = false;
};

}  // namespace tinytorch::detail
