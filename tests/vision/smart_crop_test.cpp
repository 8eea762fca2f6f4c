// The window search on synthetic saliency maps, aspect parsing, presets and rendering.
#include "vision/smart_crop.h"

#include <gtest/gtest.h>

#include <random>

#include <opencv2/imgproc.hpp>

#include "vision/saliency_eval.h"

namespace atelier::vision {
namespace {

Aspect aspect(const char* text) { return *parse_aspect(text); }

TEST(SmartCrop, SummedAreaTableEqualsBruteForce) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  cv::Mat map(37, 53, CV_32F);
  for (int y = 0; y < map.rows; ++y) for (int x = 0; x < map.cols; ++x) map.at<float>(y, x) = u(rng);
  const cv::Mat t = summed_area_table(map);
  std::uniform_int_distribution<int> px(0, 53), py(0, 37);
  for (int i = 0; i < 500; ++i) {
    int x0 = px(rng), x1 = px(rng), y0 = py(rng), y1 = py(rng);
    if (x0 > x1) std::swap(x0, x1);
    if (y0 > y1) std::swap(y0, y1);
    double brute = 0;
    for (int y = y0; y < y1; ++y) for (int x = x0; x < x1; ++x) brute += map.at<float>(y, x);
    ASSERT_NEAR(area_sum(t, x0, y0, x1, y1), brute, 1e-9 * (1 + brute)) << x0 << "," << y0 << " " << x1 << "," << y1;
  }
}

TEST(SmartCrop, ASingleBlobIsCovered) {
  // A 1000×500 photo with a blob at x ≈ 800: the 1:1 window (500×500) must contain it.
  cv::Mat map(100, 200, CV_32F, cv::Scalar(0));
  cv::circle(map, cv::Point(160, 50), 8, cv::Scalar(1), cv::FILLED);
  auto w = find_windows(map, cv::Size(1000, 500), std::vector{aspect("1:1")}, {});
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].rect.size(), cv::Size(500, 500));
  EXPECT_TRUE(w[0].rect.contains(cv::Point(800, 250))) << w[0].rect;
  EXPECT_GT(w[0].kept, 0.99);
  // Every window from x ≈ 345 to 755 keeps the whole blob: the tie goes to the one nearest
  // the centre (x = 250), so the window stops just past the blob.
  EXPECT_GE(w[0].rect.x, 340);
  EXPECT_LE(w[0].rect.x, 365);
}

TEST(SmartCrop, ABlobAtTheEdgeClampsTheWindow) {
  cv::Mat map(100, 200, CV_32F, cv::Scalar(0));
  cv::circle(map, cv::Point(196, 50), 6, cv::Scalar(1), cv::FILLED);  // right border
  auto w = find_windows(map, cv::Size(1000, 500), std::vector{aspect("1:1")}, {});
  EXPECT_EQ(w[0].rect, cv::Rect(500, 0, 500, 500));
  cv::Mat top(200, 100, CV_32F, cv::Scalar(0));
  cv::circle(top, cv::Point(50, 3), 5, cv::Scalar(1), cv::FILLED);  // top border of a portrait photo
  w = find_windows(top, cv::Size(500, 1000), std::vector{aspect("16:9")}, {});
  EXPECT_EQ(w[0].rect.y, 0);
  EXPECT_EQ(w[0].rect.width, 500);
}

TEST(SmartCrop, AUniformMapGivesTheCentreWindow) {
  cv::Mat map(60, 80, CV_32F, cv::Scalar(0.5));
  const cv::Size photo(1600, 1200);
  std::vector<Aspect> aspects{aspect("1:1"), aspect("9:16"), aspect("16:9"), aspect("3:1")};
  auto w = find_windows(map, photo, aspects, {});
  for (std::size_t i = 0; i < aspects.size(); ++i) {
    const cv::Rect centre = centre_window(photo, aspects[i]);
    EXPECT_NEAR(w[i].rect.x, centre.x, 1) << aspects[i].name;
    EXPECT_NEAR(w[i].rect.y, centre.y, 1) << aspects[i].name;
    EXPECT_EQ(w[i].rect.size(), centre.size()) << aspects[i].name;
  }
}

TEST(SmartCrop, BorderPenaltyAvoidsSlicingThroughTheSubject) {
  // Two blobs; the smaller one straddles where the mass-optimal window would end.
  cv::Mat map(100, 300, CV_32F, cv::Scalar(0));
  cv::rectangle(map, cv::Rect(20, 30, 60, 40), cv::Scalar(1), cv::FILLED);
  cv::rectangle(map, cv::Rect(110, 40, 30, 20), cv::Scalar(1), cv::FILLED);
  CropOptions with;
  with.border_penalty = 50;
  auto w = find_windows(map, cv::Size(300, 100), std::vector{aspect("1:1")}, with);
  const cv::Rect r = w[0].rect;
  for (int x : {110, 140}) {  // the second blob is either wholly in or wholly out
    EXPECT_TRUE(x <= r.x || x >= r.x + r.width || (r.x <= 110 && r.x + r.width >= 140)) << r;
  }
}

