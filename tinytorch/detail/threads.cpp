#include <tinytorch/detail/threads.hpp>

#include <tinytorch/detail/workspace.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include <tinytorch/detail/errors.hpp>

namespace tinytorch::detail {

namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Tasks handed out per thread ("slot"): each thread first runs a contiguous block of the
// tasks, then takes what is left of the other blocks. Consecutive kernels cut the batch the same
// way, so a thread mostly reads what it wrote in the previous kernel from its own core's cache.
// (With one shared counter, each kernel's input sits in the other core's cache half of the
// time, and the tasks take longer in total on two threads than on one.)
constexpr std::size_t kMaxSlots = 64;

struct alignas(64) Slot {
  std::atomic<std::size_t> next{0};  // next task of this slot's block
  std::size_t end = 0;               // one past its last task
};

// A parallel_for in flight. It lives on the caller's stack; workers join it under the pool's
// mutex and the caller waits until every worker has left before returning.
struct Job {
  TaskRef body;
  std::size_t count;
  std::size_t slots;  // blocks the tasks are cut into: one per thread
  std::array<Slot, kMaxSlots> blocks;
  std::atomic<std::size_t> finished{0};  // tasks done
  std::atomic<int> workers{0};           // workers inside run_tasks()
  std::exception_ptr error;
  std::mutex error_mutex;

  Job(TaskRef body, std::size_t count, std::size_t threads)
      : body(body), count(count), slots(std::min(threads, kMaxSlots)) {
    for (std::size_t s = 0; s < slots; ++s) {
      const Range r = chunk(count, slots, s);
      blocks[s].next.store(r.begin, std::memory_order_relaxed);
      blocks[s].end = r.end;
    }
  }

  // Runs the tasks of thread `self`'s block, then helps with the others' in turn.
  void run_tasks(std::size_t self) {
    for (std::size_t i = 0; i < slots; ++i) {
      Slot& b = blocks[(self + i) % slots];
      for (std::size_t k = b.next.fetch_add(1); k < b.end; k = b.next.fetch_add(1)) run(k);
    }
  }

  void run(std::size_t k) {
    try {
      body(k);
    } catch (...) {
      const std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
    }
    finished.fetch_add(1, std::memory_order_release);
  }
};

thread_local bool inside_task = false;

// The caller's thread plus `size − 1` workers. Workers spin briefly after a job (the next one
// usually follows within microseconds in a training step), then sleep on a condition variable.
class Pool {
 public:
  ~Pool() { resize(1); }

  static Pool& instance() {
    static Pool pool;
    return pool;
  }

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // A pool that cannot start its threads (the system's limit on threads or memory) goes back to
  // the size it had, so it is never left half-grown, and the error names the call and the
  // count. Should even the old size fail to start again, it runs on the caller's thread alone.
  void resize(int n) {
    const int previous = size();
    if (n == previous) return;
    stop_workers();
    try {
      start_workers(n);
    } catch (const std::system_error& e) {
      const std::size_t started = workers_.size() + 1;
      stop_workers();
      int now = previous;
      try {
        start_workers(previous);
      } catch (const std::system_error&) {
        stop_workers();
        now = 1;
      }
      throw std::system_error(
          e.code(), fmt::format("set_num_threads: cannot start {} threads (thread {} failed to "
                                "start); the pool keeps {} thread{}",
                                n, started + 1, now, now == 1 ? "" : "s"));
    }
  }

  void run(std::size_t count, TaskRef body) {
    bool expected = false;
    if (inside_task || workers_.empty() || count < 2 ||
        !busy_.compare_exchange_strong(expected, true)) {
      run_inline(count, body);  // nested, single-threaded, or another caller owns the pool
      return;
    }
    Job job(body, count, static_cast<std::size_t>(size()));
    publish(&job);
    inside_task = true;
    job.run_tasks(0);
    inside_task = false;
    for (int spins = 0; job.finished.load(std::memory_order_acquire) < count; ++spins) {
      if (spins < 4096) {
        cpu_relax();
      } else {
        std::this_thread::yield();
      }
    }
    publish(nullptr);  // no worker can join the job from now on ...
    while (job.workers.load(std::memory_order_acquire) > 0) cpu_relax();  // ... or is still in it
    busy_.store(false);
    if (job.error) std::rethrow_exception(job.error);
  }

