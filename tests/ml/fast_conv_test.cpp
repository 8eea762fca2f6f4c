// The Winograd "Convolution" layer for OpenCV DNN (ml/fast_conv.h): small nets built with
// Net::addLayer or from ONNX bytes, run with the registration on and off.
#include "ml/fast_conv.h"

#include <gtest/gtest.h>

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <typeinfo>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/dnn/all_layers.hpp>

#include "ml/winograd.h"

namespace atelier::ml {
namespace {

using cv::Mat;
using cv::dnn::LayerParams;
using cv::dnn::Net;

// Unregisters at the end of a test, whatever happens in it.
struct Registered {
  // The cases here are small maps: Winograd from 32×32 on (the default is 64×64).
  Registered() { register_fast_convolution({.min_winograd_outputs = 32 * 32}); }
  ~Registered() { unregister_fast_convolution(); }
};

Mat random_blob(std::vector<int> shape, unsigned seed, float lo = -1.f, float hi = 1.f) {
  Mat m(int(shape.size()), shape.data(), CV_32F);
  cv::RNG rng(seed);
  rng.fill(m, cv::RNG::UNIFORM, lo, hi);
  return m;
}

double max_rel_error(const Mat& got, const Mat& want) {
  EXPECT_EQ(got.size, want.size);
  const double diff = cv::norm(got.reshape(1, 1), want.reshape(1, 1), cv::NORM_INF);
  const double mag = std::max(cv::norm(want.reshape(1, 1), cv::NORM_INF), 1e-12);
  return diff / mag;
}

bool bit_identical(const Mat& a, const Mat& b) {
  return a.size == b.size && a.type() == b.type() &&
         std::equal(a.ptr<float>(), a.ptr<float>() + a.total(), b.ptr<float>());
}

bool is_fast(const cv::Ptr<cv::dnn::Layer>& layer) {
  return std::string(typeid(*layer).name()).find("FastConvolutionLayer") != std::string::npos;
}

struct ConvSpec {
  int cin = 16, cout = 16;
  int kernel = 3, stride = 1, group = 1;
  int pad = 1, dilation = 1;
  bool bias = true;
  bool relu = false;
  float slope = 0.f;
};

LayerParams conv_params(const ConvSpec& s, unsigned seed) {
  LayerParams lp;
  lp.name = "conv";
  lp.type = "Convolution";
  lp.set("kernel_size", s.kernel);
  lp.set("num_output", s.cout);
  lp.set("pad", s.pad);
  lp.set("stride", s.stride);
  lp.set("dilation", s.dilation);
  lp.set("group", s.group);
  lp.set("bias_term", s.bias);
  lp.blobs.push_back(random_blob({s.cout, s.cin / s.group, s.kernel, s.kernel}, seed));
  if (s.bias) lp.blobs.push_back(random_blob({s.cout}, seed + 1));
  return lp;
}

Net conv_net(const ConvSpec& s, unsigned seed) {
  Net net;
  LayerParams lp = conv_params(s, seed);
  net.addLayerToPrev(lp.name, lp.type, lp);
  if (s.relu) {
    LayerParams rp;
    rp.set("negative_slope", s.slope);
    net.addLayerToPrev("relu", "ReLU", rp);
  }
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  return net;
}

Mat run(Net& net, const Mat& input) {
  net.setInput(input);
  return net.forward().clone();
}

struct Outputs {
  Mat builtin, fast;
  bool used_fast = false;
};

Outputs run_both(const ConvSpec& s, const Mat& input, unsigned seed) {
  Outputs o;
  EXPECT_FALSE(fast_convolution_registered());
  Net plain = conv_net(s, seed);
  o.builtin = run(plain, input);
  Registered on;
  EXPECT_TRUE(fast_convolution_registered());
  Net fast = conv_net(s, seed);
  o.fast = run(fast, input);
  o.used_fast = is_fast(fast.getLayer(fast.getLayerId("conv")));
  return o;
}

TEST(FastConv, MatchesBuiltinOnEligibleConvolutions) {
  struct Case {
    ConvSpec spec;
    int h, w, batch;
  };
  // Output maps of at least 32×32 pixels (smaller ones keep OpenCV's layer, see below).
  const Case cases[] = {
      {{16, 16, 3, 1, 1, 1, 1, true, false}, 37, 53, 1},
      {{8, 24, 3, 1, 1, 1, 1, false, true}, 37, 53, 1},         // no bias, ReLU
      {{32, 8, 3, 1, 1, 2, 2, true, true}, 37, 53, 1},          // dilation 2
      {{24, 16, 3, 1, 1, 4, 4, true, true}, 40, 35, 1},         // dilation 4
      {{16, 16, 3, 1, 1, 8, 8, true, true}, 72, 80, 1},         // dilation 8
      {{16, 12, 3, 1, 1, 0, 1, true, false}, 37, 53, 1},        // no padding
      {{16, 16, 3, 1, 1, 0, 2, true, true}, 41, 45, 1},         // dilated, no padding
      {{8, 16, 3, 1, 1, 1, 2, true, true}, 35, 40, 1},          // padding < dilation
      {{64, 96, 3, 1, 1, 1, 1, true, true, 0.1f}, 33, 37, 1},   // leaky ReLU
      {{300, 40, 3, 1, 1, 1, 1, true, true}, 40, 36, 1},        // input channels in chunks
      {{20, 200, 3, 1, 1, 1, 1, false, false}, 36, 34, 1},      // output channels in chunks
      {{16, 16, 3, 1, 1, 1, 1, true, true}, 25, 22, 2},         // batch 2
      {{16, 4, 3, 1, 1, 1, 1, true, true}, 37, 53, 1},          // few outputs: direct kernel
      {{64, 1, 3, 1, 1, 1, 1, true, false}, 45, 38, 2},         // one output channel
      {{12, 3, 3, 1, 1, 2, 2, false, true, 0.2f}, 29, 30, 1},   // direct, dilated, leaky
      {{16, 2, 3, 1, 1, 1, 1, true, true}, 9, 7, 1},            // direct, tiny map
  };
  unsigned seed = 1;
  for (const Case& c : cases) {
    const ConvSpec& s = c.spec;
    SCOPED_TRACE(::testing::Message() << s.cin << "->" << s.cout << " " << c.h << "x" << c.w << " pad "
                                      << s.pad << " dilation " << s.dilation << " bias " << s.bias
                                      << " relu " << s.relu << " batch " << c.batch);
    const Mat input = random_blob({c.batch, s.cin, c.h, c.w}, seed + 100);
    const Outputs o = run_both(s, input, seed);
    EXPECT_TRUE(o.used_fast);
    EXPECT_FALSE(bit_identical(o.fast, o.builtin));  // our kernel ran, not OpenCV's
    EXPECT_LE(max_rel_error(o.fast, o.builtin), 1e-4);
    if (s.relu && s.slope == 0.f) {
      double lo = 0;
      cv::minMaxLoc(o.fast.reshape(1, 1), &lo);
      EXPECT_GE(lo, 0.0);  // the ReLU was applied (fused)
    }
    seed += 10;
  }
}

TEST(FastConv, FusesTheFollowingReLU) {
  ConvSpec s;
  s.relu = true;
  Registered on;
  Net net = conv_net(s, 3);
  const Mat input = random_blob({1, s.cin, 40, 40}, 4);
  const Mat out = run(net, input);
  double lo = 0;
  cv::minMaxLoc(out.reshape(1, 1), &lo);
  EXPECT_GE(lo, 0.0);
  // A net without the ReLU gives negative values for the same input and weights.
  s.relu = false;
  Net bare = conv_net(s, 3);
  const Mat raw = run(bare, input);
  cv::minMaxLoc(raw.reshape(1, 1), &lo);
  EXPECT_LT(lo, 0.0);
  Mat relu_of_raw = cv::max(raw, 0.0);
  EXPECT_LE(max_rel_error(out, relu_of_raw), 1e-6);
}

TEST(FastConv, FusesBatchNorm) {
  // Winograd (16 outputs) and the direct kernel (4 outputs).
  for (int cout : {16, 4}) {
    SCOPED_TRACE(cout);
    const int cin = 16;
    auto make = [&]() {
      Net net;
      ConvSpec spec;
      spec.cin = cin;
      spec.cout = cout;
      LayerParams lp = conv_params(spec, 11);
      net.addLayerToPrev(lp.name, lp.type, lp);
      LayerParams bn;
      bn.set("has_weight", true);
      bn.set("has_bias", true);
      bn.set("eps", 1e-5f);
      bn.blobs = {random_blob({1, cout}, 12), random_blob({1, cout}, 13, 0.5f, 2.f),
                  random_blob({1, cout}, 14), random_blob({1, cout}, 15)};
      net.addLayerToPrev("bn", "BatchNorm", bn);
      LayerParams rp;
      net.addLayerToPrev("relu", "ReLU", rp);
      return net;
    };
    const Mat input = random_blob({1, cin, 41, 37}, 16);
    Net plain = make();
    const Mat want = run(plain, input);
    Registered on;
    Net fast = make();
    const Mat got = run(fast, input);
    EXPECT_TRUE(is_fast(fast.getLayer(fast.getLayerId("conv"))));
    EXPECT_FALSE(bit_identical(got, want));
    EXPECT_LE(max_rel_error(got, want), 1e-4);
    // Re-running (the net is allocated once) and re-allocating (new input sizes, one of
    // them small enough for OpenCV's own path) stay right.
    EXPECT_LE(max_rel_error(run(fast, input), want), 1e-4);
    for (const Mat& other : {random_blob({1, cin, 36, 44}, 17), random_blob({1, cin, 12, 10}, 18), input}) {
      EXPECT_LE(max_rel_error(run(fast, other), run(plain, other)), 1e-4);
    }
  }
}

TEST(FastConv, NonEligibleConvolutionsAreExactlyBuiltin) {
  struct Case {
    ConvSpec spec;
    const char* what;
  };
  const Case cases[] = {
      {{16, 16, 3, 2, 1, 1, 1, true, true}, "stride 2"},
      {{16, 16, 1, 1, 1, 0, 1, true, true}, "1x1"},
      {{16, 16, 3, 1, 2, 1, 1, true, true}, "group 2"},
      {{16, 16, 3, 1, 16, 1, 1, true, false}, "depthwise"},
      {{2, 16, 3, 1, 1, 1, 1, true, true}, "few input channels"},
      {{16, 16, 5, 1, 1, 2, 1, true, true}, "5x5"},
  };
  unsigned seed = 50;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const Mat input = random_blob({1, c.spec.cin, 23, 29}, seed + 100);
    const Outputs o = run_both(c.spec, input, seed);
    EXPECT_FALSE(o.used_fast);
    EXPECT_TRUE(bit_identical(o.fast, o.builtin));
    seed += 10;
  }
}

TEST(FastConv, KeepsOpenCVsComputationWhereWinogradDoesNotPay) {
  // The layer then runs OpenCV's own computation (bit-identical), e.g. for
  //  - dilation 8 on a 24×24 map: 3×3 sub-grids, a 4×4 tile for 9 outputs;
  //  - dilation 8 on a 32×35 map: sub-grid rows of 4 or 5 outputs, a single tile each;
  //  - maps below 32×32, where the transformed weights would cost more than they save.
  struct Case {
    int pad, dilation, h, w;
  } const cases[] = {{8, 8, 24, 24}, {8, 8, 32, 35}, {1, 1, 20, 30}, {2, 2, 16, 16}};
  unsigned seed = 77;
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << c.h << "x" << c.w << " dilation " << c.dilation);
    ConvSpec s;
    s.pad = c.pad;
    s.dilation = c.dilation;
    s.relu = true;
    const Mat input = random_blob({1, s.cin, c.h, c.w}, seed);
    const Outputs o = run_both(s, input, seed + 1);
    EXPECT_TRUE(o.used_fast);
    EXPECT_TRUE(bit_identical(o.fast, o.builtin));
    seed += 10;
  }
}

