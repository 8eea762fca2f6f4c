// Saliency without a model (fast): range, shape, centre bias, faces; the fixation metrics;
// the analysis cache.
#include "vision/saliency.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "image/codec.h"
#include "support/test_support.h"
#include "vision/analysis_cache.h"
#include "vision/saliency_eval.h"

namespace atelier::vision {
namespace {

SaliencyOptions fast() {
  SaliencyOptions o;
  o.source = SaliencyOptions::Source::kFast;
  return o;
}

TEST(Saliency, FastMapHasThePhotosAspectAndRange) {
  image::Image photo(testing::pattern_rgb(640, 320));
  auto s = compute_saliency(photo, fast());
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->source, "fast");
  EXPECT_EQ(s->map.size(), cv::Size(256, 128));
  EXPECT_EQ(s->image_size, cv::Size(640, 320));
  double lo, hi;
  cv::minMaxLoc(s->map, &lo, &hi);
  EXPECT_EQ(lo, 0.0);
  EXPECT_EQ(hi, 1.0);
}

TEST(Saliency, AFlatPhotoPeaksInTheCentre) {
  image::Image photo(cv::Mat(300, 300, CV_8UC3, cv::Scalar(90, 90, 90)));
  auto s = compute_saliency(photo, fast());
  ASSERT_TRUE(s.ok());
  cv::Point peak;
  cv::minMaxLoc(s->map, nullptr, nullptr, nullptr, &peak);
  EXPECT_NEAR(peak.x, 128, 2);
  EXPECT_NEAR(peak.y, 128, 2);
}

TEST(Saliency, FindsTheAstronautsFace) {
  auto photo = image::read_image(testing::sample("astronaut.png"));
  ASSERT_TRUE(photo.ok());
  auto s = compute_saliency(*photo, fast());
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s->faces_available) << "face cascade missing from " << face_cascade_path() << " (apt: opencv-data)";
  ASSERT_EQ(s->faces.size(), 1u);
  EXPECT_TRUE(s->faces[0].contains(cv::Point(225, 115))) << s->faces[0];
  // The face is salient even though it is off-centre.
  const float at_face = s->map.at<float>(115 / 2, 225 / 2), at_corner = s->map.at<float>(10, 10);
  EXPECT_GT(at_face, 0.5f);
  EXPECT_LT(at_corner, 0.05f);
}

TEST(Saliency, SourceNames) {
  EXPECT_EQ(*parse_saliency_source("fast"), SaliencyOptions::Source::kFast);
  EXPECT_EQ(parse_saliency_source("deep").status().message(), "bad saliency source 'deep' (auto, model or fast)");
}

TEST(SaliencyMetrics, KnownValues) {
  cv::Mat a = (cv::Mat_<float>(2, 2) << 1, 2, 3, 4);
  EXPECT_NEAR(correlation_coefficient(a, a), 1.0, 1e-12);
  EXPECT_NEAR(correlation_coefficient(a, 5 - a), -1.0, 1e-12);
  EXPECT_NEAR(similarity(a, a), 1.0, 1e-12);
  EXPECT_NEAR(kl_divergence(a, a), 0.0, 1e-9);
  cv::Mat left = (cv::Mat_<float>(1, 2) << 1, 0), right = (cv::Mat_<float>(1, 2) << 0, 1);
  EXPECT_NEAR(similarity(left, right), 0.0, 1e-12);
  EXPECT_GT(kl_divergence(left, right), 30);  // log(1/eps)
  cv::Mat d(10, 10, CV_32F, cv::Scalar(1));
  EXPECT_NEAR(kept_share(d, cv::Rect(0, 0, 5, 10)), 0.5, 1e-12);
  EXPECT_EQ(centre_window(cv::Size(1600, 1200), *parse_aspect("1:1")), cv::Rect(200, 0, 1200, 1200));
}

TEST(AnalysisCache, KeysByContentAndEvictsTheLeastRecent) {
  image::Image a(testing::pattern_rgb(40, 30)), b(testing::pattern_rgb(41, 30));
  image::Image a_copy = a.clone();
  EXPECT_EQ(image_key(a), image_key(a_copy));
  EXPECT_NE(image_key(a), image_key(b));
  cv::Mat view = testing::pattern_rgb(60, 30)(cv::Rect(0, 0, 40, 30));  // not continuous
  EXPECT_EQ(image_key(image::Image(view)), image_key(image::Image(view.clone())));

  AnalysisCache cache(2);
  int computed = 0;
  auto compute = [&] { return Result<int>(++computed); };
  EXPECT_EQ(*cache.get<int>("k1", "x", compute), 1);
  EXPECT_EQ(*cache.get<int>("k1", "x", compute), 1);  // cached
  EXPECT_EQ(*cache.get<int>("k2", "x", compute), 2);
  EXPECT_EQ(*cache.get<int>("k3", "x", compute), 3);  // evicts k1
  EXPECT_EQ(cache.images(), 2u);
  EXPECT_EQ(*cache.get<int>("k1", "x", compute), 4);
  auto failing = [] { return Result<int>(internal_error("boom")); };
  EXPECT_FALSE(cache.get<int>("k9", "x", failing).ok());
  EXPECT_EQ(*cache.get<int>("k9", "x", compute), 5);  // errors are not cached
}

}  // namespace
}  // namespace atelier::vision
