// The ONNX import converter: small fp16 graphs are built here with the protobuf API,
// converted, checked structurally (report counts, no FLOAT16 left), then loaded and run in
// OpenCV 4.6 DNN and compared with an fp32 reference computed from the fp16-rounded weights.
#include "ml/onnx_convert.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <tuple>
#include <limits>
#include <opencv2/dnn.hpp>

#include "support/onnx_builder.h"
#include "support/test_support.h"

namespace atelier::ml {
namespace {

using namespace ::atelier::testing;  // the ONNX model builder (support/onnx_builder.h)

float round16(float v) { return half_to_float(float_to_half(v)); }

// ---------------------------------------------------------------------------------------
// Reading tensors back

// The values of a FLOAT tensor (raw_data or float_data).
std::vector<float> floats_of(const TensorProto& t) {
  EXPECT_EQ(t.data_type(), kF32) << t.name();
  if (!t.raw_data().empty()) {
    std::vector<float> v(t.raw_data().size() / 4);
    std::memcpy(v.data(), t.raw_data().data(), v.size() * 4);
    return v;
  }
  return {t.float_data().begin(), t.float_data().end()};
}

std::vector<std::int64_t> int64s_of(const TensorProto& t) {
  EXPECT_EQ(t.data_type(), kI64) << t.name();
  std::vector<std::int64_t> v(t.raw_data().size() / 8);
  std::memcpy(v.data(), t.raw_data().data(), v.size() * 8);
  return v;
}

// ---------------------------------------------------------------------------------------
// Checks

// Where a FLOAT16 remains (tensors, declared types, Cast targets), or "" if nowhere.
std::string find_fp16(const GraphProto& g) {
  auto bad_type = [](const onnx::ValueInfoProto& v) {
    return v.type().has_tensor_type() && v.type().tensor_type().elem_type() == kF16;
  };
  for (const auto& t : g.initializer())
    if (t.data_type() == kF16) return "initializer " + t.name();
  for (const auto& v : g.input())
    if (bad_type(v)) return "input " + v.name();
  for (const auto& v : g.output())
    if (bad_type(v)) return "output " + v.name();
  for (const auto& v : g.value_info())
    if (bad_type(v)) return "value_info " + v.name();
  for (const auto& n : g.node()) {
    for (const auto& a : n.attribute()) {
      if (a.has_t() && a.t().data_type() == kF16) return "attribute of " + n.name();
      for (const auto& t : a.tensors())
        if (t.data_type() == kF16) return "attribute of " + n.name();
      if (n.op_type() == "Cast" && a.name() == "to" && a.i() == kF16) return "Cast " + n.name();
      if (a.has_g()) {
        std::string s = find_fp16(a.g());
        if (!s.empty()) return s;
      }
    }
  }
  return "";
}

int count_op(const GraphProto& g, const std::string& op) {
  int n = 0;
  for (const auto& node : g.node()) n += node.op_type() == op;
  return n;
}

const NodeProto* node_named(const GraphProto& g, const std::string& name) {
  for (const auto& n : g.node())
    if (n.name() == name) return &n;
  return nullptr;
}

const TensorProto* initializer_named(const GraphProto& g, const std::string& name) {
  for (const auto& t : g.initializer())
    if (t.name() == name) return &t;
  return nullptr;
}

std::vector<std::string> strings(const google::protobuf::RepeatedPtrField<std::string>& r) {
  return {r.begin(), r.end()};
}

void expect_report(const ConversionReport& r, int inits, int constants, int removed, int identity,
                   int pruned, int dropped) {
  EXPECT_EQ(r.initializers_upcast, inits);
  EXPECT_EQ(r.constants_upcast, constants);
  EXPECT_EQ(r.casts_removed, removed);
  EXPECT_EQ(r.casts_to_identity, identity);
  EXPECT_EQ(r.nodes_pruned, pruned);
  EXPECT_EQ(r.outputs_dropped, dropped);
}

ConversionReport convert_ok(ModelProto& m, const ConversionOptions& options = {}) {
  Result<ConversionReport> r = convert_to_fp32(m, options);
  EXPECT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(find_fp16(m.graph()), "");
  return r.ok() ? *r : ConversionReport{};
}

// Serializes, loads in OpenCV DNN from memory and runs the named outputs.
std::vector<cv::Mat> run_opencv(const ModelProto& m, const cv::Mat& input,
                                const std::vector<std::string>& outputs) {
  Result<std::vector<std::uint8_t>> bytes = serialize_onnx(m);
  EXPECT_TRUE(bytes.ok()) << bytes.status().message();
  if (!bytes.ok()) return {};
  const std::vector<uchar> buffer(bytes->begin(), bytes->end());
  cv::dnn::Net net = cv::dnn::readNetFromONNX(buffer);
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.setInput(input);
  std::vector<cv::Mat> outs;
  net.forward(outs, outputs);
  for (auto& o : outs) o = o.clone();
  return outs;
}

cv::Mat run_opencv(const ModelProto& m, const cv::Mat& input, const std::string& output) {
  std::vector<cv::Mat> outs = run_opencv(m, input, std::vector<std::string>{output});
  return outs.empty() ? cv::Mat() : outs[0];
}

// A deterministic NCHW float blob with values in about [-2, 2].
cv::Mat blob(int n, int c, int h, int w) {
  const int sizes[] = {n, c, h, w};
  cv::Mat m(4, sizes, CV_32F);
  auto* p = m.ptr<float>();
  for (std::size_t i = 0; i < m.total(); ++i) p[i] = 2.0f * std::sin(0.7f * float(i) + 0.3f);
  return m;
}

std::vector<int> shape_of(const cv::Mat& m) { return {m.size.p, m.size.p + m.dims}; }

double max_diff(const cv::Mat& a, const cv::Mat& b) {
  EXPECT_EQ(shape_of(a), shape_of(b));
  if (shape_of(a) != shape_of(b)) return std::numeric_limits<double>::infinity();
  return cv::norm(a, b, cv::NORM_INF);
}

// out[o][p] = bias[o] + Σ_c weight[o][c] · in[c][p] (1×1 convolution, N = 1).
cv::Mat conv1x1(const cv::Mat& in, const std::vector<float>& weight, const std::vector<float>& bias,
                int out_channels) {
  const int c_in = in.size[1], plane = in.size[2] * in.size[3];
  const int sizes[] = {1, out_channels, in.size[2], in.size[3]};
  cv::Mat out(4, sizes, CV_32F);
  const float* x = in.ptr<float>();
  float* y = out.ptr<float>();
  for (int o = 0; o < out_channels; ++o)
    for (int p = 0; p < plane; ++p) {
      double s = bias.empty() ? 0.0 : bias[std::size_t(o)];
      for (int c = 0; c < c_in; ++c)
        s += double(weight[std::size_t(o * c_in + c)]) * x[c * plane + p];
      y[o * plane + p] = float(s);
    }
  return out;
}

std::vector<float> rounded(std::vector<float> v) {
  for (float& x : v) x = round16(x);
  return v;
}

// ---------------------------------------------------------------------------------------
// binary16

TEST(OnnxHalf, EveryPatternRoundTrips) {
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const auto h = std::uint16_t(i);
    const float f = half_to_float(h);
    const std::uint16_t back = float_to_half(f);
    if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0) {
      ASSERT_TRUE(std::isnan(f)) << std::hex << h;
      EXPECT_EQ(back & 0x7c00, 0x7c00) << std::hex << h;
      EXPECT_NE(back & 0x3ff, 0) << std::hex << h;
      EXPECT_EQ(back & 0x8000, h & 0x8000) << std::hex << h;
    } else {
      ASSERT_EQ(back, h) << std::hex << h << " -> " << f;
    }
  }
}

