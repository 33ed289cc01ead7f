// TINYTORCH_VECTOR caps the vector kernels of detail/rows.hpp and detail/small_gemm.hpp, so
// that one machine can run the code paths of a smaller CPU. This file runs in every
// environment ctest gives it (tests/CMakeLists.txt runs it again with avx2, none and a bad
// value) and checks that the kernels in use follow the variable.
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <tinytorch/detail/rows.hpp>
#include <tinytorch/detail/small_gemm.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

std::string environment() {
  const char* v = std::getenv("TINYTORCH_VECTOR");
  return v ? v : "";
}

TEST(VectorCapGiven, TheKernelsInUseFollowTheEnvironment) {
  const std::string v = environment();
  if (v != "" && v != "auto" && v != "avx512" && v != "avx2" && v != "none") {
    try {
      detail::vector_cap();
      ADD_FAILURE() << "TINYTORCH_VECTOR='" << v << "' was accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()),
                "TINYTORCH_VECTOR: expected auto, avx512, avx2 or none, got '" + v + "'");
    }
    return;
  }
  const std::string rows = detail::rows_kernel();
  if (v == "none") {
    EXPECT_EQ(detail::vector_cap(), 0);
    EXPECT_EQ(rows, "portable");
    EXPECT_STREQ(detail::gemm_kernel(), "blas");
  } else if (v == "avx2") {
    EXPECT_EQ(detail::vector_cap(), 1);
    EXPECT_NE(rows, "avx512");
    if (__builtin_cpu_supports("avx2")) {
      EXPECT_EQ(rows, "avx2");
    }
  } else {
    EXPECT_EQ(detail::vector_cap(), 2);
    if (__builtin_cpu_supports("avx512f")) {
      EXPECT_EQ(rows, "avx512");
    }
  }
}

}  // namespace
}  // namespace tinytorch
