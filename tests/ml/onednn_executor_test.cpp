// The oneDNN executor (ml/onednn): each operation and fusion on random tensors against
// OpenCV DNN's own fp32 inference of the same ONNX graph (the reference path), bf16 within
// its tolerance, the arena sharing memory between tensors that are never alive together,
// and clear errors for what it cannot run.
#include "ml/onednn/executor.h"

#include <gtest/gtest.h>

#include <opencv2/dnn.hpp>
#include <cstring>
#include <random>
#include <sstream>

#include "core/subprocess.h"
#include "ml/onednn/graph.h"
#include "ml/onnx_convert.h"
#include "ml/onnx_view.h"
#include "support/onednn_checks.h"
#include "support/onnx_builder.h"
#include "support/test_support.h"

namespace atelier::ml::onednn {
namespace {

using testing::f32_tensor;
using testing::i64_tensor;
using testing::kF32;
using testing::Model;
using testing::set_int;
using testing::set_ints;
using testing::set_string;
using testing::add_conv;
using testing::Outputs;
using testing::random_values;
using testing::rel_error;
using testing::run_both;

TEST(OneDnnExecutor, Conv3x3WithStridesDilationsAndPadding) {
  struct Case {
    int cin, cout, k;
    std::vector<std::int64_t> pads, strides, dil;
    int group;
  };
  const Case cases[] = {
      {16, 32, 3, {1, 1, 1, 1}, {}, {}, 1},       {32, 16, 3, {1, 1, 1, 1}, {2, 2}, {}, 1},
      {16, 16, 3, {4, 4, 4, 4}, {}, {4, 4}, 1},   {3, 24, 3, {1, 1, 1, 1}, {}, {}, 1},  // image input
      {24, 1, 3, {1, 1, 1, 1}, {}, {}, 1},        {16, 32, 1, {0, 0, 0, 0}, {}, {}, 1},
      {32, 32, 3, {1, 1, 1, 1}, {}, {}, 4},       {16, 16, 3, {0, 1, 2, 1}, {}, {}, 1},  // asymmetric
      {16, 16, 5, {2, 2, 2, 2}, {1, 2}, {}, 1},
  };
  unsigned seed = 11;
  for (const Case& c : cases) {
    SCOPED_TRACE("cin " + std::to_string(c.cin) + " cout " + std::to_string(c.cout) + " k " + std::to_string(c.k) +
                 " group " + std::to_string(c.group));
    Model m;
    add_conv(m, "x", "y", "conv", c.cin, c.cout, c.k, seed++, c.pads, c.strides, c.dil, c.group);
    if (c.pads[0] != c.pads[2]) continue;  // OpenCV 4.6 rejects asymmetric padding: checked below
    Outputs o = run_both(m, {1, c.cin, 37, 30});
    EXPECT_LT(rel_error(o), 1e-4);
  }
}

TEST(OneDnnExecutor, AsymmetricPaddingMatchesAnExplicitlyPaddedInput) {
  // pads (top 0, left 1, bottom 2, right 1) on x == symmetric pads (1) on x shifted: compare
  // against a direct computation instead of OpenCV (which rejects asymmetric padding).
  Model m;
  const int c = 4;
  std::vector<float> w = random_values(std::size_t(c) * c * 9, 5);
  m.b.init(f32_tensor("w", {c, c, 3, 3}, w));
  m.b.init(f32_tensor("b", {c}, std::vector<float>(std::size_t(c), 0.f)));
  auto& n = m.b.node("Conv", {"x", "w", "b"}, {"y"}, "conv");
  set_ints(n, "kernel_shape", {3, 3});
  set_ints(n, "pads", {0, 1, 2, 1});
  m.b.input("x", kF32, {1, c, 6, 5});
  auto graph = build_graph(m.proto, "x", {1, c, 6, 5}, "y");
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  auto exec = Executor::compile(std::move(*graph), {});
  ASSERT_TRUE(exec.ok()) << exec.status().message();
  EXPECT_EQ((*exec)->output_dims(), (Dims{1, c, 6, 5}));
  const std::vector<float> x = random_values(std::size_t(c) * 30, 6);
  auto got = (*exec)->run(x.data());
  ASSERT_TRUE(got.ok());
  for (int o = 0; o < c; ++o) {
    for (int y = 0; y < 6; ++y) {
      for (int xx = 0; xx < 5; ++xx) {
        double want = 0;
        for (int i = 0; i < c; ++i) {
          for (int ky = 0; ky < 3; ++ky) {
            for (int kx = 0; kx < 3; ++kx) {
              const int sy = y + ky, sx = xx + kx - 1;  // top pad 0, left pad 1
              if (sy < 0 || sy >= 6 || sx < 0 || sx >= 5) continue;
              want += double(w[std::size_t(((o * c + i) * 3 + ky) * 3 + kx)]) * x[std::size_t((i * 6 + sy) * 5 + sx)];
            }
          }
        }
        EXPECT_NEAR((*got)[std::size_t((o * 6 + y) * 5 + xx)], want, 1e-4);
      }
    }
  }
}

TEST(OneDnnExecutor, FusesReluBatchNormResidualAddAndSigmoidIntoTheConv) {
  // x -> conv1 -> BN -> relu = a;  a -> conv2 -> relu -> (+ a) = r;  r -> conv3 -> sigmoid = y
  Model m;
  add_conv(m, "x", "c1", "conv1", 16, 16, 3, 21);
  m.b.init(f32_tensor("bn.s", {16}, random_values(16, 22, 0.5f, 1.5f)));
  m.b.init(f32_tensor("bn.b", {16}, random_values(16, 23)));
  m.b.init(f32_tensor("bn.m", {16}, random_values(16, 24)));
  m.b.init(f32_tensor("bn.v", {16}, random_values(16, 25, 0.2f, 2.f)));
  m.b.node("BatchNormalization", {"c1", "bn.s", "bn.b", "bn.m", "bn.v"}, {"n1"}, "bn");
  m.b.node("Relu", {"n1"}, {"a"}, "relu1");
  add_conv(m, "a", "c2", "conv2", 16, 16, 3, 26);
  m.b.node("Relu", {"c2"}, {"r2"}, "relu2");
  m.b.node("Add", {"r2", "a"}, {"r"}, "add");
  add_conv(m, "r", "c3", "conv3", 16, 1, 3, 27);
  m.b.node("Sigmoid", {"c3"}, {"y"}, "sigmoid");
  m.b.input("x", kF32, {1, 16, 20, 24});

  auto graph = build_graph(m.proto, "x", {1, 16, 20, 24}, "y");
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  ASSERT_EQ(graph->ops.size(), 3u);  // three convolutions, everything else fused
  EXPECT_EQ(graph->ops[0].post.size(), 1u);
  ASSERT_EQ(graph->ops[1].post.size(), 2u);
  EXPECT_EQ(graph->ops[1].post[0].kind, PostOp::Kind::kRelu);
  EXPECT_EQ(graph->ops[1].post[1].kind, PostOp::Kind::kAdd);
  EXPECT_EQ(graph->ops[1].post[1].value, graph->ops[0].output);
  EXPECT_EQ(graph->ops[2].post[0].kind, PostOp::Kind::kSigmoid);
  EXPECT_EQ(graph->conv_macs, std::int64_t(20) * 24 * 9 * (16 * 16 + 16 * 16 + 16));

  Outputs o = run_both(m, {1, 16, 20, 24});
  EXPECT_LT(rel_error(o), 1e-4);
}

TEST(OneDnnExecutor, AnAddWhoseOperandsAreReadElsewhereRunsOnItsOwn) {
  Model m;
  add_conv(m, "x", "a", "conva", 16, 16, 3, 31);
  add_conv(m, "x", "b", "convb", 16, 16, 3, 32);
  m.b.node("Add", {"a", "b"}, {"s"}, "add");
  set_int(m.b.node("Concat", {"s", "a", "b"}, {"y"}, "cat"), "axis", 1);
  Outputs o = run_both(m, {1, 16, 12, 13});
  EXPECT_EQ(o.dims, (Dims{1, 48, 12, 13}));
  EXPECT_LT(rel_error(o), 1e-4);
}

TEST(OneDnnExecutor, PoolingWithCeilModeAndAverage) {
  for (int ceil : {0, 1}) {
    SCOPED_TRACE(ceil);
    Model m;
    auto& mp = m.b.node("MaxPool", {"x"}, {"p"}, "pool");
    set_ints(mp, "kernel_shape", {2, 2});
    set_ints(mp, "strides", {2, 2});
    set_int(mp, "ceil_mode", ceil);
    auto& ap = m.b.node("AveragePool", {"p"}, {"y"}, "avg");
    set_ints(ap, "kernel_shape", {3, 3});
    set_ints(ap, "strides", {1, 1});
    set_ints(ap, "pads", {1, 1, 1, 1});
    Outputs o = run_both(m, {1, 16, 33, 27});
    EXPECT_EQ(o.dims, (Dims{1, 16, 16 + ceil, 13 + ceil}));
    EXPECT_LT(rel_error(o), 1e-5);
  }
}

// ISNet's upsampling: Resize (linear, half_pixel) to the size of another tensor, computed
// by Shape -> Slice -> Concat with a constant.
TEST(OneDnnExecutor, ResizeToAnotherTensorsSizeThroughShapeArithmetic) {
  Model m;
  add_conv(m, "x", "hi", "conv_hi", 16, 16, 3, 41);
  auto& mp = m.b.node("MaxPool", {"hi"}, {"lo"}, "pool");
  set_ints(mp, "kernel_shape", {2, 2});
  set_ints(mp, "strides", {2, 2});
  set_int(mp, "ceil_mode", 1);
  add_conv(m, "lo", "lo2", "conv_lo", 16, 16, 3, 42);
  m.b.node("Shape", {"hi"}, {"shape"}, "shape");
  m.b.constant("zero", i64_tensor("zero", {1}, {0}), "c0");
  m.b.constant("two", i64_tensor("two", {1}, {2}), "c1");
  m.b.node("Slice", {"shape", "zero", "two", "zero"}, {"nc"}, "slice");
  m.b.constant("hw", i64_tensor("hw", {2}, {35, 29}), "c2");
  set_int(m.b.node("Concat", {"nc", "hw"}, {"sizes"}, "sizes"), "axis", 0);
  auto& rs = m.b.node("Resize", {"lo2", "", "", "sizes"}, {"up"}, "resize");
  set_string(rs, "mode", "linear");
  set_string(rs, "coordinate_transformation_mode", "half_pixel");
  set_int(m.b.node("Concat", {"up", "hi"}, {"y"}, "cat"), "axis", 1);
  Outputs o = run_both(m, {1, 16, 35, 29});
  EXPECT_EQ(o.dims, (Dims{1, 32, 35, 29}));
  EXPECT_LT(rel_error(o), 1e-4);
}

TEST(OneDnnExecutor, NearestUpsamplingByTwo) {
  Model m;
  m.b.init(f32_tensor("scales", {4}, {1.f, 1.f, 2.f, 2.f}));
  auto& rs = m.b.node("Resize", {"x", "", "scales"}, {"y"}, "resize");
  set_string(rs, "mode", "nearest");
  set_string(rs, "coordinate_transformation_mode", "asymmetric");
  set_string(rs, "nearest_mode", "floor");
  Outputs o = run_both(m, {1, 16, 9, 7});
  EXPECT_EQ(o.dims, (Dims{1, 16, 18, 14}));
  EXPECT_EQ(rel_error(o), 0.0);
}

// A small U-Net-like block for the reduced precisions: convolutions with ReLU, a residual
// add, pooling, dilation, linear upsampling, concat and a sigmoid output.
Model unet_block() {
  Model m;
  add_conv(m, "x", "a0", "conv_a0", 3, 32, 3, 50, {1, 1, 1, 1}, {2, 2});
  m.b.node("Relu", {"a0"}, {"a0r"}, "relu_a0");
  add_conv(m, "a0r", "a", "conv_a", 32, 32, 3, 51);
  m.b.node("Relu", {"a"}, {"a1"}, "relu_a");
  m.b.node("Add", {"a1", "a0r"}, {"ar"}, "residual");
  auto& mp = m.b.node("MaxPool", {"ar"}, {"p"}, "pool");
  set_ints(mp, "kernel_shape", {2, 2});
  set_ints(mp, "strides", {2, 2});
  add_conv(m, "p", "b", "conv_b", 32, 32, 3, 52, {2, 2, 2, 2}, {}, {2, 2});
  m.b.node("Relu", {"b"}, {"br"}, "relu_b");
  add_conv(m, "br", "b2", "conv_b2", 32, 32, 3, 54);
  m.b.node("Relu", {"b2"}, {"b2r"}, "relu_b2");
  m.b.init(f32_tensor("scales", {4}, {1.f, 1.f, 2.f, 2.f}));
  auto& rs = m.b.node("Resize", {"b2r", "", "scales"}, {"up"}, "resize");
  set_string(rs, "mode", "linear");
  set_string(rs, "coordinate_transformation_mode", "half_pixel");
  set_int(m.b.node("Concat", {"up", "ar"}, {"cat"}, "cat"), "axis", 1);
  add_conv(m, "cat", "c", "conv_c", 64, 1, 3, 53);
  m.b.node("Sigmoid", {"c"}, {"y"}, "sigmoid");
  m.b.input("x", kF32, {1, 3, 128, 96});
  m.b.output("y", kF32, {});
  return m;
}

std::unique_ptr<Executor> compile_block(Precision p, InputRanges ranges = {}) {
  Model m = unet_block();
  auto graph = build_graph(m.proto, "x", {1, 3, 128, 96}, "y");
  EXPECT_TRUE(graph.ok()) << graph.status().message();
  if (!graph.ok()) return nullptr;
  auto exec = Executor::compile(std::move(*graph), {p, 2, std::move(ranges)});
  EXPECT_TRUE(exec.ok()) << exec.status().message();
  return exec.ok() ? std::move(*exec) : nullptr;
}

TEST(OneDnnExecutor, Bf16StaysCloseToFp32) {
  Model fp32 = unet_block();
  Outputs ref = run_both(fp32, {1, 3, 128, 96});
  EXPECT_LT(rel_error(ref), 1e-4);
  Model for_graph = unet_block();
  auto graph = build_graph(for_graph.proto, "x", {1, 3, 128, 96}, "y");
  ASSERT_TRUE(graph.ok());
  auto exec = Executor::compile(std::move(*graph), {Precision::kBf16, 2, {}});
  if (!has_native_bf16() && !exec.ok()) {
    // Without AVX512-BF16/AMX oneDNN may have no bf16 convolution at all: then the error
    // names the layer and the precision.
    EXPECT_NE(exec.status().message().find("(bf16): could not create a primitive"), std::string::npos);
    return;
  }
  ASSERT_TRUE(exec.ok()) << exec.status().message();
  const std::vector<float> input = random_values(std::size_t(3) * 128 * 96, 7);
  auto got = (*exec)->run(input.data());
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), ref.want.size());
  double worst = 0;
  for (std::size_t i = 0; i < got->size(); ++i) worst = std::max(worst, double(std::fabs((*got)[i] - ref.want[i])));
  EXPECT_LT(worst, 0.1);  // sigmoid outputs in 0..1 after six bf16 layers (8-bit mantissas; logits up to ±30)
  EXPECT_GT(worst, 0.0);   // it did compute in bf16
}

