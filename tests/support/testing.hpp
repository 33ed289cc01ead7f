// Helpers shared by the test folders: array comparison, error-message checks, gradcheck.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <tinytorch/core/autograd.hpp>
#include <tinytorch/core/tensor.hpp>

namespace tinytorch::testing {

/// Every element of `actual` is within `tol` of `expected`, and the shapes are equal.
inline void expect_near(const Tensor& actual, const Tensor& expected, float tol = 1e-5f) {
  ASSERT_EQ(actual.shape(), expected.shape()) << "actual " << actual << " expected " << expected;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    EXPECT_NEAR(actual.data().data()[i], expected.data().data()[i], tol)
        << "at flat index " << i << ": actual " << actual << " expected " << expected;
  }
}

/// `fn` throws an exception derived from E whose message contains `fragment`.
template <class E = std::exception>
void expect_throw_with(const std::function<void()>& fn, const std::string& fragment) {
  try {
    fn();
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
        << "message was: " << e.what() << "\nexpected to contain: " << fragment;
    return;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw a different exception type: " << e.what();
    return;
  }
  ADD_FAILURE() << "did not throw; expected a message containing: " << fragment;
}

/// Runs gradcheck and asserts both agreement and that every input got a non-zero gradient.
inline void expect_gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                             const std::vector<Tensor>& inputs, float eps = 1e-3f,
                             double atol = 1e-3, double rtol = 1e-2) {
  const GradcheckResult r = gradcheck(f, inputs, eps, atol, rtol);
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_TRUE(r.all_grads_nonzero) << "some input received an all-zero gradient";
}

}  // namespace tinytorch::testing
