#include "ml/manifest.h"

#include <gtest/gtest.h>

namespace atelier::ml {
namespace {

ModelManifest sample_manifest() {
  ModelManifest m;
  m.name = "isnet";
  m.sha256 = std::string(64, 'a');
  m.bytes = 176174277;
  m.license = "AGPL-3.0";
  m.source = {"npm", "@imgly/background-removal-data", "1.4.5", "/models/medium", "", std::string(64, 'b'), 88188479};
  m.input = "input";
  m.preprocess = preset("isnet")->first;
  m.postprocess = preset("isnet")->second;
  return m;
}

TEST(Manifest, JsonRoundTrip) {
  ModelManifest m = sample_manifest();
  auto back = manifest_from_json(manifest_to_json(m));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, m);
}

TEST(Manifest, PresetsAreTheDocumentedNumbers) {
  auto isnet = preset("isnet");
  ASSERT_TRUE(isnet.ok());
  EXPECT_EQ(isnet->first.width, 1024);
  EXPECT_EQ(isnet->first.height, 1024);
  EXPECT_EQ(isnet->first.channel_order, "RGB");
  EXPECT_EQ(isnet->first.mean, (std::array<float, 3>{128, 128, 128}));
  EXPECT_EQ(isnet->first.std, (std::array<float, 3>{256, 256, 256}));
  EXPECT_EQ(isnet->second.output, "output");
  auto u2 = preset("u2net");
  ASSERT_TRUE(u2.ok());
  EXPECT_EQ(u2->first.width, 320);
  EXPECT_FLOAT_EQ(u2->first.mean[0], 0.485f * 255);
  EXPECT_FLOAT_EQ(u2->first.std[2], 0.225f * 255);
  EXPECT_TRUE(u2->second.minmax_normalize);
  EXPECT_EQ(preset("yolo").status().message(), "unknown preset 'yolo' (known: isnet, u2net)");
}

TEST(Manifest, RejectsBadManifests) {
  EXPECT_EQ(manifest_from_json("[1]").status().message(), "bad manifest: not a JSON object");
  EXPECT_EQ(manifest_from_json("{nope").status().message(), "bad manifest: not a JSON object");
  auto text = [](auto edit) {
    ModelManifest m = sample_manifest();
    edit(m);
    return manifest_from_json(manifest_to_json(m)).status().message();
  };
  EXPECT_EQ(text([](ModelManifest& m) { m.file = "../../etc/passwd"; }), "bad manifest: file must be a plain file name");
  EXPECT_EQ(text([](ModelManifest& m) { m.preprocess.width = 0; }), "bad manifest: input size must be within 1..8192");
  EXPECT_EQ(text([](ModelManifest& m) { m.preprocess.std[1] = 0; }), "bad manifest: std must not be 0");
  EXPECT_EQ(text([](ModelManifest& m) { m.preprocess.channel_order = "RGBA"; }),
            "bad manifest: channel_order must be RGB or BGR");
  EXPECT_EQ(text([](ModelManifest& m) { m.postprocess.activation = "softmax"; }),
            "bad manifest: output activation must be none or sigmoid");
  EXPECT_EQ(text([](ModelManifest& m) { m.format_version = 7; }), "bad manifest: format_version 7 is not supported");
}

TEST(Manifest, PrecisionChecksRoundTripAndPassIsRecomputed) {
  ModelManifest m = sample_manifest();
  m.precision_checks = {{"bf16", 12, 0.9991, 0.9962, 0.21, true}};
  auto back = manifest_from_json(manifest_to_json(m));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, m);
  // The bar: mean IoU >= 0.995, min >= 0.98, mean |d alpha| <= 1.0 -- each edge exactly.
  EXPECT_TRUE(meets_quality_bar({"bf16", 1, 0.995, 0.98, 1.0, false}));
  EXPECT_FALSE(meets_quality_bar({"bf16", 1, 0.9949, 0.99, 0.5, true}));
  EXPECT_FALSE(meets_quality_bar({"bf16", 1, 0.999, 0.9799, 0.5, true}));
  EXPECT_FALSE(meets_quality_bar({"bf16", 1, 0.999, 0.99, 1.01, true}));
  EXPECT_FALSE(meets_quality_bar({"bf16", 0, 1, 1, 0, true}));
  // A manifest that claims "passed" for numbers under the bar is not believed.
  std::string text = manifest_to_json(m);
  const std::string from = "\"min_iou\": 0.9962";
  ASSERT_NE(text.find(from), std::string::npos) << text;
  text.replace(text.find(from), from.size(), "\"min_iou\": 0.5");
  ASSERT_NE(text.find("\"passed\": true"), std::string::npos);
  auto lied = manifest_from_json(text);
  ASSERT_TRUE(lied.ok()) << lied.status().message();
  EXPECT_FALSE(lied->precision_checks[0].passed);