TEST(OnnxHalf, ValuesAreExact) {
  for (std::uint32_t m = 1; m < 1024; ++m) {
    EXPECT_EQ(half_to_float(std::uint16_t(m)), std::ldexp(float(m), -24)) << m;  // subnormals
    EXPECT_EQ(half_to_float(std::uint16_t(0x8000 | m)), -std::ldexp(float(m), -24)) << m;
  }
  EXPECT_EQ(half_to_float(0x3c00), 1.0f);
  EXPECT_EQ(half_to_float(0xc000), -2.0f);
  EXPECT_EQ(half_to_float(0x7bff), 65504.0f);
  EXPECT_EQ(half_to_float(0x0400), std::ldexp(1.0f, -14));
  EXPECT_EQ(half_to_float(0x3555), 0.333251953125f);
  EXPECT_EQ(half_to_float(0x7c00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(half_to_float(0xfc00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::signbit(half_to_float(0x8000)));
  EXPECT_EQ(half_to_float(0x8000), 0.0f);
}

TEST(OnnxHalf, FloatToHalfRoundsToNearestEven) {
  EXPECT_EQ(float_to_half(65519.0f), 0x7bff);
  EXPECT_EQ(float_to_half(65520.0f), 0x7c00);  // tie with the next (unrepresentable) step
  EXPECT_EQ(float_to_half(1e9f), 0x7c00);
  EXPECT_EQ(float_to_half(-1e9f), 0xfc00);
  EXPECT_EQ(float_to_half(1.0f + std::ldexp(1.0f, -11)), 0x3c00);      // tie -> even
  EXPECT_EQ(float_to_half(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);  // tie -> even
  EXPECT_EQ(float_to_half(1.0f + std::ldexp(1.5f, -11)), 0x3c01);
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -25)), 0x0000);  // tie -> even (0)
  EXPECT_EQ(float_to_half(std::ldexp(1.0001f, -25)), 0x0001);
  EXPECT_EQ(float_to_half(std::ldexp(3.0f, -25)), 0x0002);     // 1.5 units: tie -> 2
  EXPECT_EQ(float_to_half(std::ldexp(1023.5f, -24)), 0x0400);  // up into the normals
  EXPECT_EQ(float_to_half(1e-10f), 0x0000);
  EXPECT_EQ(float_to_half(-1e-10f), 0x8000);
  EXPECT_EQ(float_to_half(-0.0f), 0x8000);
  EXPECT_EQ(float_to_half(0.1f), 0x2e66);
  EXPECT_EQ(float_to_half(std::numeric_limits<float>::infinity()), 0x7c00);
  const std::uint16_t nan = float_to_half(std::numeric_limits<float>::quiet_NaN());
  EXPECT_EQ(nan & 0x7c00, 0x7c00);
  EXPECT_NE(nan & 0x3ff, 0);
}

// ---------------------------------------------------------------------------------------
// Conversions run in OpenCV

// (1) input -> Cast(fp16) -> Conv(fp16 weights, bias) -> Cast(float) -> output
TEST(OnnxConvert, Fp16ConvWeightsRunInOpenCv) {
  const std::vector<float> w = {0.1f, -0.37f, 0.55f, 0.123f, -0.71f, 0.333f};
  const std::vector<float> bias = {0.01f, -0.2f, 0.77f};
  Model m;
  m.b.input("x", kF32, {1, 2, 3, 3}).output("y", kF32, {1, 3, 3, 3});
  m.b.init(f16_tensor("W", {3, 2, 1, 1}, w)).init(f16_tensor("B", {3}, bias));
  m.b.cast("x", "x16", kF16, "cast_in");
  m.b.conv({"x16", "W", "B"}, "y16", "conv");
  m.b.cast("y16", "y", kF32, "cast_out");

  expect_report(convert_ok(m.proto), 2, 0, 2, 0, 0, 0);
  const GraphProto& g = m.proto.graph();
  ASSERT_EQ(g.node_size(), 1);
  EXPECT_EQ(g.node(0).op_type(), "Conv");
  EXPECT_EQ(strings(g.node(0).input()), (std::vector<std::string>{"x", "W", "B"}));
  EXPECT_EQ(strings(g.node(0).output()), (std::vector<std::string>{"y"}));
  ASSERT_NE(initializer_named(g, "W"), nullptr);
  EXPECT_EQ(floats_of(*initializer_named(g, "W")), rounded(w));
  EXPECT_EQ(std::vector<std::int64_t>(initializer_named(g, "W")->dims().begin(),
                                      initializer_named(g, "W")->dims().end()),
            (std::vector<std::int64_t>{3, 2, 1, 1}));
  EXPECT_EQ(floats_of(*initializer_named(g, "B")), rounded(bias));

  const cv::Mat x = blob(1, 2, 3, 3);
  const cv::Mat y = run_opencv(m.proto, x, "y");
  EXPECT_LE(max_diff(y, conv1x1(x, rounded(w), rounded(bias), 3)), 1e-5);
}

// (2) Cast chain float->fp16->float->fp16 into an Add with an fp16 Constant.
TEST(OnnxConvert, CastChainsCollapse) {
  const std::vector<float> k = {0.3f, -1.7f};
  Model m;
  m.b.input("x", kF32, {1, 2, 2, 2}).output("y", kF32, {1, 2, 2, 2});
  m.b.cast("x", "a", kF16, "c1");
  m.b.cast("a", "b", kF32, "c2");
  m.b.cast("b", "c", kF16, "c3");
  m.b.constant("k", f16_tensor("", {1, 2, 1, 1}, k), "k");
  m.b.node("Add", {"c", "k"}, {"d"}, "add");
  m.b.cast("d", "y", kF32, "c4");

  expect_report(convert_ok(m.proto), 0, 1, 4, 0, 0, 0);
  const GraphProto& g = m.proto.graph();
  ASSERT_EQ(g.node_size(), 2);
  const NodeProto* add = node_named(g, "add");
  ASSERT_NE(add, nullptr);
  EXPECT_EQ(strings(add->input()), (std::vector<std::string>{"x", "k"}));
  EXPECT_EQ(strings(add->output()), (std::vector<std::string>{"y"}));
  EXPECT_EQ(floats_of(node_named(g, "k")->attribute(0).t()), rounded(k));

  const cv::Mat x = blob(1, 2, 2, 2);
  cv::Mat expected = x.clone();
  for (int c = 0; c < 2; ++c)
    for (int p = 0; p < 4; ++p) expected.ptr<float>()[c * 4 + p] += round16(k[std::size_t(c)]);
  EXPECT_LE(max_diff(run_opencv(m.proto, x, "y"), expected), 1e-6);
}

// (3) Casts that produce graph outputs: the producer takes the output's name; a second
// output of the same tensor, and input -> Cast -> output, become Identity nodes.
TEST(OnnxConvert, CastsIntoGraphOutputs) {
  const std::vector<float> w = {0.25f, -0.6f, 1.1f, 0.07f};
  const std::vector<float> bias = {-0.3f, 0.45f};
  Model m;
  m.b.input("x", kF32, {1, 2, 2, 2});
  m.b.output("out1", kF32, {1, 2, 2, 2}).output("out2", kF32, {1, 2, 2, 2});
  m.b.output("out3", kF32, {1, 2, 2, 2}).output("xo", kF16, {1, 2, 2, 2});
  m.b.value_info("x16", kF16, {1, 2, 2, 2}).value_info("y16", kF16, {1, 2, 2, 2});
  m.b.init(f16_tensor("W", {2, 2, 1, 1}, w)).init(f16_tensor("B", {2}, bias));
  m.b.cast("x", "x16", kF16, "cast_in");
  m.b.conv({"x16", "W", "B"}, "y16", "conv");
  m.b.cast("y16", "out1", kF32, "cast_o1");
  m.b.node("Relu", {"y16"}, {"r16"}, "relu");
  m.b.cast("r16", "out2", kF32, "cast_o2");
  m.b.cast("y16", "out3", kF32, "cast_o3");
  m.b.cast("x", "xo", kF16, "cast_x");

  expect_report(convert_ok(m.proto), 2, 0, 3, 2, 0, 0);
  const GraphProto& g = m.proto.graph();
  ASSERT_EQ(g.node_size(), 4);
  EXPECT_EQ(strings(node_named(g, "conv")->input()), (std::vector<std::string>{"x", "W", "B"}));
  EXPECT_EQ(strings(node_named(g, "conv")->output()), (std::vector<std::string>{"out1"}));
  EXPECT_EQ(strings(node_named(g, "relu")->input()), (std::vector<std::string>{"out1"}));
  EXPECT_EQ(strings(node_named(g, "relu")->output()), (std::vector<std::string>{"out2"}));
  const NodeProto* o3 = node_named(g, "cast_o3");
  ASSERT_NE(o3, nullptr);
  EXPECT_EQ(o3->op_type(), "Identity");
  EXPECT_EQ(o3->attribute_size(), 0);
  EXPECT_EQ(strings(o3->input()), (std::vector<std::string>{"out1"}));
  EXPECT_EQ(strings(o3->output()), (std::vector<std::string>{"out3"}));
  const NodeProto* xo = node_named(g, "cast_x");
  ASSERT_NE(xo, nullptr);
  EXPECT_EQ(xo->op_type(), "Identity");
  EXPECT_EQ(strings(xo->input()), (std::vector<std::string>{"x"}));
  EXPECT_EQ(strings(xo->output()), (std::vector<std::string>{"xo"}));
  EXPECT_EQ(g.output(3).type().tensor_type().elem_type(), kF32);
  EXPECT_EQ(g.value_info_size(), 0);  // both names are gone

  const cv::Mat x = blob(1, 2, 2, 2);
  const std::vector<cv::Mat> outs = run_opencv(m.proto, x, {"out1", "out2", "out3", "xo"});
  ASSERT_EQ(outs.size(), 4u);
  const cv::Mat conv = conv1x1(x, rounded(w), rounded(bias), 2);
  cv::Mat relu = cv::max(conv, 0.0);
  EXPECT_LE(max_diff(outs[0], conv), 1e-5);
  EXPECT_LE(max_diff(outs[1], relu), 1e-5);
  EXPECT_LE(max_diff(outs[2], conv), 1e-5);
  EXPECT_LE(max_diff(outs[3], x), 0.0);
}

// (4) Casts from integer types stay (the Shape -> Gather chain is typed INT64 by
// inference, not declared); a kept int -> FLOAT16 Cast now targets FLOAT.
TEST(OnnxConvert, IntegerCastsAreKept) {
  const std::vector<float> w = {0.5f, -0.25f, 0.3f, 0.9f};
  const std::vector<float> bias = {0.1f, 0.2f};
  Model m;
  m.b.input("x", kF32, {1, 2, 4, 4}).output("y", kF32, {1, 2, 4, 4});
  m.b.init(f16_tensor("W", {2, 2, 1, 1}, w)).init(f16_tensor("B", {2}, bias));
  m.b.init(i64_tensor("one", {}, {1}));
  m.b.cast("x", "x16", kF16, "cast_in");
  m.b.conv({"x16", "W", "B"}, "y16", "conv");
  m.b.node("Shape", {"x"}, {"s"}, "shape");
  m.b.cast("s", "s32", kI32, "to_i32");
  m.b.cast("s32", "s64", kI64, "to_i64");
  m.b.node("Reshape", {"y16", "s64"}, {"z16"}, "reshape");
  m.b.node("Gather", {"s", "one"}, {"ch"}, "gather");
  m.b.cast("ch", "chf", kF16, "to_f16");
  m.b.node("Mul", {"z16", "chf"}, {"m16"}, "mul");
  m.b.cast("m16", "y", kF32, "cast_out");

  expect_report(convert_ok(m.proto), 2, 0, 2, 0, 0, 0);
  const GraphProto& g = m.proto.graph();
  EXPECT_EQ(count_op(g, "Cast"), 3);
  EXPECT_EQ(node_named(g, "to_i32")->attribute(0).i(), kI32);
  EXPECT_EQ(node_named(g, "to_i64")->attribute(0).i(), kI64);
  EXPECT_EQ(node_named(g, "to_f16")->attribute(0).i(), kF32);
  EXPECT_EQ(strings(node_named(g, "mul")->input()), (std::vector<std::string>{"z16", "chf"}));
  EXPECT_EQ(strings(node_named(g, "mul")->output()), (std::vector<std::string>{"y"}));

  const cv::Mat x = blob(1, 2, 4, 4);
  cv::Mat expected = conv1x1(x, rounded(w), rounded(bias), 2) * 2.0;  // × channel count
  EXPECT_LE(max_diff(run_opencv(m.proto, x, "y"), expected), 1e-5);
}

// (5) FLOAT16 data stored as one 16-bit pattern per int32_data element.
TEST(OnnxConvert, Fp16InInt32Data) {
  const std::vector<float> w = {0.1f, 0.2f, -0.3f, 0.4f};
  const std::vector<float> bias = {1.5f, -0.05f};
  const std::vector<float> k = {0.01f, 3.14159f};
  Model m;
  m.b.input("x", kF32, {1, 2, 2, 2}).output("y", kF32, {1, 2, 2, 2});
  m.b.init(f16_tensor("W", {2, 2, 1, 1}, w, true)).init(f16_tensor("B", {2}, bias, true));
  TensorProto specials;  // unused by the graph; checks exact values
  specials.set_name("specials");
  specials.set_data_type(kF16);
  specials.add_dims(7);
  for (int h : {0x0001, 0x8000, 0x7bff, 0x3555, 0x03ff, 0xfc00, 0x0400}) specials.add_int32_data(h);
  m.b.init(specials);
  m.b.cast("x", "x16", kF16, "cast_in");
  m.b.conv({"x16", "W", "B"}, "c16", "conv");
  m.b.constant("k", f16_tensor("", {1, 2, 1, 1}, k, true), "k");
  m.b.node("Add", {"c16", "k"}, {"d16"}, "add");
  m.b.cast("d16", "y", kF32, "cast_out");

  expect_report(convert_ok(m.proto), 3, 1, 2, 0, 0, 0);
  const GraphProto& g = m.proto.graph();
  for (const auto& t : g.initializer()) EXPECT_EQ(t.int32_data_size(), 0) << t.name();
  EXPECT_EQ(floats_of(*initializer_named(g, "W")), rounded(w));
  const std::vector<float> sv = floats_of(*initializer_named(g, "specials"));
  ASSERT_EQ(sv.size(), 7u);
  const int patterns[] = {0x0001, 0x8000, 0x7bff, 0x3555, 0x03ff, 0xfc00, 0x0400};
  for (int i = 0; i < 7; ++i) {
    const float want = half_to_float(std::uint16_t(patterns[i]));
    EXPECT_EQ(std::memcmp(&sv[std::size_t(i)], &want, 4), 0) << i;
  }

  const cv::Mat x = blob(1, 2, 2, 2);
  cv::Mat expected = conv1x1(x, rounded(w), rounded(bias), 2);
  for (int c = 0; c < 2; ++c)
    for (int p = 0; p < 4; ++p) expected.ptr<float>()[c * 4 + p] += round16(k[std::size_t(c)]);
  EXPECT_LE(max_diff(run_opencv(m.proto, x, "y"), expected), 1e-5);
}

// (6) keep_outputs drops the other outputs and the branch only they needed.
Model two_branch_model() {
  Model m;
  m.b.input("x", kF32, {1, 2, 2, 2});
  m.b.output("main", kF32, {1, 2, 2, 2}).output("side", kF32, {1, 1, 2, 2});
  m.b.value_info("a16", kF16, {1, 2, 2, 2});
  m.b.init(f16_tensor("W1", {2, 2, 1, 1}, {0.3f, -0.8f, 0.15f, 0.6f}));
  m.b.init(f16_tensor("B1", {2}, {0.05f, -0.1f}));
  m.b.init(f16_tensor("W2", {1, 2, 1, 1}, {1.0f, -1.0f}));
  m.b.cast("x", "x16", kF16, "cast_in");
  m.b.conv({"x16", "W1", "B1"}, "a16", "conv1");
  m.b.node("Relu", {"a16"}, {"r16"}, "relu");
  m.b.cast("r16", "main", kF32, "cast_main");
  m.b.conv({"a16", "W2"}, "b16", "conv2");
  m.b.node("Sigmoid", {"b16"}, {"s16"}, "sigmoid");
  m.b.cast("s16", "side", kF32, "cast_side");
  return m;
}

TEST(OnnxConvert, KeepOutputsPrunes) {
  Model m = two_branch_model();
  ConversionOptions options;
  options.keep_outputs = {"main"};
  expect_report(convert_ok(m.proto, options), 2, 0, 2, 0, 3, 1);
  const GraphProto& g = m.proto.graph();
  ASSERT_EQ(g.output_size(), 1);
  EXPECT_EQ(g.output(0).name(), "main");
  ASSERT_EQ(g.node_size(), 2);
  EXPECT_EQ(g.node(0).name(), "conv1");
  EXPECT_EQ(g.node(1).name(), "relu");
  EXPECT_EQ(initializer_named(g, "W2"), nullptr);
  EXPECT_EQ(g.initializer_size(), 2);
  ASSERT_EQ(g.value_info_size(), 1);
  EXPECT_EQ(g.value_info(0).type().tensor_type().elem_type(), kF32);

  const cv::Mat x = blob(1, 2, 2, 2);
  const cv::Mat conv = conv1x1(x, rounded({0.3f, -0.8f, 0.15f, 0.6f}), rounded({0.05f, -0.1f}), 2);
  cv::Mat relu = cv::max(conv, 0.0);
  EXPECT_LE(max_diff(run_opencv(m.proto, x, "main"), relu), 1e-5);
}

TEST(OnnxConvert, KeepingEveryOutputPrunesNothing) {
  Model m = two_branch_model();
  ConversionOptions options;
  options.keep_outputs = {"side", "main"};
  expect_report(convert_ok(m.proto, options), 3, 0, 3, 0, 0, 0);
  EXPECT_EQ(m.proto.graph().output(0).name(), "main");  // graph order is kept
  EXPECT_EQ(m.proto.graph().output(1).name(), "side");
}

TEST(OnnxConvert, UnknownKeptOutputIsAnError) {
  Model m = two_branch_model();
  const std::string before = m.proto.SerializeAsString();
  ConversionOptions options;
  options.keep_outputs = {"main", "nope"};
  Result<ConversionReport> r = convert_to_fp32(m.proto, options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "model has no output 'nope' (outputs: main, side)");
  EXPECT_EQ(m.proto.SerializeAsString(), before);
}

// (7) Retargeting the input size: Resize sizes traced as Concat(Slice(Shape), Constant[h, w])
// (torch's F.interpolate(x, size=t.shape[2:])), one Constant shared by two Resizes, and a
// Resize whose sizes are an initializer.
Model resize_model(int h, int w, bool fp16) {
  const std::vector<float> weight = {0.8f, -0.45f};
  const int ftype = fp16 ? kF16 : kF32;
  Model m;
  m.b.input("x", kF32, {1, 1, h, w}).output("y", kF32, {1, 2, h, w});
  m.b.value_info("p", ftype, {1, 2, h / 2, w / 2});
  m.b.init(fp16 ? f16_tensor("W", {2, 1, 1, 1}, weight)
                : f32_tensor("W", {2, 1, 1, 1}, rounded(weight)));
  m.b.init(i64_tensor("starts", {1}, {0})).init(i64_tensor("ends", {1}, {2}));
  m.b.init(i64_tensor("axes", {1}, {0})).init(i64_tensor("full", {4}, {1, 2, h, w}));
  std::string x = "x";
  if (fp16) {
    m.b.cast("x", "x16", kF16, "cast_in");
    x = "x16";
  }
  m.b.conv({x, "W"}, "c", "conv");
  for (const auto& [in, out, name] :
       {std::tuple{"c", "p", "pool1"}, std::tuple{"p", "q", "pool2"}}) {
    NodeProto& pool = m.b.node("MaxPool", {in}, {out}, name);
    set_ints(pool, "kernel_shape", {2, 2});
    set_ints(pool, "strides", {2, 2});
  }
  m.b.node("Shape", {"q"}, {"sh"}, "shape");
  m.b.node("Slice", {"sh", "starts", "ends", "axes"}, {"nc"}, "slice");
  m.b.constant("hw", i64_tensor("", {2}, {h / 2, w / 2}), "hw");
  set_int(m.b.node("Concat", {"nc", "hw"}, {"sizes"}, "concat"), "axis", 0);
  m.b.node("Concat", {"nc", "hw"}, {"sizes_b"}, "concat_b");
  set_int(*m.graph().mutable_node(m.graph().node_size() - 1), "axis", 0);
  for (const auto& [sizes, out, name] :
       {std::tuple{"sizes", "r", "up1"}, std::tuple{"sizes_b", "r2", "up1b"}}) {
    NodeProto& up = m.b.node("Resize", {"q", "", "", sizes}, {out}, name);
    set_string(up, "mode", "linear");
    set_string(up, "coordinate_transformation_mode", "half_pixel");
  }
  m.b.node("Add", {"p", "r"}, {"s1"}, "add1");
  m.b.node("Add", {"s1", "r2"}, {"s2"}, "add2");
  NodeProto& up2 = m.b.node("Resize", {"s2", "", "", "full"}, {"u"}, "up2");
  set_string(up2, "mode", "nearest");
  m.b.node("Relu", {"u"}, {fp16 ? "v16" : "y"}, "relu");
  if (fp16) m.b.cast("v16", "y", kF32, "cast_out");
  return m;
}

TEST(OnnxConvert, RetargetRescalesTracedSizes) {
  Model m = resize_model(8, 8, true);
  expect_report(convert_ok(m.proto), 1, 0, 2, 0, 0, 0);
  ASSERT_TRUE(retarget_input_size(m.proto, 12, 16).ok());
  const GraphProto& g = m.proto.graph();
  const auto& dims = g.input(0).type().tensor_type().shape().dim();
  EXPECT_EQ(dims[2].dim_value(), 12);
  EXPECT_EQ(dims[3].dim_value(), 16);
  EXPECT_EQ(int64s_of(node_named(g, "hw")->attribute(0).t()), (std::vector<std::int64_t>{6, 8}));
  EXPECT_EQ(int64s_of(*initializer_named(g, "full")), (std::vector<std::int64_t>{1, 2, 12, 16}));
  EXPECT_EQ(int64s_of(*initializer_named(g, "ends")),
            (std::vector<std::int64_t>{2}));  // not a size

  // The same graph built for 12×16 in fp32 from the fp16-rounded weights.
  Model ref = resize_model(12, 16, false);
  const cv::Mat x = blob(1, 1, 12, 16);
  const cv::Mat want = run_opencv(ref.proto, x, "y");
  const cv::Mat got = run_opencv(m.proto, x, "y");
  EXPECT_EQ(shape_of(got), (std::vector<int>{1, 2, 12, 16}));
  EXPECT_LE(max_diff(got, want), 1e-5);
}

TEST(OnnxConvert, RetargetRejectsSizesThatDoNotScale) {
  Model m = resize_model(8, 8, true);
  convert_ok(m.proto);
  const std::string before = m.proto.SerializeAsString();
  Status s = retarget_input_size(m.proto, 9, 8);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "Resize node 'up1': traced size 4 does not scale to a whole number from 8 to 9");
  EXPECT_EQ(m.proto.SerializeAsString(), before);  // untouched

  s = retarget_input_size(m.proto, 0, 8);
  EXPECT_EQ(s.message(), "input size must be positive (got 0x8)");
  Model flat;
  flat.b.input("v", kF32, {1, 8}).output("w", kF32, {1, 8});
  flat.b.node("Relu", {"v"}, {"w"}, "relu");
  s = retarget_input_size(flat.proto, 4, 4);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "model has no 4-D (NCHW) input to retarget");
}

