// `atelier models fetch | import | list` against a throw-away store ($ATELIER_HOME).
#include <gtest/gtest.h>

#include "core/files.h"
#include "ml/onednn/executor.h"
#include "support/onnx_builder.h"
#include "support/test_support.h"

namespace atelier {
namespace {
namespace fs = std::filesystem;
using testing::run_atelier;

struct Store {
  TempDir dir = testing::temp_dir();
  testing::ScopedEnv home{"ATELIER_HOME", (dir.path() / "home").string()};
  fs::path models() const { return dir.path() / "home" / "models"; }
  fs::path tiny() const {
    fs::path p = dir.path() / "tiny.onnx";
    if (!fs::exists(p)) testing::write_bytes(p, testing::tiny_segmentation_bytes(32, /*fp16=*/true));
    return p;
  }
};

TEST(ModelsCli, ListImportList) {
  Store s;
  ProcessResult r = run_atelier({"models", "list"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "store: " + s.models().string() + "\nno models installed (run: atelier models fetch isnet)\n");

  r = run_atelier({"models", "import", s.tiny().string(), "--name", "tiny", "--preset", "u2net", "--license", "MIT", "-q"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out.rfind("tiny: " + (s.models() / "tiny").string() + " (", 0), 0u) << r.out;

  r = run_atelier({"models", "list"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("tiny "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("32x32"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("MIT"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("file tiny.onnx"), std::string::npos) << r.out;
  r = run_atelier({"models", "list", "--json"});
  EXPECT_NE(r.out.find("\"minmax_normalize\": true"), std::string::npos) << r.out;
}

TEST(ModelsCli, ImportNeedsASpecAndAModel) {
  Store s;
  ProcessResult r = run_atelier({"models", "import", s.tiny().string(), "--name", "tiny"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "atelier: models import: give --preset isnet|u2net, or --size/--mean/--std\n");
  r = run_atelier({"models", "import", s.tiny().string(), "--name", "Bad/Name", "--preset", "isnet"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "atelier: bad model name 'Bad/Name' (use 1-64 of a-z 0-9 . _ -, starting with a letter or digit)\n");
  r = run_atelier({"models", "import", s.tiny().string(), "--name", "t", "--size", "64x64", "--mean", "1,2", "--std", "1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "atelier: --mean: expected one value or three (R,G,B)\n");
  r = run_atelier({"models", "import", s.tiny().string(), "--name", "t", "--size", "64x64", "--std", "255"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "atelier: " + s.tiny().string() + ": the model's input is 32x32, not the requested 64x64\n");
  EXPECT_FALSE(fs::exists(s.models() / "t"));
}

// Import checks bf16 against fp32 on the Debian sample photos and records it; calibrate
// does it again on photos of one's own; both name what they cannot use. On a CPU without
// AVX-512 oneDNN has no bf16: the check says so and goes on with int8.
const bool kBf16 = ml::onednn::runs_bf16();
const std::string kBf16Line = kBf16 ? "bf16: mean IoU " : "bf16: not available on this CPU (";
std::string checking(int photos) {
  const std::string n = std::to_string(photos);
  return (kBf16 ? "checking bf16 against fp32 on " + n + " photos...\n" : std::string()) + "checking int8 against fp32 on " +
         n + " photos...\n";
}

TEST(ModelsCli, PrecisionCheckAtImportAndByCalibrate) {
  Store s;
  ProcessResult r = run_atelier({"models", "import", s.tiny().string(), "--name", "tiny", "--preset", "u2net"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("calibrating int8 on 5 photos...\n" + checking(5)), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("\n" + kBf16Line), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nint8: mean IoU "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n--precision auto: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" over 5 photos: "), std::string::npos) << r.out;
  auto manifest = read_file(s.models() / "tiny" / "manifest.json", 1 << 20);
  ASSERT_TRUE(manifest.ok());
  const std::string text(manifest->begin(), manifest->end());
  EXPECT_NE(text.find("\"precision_checks\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"photos\": 5"), std::string::npos) << text;
  EXPECT_NE(text.find("\"int8_calibration\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"conv\": ["), std::string::npos) << text;  // the one convolution's input range

  r = run_atelier({"models", "calibrate", "tiny", testing::sample("chelsea.png").string(), "-q"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out.rfind(kBf16Line, 0), 0u) << r.out;
  EXPECT_NE(r.out.find(" over 1 photos: "), std::string::npos) << r.out;
  manifest = read_file(s.models() / "tiny" / "manifest.json", 1 << 20);
  ASSERT_TRUE(manifest.ok());
  EXPECT_NE(std::string(manifest->begin(), manifest->end()).find("\"photos\": 1"), std::string::npos);

  r = run_atelier({"models", "import", s.tiny().string(), "--name", "unchecked", "--preset", "u2net", "--no-check", "-q"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  manifest = read_file(s.models() / "unchecked" / "manifest.json", 1 << 20);
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(std::string(manifest->begin(), manifest->end()).find("precision_checks"), std::string::npos);

  // check: the same numbers on other photos, with the recorded calibration, recording nothing.
  manifest = read_file(s.models() / "tiny" / "manifest.json", 1 << 20);
  ASSERT_TRUE(manifest.ok());
  r = run_atelier({"models", "check", "tiny", testing::sample("coffee.png").string(),
                   testing::sample("astronaut.png").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, checking(2));
  EXPECT_EQ(r.out.rfind(kBf16Line, 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\nint8: mean IoU "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" over 2 photos: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n  coffee.png: IoU "), std::string::npos) << r.out;  // the least agreeing photos
  auto after = read_file(s.models() / "tiny" / "manifest.json", 1 << 20);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, *manifest);
  r = run_atelier({"models", "check", "unchecked", testing::sample("coffee.png").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("int8: not calibrated (atelier models calibrate unchecked)\n"), std::string::npos) << r.out;
  r = run_atelier({"models", "check", "nosuch"});
  EXPECT_EQ(r.exit_code, 2);

  r = run_atelier({"models", "calibrate", "nosuch"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "atelier: model 'nosuch' is not installed (run: atelier models import FILE.onnx --name nosuch)\n");
  const fs::path missing = s.dir.path() / "none.png";
  r = run_atelier({"models", "calibrate", "tiny", missing.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "atelier: " + missing.string() + ": no such file\n");
  r = run_atelier({"models", "calibrate", "tiny", "--threads", "0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("atelier: --threads: must be at least 1, got 0", 0), 0u) << r.err;
}

// `models remote`: a model's manifest names the KServe v2 server it runs on, which every
// command then calls (here one that is not there, so the error shows the address), until
// --off; a URL that is not one is a usage error that changes nothing.
TEST(ModelsCli, RemoteSetsWhereAModelRunsUntilOff) {
  Store s;
  ASSERT_EQ(run_atelier({"models", "import", s.tiny().string(), "--name", "tiny", "--preset", "u2net", "--no-check", "-q"})
                .exit_code,
            0);
  const std::string photo = testing::sample("astronaut.png").string();
  const std::string out = (s.dir.path() / "out.png").string();
  ProcessResult r = run_atelier({"models", "remote", "tiny", "http://127.0.0.1:1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "tiny: runs at http://127.0.0.1:1\n");
  r = run_atelier({"models", "list", "--json"});
  EXPECT_NE(r.out.find("\"inference_url\": \"http://127.0.0.1:1\""), std::string::npos) << r.out;
  r = run_atelier({"cutout", photo, "--model", "tiny", "-q", "-o", out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot connect to http://127.0.0.1:1/v2/models/tiny (connection refused)"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(out));

  r = run_atelier({"models", "remote", "tiny", "gpu:8000"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "atelier: --inference-url: 'gpu:8000' is not an http(s) URL\n");
  r = run_atelier({"models", "remote", "tiny"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "atelier: models remote: give a KServe v2 URL or --off\n");

  r = run_atelier({"models", "remote", "tiny", "--off"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "tiny: runs here\n");
  r = run_atelier({"cutout", photo, "--model", "tiny", "-q", "-o", out});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(out));
}

TEST(ModelsCli, FetchErrors) {
  Store s;
  ProcessResult r = run_atelier({"models", "fetch", "nosuch"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "atelier: no fetch source for model 'nosuch' (known: isnet; other models: atelier models import FILE.onnx "
            "--name NAME)\n");
  // A tarball that is not the model package.
  fs::path tgz = s.dir.path() / "other.tgz";
  testing::write_tarball(tgz, {{"package/package.json", "{}"}, {"package/dist/resources.json", "{}"}});
  r = run_atelier({"models", "fetch", "isnet", "--from-tarball", tgz.string(), "-q"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "atelier: " + tgz.string() + ": dist/resources.json does not list /models/medium\n");
  EXPECT_FALSE(fs::exists(s.models() / "isnet"));
}

TEST(ModelsCli, DiskFullLeavesNoHalfModel) {
  Store s;
  fs::path tiny = s.tiny();
  testing::ScopedEnv preload("LD_PRELOAD", ATELIER_ENOSPC_SHIM);
  ProcessResult r = run_atelier({"models", "import", tiny.string(), "--name", "tiny", "--preset", "u2net", "-q"});
  EXPECT_EQ(r.exit_code, 1);
  const std::string suffix = "/model.onnx: cannot write: disk full (no space left on device)\n";
  ASSERT_GE(r.err.size(), suffix.size()) << r.err;
  EXPECT_EQ(r.err.substr(r.err.size() - suffix.size()), suffix) << r.err;
  EXPECT_EQ(r.err.rfind("atelier: " + (s.models() / ".staging-tiny-").string(), 0), 0u) << r.err;
  // Neither the model nor its staging folder is left behind.
  EXPECT_TRUE(fs::is_empty(s.models()));
}

}  // namespace
}  // namespace atelier