  auto bad = [](std::vector<PrecisionCheck> checks) {
    ModelManifest b = sample_manifest();
    b.precision_checks = std::move(checks);
    return manifest_from_json(manifest_to_json(b)).status().message();
  };
  EXPECT_EQ(bad({{"int4", 3, 1, 1, 0, true}}), "bad manifest: precision_checks: precision must be bf16 or int8");
  EXPECT_EQ(bad({{"bf16", 3, 1, 1, 0, true}, {"bf16", 3, 1, 1, 0, true}}), "bad manifest: precision_checks: bf16 twice");
  EXPECT_EQ(bad({{"bf16", 0, 1, 1, 0, true}}), "bad manifest: precision_checks.photos must be at least 1");
  EXPECT_EQ(bad({{"bf16", 3, 1.5, 1, 0, true}}), "bad manifest: precision_checks.mean_iou must be a number from 0 to 1");
  EXPECT_EQ(bad({{"bf16", 3, 1, 1, 300, true}}),
            "bad manifest: precision_checks.mean_abs_alpha must be a number from 0 to 255");
}

TEST(Manifest, Int8CalibrationRoundTripsAndIsChecked) {
  ModelManifest m = sample_manifest();
  m.precision_checks = {{"bf16", 5, 0.9994, 0.998, 0.05, true}, {"int8", 5, 0.998, 0.99, 0.3, true}};
  m.int8_calibration = {5, {{"/stage1/conv", {-1.5f, 2.25f}}, {"/side1/conv", {0.f, 37.125f}}}};
  auto back = manifest_from_json(manifest_to_json(m));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, m);
  EXPECT_EQ(manifest_to_json(sample_manifest()).find("int8_calibration"), std::string::npos);  // none: no field

  auto bad = [](const std::string& calibration) {
    std::string text = manifest_to_json(sample_manifest());
    text.insert(text.rfind('}'), ", \"int8_calibration\": " + calibration);
    return manifest_from_json(text).status().message();
  };
  EXPECT_EQ(bad(R"({"photos": 2, "input_ranges": {"c": [0, 1]}})"), "");
  EXPECT_EQ(bad(R"({"photos": 0, "input_ranges": {"c": [0, 1]}})"),
            "bad manifest: int8_calibration.photos must be at least 1");
  EXPECT_EQ(bad(R"({"photos": 2, "input_ranges": {}})"),
            "bad manifest: int8_calibration.input_ranges must be an object of 1 to 100000 ranges");
  EXPECT_EQ(bad(R"({"photos": 2, "input_ranges": {"c": [2, 1]}})"), "bad manifest: int8_calibration: 'c' has lo > hi");
  EXPECT_EQ(bad(R"({"photos": 2, "input_ranges": {"c": [0]}})"), "bad manifest: int8_calibration: 'c' must be [lo, hi]");
  EXPECT_EQ(bad(R"({"photos": 2, "input_ranges": {"c": [0, 1e300]}})"),
            "bad manifest: int8_calibration hi must be a number from -1e+30 to 1e+30");
  EXPECT_EQ(bad(R"({"photos": 2, "input_ranges": {"": [0, 1]}})"),
            "bad manifest: int8_calibration: a name must be 1 to 1024 bytes");
  EXPECT_EQ(bad(R"({"photos": 2, "input_ranges": [[0, 1]]})"),
            "bad manifest: int8_calibration.input_ranges must be an object of 1 to 100000 ranges");
}