// ---------------------------------------------------------------------------------------
// Subgraphs (If): converted recursively; outer names rewired inside the branches.
// OpenCV 4.6 cannot run If, so this one is checked structurally only.

TEST(OnnxConvert, SubgraphsAreConverted) {
  Model m;
  m.b.input("x", kF32, {1, 2}).input("cond", kBoolType, {});
  m.b.output("y", kF32, {1, 2});
  m.b.cast("x", "x16", kF16, "cast_in");

  GraphProto then_branch;
  then_branch.set_name("then");
  GraphBuilder tb(&then_branch);
  tb.output("then_out", kF32, {1, 2});
  tb.constant("k16", f16_tensor("", {2}, {0.5f, 0.25f}), "k");
  tb.node("Add", {"x16", "k16"}, {"t16"}, "then_add");
  tb.cast("t16", "then_out", kF32, "then_cast");

  GraphProto else_branch;
  else_branch.set_name("else");
  GraphBuilder eb(&else_branch);
  eb.output("else_out", kF32, {1, 2});
  eb.init(f16_tensor("e_init", {2}, {1.0f, 2.0f}));
  onnx::SparseTensorProto* sparse = else_branch.add_sparse_initializer();
  *sparse->mutable_values() = f16_tensor("sp", {1}, {3.0f});
  *sparse->mutable_indices() = i64_tensor("sp_idx", {1}, {0});
  sparse->add_dims(2);
  eb.cast("x16", "else_out", kF32, "else_cast");  // reads the outer scope: Identity

  NodeProto& node = m.b.node("If", {"cond"}, {"y16"}, "if");
  set_graph(node, "then_branch", then_branch);
  set_graph(node, "else_branch", else_branch);
  m.b.cast("y16", "y", kF32, "cast_out");

  expect_report(convert_ok(m.proto), 2, 1, 3, 1, 0, 0);
  const GraphProto& g = m.proto.graph();
  ASSERT_EQ(g.node_size(), 1);
  EXPECT_EQ(strings(g.node(0).output()), (std::vector<std::string>{"y"}));
  const GraphProto& t = g.node(0).attribute(0).g();
  ASSERT_EQ(t.node_size(), 2);
  EXPECT_EQ(strings(node_named(t, "then_add")->input()), (std::vector<std::string>{"x", "k16"}));
  EXPECT_EQ(strings(node_named(t, "then_add")->output()), (std::vector<std::string>{"then_out"}));
  const GraphProto& e = g.node(0).attribute(1).g();
  ASSERT_EQ(e.node_size(), 1);
  EXPECT_EQ(e.node(0).op_type(), "Identity");
  EXPECT_EQ(strings(e.node(0).input()), (std::vector<std::string>{"x"}));
  EXPECT_EQ(e.sparse_initializer(0).values().data_type(), kF32);
  EXPECT_EQ(floats_of(e.sparse_initializer(0).values()), (std::vector<float>{3.0f}));
}

