// Distributed training — ProcessGroup (MPI's start and end, rank, collectives of one number)
// and run_distributed (a failure on one rank ends the job).
#include <tinytorch/distributed/process_group.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include <fmt/format.h>

#include <tinytorch/distributed/internal/mpi.hpp>

namespace tinytorch {

// ---- MPI errors as exceptions -------------------------------------------------------------

void detail::check_mpi(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) length = 0;
  throw DistributedError(
      fmt::format("{} failed: {}", call,
                  length > 0 ? std::string(text, length) : fmt::format("MPI error code {}", code)));
}

int detail::mpi_count(std::size_t count, const char* op) {
  if (count > static_cast<std::size_t>(INT_MAX)) {
    throw DistributedError(fmt::format(
        "{}: {} values in one message; MPI counts in int, at most {}", op, count, INT_MAX));
  }
  return static_cast<int>(count);
}

// ---- ProcessGroup -------------------------------------------------------------------------

namespace {

bool mpi_initialized() {
  int flag = 0;
  MPI_Initialized(&flag);
  return flag != 0;
}

bool mpi_finalized() {
  int flag = 0;
  MPI_Finalized(&flag);
  return flag != 0;
}

}  // namespace

ProcessGroup::ProcessGroup() : impl_(std::make_unique<Impl>()) {
  start(nullptr, nullptr);
}

ProcessGroup::ProcessGroup(int& argc, char**& argv) : impl_(std::make_unique<Impl>()) {
  start(&argc, &argv);
}

void ProcessGroup::start(int* argc, char*** argv) {
  if (mpi_finalized()) {
    throw DistributedError(
        "ProcessGroup: MPI was already finalised in this process (by an earlier ProcessGroup); "
        "MPI starts once per program: make one ProcessGroup for the program's life");
  }
  if (!mpi_initialized()) {
    // Funneled: only the thread that made the group calls MPI; the library's worker threads
    // never do.
    int provided = 0;
    detail::check_mpi(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided),
                      "MPI_Init_thread");
    impl_->owns_mpi = true;
  }
  // Errors come back as codes (and so as exceptions), here and in the user's own world calls.
  detail::check_mpi(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN),
                    "MPI_Comm_set_errhandler");
  detail::check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &impl_->comm), "MPI_Comm_dup");
  detail::check_mpi(MPI_Comm_set_errhandler(impl_->comm, MPI_ERRORS_RETURN),
                    "MPI_Comm_set_errhandler");
  detail::check_mpi(MPI_Comm_rank(impl_->comm, &impl_->rank), "MPI_Comm_rank");
  detail::check_mpi(MPI_Comm_size(impl_->comm, &impl_->world_size), "MPI_Comm_size");
}

ProcessGroup::~ProcessGroup() {
  if (mpi_finalized()) return;
  if (impl_->comm != MPI_COMM_NULL) MPI_Comm_free(&impl_->comm);
  if (impl_->owns_mpi) MPI_Finalize();
}

int ProcessGroup::rank() const {
  return impl_->rank;
}

int ProcessGroup::world_size() const {
  return impl_->world_size;
}

void ProcessGroup::barrier() {
  detail::check_mpi(MPI_Barrier(impl_->comm), "MPI_Barrier");
}

double ProcessGroup::all_reduce_sum(double value) {
  double sum = 0.0;
  detail::check_mpi(MPI_Allreduce(&value, &sum, 1, MPI_DOUBLE, MPI_SUM, impl_->comm),
                    "MPI_Allreduce");
  return sum;
}

double ProcessGroup::all_reduce_mean(double value) {
  return all_reduce_sum(value) / world_size();
}

void ProcessGroup::abort(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; this is for a broken MPI
}

void ProcessGroup::all_reduce_sum(std::vector<double>& values) {
  detail::check_mpi(
      MPI_Allreduce(MPI_IN_PLACE, values.data(), detail::mpi_count(values.size(), "all_reduce_sum"),
                    MPI_DOUBLE, MPI_SUM, impl_->comm),
      "MPI_Allreduce");
}

// ---- run_distributed ----------------------------------------------------------------------

namespace {

int failing_rank = -1;  // the rank run_distributed runs as, for the terminate handler

// Says which rank failed and why, then ends every process of the job: the other ranks may be
// waiting in a collective this rank will never join.
[[noreturn]] void abort_job(const std::string& message, int code) {
  std::fprintf(stderr, "rank %d: %s\n", failing_rank, message.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; this is for a broken MPI
}

// std::terminate (an exception out of another thread or a noexcept function) ends the job too.
[[noreturn]] void abort_on_terminate() {
  std::string message = "terminate called";
  if (std::exception_ptr error = std::current_exception()) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      message += fmt::format(" after an exception: {}", e.what());
    } catch (...) {
      message += " after an exception that is not a std::exception";
    }
  }
  abort_job(message, 1);
}

}  // namespace

int run_distributed(int argc, char** argv, const std::function<int(ProcessGroup&)>& body) {
  ProcessGroup group(argc, argv);
  failing_rank = group.rank();
  const std::terminate_handler previous = std::set_terminate(abort_on_terminate);
  int code = 0;
  try {
    code = body(group);
  } catch (const std::exception& e) {
    abort_job(e.what(), 1);
  } catch (...) {
    abort_job("an exception that is not a std::exception", 1);
  }
  if (code != 0) abort_job(fmt::format("exited with code {}", code), code);
  std::set_terminate(previous);
  return code;
}

}  // namespace tinytorch