TEST(SmartCrop, WindowsStayInsideThePhotoAndKeepTheRatio) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> side(1, 5000);
  cv::Mat map(40, 40, CV_32F);
  cv::randu(map, 0.f, 1.f);
  std::vector<Aspect> aspects;
  for (const auto& p : crop_presets()) aspects.push_back(aspect(p.name.c_str()));
  for (const char* a : {"1:1", "9:16", "16:9", "1.91:1", "100:1", "1:100"}) aspects.push_back(aspect(a));
  for (int i = 0; i < 200; ++i) {
    const cv::Size photo(side(rng), side(rng));
    for (const CropWindow& w : find_windows(map, photo, aspects, {})) {
      ASSERT_GE(w.rect.x, 0);
      ASSERT_GE(w.rect.y, 0);
      ASSERT_LE(w.rect.x + w.rect.width, photo.width) << photo;
      ASSERT_LE(w.rect.y + w.rect.height, photo.height) << photo;
      ASSERT_GE(w.rect.width, 1);
      ASSERT_GE(w.rect.height, 1);
      // The ratio is exact within one pixel (when the window is more than a sliver).
      const double r = w.aspect.ratio();
      if (std::min(w.rect.width, w.rect.height) > 1) {
        EXPECT_TRUE(std::abs(w.rect.width - w.rect.height * r) <= 1.0 ||
                    std::abs(w.rect.height - w.rect.width / r) <= 1.0)
            << w.aspect.name << " " << w.rect << " in " << photo;
      }
      // It is the largest of its ratio: it spans the photo in one direction.
      EXPECT_TRUE(w.rect.width == photo.width || w.rect.height == photo.height) << w.rect << " in " << photo;
    }
  }
}

TEST(SmartCrop, EveryPresetRatioIsExactWithinOnePixel) {
  for (const auto& p : crop_presets()) {
    const Aspect a = aspect(p.name.c_str());
    EXPECT_EQ(double(a.width) / a.height, double(p.width) / p.height) << p.name;
    for (cv::Size photo : {cv::Size(4000, 3000), cv::Size(3000, 4000), cv::Size(1080, 1920), cv::Size(999, 333)}) {
      const cv::Size w = largest_window(photo, a);
      EXPECT_LE(std::abs(w.width * double(p.height) - w.height * double(p.width)), std::max(p.width, p.height))
          << p.name << " " << w << " in " << photo;  // |w/h − W/H| within one pixel
    }
  }
  EXPECT_EQ(aspect("instagram-story").width, 9);
  EXPECT_EQ(aspect("instagram-story").height, 16);
}

TEST(SmartCrop, BadAspectsAreClearErrors) {
  const std::string tail = "' (expected W:H with positive numbers such as 16:9, or a preset name: atelier crop --list-presets)";
  for (const char* bad : {"0:1", "abc", "-3:2", "16:", ":9", "16x9", "1:0", "nan:1"}) {
    auto r = parse_aspect(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().message(), std::string("bad aspect '") + bad + tail);
  }
  EXPECT_EQ(aspect("1.91:1").width, 191);
  EXPECT_EQ(aspect("1.91:1").height, 100);
  EXPECT_EQ(aspect("16:9").name, "16x9");
  EXPECT_EQ(aspect("32:18").width, 16);
}

TEST(SmartCrop, ZoomChoosesATighterWindowThatKeepsMostSaliency) {
  cv::Mat map(100, 100, CV_32F, cv::Scalar(0.001f));
  cv::circle(map, cv::Point(30, 30), 8, cv::Scalar(1), cv::FILLED);
  CropOptions opt;
  opt.min_scale = 0.3f;
  auto w = find_windows(map, cv::Size(1000, 1000), std::vector{aspect("1:1")}, opt);
  EXPECT_LT(w[0].rect.width, 500);
  EXPECT_TRUE(w[0].rect.contains(cv::Point(300, 300)));
  EXPECT_GT(w[0].kept, 0.8);
}

TEST(SmartCrop, RenderingResizesAndRefusesToUpscaleUnlessAllowed) {
  image::Image photo(cv::Mat(300, 400, CV_8UC3, cv::Scalar(10, 20, 30)));
  CropWindow w{aspect("16:9"), cv::Rect(0, 37, 400, 225), 1, 1};
  auto small = render_crop(photo, w, cv::Size(160, 90), false);
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->width(), 160);
  auto big = render_crop(photo, w, cv::Size(1280, 720), false);
  EXPECT_EQ(big.status().message(),
            "the 16x9 crop is 400x225 pixels, smaller than 1280x720; add --allow-upscale to enlarge it");
  auto allowed = render_crop(photo, w, cv::Size(1280, 720), true);
  ASSERT_TRUE(allowed.ok());
  EXPECT_EQ(allowed->height(), 720);
  auto plain = render_crop(photo, w, std::nullopt, false);
  EXPECT_EQ(plain->mat().size(), cv::Size(400, 225));
}

}  // namespace
}  // namespace atelier::vision
