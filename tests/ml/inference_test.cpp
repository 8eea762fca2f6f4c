// Sessions and backends (ml/inference.h): every backend gives the same numbers on a small
// model, kAuto uses oneDNN and falls back to Winograd (saying why) for a graph the
// executor cannot run, sessions are cached per backend and precision, and option values
// parse with errors that list the choices.
#include "ml/inference.h"

#include <gtest/gtest.h>

#include <cmath>

#include "ml/manifest.h"
#include "ml/model_store.h"
#include "support/onnx_builder.h"
#include "support/test_support.h"

namespace atelier::ml {
namespace {

using testing::f32_tensor;
using testing::kF32;
using testing::Model;
using testing::set_ints;

// input 1×3×32×32 -> Conv 3×3 (3 -> 16) -> Relu -> Conv 3×3 (16 -> 1) -> `last` -> output
InstalledModel install_model(ModelStore& store, const std::string& name, const std::string& last) {
  Model m;
  m.b.input("input", kF32, {1, 3, 32, 32});
  m.b.output("output", kF32, {1, 1, 32, 32});
  std::vector<float> w1(16 * 3 * 9), w2(16 * 9);
  for (std::size_t i = 0; i < w1.size(); ++i) w1[i] = std::sin(0.7f * float(i)) * 0.3f;
  for (std::size_t i = 0; i < w2.size(); ++i) w2[i] = std::cos(0.3f * float(i)) * 0.2f;
  m.b.init(f32_tensor("w1", {16, 3, 3, 3}, w1)).init(f32_tensor("b1", {16}, std::vector<float>(16, 0.05f)));
  m.b.init(f32_tensor("w2", {1, 16, 3, 3}, w2)).init(f32_tensor("b2", {1}, {0.1f}));
  set_ints(m.b.node("Conv", {"input", "w1", "b1"}, {"c1"}, "conv1"), "kernel_shape", {3, 3});
  set_ints(*m.graph().mutable_node(0), "pads", {1, 1, 1, 1});
  m.b.node("Relu", {"c1"}, {"r1"}, "relu1");
  set_ints(m.b.node("Conv", {"r1", "w2", "b2"}, {"c2"}, "conv2"), "kernel_shape", {3, 3});
  set_ints(*m.graph().mutable_node(2), "pads", {1, 1, 1, 1});
  m.b.node(last, {"c2"}, {"output"}, "last");
  ModelManifest manifest;
  manifest.name = name;
  manifest.source.kind = "file";
  manifest.input = "input";
  manifest.postprocess.output = "output";
  manifest.preprocess.width = manifest.preprocess.height = 32;
  auto installed = store.install(m.proto, manifest);
  EXPECT_TRUE(installed.ok()) << installed.status().message();
  return *installed;
}

Tensor input_tensor() {
  Tensor t;
  t.shape = {1, 3, 32, 32};
  t.data.resize(t.size());
  for (std::size_t i = 0; i < t.data.size(); ++i) t.data[i] = std::sin(0.01f * float(i * i % 977));
  return t;
}

struct Ran {
  std::string backend, fallback;
  std::vector<float> out;
};

Ran run(const InstalledModel& model, BackendKind kind, Precision precision = Precision::kAuto) {
  BackendOptions o;
  o.threads = 2;
  o.backend = kind;
  o.precision = precision;
  auto session = get_session(model, o);
  EXPECT_TRUE(session.ok()) << session.status().message();
  if (!session.ok()) return {};
  auto out = (*session)->run(input_tensor());
  EXPECT_TRUE(out.ok()) << out.status().message();
  if (!out.ok()) return {};
  EXPECT_EQ(out->shape, (std::vector<int>{1, 1, 32, 32}));
  return {(*session)->backend().name(), (*session)->fallback_reason, out->data};
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double d = a.size() == b.size() ? 0 : 1e9;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) d = std::max(d, double(std::fabs(a[i] - b[i])));
  return d;
}

TEST(Inference, EveryBackendGivesTheSameNumbers) {
  auto dir = testing::temp_dir();
  ModelStore store(dir.path());
  const InstalledModel model = install_model(store, "tiny", "Sigmoid");
  clear_sessions();
  const Ran ref = run(model, BackendKind::kOpenCv);
  EXPECT_EQ(ref.backend, "opencv-dnn");
  const Ran wino = run(model, BackendKind::kWinograd);
  EXPECT_EQ(wino.backend, "opencv-winograd");
  const Ran dnn = run(model, BackendKind::kOneDnn);
  EXPECT_EQ(dnn.backend, "onednn-fp32");
  const Ran dflt = run(model, BackendKind::kAuto);
  EXPECT_EQ(dflt.backend, "onednn-fp32");
  EXPECT_EQ(dflt.fallback, "");
  const Ran bf16 = run(model, BackendKind::kAuto, Precision::kBf16);
  EXPECT_EQ(bf16.backend, "onednn-bf16");
  EXPECT_LT(max_diff(wino.out, ref.out), 1e-5);
  EXPECT_LT(max_diff(dnn.out, ref.out), 1e-5);
  EXPECT_EQ(max_diff(dflt.out, dnn.out), 0.0);  // the same cached kind of session
  EXPECT_LT(max_diff(bf16.out, ref.out), 0.02);
  EXPECT_GT(max_diff(bf16.out, ref.out), 0.0);
  clear_sessions();
}

TEST(Inference, AutoFallsBackToWinogradAndSaysWhy) {
  auto dir = testing::temp_dir();
  ModelStore store(dir.path());
  const InstalledModel model = install_model(store, "tanh", "Tanh");  // OpenCV runs Tanh, the executor does not
  clear_sessions();
  const Ran ref = run(model, BackendKind::kOpenCv);
  const Ran dflt = run(model, BackendKind::kAuto);
  EXPECT_EQ(dflt.backend, "opencv-winograd");
  EXPECT_EQ(dflt.fallback, model.model_path().string() + ": oneDNN executor: node 'last' (Tanh): operator not supported");
  EXPECT_LT(max_diff(dflt.out, ref.out), 1e-5);
  BackendOptions only;
  only.backend = BackendKind::kOneDnn;
  auto forced = get_session(model, only);
  ASSERT_FALSE(forced.ok());
  EXPECT_EQ(forced.status().message(), dflt.fallback);
  BackendOptions bf16_opencv;
  bf16_opencv.backend = BackendKind::kWinograd;
  bf16_opencv.precision = Precision::kBf16;
  EXPECT_EQ(get_session(model, bf16_opencv).status().message(),
            "--precision bf16 needs the oneDNN backend, not --backend winograd");
  clear_sessions();
}

TEST(Inference, OptionValuesParse) {
  EXPECT_EQ(*parse_backend("onednn"), BackendKind::kOneDnn);
  EXPECT_EQ(*parse_backend("opencv"), BackendKind::kOpenCv);
  EXPECT_EQ(parse_backend("gpu").status().message(),
            "--backend: expected auto, onednn, winograd or opencv, got 'gpu'");
  EXPECT_EQ(*parse_precision("bf16"), Precision::kBf16);
  EXPECT_EQ(parse_precision("int4").status().message(), "--precision: expected auto, fp32 or bf16, got 'int4'");
}

}  // namespace
}  // namespace atelier::ml
