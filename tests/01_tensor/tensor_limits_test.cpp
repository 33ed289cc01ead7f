// Module 01 — the limits of a shape: element counts that overflow, allocations that fail and
// ranges that do not fit a tensor are errors that name the op, never undefined behaviour.
#include <cmath>
#include <cstdint>
#include <limits>
#include <new>

#include <tinytorch/core/tensor.hpp>

#include "support/testing.hpp"

namespace tinytorch {
namespace {

using testing::expect_throw_with;

constexpr std::size_t k2to32 = std::size_t{1} << 32;
constexpr std::size_t k2to62 = std::size_t{1} << 62;

TEST(TensorGiven, AShapeWhoseElementCountOverflowsIsRejectedByEveryFactory) {
  const Shape huge{k2to32, k2to32};
  const char* message = "shape [4294967296, 4294967296] is too large";
  expect_throw_with<ShapeError>([&] { Tensor::zeros(huge); }, std::string("zeros: ") + message);
  expect_throw_with<ShapeError>([&] { Tensor::ones(huge); }, std::string("ones: ") + message);
  expect_throw_with<ShapeError>([&] { Tensor::full(huge, 2.0f); }, std::string("full: ") + message);
  expect_throw_with<ShapeError>([&] { Tensor::randn(huge); }, std::string("randn: ") + message);
  expect_throw_with<ShapeError>([&] { Tensor::rand(huge); }, std::string("rand: ") + message);
  expect_throw_with<ShapeError>([&] { Tensor::from(std::vector<float>{}, huge); },
                                std::string("Tensor::from: ") + message);
}

TEST(TensorGiven, AnEmptyShapeWhoseOtherDimensionsOverflowIsRejected) {
  // No elements, but the strides of [0, 2^62, 4] multiply 2^62 by 4.
  expect_throw_with<ShapeError>(
      [] {
        Tensor::zeros({0, k2to62, 4});
      },
      "zeros: shape [0, 4611686018427387904, 4] is too large: its dimensions other than 0 "
      "multiply past 2^61 - 1");
  EXPECT_EQ(Tensor::zeros({0, std::size_t{1} << 40}).size(), 0u);  // large but indexable
}

TEST(TensorGiven, ReshapeOfAnEmptyTensorToAnOverflowingShapeIsRejected) {
  const Tensor empty = Tensor::zeros({0});
  const long big = 1L << 32;
  expect_throw_with<ShapeError>(
      [&] {
        empty.reshape({big, big});
      },
      "reshape: [4294967296, 4294967296] asks for more than 2^61 - 1 elements; the tensor [0] "
      "has 0");
  expect_throw_with<ShapeError>([&] { empty.reshape({0, 1L << 62, 4}); }, "reshape: ");
  expect_throw_with<ShapeError>([&] { empty.reshape({-1, big, big}); }, "reshape: ");
}

TEST(TensorGiven, ArangeOfMoreElementsThanATensorHoldsIsRejected) {
  expect_throw_with<std::invalid_argument>(
      [] { Tensor::arange(0.0f, 1e30f); },
      "arange: [0, 1e+30) in steps of 1 has 1e+30 elements; a tensor holds at most 2^61 - 1");
  expect_throw_with<std::invalid_argument>([] { Tensor::arange(0.0f, 1.0f, 1e-30f); }, "arange: ");
}

TEST(TensorGiven, ArangeRejectsBoundsThatAreNotFinite) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  expect_throw_with<std::invalid_argument>(
      [&] { Tensor::arange(0.0f, nan); },
      "arange: start, stop and step must be finite, got 0, nan and 1");
  expect_throw_with<std::invalid_argument>([&] { Tensor::arange(-inf, 0.0f); }, "arange: ");
  expect_throw_with<std::invalid_argument>([&] { Tensor::arange(0.0f, 1.0f, inf); }, "arange: ");
}

// AddressSanitizer's operator new reports a failed allocation and aborts instead of throwing
// std::bad_alloc (its runtime cannot throw), so there is nothing to catch under it.
#if defined(__SANITIZE_ADDRESS__)
#define TINYTORCH_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TINYTORCH_TEST_ASAN 1
#endif
#endif

TEST(TensorGiven, AnAllocationThatFailsNamesTheOpTheShapeAndTheSize) {
#ifdef TINYTORCH_TEST_ASAN
  GTEST_SKIP() << "AddressSanitizer aborts on a failed operator new instead of throwing";
#endif
  // 2^46 floats are 256 TiB: more than a 47-bit address space can map, so this fails everywhere.
  const Shape shape{std::size_t{1} << 46};
  expect_throw_with<std::bad_alloc>(
      [&] { Tensor::zeros(shape); },
      "zeros: cannot allocate 256.0 TiB for a tensor of shape [70368744177664]");
  try {
    Tensor::randn(shape);
    ADD_FAILURE() << "no error";
  } catch (const AllocationError& e) {
    EXPECT_NE(std::string(e.what()).find("randn: "), std::string::npos) << e.what();
  }
}

TEST(TensorGiven, StackOfTensorsWhoseBatchWouldOverflowIsRejected) {
  // Each part is empty, so the batch shape is all that could overflow.
  const std::vector<Tensor> parts(4, Tensor::zeros({0, std::size_t{1} << 60}));
  expect_throw_with<ShapeError>([&] { stack(parts); },
                                "stack: shape [4, 0, 1152921504606846976] is too large");
}

}  // namespace
}  // namespace tinytorch