TEST(FastConv, RegisterTwiceThenUnregisterRestoresBuiltin) {
  ConvSpec s;
  s.relu = true;
  const Mat input = random_blob({1, s.cin, 37, 41}, 21);
  Net never = conv_net(s, 22);
  const Mat reference = run(never, input);
  EXPECT_FALSE(is_fast(never.getLayer(never.getLayerId("conv"))));

  register_fast_convolution();
  register_fast_convolution();  // idempotent
  EXPECT_TRUE(fast_convolution_registered());
  Net fast = conv_net(s, 22);
  EXPECT_TRUE(is_fast(fast.getLayer(fast.getLayerId("conv"))));
  const Mat fast_out = run(fast, input);
  EXPECT_LE(max_rel_error(fast_out, reference), 1e-4);

  unregister_fast_convolution();
  EXPECT_FALSE(fast_convolution_registered());
  unregister_fast_convolution();  // no-op: must not pop OpenCV's own constructor
  EXPECT_TRUE(cv::dnn::LayerFactory::isLayerRegistered("Convolution"));
  Net after = conv_net(s, 22);
  EXPECT_FALSE(is_fast(after.getLayer(after.getLayerId("conv"))));
  EXPECT_TRUE(bit_identical(run(after, input), reference));
  // A net created while registered keeps its layers.
  EXPECT_TRUE(bit_identical(run(fast, input), fast_out));
}

