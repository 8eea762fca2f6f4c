#include "support/onednn_checks.h"

#include <gtest/gtest.h>

#include <opencv2/dnn.hpp>

#include <algorithm>
#include <cmath>
#include <random>

#include "ml/fast_conv.h"

namespace atelier::testing {

using ml::onednn::Dims;
using ml::onednn::Executor;
using ml::onednn::Precision;

std::vector<float> random_values(std::size_t n, unsigned seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

void add_conv(Model& m, const std::string& in, const std::string& out, const std::string& name, int cin, int cout,
              int k, unsigned seed, std::vector<std::int64_t> pads, std::vector<std::int64_t> strides,
              std::vector<std::int64_t> dil, int group) {
  m.b.init(f32_tensor(name + ".w", {cout, cin / group, k, k},
                      random_values(std::size_t(cout) * (cin / group) * k * k, seed, -0.3f, 0.3f)));
  m.b.init(f32_tensor(name + ".b", {cout}, random_values(std::size_t(cout), seed + 1)));
  auto& n = m.b.node("Conv", {in, name + ".w", name + ".b"}, {out}, name);
  set_ints(n, "kernel_shape", {k, k});
  if (pads.empty()) pads = {k / 2, k / 2, k / 2, k / 2};
  set_ints(n, "pads", pads);
  if (!strides.empty()) set_ints(n, "strides", strides);
  if (!dil.empty()) set_ints(n, "dilations", dil);
  if (group != 1) set_int(n, "group", group);
}

Outputs run_both(Model& m, Dims in, Precision precision, unsigned seed) {
  if (m.graph().input_size() == 0) m.b.input("x", kF32, {in.n, in.c, in.h, in.w});
  if (m.graph().output_size() == 0) m.b.output("y", kF32, {});
  Outputs o;
  const std::vector<float> input = random_values(std::size_t(in.count()), seed);
  std::string bytes;
  m.proto.SerializeToString(&bytes);
  ml::unregister_fast_convolution();
  cv::dnn::Net net = cv::dnn::readNetFromONNX(bytes.data(), bytes.size());
  const int shape[4] = {in.n, in.c, in.h, in.w};
  net.setInput(cv::Mat(4, shape, CV_32F, const_cast<float*>(input.data())), "x");
  cv::Mat ref = net.forward("y");
  o.want.assign(ref.ptr<float>(), ref.ptr<float>() + ref.total());

  auto graph = ml::onednn::build_graph(m.proto, "x", in, "y");
  EXPECT_TRUE(graph.ok()) << graph.status().message();
  if (!graph.ok()) return o;
  auto exec = Executor::compile(std::move(*graph), {precision, 2, {}});
  EXPECT_TRUE(exec.ok()) << exec.status().message();
  if (!exec.ok()) return o;
  o.dims = (*exec)->output_dims();
  o.conv_implementation = (*exec)->conv_implementation();
  auto got = (*exec)->run(input.data());
  EXPECT_TRUE(got.ok()) << got.status().message();
  if (got.ok()) o.got = std::move(*got);
  return o;
}

double rel_error(const Outputs& o) {
  EXPECT_EQ(o.got.size(), o.want.size());
  if (o.got.size() != o.want.size() || o.got.empty()) return 1e9;
  double diff = 0, mag = 1e-12;
  for (std::size_t i = 0; i < o.got.size(); ++i) {
    diff = std::max(diff, double(std::fabs(o.got[i] - o.want[i])));
    mag = std::max(mag, double(std::fabs(o.want[i])));
  }
  return diff / mag;
}

}  // namespace atelier::testing
