// Threads: the library's small pool, and the rule that keeps results independent of it.
//
// Kernels split their work into tasks whose number and boundaries depend only on the shapes
// (never on the thread count), and combine partial results in task order. parallel_for then
// only decides *who* runs each task, so a run gives the same numbers bit for bit with 1, 2 or
// 8 threads. OpenBLAS is held to one thread: each task's sgemm runs on the task's thread.
//
//   detail::parallel_for(chunks, [&](std::size_t k) {
//     const detail::Range r = detail::chunk(n, chunks, k);   // rows [r.begin, r.end)
//     ...                                                    // writes only its own slice
//   });
#pragma once

#include <cstddef>
#include <memory>
#include <type_traits>
#include <utility>

namespace tinytorch::detail {

/// The most threads set_threads takes: far past the cores of the machines the library runs on
/// (and the 64 blocks a parallel_for is cut into), low enough that a count such as INT_MAX is
/// refused before the system runs out of threads half-way.
inline constexpr int kMaxThreads = 1024;

/// Threads the library's kernels use (the caller's thread counts as one). Default 1. A count
/// past kMaxThreads is std::invalid_argument; when the system cannot start the threads, the
/// pool keeps its old size and std::system_error says so (both name set_num_threads).
void set_threads(int n);
int threads();

/// A non-owning reference to a callable, so that parallel_for never allocates.
class TaskRef {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, TaskRef>>>
  TaskRef(F&& f)  // NOLINT: implicit on purpose, the lambda is passed in place
      : object_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        call_([](void* o, std::size_t k) { (*static_cast<std::remove_reference_t<F>*>(o))(k); }) {}
  void operator()(std::size_t k) const { call_(object_, k); }

 private:
  void* object_;
  void (*call_)(void*, std::size_t);
};

/// Runs body(k) for k = 0 … count−1 on the pool and returns when all have finished. The
/// first exception thrown by a task is rethrown here. Called from inside a task (nested),
/// it runs the tasks in order on the calling thread.
void parallel_for(std::size_t count, TaskRef body);

template <class F>
void parallel_for(std::size_t count, F&& body) {
  parallel_for(count, TaskRef(body));
}

/// Item range [begin, end) of part k when n items are cut into `parts` near-equal parts.
struct Range {
  std::size_t begin, end;
  std::size_t size() const { return end - begin; }
};
inline Range chunk(std::size_t n, std::size_t parts, std::size_t k) {
  return {n * k / parts, n * (k + 1) / parts};
}

/// How many parts to cut `n` items into when each item costs about `cost` (flops or bytes):
/// enough that two threads share the work evenly, few enough that a part's cost (at least
/// `min_part_cost`, a million flops by default) hides the hand-over, and that small models
/// run inline: a part a busy machine deschedules with its worker keeps the caller waiting.
/// A function of the shapes only, never of the threads.
std::size_t parts_for(std::size_t n, double cost, double min_part_cost = 1e6,
                      std::size_t max_parts = 8);

/// out[i] = Σ_k parts[k·stride + offset + i] for i < count, k = 0 … n_parts−1 in that order:
/// the partial sums tasks wrote, combined the same way whichever thread wrote which.
void sum_parts(const float* parts, std::size_t n_parts, std::size_t stride, std::size_t count,
               std::size_t offset, float* out);

/// Element-wise kernels: body(range) over parts of [0, n) of at least 16k elements each.
/// (Element-wise results do not depend on the cut; the tasks only share the memory traffic.)
template <class F>
void parallel_ranges(std::size_t n, F&& body) {
  const std::size_t parts = parts_for(n, 1.0, 16384.0);
  parallel_for(parts, [&](std::size_t k) { body(chunk(n, parts, k)); });
}

}  // namespace tinytorch::detail