// ---------------------------------------------------------------------------------------
// Through the ONNX importer.

onnx::TensorProto tensor(const std::string& name, const Mat& m) {
  onnx::TensorProto t;
  t.set_name(name);
  t.set_data_type(onnx::TensorProto::FLOAT);
  for (int i = 0; i < m.dims; ++i) t.add_dims(m.size[i]);
  t.set_raw_data(std::string(reinterpret_cast<const char*>(m.ptr<float>()), m.total() * sizeof(float)));
  return t;
}

void add_ints(onnx::NodeProto& n, const std::string& name, const std::vector<std::int64_t>& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (auto x : v) a->add_ints(x);
}

void add_value(onnx::ValueInfoProto* v, const std::string& name, const std::vector<int>& shape) {
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  for (int d : shape) tt->mutable_shape()->add_dim()->set_dim_value(d);
}

// x -> Conv(3×3, pads t,l,b,r, dilation d) -> Relu -> y
std::string conv_relu_onnx(const Mat& w, const Mat& b, std::vector<std::int64_t> pads, int dilation,
                           const std::vector<int>& in_shape) {
  onnx::ModelProto model;
  model.set_ir_version(7);
  model.add_opset_import()->set_version(11);
  auto* g = model.mutable_graph();
  g->set_name("g");
  add_value(g->add_input(), "x", in_shape);
  *g->add_initializer() = tensor("w", w);
  *g->add_initializer() = tensor("b", b);
  auto* conv = g->add_node();
  conv->set_op_type("Conv");
  conv->set_name("conv");
  conv->add_input("x");
  conv->add_input("w");
  conv->add_input("b");
  conv->add_output("c");
  add_ints(*conv, "kernel_shape", {3, 3});
  add_ints(*conv, "pads", pads);
  add_ints(*conv, "dilations", {dilation, dilation});
  add_ints(*conv, "strides", {1, 1});
  auto* relu = g->add_node();
  relu->set_op_type("Relu");
  relu->set_name("relu");
  relu->add_input("c");
  relu->add_output("y");
  const int oh = in_shape[2] + int(pads[0] + pads[2]) - 2 * dilation;
  const int ow = in_shape[3] + int(pads[1] + pads[3]) - 2 * dilation;
  add_value(g->add_output(), "y", {in_shape[0], w.size[0], oh, ow});
  std::string bytes;
  model.SerializeToString(&bytes);
  return bytes;
}

