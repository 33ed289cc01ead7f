// Micro-benchmarks of the hot ops (Google Benchmark). Each op is timed forward and
// forward+backward; the conv benchmarks also time the course's explicit-loop reference kernel
// so the speed-up of im2col + sgemm can be read off directly. The backward engine's cost per
// node and whole training steps of SimpleCNN and LeNet-5 track per-step overhead; ConvProducts
// times a convolution's products with the unpacked AVX2 kernels and with OpenBLAS.
//
//   ./build/benchmarks/micro_bench --benchmark_repetitions=5
//   --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <tinytorch/tinytorch.hpp>

#include <string>
#include <vector>

#include <tinytorch/detail/blas.hpp>
#include <tinytorch/detail/small_gemm.hpp>

using namespace tinytorch;

namespace {

void BM_Matmul(benchmark::State& state) {
  set_num_threads(1);
  const auto n = static_cast<std::size_t>(state.range(0));
  const Tensor a = Tensor::randn({n, n}), b = Tensor::randn({n, n});
  for (auto _ : state) benchmark::DoNotOptimize(matmul(a, b).data().data());
  state.SetItemsProcessed(state.iterations() * 2 * static_cast<std::int64_t>(n * n * n));
}
BENCHMARK(BM_Matmul)->Arg(64)->Arg(256);

void BM_LinearForwardBackward(benchmark::State& state) {
  set_num_threads(1);
  Linear layer(784, 128);
  const Tensor x = Tensor::randn({64, 784});
  for (auto _ : state) {
    layer.zero_grad();
    layer(x).sum().backward();
  }
}
BENCHMARK(BM_LinearForwardBackward);

// Conv shapes: the digits SimpleCNN layer and LeNet-5's second layer.
struct ConvShape {
  std::size_t n, c, h, o, k, pad;
};
const ConvShape kConvShapes[] = {{32, 1, 8, 8, 3, 0}, {64, 6, 14, 16, 5, 0}};

void BM_Conv2dForward(benchmark::State& state) {
  set_num_threads(1);
  const ConvShape s = kConvShapes[state.range(0)];
  const Tensor x = Tensor::randn({s.n, s.c, s.h, s.h});
  const Tensor w = Tensor::randn({s.o, s.c, s.k, s.k}), b = Tensor::randn({s.o});
  for (auto _ : state) benchmark::DoNotOptimize(conv2d(x, w, b, 1, s.pad).data().data());
}
BENCHMARK(BM_Conv2dForward)->Arg(0)->Arg(1);

void BM_Conv2dForwardReference(benchmark::State& state) {
  const ConvShape s = kConvShapes[state.range(0)];
  const Tensor x = Tensor::randn({s.n, s.c, s.h, s.h});
  const Tensor w = Tensor::randn({s.o, s.c, s.k, s.k}), b = Tensor::randn({s.o});
  for (auto _ : state)
    benchmark::DoNotOptimize(conv2d_reference(x.data(), w.data(), b.data(), 1, s.pad).data());
}
BENCHMARK(BM_Conv2dForwardReference)->Arg(0)->Arg(1);

void BM_Conv2dForwardBackward(benchmark::State& state) {
  set_num_threads(1);
  const ConvShape s = kConvShapes[state.range(0)];
  Tensor x = Tensor::randn({s.n, s.c, s.h, s.h}, true);
  Tensor w = Tensor::randn({s.o, s.c, s.k, s.k}, true), b = Tensor::randn({s.o}, true);
  for (auto _ : state) {
    x.zero_grad();
    w.zero_grad();
    b.zero_grad();
    conv2d(x, w, b, 1, s.pad).sum().backward();
  }
}
BENCHMARK(BM_Conv2dForwardBackward)->Arg(0)->Arg(1);

// The three products of one image's convolution, forward and backward, with the unpacked
// AVX2 kernels (kernel 0) and with OpenBLAS (kernel 1), as Conv2d runs them: out = W·cols,
// dWᵀ += cols·gᵀ, dcols = Wᵀ·g. Layers: LeNet-5's first ([6, 25]·[25, 784]) and second
// ([16, 150]·[150, 100]).
void BM_ConvProducts(benchmark::State& state) {
  struct Product {
    std::size_t o, ckk, pixels;
  };
  const Product p = state.range(0) == 0 ? Product{6, 25, 784} : Product{16, 150, 100};
  const bool own = state.range(1) == 0;
  detail::choose_gemm(own ? detail::GemmChoice::own : detail::GemmChoice::blas);
  if (own && std::string(detail::gemm_kernel()) != "avx2") {
    detail::choose_gemm(detail::GemmChoice::best);
    state.SkipWithError("this CPU has no AVX2 and FMA: only OpenBLAS runs here");
    return;
  }
  const Tensor w = Tensor::randn({p.o, p.ckk}), cols = Tensor::randn({p.ckk, p.pixels});
  const Tensor g = Tensor::randn({p.o, p.pixels});
  std::vector<float> out(p.o * p.pixels), dw_t(p.ckk * p.o), dcols(p.ckk * p.pixels);
  for (auto _ : state) {
    detail::gemm(false, false, p.o, p.pixels, p.ckk, 1.0f, w.data().data(), cols.data().data(),
                 0.0f, out.data());
    detail::gemm(false, true, p.ckk, p.o, p.pixels, 1.0f, cols.data().data(), g.data().data(), 1.0f,
                 dw_t.data());
    detail::gemm(true, false, p.ckk, p.pixels, p.o, 1.0f, w.data().data(), g.data().data(), 0.0f,
                 dcols.data());
    benchmark::DoNotOptimize(dcols.data());
  }
  detail::choose_gemm(detail::GemmChoice::best);
  state.SetLabel(own ? "unpacked AVX2" : std::string("OpenBLAS ") + detail::blas_kernels());
  state.SetItemsProcessed(state.iterations() * 3 * 2 *
                          static_cast<std::int64_t>(p.o * p.ckk * p.pixels));
}
BENCHMARK(BM_ConvProducts)->ArgNames({"layer", "kernel"})->ArgsProduct({{0, 1}, {0, 1}});

void BM_MaxPoolForwardBackward(benchmark::State& state) {
  Tensor x = Tensor::randn({64, 6, 28, 28}, true);
  for (auto _ : state) {
    x.zero_grad();
    max_pool2d(x, {2, 2}).sum().backward();
  }
}
BENCHMARK(BM_MaxPoolForwardBackward);

void BM_CrossEntropyForwardBackward(benchmark::State& state) {
  Tensor logits = Tensor::randn({64, 10}, true);
  Tensor labels = Tensor::zeros({64});
  for (std::size_t i = 0; i < 64; ++i) labels.data()(i) = static_cast<float>(i % 10);
  for (auto _ : state) {
    logits.zero_grad();
    cross_entropy(logits, labels).backward();
  }
}
BENCHMARK(BM_CrossEntropyForwardBackward);

void BM_ElementwiseAddMul(benchmark::State& state) {
  const Tensor a = Tensor::randn({64, 128}), b = Tensor::randn({128});
  for (auto _ : state) benchmark::DoNotOptimize(((a + b) * a).data().data());
}
BENCHMARK(BM_ElementwiseAddMul);

// Per-op overhead: a tiny op is dominated by the framework, not the arithmetic.
void BM_TinyOpOverhead(benchmark::State& state) {
  Tensor x = Tensor::randn({4}, true);
  for (auto _ : state) benchmark::DoNotOptimize((x * 2.0f).data().data());
}
BENCHMARK(BM_TinyOpOverhead);

// The backward engine's cost per node: a chain of `nodes` tiny ops (4 floats each, so the
// arithmetic is negligible) recorded outside the timing, then one backward() through it.
// Read the per-node cost off the "per_node" counter; it should not grow with the chain.
void BM_BackwardEnginePerNode(benchmark::State& state) {
  const auto nodes = static_cast<std::size_t>(state.range(0));
  Tensor x = Tensor::randn({4}, true);
  for (auto _ : state) {
    state.PauseTiming();
    Tensor h = x;
    for (std::size_t i = 0; i < nodes; ++i) h = h * 1.0001f;
    Tensor loss = h.sum();
    x.zero_grad();
    state.ResumeTiming();
    loss.backward();
  }
  // Seconds per node (printed with an SI prefix: "45n" is 45 ns); nodes + 1 with the sum.
  state.counters["per_node"] = benchmark::Counter(
      static_cast<double>(nodes + 1),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_BackwardEnginePerNode)->Arg(16)->Arg(256)->Arg(4096);

// One full training step of the course's models (forward, loss, zero_grad, backward, SGD),
// so that per-step overhead on small models is tracked as well as the big kernels.
template <class MakeModel>
void training_step(benchmark::State& state, MakeModel make_model, const Shape& input,
                   float momentum) {
  set_num_threads(static_cast<int>(state.range(0)));
  manual_seed(0);
  auto model = make_model();
  SGD optimizer(model->parameters(), 0.01f, momentum);
  const Tensor x = Tensor::rand(input);
  Tensor y = Tensor::zeros({input[0]});
  for (std::size_t i = 0; i < input[0]; ++i) y.data()(i) = static_cast<float>(i % 10);
  for (auto _ : state) {
    Tensor loss = cross_entropy((*model)(x), y);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    benchmark::DoNotOptimize(loss.item());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(input[0]));
  set_num_threads(1);
}

void BM_SimpleCNNTrainingStep(benchmark::State& state) {
  training_step(
      state, [] { return std::make_shared<SimpleCNN>(); }, {32, 1, 8, 8}, 0.0f);
}
BENCHMARK(BM_SimpleCNNTrainingStep)->ArgName("threads")->Arg(1);

void BM_LeNet5TrainingStep(benchmark::State& state) {
  training_step(
      state, [] { return lenet5(); }, {64, 1, 28, 28}, 0.9f);
}
BENCHMARK(BM_LeNet5TrainingStep)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
