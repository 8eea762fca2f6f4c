// Runs a small fused graph (conv + BN + ReLU, conv + ReLU + residual add, strided conv,
// conv + sigmoid) through OpenCV DNN and the oneDNN executor, and prints what oneDNN
// dispatched to and how far the numbers are apart:
//   isa <effective ISA>  /  conv <first convolution's implementation>  /  rel_error <e>
//   / int8_convs <n>  /  int8_error <max |Δ| of int8 against fp32, calibrated on the input>
// The executor test runs it under DNNL_MAX_CPU_ISA caps (the cap is read once per process,
// so each ISA needs its own process). Exit 1 when anything failed to run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "support/onednn_checks.h"

int main() {
  using namespace atelier::testing;
  Model m;
  add_conv(m, "x", "c1", "conv1", 16, 32, 3, 41);
  m.b.node("Relu", {"c1"}, {"a"}, "relu1");
  add_conv(m, "a", "c2", "conv2", 32, 32, 3, 43);
  m.b.node("Relu", {"c2"}, {"r2"}, "relu2");
  m.b.node("Add", {"r2", "a"}, {"r"}, "add");
  add_conv(m, "r", "c3", "conv3", 32, 16, 3, 45, {}, {2, 2});
  add_conv(m, "c3", "c4", "conv4", 16, 1, 3, 47);
  m.b.node("Sigmoid", {"c4"}, {"y"}, "sigmoid");
  const Outputs o = run_both(m, {1, 16, 41, 37});
  if (o.got.empty() || ::testing::Test::HasFailure()) return 1;
  using namespace atelier::ml::onednn;
  auto graph = build_graph(m.proto, "x", {1, 16, 41, 37}, "y");
  if (!graph.ok()) return 1;
  Graph copy = *graph;
  auto fp32 = Executor::compile(std::move(copy), {Precision::kF32, 2, {}});
  const std::vector<float> x = random_values(std::size_t(16) * 41 * 37, 7);
  CalibrationStats stats;
  if (!fp32.ok() || !(*fp32)->calibrate(x.data(), stats).ok()) return 1;
  const InputRanges ranges = clipped_ranges(stats, 1.0);
  auto int8 = Executor::compile(std::move(*graph), {Precision::kInt8, 2, ranges});
  if (!int8.ok()) {
    std::fprintf(stderr, "%s\n", int8.status().message().c_str());
    return 1;
  }
  auto want = (*fp32)->run(x.data());
  auto got = (*int8)->run(x.data());
  if (!want.ok() || !got.ok() || want->size() != got->size()) return 1;
  double err = 0;
  for (std::size_t i = 0; i < got->size(); ++i) err = std::max(err, double(std::fabs((*got)[i] - (*want)[i])));
  std::printf("isa %s\nconv %s\nrel_error %.3g\nint8_convs %d\nint8_error %.3g\n", effective_isa().c_str(),
              o.conv_implementation.c_str(), rel_error(o), (*int8)->int8_convolutions(), err);
  return 0;
}
