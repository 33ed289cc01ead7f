// Writing your own Module: register parameters and children, define forward, and every
// op inside gets its gradient for free. Checked here with gradcheck.
#include <cstdio>

#include <tinytorch/tinytorch.hpp>

using namespace tinytorch;

// A residual block: y = x + W2·relu(W1·x) — two Linear children and a learned scale.
class Residual : public Module {
 public:
  explicit Residual(std::size_t width)
      : fc1_(register_module("fc1", std::make_shared<Linear>(width, width))),
        fc2_(register_module("fc2", std::make_shared<Linear>(width, width))),
        scale_(register_parameter("scale", Tensor::full({1}, 0.5f))) {}

  Tensor forward(const Tensor& x) override { return x + (*fc2_)(relu((*fc1_)(x))) * scale_; }
  std::string name() const override { return "Residual"; }

 private:
  std::shared_ptr<Linear> fc1_, fc2_;
  Tensor scale_;
};

int main() {
  manual_seed(1);
  Residual block(4);
  std::printf("%s\n", block.repr().c_str());
  for (const auto& [name, p] : block.named_parameters()) {
    std::printf("  %-12s %s\n", name.c_str(), shape_str(p.shape()).c_str());
  }
  const GradcheckResult check = gradcheck(
      [&](const std::vector<Tensor>& in) { return block(in[0]); }, {Tensor::randn({3, 4}, true)});
  std::printf("gradcheck: %s (%s)\n", check.ok ? "ok" : "FAILED", check.message.c_str());
  return check.ok ? 0 : 1;
}