// ---------------------------------------------------------------------------------------
// Errors, parsing, serialization

TEST(OnnxConvert, ExternalAndMalformedDataAreErrors) {
  Model m;
  m.b.input("x", kF32, {2}).output("y", kF32, {2});
  TensorProto ext = f16_tensor("w", {2}, {});
  ext.set_data_location(TensorProto::EXTERNAL);
  auto* entry = ext.add_external_data();
  entry->set_key("location");
  entry->set_value("weights.bin");
  m.b.init(ext);
  m.b.node("Add", {"x", "w"}, {"y"}, "add");
  const std::string before = m.proto.SerializeAsString();
  Result<ConversionReport> r = convert_to_fp32(m.proto);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "initializer 'w': FLOAT16 data stored in an external file is not supported");
  EXPECT_EQ(m.proto.SerializeAsString(), before);

  Model bad;
  bad.b.input("x", kF32, {2}).output("y", kF32, {2});
  TensorProto short_raw = f16_tensor("w", {2}, {1.0f, 2.0f});
  short_raw.mutable_raw_data()->resize(3);
  bad.b.init(short_raw);
  bad.b.node("Add", {"x", "w"}, {"y"}, "add");
  r = convert_to_fp32(bad.proto);
  EXPECT_EQ(r.status().message(),
            "initializer 'w': FLOAT16 tensor has 3 bytes of data for 2 elements");

  Model bad2;
  bad2.b.input("x", kF32, {2}).output("y", kF32, {2});
  bad2.b.constant("k", f16_tensor("", {3}, {1.0f, 2.0f}, true), "k");
  bad2.b.node("Add", {"x", "k"}, {"y"}, "add");
  r = convert_to_fp32(bad2.proto);
  EXPECT_EQ(r.status().message(),
            "attribute 'value' of node 'k': FLOAT16 tensor has 2 values for 3 elements");

  ModelProto empty;
  r = convert_to_fp32(empty);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "not an ONNX model (no graph)");
}

