#include "vision/foreground.h"

#include <gtest/gtest.h>

#include "image/composite.h"
#include "vision/colour_estimates.h"

namespace atelier::vision {
namespace {

// A red subject on a green background with a soft 40-pixel edge: I = αF + (1−α)B.
struct Halo {
  image::Image photo;
  cv::Mat alpha;
};

Halo make_halo(int w = 300, int h = 200) {
  cv::Mat alpha(h, w, CV_32F);
  cv::Mat img(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      float a = std::clamp((float(x) - 130.f) / 40.f, 0.f, 1.f);
      alpha.at<float>(y, x) = a;
      img.at<cv::Vec3b>(y, x) = cv::Vec3b(std::uint8_t(std::lround(255 * a)), std::uint8_t(std::lround(255 * (1 - a))), 0);
    }
  }
  return {image::Image(img), alpha};
}

TEST(Foreground, RemovesASyntheticHalo) {
  Halo h = make_halo();
  cv::Mat f = estimate_foreground(h.photo, h.alpha, {});
  ASSERT_EQ(f.type(), CV_8UC3);
  int band = 0;
  for (int x = 134; x < 166; ++x) {  // 0.1 < α < 0.9
    cv::Vec3b photo = h.photo.mat().at<cv::Vec3b>(100, x);
    cv::Vec3b est = f.at<cv::Vec3b>(100, x);
    EXPECT_LT(est[1], 26) << "x=" << x << " green left in F";  // < 10% green
    EXPECT_GT(est[0], 229) << "x=" << x;                        // > 90% red
    band += photo[1] > 26;
  }
  EXPECT_GT(band, 25);  // the photo itself has the fringe there

  // On a new blue background, F leaves no green fringe; the photo's colours would.
  image::Backdrop blue;
  blue.color = {0, 0, 1, 1};
  cv::Mat clean = image::composite_over(f, h.alpha, blue, CV_8U, true);
  cv::Mat naive = image::composite_over(h.photo.mat(), h.alpha, blue, CV_8U, true);
  int clean_max = 0, naive_max = 0;
  for (int x = 0; x < 300; ++x) {
    clean_max = std::max<int>(clean_max, clean.at<cv::Vec3b>(100, x)[1]);
    naive_max = std::max<int>(naive_max, naive.at<cv::Vec3b>(100, x)[1]);
  }
  EXPECT_LT(clean_max, 13);
  EXPECT_GT(naive_max, 50);
}

TEST(Foreground, PushPullFillsFromWeightedPixelsOnly) {
  cv::Mat values(9, 9, CV_32FC3, cv::Scalar(0.5f, 0.5f, 0.5f));
  cv::Mat weight(9, 9, CV_32F, cv::Scalar(0));
  values(cv::Rect(0, 0, 3, 9)).setTo(cv::Scalar(1, 0, 0));
  weight(cv::Rect(0, 0, 3, 9)).setTo(1);
  cv::Mat filled = push_pull_fill(values, weight);
  for (int y = 0; y < 9; ++y) {
    for (int x = 0; x < 9; ++x) {
      cv::Vec3f v = filled.at<cv::Vec3f>(y, x);
      ASSERT_NEAR(v[0], 1.f, 1e-5) << x << "," << y;  // only the red pixels had weight
      ASSERT_NEAR(v[1], 0.f, 1e-5);
    }
  }
}

TEST(Foreground, OpaquePixelsKeepThePhotoAndDepthIsKept) {
  Halo h = make_halo();
  cv::Mat f = estimate_foreground(h.photo, h.alpha, {});
  for (int x = 171; x < 300; x += 7) EXPECT_EQ(f.at<cv::Vec3b>(50, x), h.photo.mat().at<cv::Vec3b>(50, x));
  cv::Mat deep;
  h.photo.mat().convertTo(deep, CV_16U, 257);
  cv::Mat f16 = estimate_foreground(image::Image(deep), h.alpha, {});
  ASSERT_EQ(f16.type(), CV_16UC3);
  EXPECT_LT(f16.at<cv::Vec3w>(100, 150)[1], 26 * 257);
}

TEST(Foreground, OnlySoftPixelsAreEstimated) {
  // Where α = 0 F cannot show, so it is left as the photo; soft pixels are estimated.
  Halo h = make_halo();
  cv::Mat f = estimate_foreground(h.photo, h.alpha, {});
  for (int x = 0; x < 130; x += 9) EXPECT_EQ(f.at<cv::Vec3b>(60, x), h.photo.mat().at<cv::Vec3b>(60, x)) << x;
  EXPECT_NE(f.at<cv::Vec3b>(60, 150), h.photo.mat().at<cv::Vec3b>(60, 150));  // soft: the green is removed
}

TEST(Foreground, AWorkingRgbCacheIsSharedAndGivesTheSameResult) {
  // One resize serves every step that asks for the same size; another size is computed
  // anew; estimates through the cache equal those without it.
  Halo h = make_halo(2400, 1600);  // larger than the 1024 working size
  WorkingRgbCache cache(h.photo);
  const cv::Size work = working_size(cv::Size(2400, 1600), 1024);
  const cv::Mat& first = cache.at(work);
  const uchar* data = first.data;
  EXPECT_EQ(cache.at(work).data, data);
  EXPECT_EQ(cv::norm(first, working_rgb(h.photo, work), cv::NORM_INF), 0.0);
  EXPECT_EQ(cache.at(cv::Size(300, 200)).size(), cv::Size(300, 200));
  cv::Mat without = estimate_foreground(h.photo, h.alpha, {});
  WorkingRgbCache fresh(h.photo);
  cv::Mat with = estimate_foreground(h.photo, h.alpha, {}, &fresh);
  EXPECT_EQ(cv::norm(with, without, cv::NORM_INF), 0.0);
  EXPECT_EQ(fresh.at(work).size(), work);
}

}  // namespace
}  // namespace atelier::vision