TEST(Manifest, ModelNames) {
  EXPECT_TRUE(validate_model_name("isnet").ok());
  EXPECT_TRUE(validate_model_name("u2net-human_seg.v2").ok());
  for (const char* bad : {"", "../x", "ISNet", "-x", ".hidden", "a/b", "a b"}) {
    EXPECT_FALSE(validate_model_name(bad).ok()) << bad;
  }
  EXPECT_EQ(validate_model_name("a/b").message(),
            "bad model name 'a/b' (use 1-64 of a-z 0-9 . _ -, starting with a letter or digit)");
}

}  // namespace
}  // namespace atelier::ml

namespace atelier::ml {
namespace {
// Found by manifest_from_json_fuzzer (UBSan: 1.23467e+54 is outside the range of unsigned
// long): integer fields take JSON integers in range only, never a float converted blindly.
TEST(ManifestFuzzRegression, IntegerFieldsRefuseFloatsAndOutOfRange) {
  auto with = [](const std::string& field) {
    return std::string(R"({"format_version": 1, "name": "m", "file": "model.onnx", "sha256": "x", )") + field +
           R"(, "source": {"kind": "file"}, "input": {"name": "in", "width": 8, "height": 8, "mean": [0,0,0],
               "std": [1,1,1]}, "output": {"name": "out"}})";
  };
  EXPECT_EQ(manifest_from_json(with(R"("bytes": 1.2346666e54)")).status().message(),
            "bad manifest: bytes must be an integer in range");
  EXPECT_EQ(manifest_from_json(with(R"("bytes": -5)")).status().message(),
            "bad manifest: bytes must be an integer in range");
  EXPECT_TRUE(manifest_from_json(with(R"("bytes": 123)")).ok());
}

TEST(ManifestFuzzRegression, MeanAndStdAreThreeFiniteNumbersInRange) {
  auto with = [](const std::string& mean, const std::string& stddev) {
    return R"({"format_version": 1, "name": "m", "file": "model.onnx", "sha256": "x", "bytes": 1,
               "source": {"kind": "file"}, "input": {"name": "in", "width": 8, "height": 8, "mean": )" +
           mean + R"(, "std": )" + stddev + R"(}, "output": {"name": "out"}})";
  };
  const std::string bad_mean = "bad manifest: input.mean must be 3 numbers from -1e6 to 1e6";
  EXPECT_EQ(manifest_from_json(with("[1e300, 0, 0]", "[1,1,1]")).status().message(), bad_mean);  // beyond float
  EXPECT_EQ(manifest_from_json(with("[0, 0]", "[1,1,1]")).status().message(), bad_mean);
  EXPECT_EQ(manifest_from_json(with("[0, 0, 0, 0]", "[1,1,1]")).status().message(), bad_mean);
  EXPECT_EQ(manifest_from_json(with("[0, \"0\", 0]", "[1,1,1]")).status().message(), bad_mean);
  EXPECT_EQ(manifest_from_json(with("5", "[1,1,1]")).status().message(), bad_mean);
  EXPECT_EQ(manifest_from_json(with("[0,0,0]", "[-2e6, 1, 1]")).status().message(),
            "bad manifest: input.std must be 3 numbers from -1e6 to 1e6");
  EXPECT_EQ(manifest_from_json(with("[0,0,0]", "[0, 1, 1]")).status().message(), "bad manifest: std must not be 0");
  auto ok = manifest_from_json(with("[123.675, 116.28, -103.53]", "[58.395, 57.12, 57.375]"));
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_FLOAT_EQ(ok->preprocess.mean[0], 123.675f);
  EXPECT_FLOAT_EQ(ok->preprocess.mean[2], -103.53f);
  EXPECT_FLOAT_EQ(ok->preprocess.std[1], 57.12f);
}
}  // namespace
}  // namespace atelier::ml