 private:
  void stop_workers() {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
      ++generation_;
    }
    wake_.notify_all();
    for (std::thread& t : workers_) t.join();
    workers_.clear();
    stop_ = false;
  }

  // The caller's thread plus n − 1 workers; throws std::system_error from the first worker
  // that cannot start, with the ones before it running.
  void start_workers(int n) {
    const std::uint64_t now = generation_.load();
    for (int i = 1; i < n; ++i) {
      workers_.emplace_back([this, now, i] { worker_loop(static_cast<std::size_t>(i), now); });
    }
  }

  static void run_inline(std::size_t count, TaskRef body) {
    const bool was_inside = inside_task;
    inside_task = true;
    try {
      for (std::size_t k = 0; k < count; ++k) body(k);
    } catch (...) {
      inside_task = was_inside;
      throw;
    }
    inside_task = was_inside;
  }

  void publish(Job* job) {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      job_ = job;
      generation_.fetch_add(1, std::memory_order_release);
    }
    if (job && sleepers_.load() > 0) wake_.notify_all();
  }

  // `self`: the worker's slot (the caller is 0). `seen`: the generation when the worker was
  // created (it may start running later).
  void worker_loop(std::size_t self, std::uint64_t seen) {
    inside_task = true;  // a task that calls parallel_for runs its inner loop in place
    for (;;) {
      wait_for_change(seen);
      Job* job = nullptr;
      {
        const std::lock_guard<std::mutex> lock(mutex_);
        if (stop_) return;
        seen = generation_.load();
        job = job_;
        if (job) job->workers.fetch_add(1);
      }
      if (job) {
        job->run_tasks(self);
        job->workers.fetch_sub(1, std::memory_order_release);
      }
    }
  }

  // Spins for up to ~0.2 ms, then sleeps until the generation moves on.
  void wait_for_change(std::uint64_t seen) {
    using clock = std::chrono::steady_clock;
    const auto deadline = clock::now() + std::chrono::microseconds(200);
    for (int i = 0; generation_.load(std::memory_order_acquire) == seen && !stop_; ++i) {
      cpu_relax();
      if ((i & 255) == 255 && clock::now() > deadline) break;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    sleepers_.fetch_add(1);
    wake_.wait(lock, [&] { return stop_ || generation_.load() != seen; });
    sleepers_.fetch_sub(1);
  }

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> busy_{false};
  Job* job_ = nullptr;
  std::atomic<bool> stop_{false};
};

}  // namespace

void set_threads(int n) {
  // Its one caller is set_num_threads, which has checked n >= 1; its messages name that.
  if (n > kMaxThreads) {
    fail_arg("set_num_threads: expected a count in 1..{}, got {}", kMaxThreads, n);
  }
  Pool::instance().resize(std::max(n, 1));
}

int threads() {
  return Pool::instance().size();
}

void parallel_for(std::size_t count, TaskRef body) {
  keep_freed_memory();  // the batch kernels' arrays come back every step
  Pool::instance().run(count, body);
}

void sum_parts(const float* parts, std::size_t n_parts, std::size_t stride, std::size_t count,
               std::size_t offset, float* out) {
  parallel_ranges(count, [&](Range r) {
    for (std::size_t i = r.begin; i < r.end; ++i) out[i] = parts[offset + i];
    for (std::size_t k = 1; k < n_parts; ++k) {
      const float* p = parts + k * stride + offset;
      for (std::size_t i = r.begin; i < r.end; ++i) out[i] += p[i];
    }
  });
}

std::size_t parts_for(std::size_t n, double cost, double min_part_cost, std::size_t max_parts) {
  const double total = static_cast<double>(n) * cost;
  const auto by_cost = static_cast<std::size_t>(total / min_part_cost);
  return std::max<std::size_t>(1, std::min({by_cost, max_parts, n}));
}

}  // namespace tinytorch::detail
