// `atelier crop`, `atelier saliency` and `atelier eval` as users run them.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "image/codec.h"
#include "support/test_support.h"

namespace atelier {
namespace {
namespace fs = std::filesystem;
using testing::listing;
using testing::run_atelier;
using testing::sample;

TEST(CropCli, ManyFormatsFromOneAnalysis) {
  TempDir dir = testing::temp_dir();
  const fs::path out = dir.path() / "out", explain = dir.path() / "why.png";
  ProcessResult r = run_atelier({"crop", sample("coffee.png").string(), "-o", out.string(), "--aspect", "1:1", "--aspect",
                                 "instagram-story", "--size", "320x180", "--explain", explain.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(listing(out), (std::vector<std::string>{"coffee-1x1.png", "coffee-320x180.png", "coffee-instagram-story.png"}));
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["crops"].size(), 3u);
  EXPECT_EQ(j["crops"][0]["aspect"], "1:1");
  EXPECT_EQ(j["crops"][0]["rect"][2], 400);
  EXPECT_EQ(j["crops"][1]["aspect"], "9:16");
  EXPECT_EQ(j["crops"][1]["name"], "instagram-story");
  EXPECT_EQ(j["crops"][2]["aspect"], "16:9");
  EXPECT_EQ(j["explain"], explain.string());
  auto resized = image::read_image(out / "coffee-320x180.png");
  ASSERT_TRUE(resized.ok());
  EXPECT_EQ(resized->width(), 320);
  EXPECT_EQ(resized->height(), 180);
  auto story = image::read_image(out / "coffee-instagram-story.png");
  EXPECT_EQ(story->width(), 225);
  EXPECT_EQ(story->height(), 400);
  auto why = image::read_image(explain);
  ASSERT_TRUE(why.ok());
  EXPECT_EQ(why->width(), 600);
}

TEST(CropCli, UsageErrorsAndUpscaling) {
  TempDir dir = testing::temp_dir();
  const std::string in = sample("coffee.png").string(), out = (dir.path() / "c.jpg").string();
  auto usage = [&](std::vector<std::string> args, const std::string& err) {
    ProcessResult r = run_atelier(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err, "atelier: " + err + "\n");
  };
  usage({"crop", in, "-o", out, "--aspect", "0:1"},
        "--aspect: bad aspect '0:1' (expected W:H with positive numbers such as 16:9, or a preset name: atelier crop "
        "--list-presets)");
  usage({"crop", in, "-o", out, "--aspect", "abc"},
        "--aspect: bad aspect 'abc' (expected W:H with positive numbers such as 16:9, or a preset name: atelier crop "
        "--list-presets)");
  usage({"crop", in, "-o", out, "--aspect", "-3:2"},
        "--aspect: bad aspect '-3:2' (expected W:H with positive numbers such as 16:9, or a preset name: atelier crop "
        "--list-presets)");
  usage({"crop", in, "-o", out}, "crop: give at least one --aspect or --size");
  usage({"crop", in, "-o", out, "--size", "big"}, "--size: expected WxH such as 1280x720, got 'big'");
  usage({"crop", in, "-o", out, "--aspect", "1:1", "--zoom", "1.5"}, "--zoom: must be at most 1, got 1.5 (see atelier --help)");
  usage({"crop", in, "-o", out, "--aspect", "1:1", "--zoom", "0"}, "--zoom: expected a scale in (0, 1]");
  usage({"crop", in, "-o", out, "--aspect", "1:1", "--aspect", "16:9"},
        "-o " + out + ": must be a folder when there are several outputs per input");
  usage({"crop", in, "-o", out, "--aspect", "1:1", "--saliency", "deep"},
        "--saliency: bad saliency source 'deep' (auto, model or fast)");

  // A size larger than the crop fails for that image (exit 1), unless upscaling is allowed.
  ProcessResult r = run_atelier({"crop", in, "-o", out, "--size", "1920x1080"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "atelier: " + in +
                       ": the 1920x1080 crop is 600x338 pixels, smaller than 1920x1080; add --allow-upscale to enlarge it\n");
  EXPECT_FALSE(fs::exists(out));
  r = run_atelier({"crop", in, "-o", out, "--size", "1920x1080", "--allow-upscale", "-q"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(image::read_image(out)->width(), 1920);
}

TEST(CropCli, FastSaliencyNeedsNoModelAndPresetsAreListed) {
  TempDir dir = testing::temp_dir();
  testing::ScopedEnv home("ATELIER_HOME", (dir.path() / "empty-store").string());  // no model here
  const fs::path map = dir.path() / "map.png";
  ProcessResult r = run_atelier({"saliency", sample("astronaut.png").string(), "-o", map.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["source"], "fast");
  EXPECT_EQ(j["faces"], 1);
  auto m = image::read_image(map);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->channels(), 1);
  EXPECT_EQ(m->width(), 512);
  r = run_atelier({"saliency", sample("astronaut.png").string(), "-o", map.string(), "--saliency", "model"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "atelier: model 'isnet' is not installed (run: atelier models fetch isnet)\n");

  r = run_atelier({"crop", "--list-presets"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* name : {"instagram-square", "instagram-story", "youtube-thumbnail", "pinterest", "facebook-cover"}) {
    EXPECT_NE(r.out.find(name), std::string::npos) << name;
  }
  const std::size_t story = r.out.find("instagram-story");
  ASSERT_NE(story, std::string::npos);
  const std::string line = r.out.substr(story, r.out.find('\n', story) - story);
  EXPECT_NE(line.find(" 1080x1920 "), std::string::npos) << line;
  EXPECT_NE(line.find(" 9:16 "), std::string::npos) << line;
}

TEST(EvalCli, CropAndSaliencyOnAFixationDataset) {
  // A two-image dataset: fixations on the left of one photo, on the right of the other.
  TempDir dir = testing::temp_dir();
  fs::create_directories(dir.path() / "stimuli");
  fs::create_directories(dir.path() / "density_maps");
  for (int i = 0; i < 2; ++i) {
    cv::Mat photo = testing::pattern_rgb(400, 200), density(200, 400, CV_8U, cv::Scalar(0));
    cv::circle(density, cv::Point(i ? 340 : 60, 100), 30, cv::Scalar(255), -1);
    ASSERT_TRUE(image::write_image(dir.path() / "stimuli" / ("p" + std::to_string(i) + ".jpg"), image::Image(photo)).ok());
    ASSERT_TRUE(image::write_image(dir.path() / "density_maps" / ("p" + std::to_string(i) + ".png"), image::Image(density)).ok());
  }
  const fs::path extra = dir.path() / "left.json";
  testing::write_bytes(extra, [] {
    std::string s = R"({"p0": {"1:1": [0, 0, 200, 200]}, "p1": {"1:1": [0, 0, 200, 200]}})";
    return std::vector<std::uint8_t>(s.begin(), s.end());
  }());
  ProcessResult r = run_atelier({"eval", "crop", dir.path().string(), "--aspect", "1:1", "--saliency", "fast",
                                 "--extra", "left=" + extra.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["images"], 2);
  EXPECT_NEAR(j["mean"]["1x1"]["best"].get<double>(), 1.0, 1e-9);      // the window can hold each blob
  EXPECT_NEAR(j["mean"]["1x1"]["centre"].get<double>(), 0.0, 1e-9);    // the centre window misses both
  EXPECT_NEAR(j["mean"]["1x1"]["left"].get<double>(), 0.5, 1e-9);      // right for p0, wrong for p1
  r = run_atelier({"eval", "saliency", dir.path().string(), "--saliency", "fast"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("mean"), std::string::npos);
  r = run_atelier({"eval", "crop", (dir.path() / "stimuli").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "atelier: " + (dir.path() / "stimuli").string() + ": expected stimuli/ and density_maps/ folders in it\n");
}

// Linux file names are bytes: a Latin-1 name ("café" with é as 0xE9) is not UTF-8, and the
// JSON report shows U+FFFD for it instead of failing.
TEST(CropCli, AFileNameThatIsNotUtf8StillGivesAJsonReport) {
  TempDir dir = testing::temp_dir();
  const fs::path in = dir.path() / "caf\xe9.png";
  fs::copy_file(sample("coffee.png"), in);
  ProcessResult r = run_atelier({"crop", in.string(), "-o", (dir.path() / "out.png").string(), "--aspect", "1:1",
                                 "--saliency", "fast", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["input"], (dir.path() / "caf\xEF\xBF\xBD.png").string());
  EXPECT_TRUE(j["ok"].get<bool>());
}

}  // namespace
}  // namespace atelier
