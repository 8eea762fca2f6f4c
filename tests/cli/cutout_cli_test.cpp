// `atelier cutout` as users run it: exit codes (0 all done, 1 some failed, 2 usage), one
// line per bad input naming the file and the reason, and never a partial output file.
#include <gtest/gtest.h>

#include "ml/inference.h"
#include "ml/model_store.h"
#include <unistd.h>

#include <fstream>

#include <opencv2/imgcodecs.hpp>

#include "image/codec.h"
#include "support/test_support.h"

namespace atelier {
namespace {
namespace fs = std::filesystem;
using testing::listing;
using testing::run_atelier;
using testing::sample;

struct BadInputs {
  TempDir dir = testing::temp_dir();
  fs::path in = dir.path() / "in";
  fs::path out = dir.path() / "out";
  BadInputs() {
    fs::create_directories(in);
    fs::create_directories(out);
  }
  fs::path file(const std::string& name, const std::vector<std::uint8_t>& bytes) {
    testing::write_bytes(in / name, bytes);
    return in / name;
  }
};

std::vector<std::uint8_t> encoded(const std::string& ext) {
  std::vector<std::uint8_t> out;
  cv::imencode(ext, testing::pattern_rgb(320, 240), out);
  return out;
}

// Each bad input alone: exit 1, exactly one line on stderr, no output file.
TEST(CutoutCli, EachBadInputIsOneLineAndNoOutput) {
  BadInputs t;
  auto jpg = encoded(".jpg");
  jpg.resize(jpg.size() / 2);
  auto png = encoded(".png");  // damage the first IDAT's data: chunks intact, CRC and zlib not
  std::size_t idat = std::string(png.begin(), png.end()).find("IDAT");
  for (std::size_t i = idat + 20; i < idat + 80; ++i) png[i] = std::uint8_t(i * 31);
  fs::path empty_folder = t.dir.path() / "empty-folder";
  fs::create_directories(empty_folder);
  struct Case {
    fs::path input;
    std::string reason;
    std::vector<std::string> extra = {};
  };
  std::vector<Case> cases = {
      {t.in / "missing.png", "no such file"},
      {t.file("empty.jpg", {}), "empty file"},
      {t.file("notes.png", {'h', 'e', 'l', 'l', 'o', '\n'}), "unsupported image format (expected JPEG, PNG, WebP, TIFF or BMP)"},
      {t.file("half.jpg", jpg), "corrupt or truncated JPEG image (no end-of-image marker)"},
      {t.file("scrambled.png", png), "corrupt or truncated PNG image (decoder failed)"},
      {sample("astronaut.png"), "image is 0.3 MP (512x512), more than the 0.1 MP limit", {"--max-pixels", "0.1M"}},
      {empty_folder, "no images found in this folder"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args{"cutout", c.input.string(), "-o", (t.out / "result.png").string()};
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    if (fs::is_directory(c.input)) args[3] = t.out.string();
    ProcessResult r = run_atelier(args);
    EXPECT_EQ(r.exit_code, 1) << c.input;
    EXPECT_EQ(r.err, "atelier: " + c.input.string() + ": " + c.reason + "\n");
    EXPECT_TRUE(fs::is_empty(t.out)) << c.input;
  }
}

TEST(CutoutCli, UnreadableInputIsOneLine) {
  BadInputs t;
  fs::path secret = t.file("secret.png", encoded(".png"));
  fs::permissions(secret, fs::perms::none);
  fs::permissions(t.dir.path(), fs::perms::all);
  fs::permissions(t.out, fs::perms::all);
  std::vector<std::string> args{"cutout", secret.string(), "-o", (t.out / "x.png").string()};
  if (::geteuid() == 0) {  // root reads anything: run as nobody
    args.insert(args.begin(), {"--reuid=65534", "--regid=65534", "--clear-groups", testing::atelier_binary().string()});
    args.insert(args.begin(), "setpriv");
  } else {
    args.insert(args.begin(), testing::atelier_binary().string());
  }
  auto r = run_process(args);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 1);
  EXPECT_EQ(r->err, "atelier: " + secret.string() + ": cannot read: permission denied\n");
  EXPECT_TRUE(fs::is_empty(t.out));
}

TEST(CutoutCli, UsageErrorsExitTwoBeforeAnyWork) {
  BadInputs t;
  const std::string in = sample("astronaut.png").string();
  const std::string out = (t.out / "a.png").string();
  auto expect_usage = [&](std::vector<std::string> args, const std::string& err) {
    ProcessResult r = run_atelier(args);
    EXPECT_EQ(r.exit_code, 2) << args.back();
    EXPECT_EQ(r.err, "atelier: " + err + "\n");
    EXPECT_TRUE(fs::is_empty(t.out));
  };
  expect_usage({"cutout", in, "-o", out, "--background", "#12"},
               "--background: bad background '#12' (expected transparent, #RRGGBB, a colour name, blur[=RADIUS] or an "
               "image file)");
  expect_usage({"cutout", in, "-o", (t.out / "a.jpg").string()},
               (t.out / "a.jpg").string() +
                   ": JPEG cannot store transparency (use .png or .webp, or --background COLOUR|blur|FILE)");
  expect_usage({"cutout", in, "-o", (t.out / "a.gif").string()},
               (t.out / "a.gif").string() + ": unknown output format (use .png, .jpg/.jpeg, .webp, .tif/.tiff or .bmp)");
  expect_usage({"cutout", in, "-o", out, "--margin", "4"}, "--margin needs --trim");
  expect_usage({"cutout", in, "-o", out, "--max-pixels", "lots"},
               "--max-pixels: expected a pixel count such as 100M or 12000000, got 'lots'");
  expect_usage({"cutout", in, in, "-o", in}, "-o " + in + ": must be a folder when there are several inputs or a folder input");
  ProcessResult r = run_atelier({"cutout", in});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--output is required"), std::string::npos) << r.err;
  r = run_atelier({"cutout", "--frobnicate", in, "-o", out});
  EXPECT_EQ(r.exit_code, 2);
  r = run_atelier({});
  EXPECT_EQ(r.exit_code, 2);
}

TEST(CutoutCli, BatchGoesOnPastAFailureAndExitsOne) {
  BadInputs t;
  fs::path broken = t.file("broken.png", {'x', 'y', 'z'});
  ProcessResult r = run_atelier({"cutout", sample("chelsea.png").string(), broken.string(),
                                 sample("coffee.png").string(), "-o", t.out.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "atelier: " + broken.string() + ": unsupported image format (expected JPEG, PNG, WebP, TIFF or BMP)\n");
  EXPECT_EQ(listing(t.out), (std::vector<std::string>{"chelsea.png", "coffee.png"}));
  EXPECT_NE(r.out.find("cutout: 2 done, 1 failed"), std::string::npos) << r.out;
  auto chelsea = image::read_image(t.out / "chelsea.png");
  ASSERT_TRUE(chelsea.ok());
  EXPECT_EQ(chelsea->channels(), 4);
  EXPECT_EQ(chelsea->width(), 451);
}

TEST(CutoutCli, OutputsForEveryOption) {
  BadInputs t;
  const std::string in = sample("astronaut.png").string();
  auto run_ok = [&](std::vector<std::string> args) {
    ProcessResult r = run_atelier(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
  };
  run_ok({"cutout", in, "-o", (t.out / "white.jpg").string(), "--background", "white", "-q"});
  run_ok({"cutout", in, "-o", (t.out / "mask.png").string(), "--mask", "-q"});
  run_ok({"cutout", in, "-o", (t.out / "trim.webp").string(), "--trim", "--margin", "3", "-q"});
  run_ok({"cutout", in, "-o", (t.out / "blur.png").string(), "--background", "blur=6", "--no-refine", "-q"});
  auto white = image::read_image(t.out / "white.jpg");
  ASSERT_TRUE(white.ok());
  EXPECT_EQ(white->channels(), 3);
  cv::Vec3b corner = white->mat().at<cv::Vec3b>(2, 2);
  EXPECT_GE(corner[0], 250);
  auto mask = image::read_image(t.out / "mask.png");
  ASSERT_TRUE(mask.ok());
  EXPECT_EQ(mask->channels(), 1);
  EXPECT_EQ(mask->mat().at<std::uint8_t>(100, 230), 255);
  auto trimmed = image::read_image(t.out / "trim.webp");
  ASSERT_TRUE(trimmed.ok());
  EXPECT_EQ(trimmed->channels(), 4);
  EXPECT_LT(trimmed->width() * trimmed->height(), 512 * 512);
  EXPECT_EQ(image::read_image(t.out / "blur.png")->channels(), 3);
  EXPECT_EQ(listing(t.out), (std::vector<std::string>{"blur.png", "mask.png", "trim.webp", "white.jpg"}));
}

TEST(CutoutCli, UnwritableOutputIsOneLine) {
  BadInputs t;
  fs::path plain = t.out / "plain-file";
  testing::write_bytes(plain, {1});
  fs::path target = plain / "x.png";
  // Found before any work (issue 8): a usage error, not a failure after inference.
  ProcessResult r = run_atelier({"cutout", sample("chelsea.png").string(), "-o", target.string(), "-q"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "atelier: -o " + target.string() + ": a parent is not a folder\n");
  EXPECT_EQ(listing(t.out), std::vector<std::string>{"plain-file"});
}

TEST(CutoutCli, SameStemsGetNumberedNamesAndMasksStayExactInWebp) {
  BadInputs t;
  const std::string chelsea = sample("chelsea.png").string();
  ProcessResult r = run_atelier({"cutout", chelsea, chelsea, "-o", t.out.string(), "--mask", "--format", "webp", "-q"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(listing(t.out), (std::vector<std::string>{"chelsea-2.webp", "chelsea.webp"}));
  ProcessResult png = run_atelier({"cutout", chelsea, "-o", (t.dir.path() / "m.png").string(), "--mask", "-q"});
  ASSERT_EQ(png.exit_code, 0);
  auto webp = image::read_image(t.out / "chelsea.webp");
  auto exact = image::read_image(t.dir.path() / "m.png");
  ASSERT_TRUE(webp.ok() && exact.ok());
  cv::Mat webp_gray;
  cv::extractChannel(webp->mat(), webp_gray, 0);  // WebP decodes as RGB
  EXPECT_EQ(cv::norm(webp_gray, exact->mat(), cv::NORM_INF), 0.0);  // lossless
}

TEST(CutoutCli, JsonLinesForApps) {
  BadInputs t;
  ProcessResult r = run_atelier({"cutout", sample("chelsea.png").string(), "-o", (t.out / "c.png").string(), "--json"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("{", 0), 0u);
  EXPECT_NE(r.out.find("\"ok\":true"), std::string::npos);
  EXPECT_NE(r.out.find("\"inference\":"), std::string::npos);
  // auto: oneDNN runs ISNet, in the precision its manifest's check allows on this CPU
  // (Winograd in fp32 without AVX-512, where it is faster).
  auto isnet = ml::ModelStore::open_default()->find("isnet");
  ASSERT_TRUE(isnet.ok()) << isnet.status().message();
  const std::string want = ml::auto_backend(isnet->manifest, ml::Precision::kAuto) == ml::BackendKind::kWinograd
                               ? std::string("opencv-winograd")
                               : std::string("onednn-") + ml::precision_name(ml::auto_precision(isnet->manifest));
  EXPECT_NE(r.out.find("\"backend\":\"" + want + "\""), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("backend_fallback"), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);
  r = run_atelier({"cutout", sample("chelsea.png").string(), "-o", (t.out / "w.png").string(), "--json", "--backend",
                   "winograd"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"backend\":\"opencv-winograd\""), std::string::npos) << r.out;
  // int8 when asked for: the store's ISNet is calibrated at fetch.
  ASSERT_FALSE(isnet->manifest.int8_calibration.empty());
  r = run_atelier({"cutout", sample("chelsea.png").string(), "-o", (t.out / "i.png").string(), "--json", "--precision",
                   "int8"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"backend\":\"onednn-int8\""), std::string::npos) << r.out;
  // A failure names its input, the planned output and the reason.
  r = run_atelier({"cutout", (t.in / "none.png").string(), "-o", (t.out / "n.png").string(), "--json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("\"ok\":false"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"output\":\"" + (t.out / "n.png").string() + "\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"error\":\"" + (t.in / "none.png").string() + ": no such file\""), std::string::npos);
}

}  // namespace
}  // namespace atelier