Mat run_onnx(const std::string& bytes, const Mat& input) {
  Net net = cv::dnn::readNetFromONNX(bytes.data(), bytes.size());
  net.setInput(input, "x");
  return net.forward("y").clone();
}

TEST(FastConv, OnnxModelsMatchBuiltin) {
  const int cin = 24, cout = 32;
  const Mat w = random_blob({cout, cin, 3, 3}, 31), b = random_blob({cout}, 32);
  const std::vector<int> in_shape{1, cin, 45, 38};
  const Mat input = random_blob(in_shape, 33);
  for (int d : {1, 2, 4}) {
    SCOPED_TRACE(d);
    const std::string bytes = conv_relu_onnx(w, b, {d, d, d, d}, d, in_shape);
    const Mat want = run_onnx(bytes, input);
    Registered on;
    const Mat got = run_onnx(bytes, input);
    EXPECT_FALSE(bit_identical(got, want));
    EXPECT_LE(max_rel_error(got, want), 1e-4);
  }
}

TEST(FastConv, OnnxAsymmetricPaddingMatchesDirectConvolution) {
  // OpenCV 4.6's own layer rejects asymmetric convolution padding; the fast layer takes it.
  const int cin = 12, cout = 16;
  const Mat w = random_blob({cout, cin, 3, 3}, 41), b = random_blob({cout}, 42);
  const std::vector<int> in_shape{1, cin, 36, 41};
  const Mat input = random_blob(in_shape, 43);
  const std::vector<std::int64_t> pads{1, 0, 2, 1};  // top, left, bottom, right
  for (int d : {1, 2}) {
    SCOPED_TRACE(d);
    const std::string bytes = conv_relu_onnx(w, b, pads, d, in_shape);
    Conv3x3Geometry g;
    g.in_channels = cin;
    g.out_channels = cout;
    g.in_h = in_shape[2];
    g.in_w = in_shape[3];
    g.pad_top = 1;
    g.pad_left = 0;
    g.dilation_h = g.dilation_w = d;
    g.out_h = g.in_h + 3 - 2 * d;
    g.out_w = g.in_w + 1 - 2 * d;
    const int oshape[] = {1, cout, g.out_h, g.out_w};
    Mat want(4, oshape, CV_32F);
    const TensorStrides is{std::size_t(cin) * g.in_h * g.in_w, std::size_t(g.in_h) * g.in_w,
                           std::size_t(g.in_w)};
    const TensorStrides os{std::size_t(cout) * g.out_h * g.out_w, std::size_t(g.out_h) * g.out_w,
                           std::size_t(g.out_w)};
    reference_conv3x3(input.ptr<float>(), is, want.ptr<float>(), os, 1, g, w.ptr<float>(),
                      b.ptr<float>(), ConvActivation{true, 0.f});
    Registered on;
    const Mat got = run_onnx(bytes, input);
    EXPECT_LE(max_rel_error(got, want), 1e-4);
  }
}

}  // namespace
}  // namespace atelier::ml
