#include <tinytorch/detail/atomic_file.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <system_error>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <tinytorch/detail/errors.hpp>
#include <tinytorch/detail/text.hpp>

namespace tinytorch::detail {

namespace {

std::string directory_of(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

/// "<path>.tmp.<pid>.<n>.<random>": the counter makes it unique among the calls of this process
/// (threads included), the pid among processes, the random part across pid reuse. O_EXCL and
/// linkat() refuse a name that exists anyway, and the caller then draws another.
std::string unique_temporary_name(const std::string& path) {
  static std::atomic<std::uint64_t> counter{0};
  thread_local std::mt19937_64 bits(
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
      std::hash<std::thread::id>{}(std::this_thread::get_id()));
  return fmt::format("{}.tmp.{}.{}.{:08x}", path, ::getpid(), counter.fetch_add(1),
                     bits() & 0xffffffffu);
}

constexpr int kNameAttempts = 100;
/// Links followed before giving up with ELOOP, as the kernel does (its limit is 40 too).
constexpr int kMaxLinks = 40;

/// `target` read from the link at `link`, as a path from the current directory.
std::string link_target(const std::string& link, const std::string& target) {
  if (!target.empty() && target.front() == '/') return target;
  const std::string dir = directory_of(link);
  return dir == "/" ? "/" + target : dir + "/" + target;
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

AtomicFile::AtomicFile(const char* op, std::string path) : op_(op), path_(std::move(path)) {
  check_path(op_, path_);
  target_ = follow_links();
  directory_ = directory_of(target_);
#ifdef O_TMPFILE
  // The unnamed file is named later through /proc/self/fd; without /proc, use a named one.
  if (::access("/proc/self/fd", X_OK) == 0) {
    fd_ = ::open(directory_.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
    if (fd_ >= 0) {
      unnamed_ = true;
      return;
    }
    // EOPNOTSUPP (or EISDIR on old kernels): the file system has no O_TMPFILE. Any other error
    // shows again below, where it is reported.
  }
#endif
  for (int attempt = 0; attempt < kNameAttempts; ++attempt) {
    std::string name = unique_temporary_name(target_);
    fd_ = ::open(name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
    if (fd_ >= 0) {
      temporary_ = std::move(name);
      return;
    }
    if (errno != EEXIST) {
      fail(fmt::format("cannot create a temporary file in '{}'", directory_), errno);
    }
  }
  fail("found no unused name for the temporary file", EEXIST);
}

AtomicFile::~AtomicFile() {
  if (!committed_) discard();
}

void AtomicFile::write(const void* data, std::size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t written = ::write(fd_, p, std::min<std::size_t>(n, std::size_t{1} << 30));
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) fail("writing the temporary file failed", written < 0 ? errno : EIO);
    p += written;
    n -= static_cast<std::size_t>(written);
  }
}

void AtomicFile::commit() {
  // The data must be on disk before the rename makes it the file: otherwise a power loss can
  // leave an empty file where the last good one was.
  if (::fsync(fd_) != 0) fail("flushing the temporary file to disk (fsync) failed", errno);
  if (unnamed_) name_temporary();
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0 && errno != EINTR) fail("closing the temporary file failed", errno);
  if (::rename(temporary_.c_str(), target_.c_str()) != 0) {
    const int error = errno;
    fail(error == EISDIR ? "is a directory; cannot replace it with a file"
                         : "cannot move the temporary file into place",
         error);
  }
  temporary_.clear();
  committed_ = true;
  // The rename is an entry in the directory: sync that too, or a power loss may undo it.
  const int dir = ::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    fail(fmt::format("written, but its directory '{}' cannot be opened to sync it", directory_),
         errno);
  const int synced = ::fsync(dir);
  const int error = errno;
  ::close(dir);
  // EINVAL: a file system that cannot sync directories; there is nothing more to do.
  if (synced != 0 && error != EINVAL) {
    fail(fmt::format("written, but syncing its directory '{}' failed", directory_), error);
  }
}

void AtomicFile::name_temporary() {
  const std::string self = "/proc/self/fd/" + std::to_string(fd_);
  for (int attempt = 0; attempt < kNameAttempts; ++attempt) {
    std::string name = unique_temporary_name(target_);
    if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, name.c_str(), AT_SYMLINK_FOLLOW) == 0) {
      temporary_ = std::move(name);
      return;
    }
    if (errno != EEXIST) fail("cannot give the temporary file a name", errno);
  }
  fail("found no unused name for the temporary file", EEXIST);
}

std::string AtomicFile::read_link(const std::string& link) {
  // Some file systems (/proc) report a link's size as 0: grow the buffer until it has room.
  for (std::size_t size = 256;; size *= 2) {
    std::string target(size, '\0');
    const ssize_t n = ::readlink(link.c_str(), target.data(), size);
    if (n < 0) fail(fmt::format("cannot read the symbolic link '{}'", link), errno);
    if (static_cast<std::size_t>(n) < size) return target.substr(0, static_cast<std::size_t>(n));
    if (size > (std::size_t{1} << 20)) fail("a symbolic link is too long", ENAMETOOLONG);
  }
}

std::string AtomicFile::follow_links() {
  std::string current = path_;
  for (int hops = 0; hops <= kMaxLinks; ++hops) {
    struct stat st {};
    if (::lstat(current.c_str(), &st) != 0) {
      // Nothing there yet: a new file, or the target of a dangling link, which is created
      // where the link points as long as that directory exists (a link to a folder that is
      // gone more likely names the wrong place than a file to make).
      if (current != path_ && errno == ENOENT && !is_directory(directory_of(current))) {
        target_ = current;
        fail(fmt::format("the directory '{}' of the link's target does not exist",
                         directory_of(current)),
             ENOENT);
      }
      return current;  // any other problem shows, with its reason, when the file is made
    }
    if (!S_ISLNK(st.st_mode)) return current;
    current = link_target(current, read_link(current));
  }
  fail("follows more than 40 symbolic links", ELOOP);
}

void AtomicFile::fail(const std::string& what, int error) {
  const std::string link =
      target_.empty() || target_ == path_ ? "" : fmt::format(" (a symbolic link to '{}')", target_);
  const std::string message =
      fmt::format("{}: {}{}: {}: {}", op_, path_, link, what,
                  std::error_code(error, std::generic_category()).message());
  discard();
  throw SerializationError(message);
}

void AtomicFile::discard() noexcept {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!temporary_.empty()) {
    ::unlink(temporary_.c_str());
    temporary_.clear();
  }
}

}  // namespace tinytorch::detail
