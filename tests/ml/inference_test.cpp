// Sessions and backends (ml/inference.h): every backend gives the same numbers on a small
// model, kAuto uses oneDNN and falls back to Winograd (saying why) for a graph the
// executor cannot run, sessions are cached per backend and precision, and option values
// parse with errors that list the choices.
#include "ml/inference.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include <opencv2/core.hpp>

#include "ml/manifest.h"
#include "ml/model_store.h"
#include "ml/onednn/executor.h"
#include "ml/precision_check.h"
#include "ml/preprocess.h"
#include "support/onnx_builder.h"
#include "support/test_support.h"

namespace atelier::ml {
namespace {

using testing::f32_tensor;
using testing::kF32;
using testing::Model;
using testing::set_ints;

// input 1×3×32×32 -> Conv 3×3 (3 -> 16) -> Relu -> Conv 3×3 (16 -> 1) -> `last` -> output;
// the manifest feeds it 8-bit values / input_std.
InstalledModel install_model(ModelStore& store, const std::string& name, const std::string& last,
                             float input_std = 255.f) {
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
  manifest.preprocess.std = {input_std, input_std, input_std};
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
  // Auto is oneDNN on AVX-512, Winograd (faster there) on AVX2.
  const bool avx512 = auto_backend(model.manifest, Precision::kFp32) == BackendKind::kOneDnn;
  EXPECT_EQ(avx512, onednn::effective_isa().rfind("avx512", 0) == 0 || onednn::effective_isa().rfind("amx", 0) == 0);
  EXPECT_EQ(dflt.backend, avx512 ? "onednn-fp32" : "opencv-winograd");
  EXPECT_EQ(dflt.fallback, "");
  EXPECT_LT(max_diff(wino.out, ref.out), 1e-5);
  EXPECT_LT(max_diff(dnn.out, ref.out), 1e-5);
  EXPECT_EQ(max_diff(dflt.out, avx512 ? dnn.out : wino.out), 0.0);  // the same cached kind of session
  if (onednn::runs_bf16()) {
    const Ran bf16 = run(model, BackendKind::kAuto, Precision::kBf16);
    EXPECT_EQ(bf16.backend, "onednn-bf16");
    EXPECT_LT(max_diff(bf16.out, ref.out), 0.02);
    EXPECT_GT(max_diff(bf16.out, ref.out), 0.0);
  } else {
    // AVX2 without AVX-512: oneDNN has no bf16 convolution; the error says so.
    BackendOptions o;
    o.precision = Precision::kBf16;
    auto session = get_session(model, o);
    ASSERT_FALSE(session.ok());
    EXPECT_EQ(session.status().message(), "--precision bf16 needs a CPU with AVX-512 (this one runs " +
                                              onednn::effective_isa() + "); use fp32 or int8");
  }
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
  const std::string why = model.model_path().string() + ": oneDNN executor: node 'last' (Tanh): operator not supported";
  // Where auto tries oneDNN first (AVX-512) it says why it fell back; on AVX2 Winograd is
  // its first choice in fp32, no fallback.
  const bool tried = auto_backend(model.manifest, Precision::kAuto) == BackendKind::kOneDnn;
  EXPECT_EQ(dflt.fallback, tried ? why : "");
  EXPECT_LT(max_diff(dflt.out, ref.out), 1e-5);
  BackendOptions only;
  only.backend = BackendKind::kOneDnn;
  auto forced = get_session(model, only);
  ASSERT_FALSE(forced.ok());
  EXPECT_EQ(forced.status().message(), why);
  BackendOptions bf16_opencv;
  bf16_opencv.backend = BackendKind::kWinograd;
  bf16_opencv.precision = Precision::kBf16;
  EXPECT_EQ(get_session(model, bf16_opencv).status().message(),
            "--precision bf16 needs the oneDNN backend, not --backend winograd");
  clear_sessions();
}

TEST(Inference, AutoFallsBackOnlyWhenNoPrecisionWasAskedFor) {
  auto dir = testing::temp_dir();
  ModelStore store(dir.path());
  const InstalledModel model = install_model(store, "tanh", "Tanh");
  clear_sessions();
  BackendOptions bf16;
  bf16.precision = Precision::kBf16;  // backend auto: bf16 exists only on oneDNN, so no silent fp32
  EXPECT_EQ(get_session(model, bf16).status().message(),
            model.model_path().string() + ": oneDNN executor: node 'last' (Tanh): operator not supported");
  clear_sessions();
}

// Synthetic photos: soft discs on gradients, different per seed.
std::vector<image::Image> check_photos() {
  std::vector<image::Image> photos;
  for (int k = 0; k < 3; ++k) {
    cv::Mat m(48 + 8 * k, 64, CV_8UC3);
    for (int y = 0; y < m.rows; ++y) {
      for (int x = 0; x < m.cols; ++x) {
        const double d = std::hypot(x - 20.0 - 8 * k, y - 24.0) / 18.0;
        const auto v = static_cast<std::uint8_t>(std::clamp(255.0 * (1.2 - d) + 3.0 * x * k, 0.0, 255.0));
        m.at<cv::Vec3b>(y, x) = cv::Vec3b(v, std::uint8_t(255 - v), std::uint8_t((x * 4 + y) & 0xff));
      }
    }
    photos.emplace_back(m);
  }
  return photos;
}

TEST(PrecisionCheck, Bf16AgainstTheFp32ReferenceIsRecordedAndUsedByAuto) {
  auto dir = testing::temp_dir();
  ModelStore store(dir.path());
  const InstalledModel model = install_model(store, "tiny", "Sigmoid");  // inputs in 0..1
  auto check = check_precision(model, check_photos(), Precision::kBf16, 2);
  if (!onednn::runs_bf16()) {  // AVX2: no bf16 to check (auto never picks it there)
    ASSERT_FALSE(check.ok());
    EXPECT_EQ(check.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(check.status().message().find("--precision bf16 needs a CPU with AVX-512"), std::string::npos);
    return;
  }
  ASSERT_TRUE(check.ok()) << check.status().message();
  EXPECT_EQ(check->precision, "bf16");
  EXPECT_EQ(check->photos, 3);
  EXPECT_GT(check->mean_iou, 0.99);
  EXPECT_LE(check->mean_iou, 1.0);
  EXPECT_LE(check->min_iou, check->mean_iou);
  EXPECT_GT(check->mean_abs_alpha, 0.0);  // bf16 is not fp32: some alpha moves
  EXPECT_LT(check->mean_abs_alpha, 1.0);
  EXPECT_TRUE(check->passed);
  // The same photos give the same numbers (the check is reproducible).
  auto again = check_precision(model, check_photos(), Precision::kBf16, 2);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *check);

  // Recorded in the store; auto then means bf16 where the CPU has it natively.
  EXPECT_EQ(auto_precision(model.manifest), Precision::kFp32);
  const ModelManifest recorded = with_check(model.manifest, *check);
  ASSERT_TRUE(store.update_manifest(model, recorded).ok());
  auto found = store.find("tiny");
  ASSERT_TRUE(found.ok()) << found.status().message();
  EXPECT_EQ(found->manifest.precision_checks, std::vector<PrecisionCheck>{*check});
  EXPECT_EQ(auto_precision(found->manifest), onednn::has_native_bf16() ? Precision::kBf16 : Precision::kFp32);
  clear_sessions();
  BackendOptions dflt;
  dflt.threads = 2;
  auto session = get_session(*found, dflt);
  ASSERT_TRUE(session.ok()) << session.status().message();
  EXPECT_EQ((*session)->backend().name(), onednn::has_native_bf16() ? "onednn-bf16" : "onednn-fp32");
  clear_sessions();

  // The same model fed unnormalised 0..255 values: bf16's rounding of the large activations
  // moves the map past the bar, so auto never uses it; a second check of a precision
  // replaces the first.
  const InstalledModel undecided = install_model(store, "unnormalised", "Sigmoid", 1.f);
  auto failed = check_precision(undecided, check_photos(), Precision::kBf16, 2);
  ASSERT_TRUE(failed.ok()) << failed.status().message();
  EXPECT_FALSE(failed->passed);
  EXPECT_LT(failed->mean_iou, 0.995);
  const ModelManifest replaced = with_check(recorded, *failed);
  ASSERT_EQ(replaced.precision_checks.size(), 1u);
  EXPECT_EQ(replaced.precision_checks[0], *failed);
  EXPECT_EQ(auto_precision(replaced), Precision::kFp32);

  // A manifest for another file is refused.
  ModelManifest other = recorded;
  other.sha256 = std::string(64, '0');
  EXPECT_EQ(store.update_manifest(model, other).message(), "model 'tiny': a new manifest must describe the same model file");
}

// int8: calibrated on photos (the same photos, the same ranges), checked against fp32 like
// bf16, and preferred by auto over bf16 when it passed; never run uncalibrated.
TEST(PrecisionCheck, Int8IsCalibratedCheckedAndPreferredByAutoWhenItPassed) {
  auto dir = testing::temp_dir();
  ModelStore store(dir.path());
  const InstalledModel model = install_model(store, "tiny", "Sigmoid");
  clear_sessions();
  BackendOptions int8;
  int8.threads = 2;
  int8.precision = Precision::kInt8;
  const auto uncalibrated = get_session(model, int8);
  EXPECT_EQ(uncalibrated.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(uncalibrated.status().message(), "model 'tiny' has no int8 calibration (run atelier models calibrate tiny)");
  EXPECT_EQ(check_precision(model, check_photos(), Precision::kInt8, 2).status().message(),
            "model 'tiny' has no int8 calibration (run atelier models calibrate tiny)");

  auto calibration = calibrate_int8(model, check_photos(), 2);
  ASSERT_TRUE(calibration.ok()) << calibration.status().message();
  EXPECT_EQ(calibration->photos, 3);
  ASSERT_EQ(calibration->input_ranges.size(), 2u);
  // conv1 reads the photos as the manifest scales them (v / 255), conv2 a ReLU's output.
  const auto [lo1, hi1] = calibration->input_ranges.at("conv1");
  EXPECT_GE(lo1, 0.f);
  EXPECT_LE(hi1, 1.f);
  EXPECT_GT(hi1, 0.9f);
  EXPECT_EQ(calibration->input_ranges.at("conv2").first, 0.f);
  auto again = calibrate_int8(model, check_photos(), 2);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *calibration);
  EXPECT_EQ(calibrate_int8(model, {}, 2).status().message(), "int8 calibration: no photos");

  InstalledModel calibrated = model;
  calibrated.manifest.int8_calibration = *calibration;
  auto check = check_precision(calibrated, check_photos(), Precision::kInt8, 2);
  ASSERT_TRUE(check.ok()) << check.status().message();
  EXPECT_EQ(check->precision, "int8");
  EXPECT_EQ(check->photos, 3);
  EXPECT_GT(check->mean_abs_alpha, 0.0);  // int8 is not fp32
  // 32×32 maps whose alpha sits near 0.5 in places: a few of 1024 pixels cross it.
  EXPECT_GT(check->min_iou, 0.98);
  EXPECT_LT(check->mean_abs_alpha, 1.0);
  auto repeated = check_precision(calibrated, check_photos(), Precision::kInt8, 2);
  ASSERT_TRUE(repeated.ok());
  EXPECT_EQ(*repeated, *check);

  // Recorded as passed (as on a model that meets the bar), auto prefers int8 to bf16.
  PrecisionCheck passed = *check;
  passed.mean_iou = passed.min_iou = 0.999;
  passed.passed = true;
  calibrated.manifest = with_check(calibrated.manifest, passed);
  if (onednn::runs_bf16()) {
    auto bf16 = check_precision(model, check_photos(), Precision::kBf16, 2);
    ASSERT_TRUE(bf16.ok()) << bf16.status().message();
    calibrated.manifest = with_check(calibrated.manifest, *bf16);
  }
  ASSERT_TRUE(store.update_manifest(model, calibrated.manifest).ok());
  auto found = store.find("tiny");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->manifest.int8_calibration, *calibration);
  EXPECT_EQ(auto_precision(found->manifest), Precision::kInt8);
  BackendOptions dflt;
  dflt.threads = 2;
  auto session = get_session(*found, dflt);
  ASSERT_TRUE(session.ok()) << session.status().message();
  EXPECT_EQ((*session)->backend().name(), "onednn-int8");
  // Against fp32 on a photo (inside the calibrated range): close, and not the same numbers.
  const Tensor photo = make_input_tensor(check_photos()[1], model.manifest.preprocess);
  auto out = (*session)->run(photo);
  ASSERT_TRUE(out.ok()) << out.status().message();
  BackendOptions fp32;
  fp32.threads = 2;
  fp32.precision = Precision::kFp32;
  auto reference = get_session(*found, fp32);
  ASSERT_TRUE(reference.ok());
  auto want = (*reference)->run(photo);
  ASSERT_TRUE(want.ok());
  EXPECT_LT(max_diff(out->data, want->data), 0.02);
  EXPECT_GT(max_diff(out->data, want->data), 0.0);
  // Its own check, below the bar: auto falls back to the next precision that passed.
  EXPECT_EQ(auto_precision(with_check(found->manifest, *check)),
            check->passed ? Precision::kInt8 : onednn::has_native_bf16() ? Precision::kBf16 : Precision::kFp32);
  clear_sessions();
}

TEST(PrecisionCheck, Errors) {
  auto dir = testing::temp_dir();
  ModelStore store(dir.path());
  const InstalledModel model = install_model(store, "tiny", "Sigmoid");
  EXPECT_EQ(check_precision(model, {}, Precision::kBf16, 2).status().message(), "precision check: no photos");
  EXPECT_EQ(check_precision(model, check_photos(), Precision::kFp32, 2).status().message(),
            "precision check: fp32 is not a checked precision");
  const InstalledModel tanh = install_model(store, "tanh", "Tanh");
  EXPECT_EQ(check_precision(tanh, check_photos(), Precision::kBf16, 2).status().message(),
            tanh.model_path().string() + ": oneDNN executor: node 'last' (Tanh): operator not supported");
}

TEST(Inference, OptionValuesParse) {
  EXPECT_EQ(*parse_backend("onednn"), BackendKind::kOneDnn);
  EXPECT_EQ(*parse_backend("opencv"), BackendKind::kOpenCv);
  EXPECT_EQ(parse_backend("gpu").status().message(),
            "--backend: expected auto, onednn, winograd or opencv, got 'gpu'");
  EXPECT_EQ(*parse_precision("bf16"), Precision::kBf16);
  EXPECT_EQ(*parse_precision("int8"), Precision::kInt8);
  EXPECT_EQ(parse_precision("int4").status().message(), "--precision: expected auto, fp32, bf16 or int8, got 'int4'");
  BackendOptions o;
  o.precision = Precision::kInt8;
  o.backend = BackendKind::kWinograd;
  EXPECT_EQ(check_backend_options(o).message(), "--precision int8 needs the oneDNN backend, not --backend winograd");
}

}  // namespace
}  // namespace atelier::ml