TEST(OnnxParse, RejectsWhatIsNotAModel) {
  const std::vector<std::uint8_t> garbage = {0xff, 0xff, 0xff, 0xff, 0x01};
  Result<ModelProto> r = parse_onnx(garbage);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "not an ONNX model (protobuf parse failed)");

  ModelProto no_graph;
  no_graph.set_ir_version(8);
  const std::string bytes = no_graph.SerializeAsString();
  r = parse_onnx({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "not an ONNX model (no graph)");
}

TEST(OnnxParse, RoundTripsAndLoadsFiles) {
  Model m = two_branch_model();
  Result<std::vector<std::uint8_t>> bytes = serialize_onnx(m.proto);
  ASSERT_TRUE(bytes.ok());
  Result<ModelProto> back = parse_onnx(*bytes);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->SerializeAsString(), m.proto.SerializeAsString());

  TempDir dir = testing::temp_dir();
  const auto path = dir.path() / "model.onnx";
  testing::write_bytes(path, *bytes);
  back = load_onnx(path);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->graph().node_size(), m.proto.graph().node_size());

  const auto missing = dir.path() / "missing.onnx";
  back = load_onnx(missing);
  EXPECT_EQ(back.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(back.status().message(), missing.string() + ": no such file");

  const auto text = dir.path() / "notes.onnx";
  testing::write_bytes(text, {0xff, 0xff, 0xff, 0xff, 0x01});
  back = load_onnx(text);
  EXPECT_EQ(back.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(back.status().message(), text.string() + ": not an ONNX model (protobuf parse failed)");
}

// Beyond protobuf's historical 64 MiB default limit: a ~200 MB model parses.
TEST(OnnxParse, LargeModelParses) {
  Model m;
  m.b.input("x", kF32, {1}).output("y", kF32, {1});
  TensorProto big;
  big.set_name("big");
  big.set_data_type(kF32);
  big.add_dims(50'000'000);
  big.mutable_raw_data()->assign(200'000'000, '\x01');
  *m.graph().add_initializer() = std::move(big);
  m.b.node("Identity", {"x"}, {"y"}, "id");
  Result<std::vector<std::uint8_t>> bytes = serialize_onnx(m.proto);
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  m.proto.Clear();
  Result<ModelProto> back = parse_onnx(*bytes);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->graph().initializer(0).raw_data().size(), 200'000'000u);
}

}  // namespace
}  // namespace atelier::ml
