#include "vision/matte_refine.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

namespace atelier::vision {
namespace {

// A 1600×1200 photo: dark background, bright subject right of x = 801 (between the coarse
// matte's grid lines), with a little texture so that the guide is not trivially flat.
image::Image step_photo() {
  cv::Mat m(1200, 1600, CV_8UC3);
  for (int y = 0; y < m.rows; ++y) {
    for (int x = 0; x < m.cols; ++x) {
      std::uint8_t t = std::uint8_t((x * 7 + y * 13) % 9);
      m.at<cv::Vec3b>(y, x) = x >= 801 ? cv::Vec3b(220 + t, 180 + t, 160 + t) : cv::Vec3b(30 + t, 40 + t, 60 + t);
    }
  }
  return image::Image(m);
}

// What a model gives at a quarter of the photo's resolution (like ISNet's 1024 map for a
// 4096-pixel photo): a soft ramp 8 photo pixels wide, centred 2 pixels off the photo's
// edge (`edge` + 2).
cv::Mat blurry_coarse(cv::Size photo, float edge) {
  cv::Mat c(photo.height / 4, photo.width / 4, CV_32F);
  for (int y = 0; y < c.rows; ++y) {
    for (int x = 0; x < c.cols; ++x) {
      float pos = (x + 0.5f) * 4.f;  // photo x of this coarse pixel's centre
      c.at<float>(y, x) = std::clamp((pos - (edge + 2.f)) / 8.f + 0.5f, 0.f, 1.f);
    }
  }
  return c;
}

// Width in pixels of the 10%–90% transition along row y.
int transition_width(const cv::Mat& a, int y) {
  int first = -1, last = -1;
  for (int x = 0; x < a.cols; ++x) {
    float v = a.at<float>(y, x);
    if (v > 0.1f && first < 0) first = x;
    if (v < 0.9f) last = x;
  }
  return last - first + 1;
}

TEST(MatteRefine, UpsampleIsBilinear) {
  cv::Mat c = (cv::Mat_<float>(1, 2) << 0.f, 1.f);
  cv::Mat up = upsample_matte(c, cv::Size(4, 1));
  EXPECT_FLOAT_EQ(up.at<float>(0, 0), 0.f);
  EXPECT_FLOAT_EQ(up.at<float>(0, 1), 0.25f);
  EXPECT_FLOAT_EQ(up.at<float>(0, 2), 0.75f);
  EXPECT_FLOAT_EQ(up.at<float>(0, 3), 1.f);
}

TEST(MatteRefine, SharpensTheEdgeOntoThePhotosEdge) {
  image::Image photo = step_photo();
  cv::Mat coarse = blurry_coarse(cv::Size(1600, 1200), 801.f);
  cv::Mat plain = upsample_matte(coarse, cv::Size(1600, 1200));
  cv::Mat refined = refine_matte(coarse, photo, {});
  ASSERT_EQ(refined.size(), cv::Size(1600, 1200));
  for (int y : {10, 600, 1190}) {
    EXPECT_GE(transition_width(plain, y), 7) << y;
    EXPECT_LE(transition_width(refined, y), 3) << y;
    // The refined edge sits on the photo's edge (x = 801), not 2 pixels off like the model's.
    EXPECT_LT(refined.at<float>(y, 799), 0.1f) << y;
    EXPECT_GT(refined.at<float>(y, 802), 0.9f) << y;
    EXPECT_GT(plain.at<float>(y, 799), 0.1f) << y;
    EXPECT_LT(plain.at<float>(y, 802), 0.7f) << y;
  }
}

TEST(MatteRefine, LeavesConfidentInteriorAndExteriorUntouched) {
  image::Image photo = step_photo();
  cv::Mat coarse = blurry_coarse(cv::Size(1600, 1200), 801.f);
  cv::Mat plain = upsample_matte(coarse, cv::Size(1600, 1200));
  cv::Mat refined = refine_matte(coarse, photo, {});
  // Far from the uncertain band (coarse confident, more than band + radius away).
  int changed = 0, compared = 0;
  for (int y = 0; y < 1200; ++y) {
    for (int x = 0; x < 1600; ++x) {
      if (std::abs(x - 803) < 25) continue;
      ++compared;
      changed += refined.at<float>(y, x) != plain.at<float>(y, x);
    }
  }
  EXPECT_GT(compared, 1'000'000);
  EXPECT_EQ(changed, 0);
  EXPECT_EQ(refined.at<float>(600, 5), 0.f);
  EXPECT_EQ(refined.at<float>(600, 1595), 1.f);
}

TEST(MatteRefine, WorksOnGraySixteenBitAndLargerThanWorkingSize) {
  cv::Mat gray(800, 2400, CV_16UC1, cv::Scalar(5000));
  gray(cv::Rect(1201, 0, 1199, 800)).setTo(60000);
  cv::Mat coarse = blurry_coarse(gray.size(), 1201.f);
  cv::Mat refined = refine_matte(coarse, image::Image(gray), {});
  ASSERT_EQ(refined.size(), cv::Size(2400, 800));
  EXPECT_LT(refined.at<float>(400, 1199), 0.1f);
  EXPECT_GT(refined.at<float>(400, 1202), 0.9f);
}

}  // namespace
}  // namespace atelier::vision
