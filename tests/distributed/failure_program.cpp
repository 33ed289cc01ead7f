// A distributed program in which one rank fails while the others wait for it in a collective:
// run_distributed must end the whole job (failure_test.sh runs it under mpirun and times it).
//
//   failure_program throw       the last rank throws; the others wait in a barrier
//   failure_program terminate   the last rank's worker thread throws (std::terminate)
//   failure_program exit        the last rank returns 3
#include <stdexcept>
#include <string>
#include <thread>

#include <tinytorch/distributed/process_group.hpp>

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "throw";
  return tinytorch::run_distributed(argc, argv, [&](tinytorch::ProcessGroup& group) {
    if (group.rank() == group.world_size() - 1) {
      if (mode == "throw") throw std::runtime_error("deliberate failure in step 3");
      if (mode == "terminate") {
        std::thread worker([] { throw std::runtime_error("deliberate failure in a thread"); });
        worker.join();
      }
      if (mode == "exit") return 3;
    }
    group.barrier();  // never completes: the last rank does not come
    return 0;
  });
}