TEST(OneDnnExecutor, CalibrationRecordsEachConvolutionsInputRangeReproducibly) {
  auto fp32 = compile_block(Precision::kF32);
  ASSERT_TRUE(fp32);
  const std::vector<float> x = random_values(std::size_t(3) * 128 * 96, 7, -2.f, 3.f);
  CalibrationStats stats;
  ASSERT_TRUE(fp32->calibrate(x.data(), stats).ok());
  const InputRanges ranges = clipped_ranges(stats, 1.0);
  ASSERT_EQ(ranges.size(), 5u);
  // The first convolution reads the graph's input: exactly its extremes.
  const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
  EXPECT_EQ(ranges.at("conv_a0"), (Range{*lo, *hi}));
  // Post-ReLU inputs are non-negative; the concat's too.
  for (const char* name : {"conv_a", "conv_b", "conv_b2", "conv_c"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(ranges.at(name).lo, 0.f);
    EXPECT_GT(ranges.at(name).hi, 0.f);
  }
  // Every value is counted once in the magnitude histogram.
  std::uint64_t counted = 0;
  for (std::uint64_t c : stats.at("conv_a0").magnitudes) counted += c;
  EXPECT_EQ(counted, x.size());
  // The same input again: the same stats; another input only widens the ranges.
  CalibrationStats twice;
  ASSERT_TRUE(fp32->calibrate(x.data(), twice).ok());
  EXPECT_EQ(clipped_ranges(twice, 1.0), ranges);
  EXPECT_EQ(clipped_ranges(twice, 0.999), clipped_ranges(stats, 0.999));
  const std::vector<float> x2 = random_values(x.size(), 8, -4.f, 1.f);
  ASSERT_TRUE(fp32->calibrate(x2.data(), twice).ok());
  const InputRanges again = clipped_ranges(twice, 1.0);
  EXPECT_EQ(again.at("conv_a0").hi, ranges.at("conv_a0").hi);
  EXPECT_LT(again.at("conv_a0").lo, -3.9f);
  for (const auto& [name, r] : ranges) {
    EXPECT_LE(again.at(name).lo, r.lo);
    EXPECT_GE(again.at(name).hi, r.hi);
  }
}

// Clipping at a quantile of |x|: a few outliers no longer set the range; the clip is the
// upper edge of a histogram bin (within 12.5% above the quantile's value).
TEST(OneDnnExecutor, ClippedRangesIgnoreRareOutliers) {
  Model m;
  add_conv(m, "x", "y", "conv", 16, 16, 3, 90);
  m.b.input("x", kF32, {1, 16, 32, 32});
  auto graph = build_graph(m.proto, "x", {1, 16, 32, 32}, "y");
  ASSERT_TRUE(graph.ok());
  auto exec = Executor::compile(std::move(*graph), {});
  ASSERT_TRUE(exec.ok());
  std::vector<float> x = random_values(std::size_t(16) * 32 * 32, 91, 0.f, 1.f);  // 16384 values
  x[5] = 100.f, x[77] = -60.f;
  CalibrationStats stats;
  ASSERT_TRUE((*exec)->calibrate(x.data(), stats).ok());
  EXPECT_EQ(clipped_ranges(stats, 1.0).at("conv"), (Range{-60.f, 100.f}));
  const Range clipped = clipped_ranges(stats, 0.999).at("conv");
  EXPECT_GE(clipped.hi, 0.99f);
  EXPECT_LE(clipped.hi, 1.f);  // 1.0 is the edge of the bin holding values just below it
  EXPECT_EQ(clipped.lo, -clipped.hi);
}

// Integer inputs 0..255 with that range (scale 1) and integer weights whose largest per
// output channel is ±127 (scale 1): the int8 convolution is exact, as is the pooling; the
// result is stored in bf16 where the CPU has it (the float type of int8 executors).
TEST(OneDnnExecutor, Int8IsExactWhereTheValuesAreIntegers) {
  const int cin = 16, cout = 32;
  std::vector<float> w = random_values(std::size_t(cout) * cin * 9, 81, -127.f, 127.f);
  for (float& v : w) v = std::round(v);
  for (int o = 0; o < cout; ++o) w[std::size_t(o) * cin * 9 + std::size_t(o % 9)] = o % 2 ? 127.f : -127.f;
  std::vector<float> b = random_values(std::size_t(cout), 82, -1000.f, 1000.f);
  for (float& v : b) v = std::round(v);
  Model m;
  m.b.init(f32_tensor("w", {cout, cin, 3, 3}, w));
  m.b.init(f32_tensor("b", {cout}, b));
  auto& n = m.b.node("Conv", {"x", "w", "b"}, {"c"}, "conv");
  set_ints(n, "kernel_shape", {3, 3});
  set_ints(n, "pads", {1, 1, 1, 1});
  m.b.node("Relu", {"c"}, {"r"}, "relu");
  auto& mp = m.b.node("MaxPool", {"r"}, {"y"}, "pool");
  set_ints(mp, "kernel_shape", {2, 2});
  set_ints(mp, "strides", {2, 2});
  std::vector<float> x = random_values(std::size_t(cin) * 24 * 20, 83, 0.f, 255.f);
  for (float& v : x) v = std::round(v);
  x[0] = 0, x[1] = 255;
  m.b.input("x", kF32, {1, cin, 24, 20});
  auto graph = build_graph(m.proto, "x", {1, cin, 24, 20}, "y");
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  Graph copy = *graph;
  auto fp32 = Executor::compile(std::move(copy), {});
  ASSERT_TRUE(fp32.ok());
  auto int8 = Executor::compile(std::move(*graph), {Precision::kInt8, 2, {{"conv", {0.f, 255.f}}}});
  ASSERT_TRUE(int8.ok()) << int8.status().message();
  EXPECT_EQ((*int8)->int8_convolutions(), 1);
  auto want = (*fp32)->run(x.data());
  auto got = (*int8)->run(x.data());
  ASSERT_TRUE(want.ok() && got.ok());
  ASSERT_EQ(got->size(), want->size());
  if (has_native_bf16()) {
    for (float& v : *want) {  // round to nearest even at 8 bits of mantissa
      std::uint32_t u;
      std::memcpy(&u, &v, 4);
      u = (u + 0x7fff + ((u >> 16) & 1)) & 0xffff0000u;
      std::memcpy(&v, &u, 4);
    }
  }
  double worst = 0, mag = 0;
  for (std::size_t i = 0; i < got->size(); ++i) {
    worst = std::max(worst, double(std::fabs((*got)[i] - (*want)[i])));
    mag = std::max(mag, double(std::fabs((*want)[i])));
  }
  EXPECT_GT(mag, 1e5);
  if (has_int8_vnni()) EXPECT_EQ(worst, 0.0);
  else EXPECT_LT(worst / mag, 0.01);  // weights in 7 bits without VNNI (not saturated)
}

TEST(OneDnnExecutor, Int8StaysCloseToFp32) {
  auto fp32 = compile_block(Precision::kF32);
  ASSERT_TRUE(fp32);
  const std::vector<float> x = random_values(std::size_t(3) * 128 * 96, 7);
  CalibrationStats stats;
  ASSERT_TRUE(fp32->calibrate(x.data(), stats).ok());
  const InputRanges ranges = clipped_ranges(stats, 1.0);
  auto want = fp32->run(x.data());
  ASSERT_TRUE(want.ok());
  auto int8 = compile_block(Precision::kInt8, ranges);
  ASSERT_TRUE(int8);
  EXPECT_EQ(int8->int8_convolutions(), 5);
  EXPECT_LT(int8->weight_bytes(), fp32->weight_bytes() / 3);  // s8 weights (plus fp32 bias)
  // Photos are not this input: run another one, inside the calibrated range.
  const std::vector<float> x2 = random_values(x.size(), 9, -0.9f, 0.9f);
  auto want2 = fp32->run(x2.data());
  auto got2 = int8->run(x2.data());
  ASSERT_TRUE(want2.ok() && got2.ok());
  ASSERT_EQ(got2->size(), want2->size());
  double worst = 0, sum = 0;
  std::size_t off = 0;
  for (std::size_t i = 0; i < got2->size(); ++i) {
    const double d = std::fabs((*got2)[i] - (*want2)[i]);
    worst = std::max(worst, d);
    sum += d;
    off += d > 0.02;
  }
  // Sigmoid outputs in 0..1 after five int8 layers with random weights (logits up to ±30;
  // bf16 here: mean 0.0009, worst 0.063). The residual sum, the pooling, the upsampling and
  // the concat share one scale, the concat's (4× the pooled tensor's range here): measured
  // mean 0.0058, 6.5% off by more than 0.02, worst 0.39.
  EXPECT_LT(sum / double(got2->size()), 2 / 255.);
  EXPECT_LT(double(off), 0.1 * double(got2->size()));
  EXPECT_LT(worst, 0.5);
  EXPECT_GT(worst, 0.0);  // it did compute in int8

  // Convolutions without a range run in the float type; int8 with none at all is an error.
  InputRanges some = ranges;
  some.erase("conv_c");
  auto partial = compile_block(Precision::kInt8, some);
  ASSERT_TRUE(partial);
  EXPECT_EQ(partial->int8_convolutions(), 4);
  Model m = unet_block();
  auto graph = build_graph(m.proto, "x", {1, 3, 128, 96}, "y");
  ASSERT_TRUE(graph.ok());
  EXPECT_EQ(Executor::compile(std::move(*graph), {Precision::kInt8, 2, {}}).status().message(),
            "oneDNN executor: int8 needs the convolutions' input ranges (calibrate the model)");
  CalibrationStats none;
  EXPECT_EQ(int8->calibrate(x.data(), none).message(), "oneDNN executor: calibration runs in fp32, not int8");
}

TEST(OneDnnExecutor, ArenaSharesMemoryBetweenTensorsNotAliveTogether) {
  // A chain of 8 convolutions 32 -> 32 at 64×64: 9 tensors of 512 KiB each, at most two
  // alive at a time.
  Model m;
  std::string prev = "x";
  for (int i = 0; i < 8; ++i) {
    const std::string out = i == 7 ? "y" : "t" + std::to_string(i);
    add_conv(m, prev, out, "conv" + std::to_string(i), 32, 32, 3, 60u + unsigned(i));
    prev = out;
  }
  m.b.input("x", kF32, {1, 32, 64, 64});
  auto graph = build_graph(m.proto, "x", {1, 32, 64, 64}, "y");
  ASSERT_TRUE(graph.ok());
  auto exec = Executor::compile(std::move(*graph), {});
  ASSERT_TRUE(exec.ok());
  const std::size_t tensor = 32 * 64 * 64 * 4;
  EXPECT_LE((*exec)->arena_bytes(), 3 * tensor);  // input layout copy + two ping-pong buffers
  EXPECT_GE((*exec)->arena_bytes(), 2 * tensor);
  EXPECT_EQ((*exec)->weight_bytes(), std::size_t(8) * (32 * 32 * 9 + 32) * 4);
}

// Building from a model given up frees each initializer's bytes as the graph takes them,
// and gives the same graph.
TEST(OneDnnExecutor, ABuildThatConsumesTheModelGivesTheSameGraph) {
  Model m = unet_block();
  auto kept = build_graph(m.proto, "x", {1, 3, 128, 96}, "y");
  ASSERT_TRUE(kept.ok());
  onnx::ModelProto given = m.proto;
  auto consumed = build_graph(std::move(given), "x", {1, 3, 128, 96}, "y");
  ASSERT_TRUE(consumed.ok()) << consumed.status().message();
  ASSERT_EQ(consumed->ops.size(), kept->ops.size());
  for (std::size_t i = 0; i < kept->ops.size(); ++i) {
    EXPECT_EQ(consumed->ops[i].weights, kept->ops[i].weights) << kept->ops[i].name;
    EXPECT_EQ(consumed->ops[i].bias, kept->ops[i].bias) << kept->ops[i].name;
  }
  EXPECT_EQ(consumed->tensors, kept->tensors);
  std::size_t left = 0, had = 0;
  for (const auto& t : given.graph().initializer()) left += t.ByteSizeLong();  // NOLINT(bugprone-use-after-move)
  for (const auto& t : m.proto.graph().initializer()) had += t.ByteSizeLong();
  EXPECT_EQ(left, 0u);
  EXPECT_GT(had, std::size_t(4) * 32 * 32 * 9);  // the kept model is untouched
}

// From an OnnxView the convolutions read their weights in place, in the file's bytes,
// and the graph and its results are the same as from the parsed model.
TEST(OneDnnExecutor, ABuildFromAViewReadsTheWeightsInPlaceAndGivesTheSameResults) {
  Model m = unet_block();
  atelier::testing::store_floats_as_raw_data(m.proto);  // as exported models hold their weights
  auto kept = build_graph(m.proto, "x", {1, 3, 128, 96}, "y");
  ASSERT_TRUE(kept.ok());
  const std::vector<std::uint8_t> bytes = *ml::serialize_onnx(m.proto);
  auto view = ml::parse_onnx_view(atelier::testing::large_buffer(bytes));
  ASSERT_TRUE(view.ok());
  auto viewed = build_graph(std::move(*view), "x", {1, 3, 128, 96}, "y");
  ASSERT_TRUE(viewed.ok()) << viewed.status().message();
  ASSERT_NE(viewed->storage, nullptr);
  ASSERT_EQ(viewed->ops.size(), kept->ops.size());
  int in_place = 0;
  for (std::size_t i = 0; i < kept->ops.size(); ++i) {
    const Op& a = viewed->ops[i];
    const Op& b = kept->ops[i];
    in_place += !a.weight_view.empty();
    const std::vector<float> got(a.weight_data().begin(), a.weight_data().end());
    EXPECT_EQ(got, b.weights) << b.name;
    EXPECT_EQ(a.bias, b.bias) << b.name;
  }
  EXPECT_EQ(in_place, 5);  // every convolution
  std::vector<float> input(3 * 128 * 96);
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (float& v : input) v = u(rng);
  Graph copy = *viewed;  // a second graph on the same bytes: the first compile must leave them
  auto e1 = Executor::compile(std::move(*viewed), {});
  auto e2 = Executor::compile(std::move(copy), {});
  auto e0 = Executor::compile(std::move(*kept), {});
  ASSERT_TRUE(e0.ok() && e1.ok() && e2.ok());
  const std::vector<float> want = *(*e0)->run(input.data());
  EXPECT_EQ(*(*e1)->run(input.data()), want);
  EXPECT_EQ(*(*e2)->run(input.data()), want);

  // Alone on its bytes, a compile returns their pages once the weights are reordered: a
  // whole page inside a convolution's weights reads as zeros afterwards.
  auto view2 = ml::parse_onnx_view(atelier::testing::large_buffer(bytes));
  ASSERT_TRUE(view2.ok());
  auto alone = build_graph(std::move(*view2), "x", {1, 3, 128, 96}, "y");
  ASSERT_TRUE(alone.ok());
  const std::span<const float> w = alone->ops[1].weight_view;  // conv_a: 32·32·9 floats, 36 KiB
  ASSERT_GE(w.size_bytes(), std::size_t(3) * 4096);
  const auto page = (reinterpret_cast<std::uintptr_t>(w.data()) + 4095) & ~std::uintptr_t(4095);
  const auto* inside = reinterpret_cast<const std::uint8_t*>(page);
  EXPECT_NE(std::count(inside, inside + 4096, std::uint8_t(0)), 4096);  // real weights before
  auto e3 = Executor::compile(std::move(*alone), {});
  ASSERT_TRUE(e3.ok());
  EXPECT_EQ(std::count(inside, inside + 4096, std::uint8_t(0)), 4096);  // released
  EXPECT_EQ(*(*e3)->run(input.data()), want);
}

TEST(OneDnnExecutor, ErrorsNameTheNode) {
  {
    Model m;
    m.b.node("LSTM", {"x"}, {"y"}, "lstm_1");
    m.b.input("x", kF32, {1, 4, 8, 8});
    auto g = build_graph(m.proto, "x", {1, 4, 8, 8}, "y");
    EXPECT_EQ(g.status().message(), "oneDNN executor: node 'lstm_1' (LSTM): operator not supported");
  }
  {
    Model m;
    auto& rs = m.b.node("Resize", {"x", "", "scales"}, {"y"}, "up");
    m.b.init(f32_tensor("scales", {4}, {1.f, 1.f, 2.f, 2.f}));
    set_string(rs, "mode", "linear");
    set_string(rs, "coordinate_transformation_mode", "align_corners");
    m.b.input("x", kF32, {1, 4, 8, 8});
    auto g = build_graph(m.proto, "x", {1, 4, 8, 8}, "y");
    EXPECT_EQ(g.status().message(),
              "oneDNN executor: node 'up' (Resize): coordinate_transformation_mode align_corners is not supported for "
              "mode linear");
  }
  {
    Model m;
    m.b.node("Relu", {"x"}, {"y"}, "relu");
    m.b.input("x", kF32, {1, 4, 8, 8});
    EXPECT_EQ(build_graph(m.proto, "input", {1, 4, 8, 8}, "y").status().message(),
              "oneDNN executor: the graph has no input 'input'");
    EXPECT_EQ(build_graph(m.proto, "x", {1, 4, 8, 8}, "out").status().message(),
              "oneDNN executor: the graph has no output 'out'");
  }
  {
    Model m;
    add_conv(m, "x", "y", "conv", 8, 8, 3, 70);
    m.b.input("x", kF32, {1, 4, 8, 8});
    EXPECT_EQ(build_graph(m.proto, "x", {1, 4, 8, 8}, "y").status().message(),
              "oneDNN executor: node 'conv' (Conv): weights do not match the input's channels and the group count");
  }
}

// Runtime dispatch: under each DNNL_MAX_CPU_ISA cap up to the CPU's own, oneDNN reports the
// capped ISA, its convolutions run code for it, and the numbers still match OpenCV's (fp32)
// and fp32's (int8).
TEST(OneDnnExecutor, RunsOnEveryIsaUpToTheCpusOwn) {
  struct Cap {
    const char* env;
    const char* isa;   // effective_isa() under the cap
    const char* code;  // in the first convolution's implementation name
  };
  const std::string own = effective_isa();
  std::vector<Cap> caps = {{"SSE41", "sse41", "sse41"}, {"AVX2", "avx2", "avx2"}};
  if (own.rfind("avx512", 0) == 0) caps.push_back({"AVX512_CORE", "avx512_core", "avx512_core"});
  ASSERT_NE(own, "other");
  ASSERT_NE(own, "sse41");  // every x86-64 CPU this project targets has AVX2
  for (const Cap& c : caps) {
    SCOPED_TRACE(c.env);
    ::atelier::testing::ScopedEnv cap("DNNL_MAX_CPU_ISA", c.env);
    auto r = run_process({ATELIER_ONEDNN_ISA_PROBE});
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_EQ(r->exit_code, 0) << r->out << r->err;
    std::istringstream lines(r->out);
    std::string key, isa, conv;
    double err = 1, int8_err = 1;
    int int8_convs = 0;
    lines >> key >> isa >> key >> conv >> key >> err >> key >> int8_convs >> key >> int8_err;
    EXPECT_EQ(isa, c.isa);
    EXPECT_NE(conv.find(c.code), std::string::npos) << conv;
    EXPECT_LT(err, 1e-4);
    // int8 too, on random weights (logits in the tens): sigmoid outputs within 0.1 with
    // VNNI (measured 0.094), 0.2 below it, where weights keep to 7 bits (0.139).
    EXPECT_EQ(int8_convs, 4);
    EXPECT_LT(int8_err, std::string(c.isa).find("vnni") != std::string::npos ? 0.1 : 0.2);
    EXPECT_GT(int8_err, 0.0);
  }
}

}  // namespace
}  // namespace atelier::ml::onednn
