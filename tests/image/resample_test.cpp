#include "image/resample.h"

#include <gtest/gtest.h>

namespace atelier::image {
namespace {

TEST(Resample, PixelGridConventions) {
  cv::Mat two = (cv::Mat_<std::uint8_t>(1, 2) << 0, 255);
  // Half-pixel centres: 0, 63.75, 191.25, 255.
  cv::Mat h = resize_bilinear(two, cv::Size(4, 1), Sampling::kHalfPixel);
  EXPECT_EQ(h.at<std::uint8_t>(0, 1), 64);
  EXPECT_EQ(h.at<std::uint8_t>(0, 2), 191);
  // Asymmetric (src = dst · scale): 0, 127.5, 255, 255 (clamped at the last pixel).
  cv::Mat a = resize_bilinear(two, cv::Size(4, 1), Sampling::kAsymmetric);
  EXPECT_EQ(a.at<std::uint8_t>(0, 0), 0);
  EXPECT_NEAR(a.at<std::uint8_t>(0, 1), 128, 1);
  EXPECT_EQ(a.at<std::uint8_t>(0, 2), 255);
  EXPECT_EQ(a.at<std::uint8_t>(0, 3), 255);
  // Downscale 4 -> 2 asymmetric takes pixels 0 and 2 exactly.
  cv::Mat four = (cv::Mat_<float>(1, 4) << 1, 2, 3, 4);
  cv::Mat d = resize_bilinear(four, cv::Size(2, 1), Sampling::kAsymmetric);
  EXPECT_FLOAT_EQ(d.at<float>(0, 0), 1.f);
  EXPECT_FLOAT_EQ(d.at<float>(0, 1), 3.f);
}

TEST(Resample, RowUpsamplerMatchesResize) {
  cv::Mat src(7, 9, CV_32FC3);
  cv::randu(src, 0.f, 1.f);
  for (Sampling s : {Sampling::kHalfPixel, Sampling::kAsymmetric}) {
    cv::Mat whole = resize_bilinear(src, cv::Size(31, 23), s);
    RowUpsampler rows(src, cv::Size(31, 23), s);
    std::vector<float> row(31 * 3);
    for (int y = 0; y < 23; ++y) {
      rows.row(y, row.data());
      for (int i = 0; i < 31 * 3; ++i) ASSERT_NEAR(row[i], whole.ptr<float>(y)[i], 2e-3) << sampling_name(s);
    }
  }
  EXPECT_EQ(*parse_sampling("asymmetric"), Sampling::kAsymmetric);
  EXPECT_EQ(parse_sampling("corner").status().message(), "unknown sampling 'corner' (half_pixel or asymmetric)");
}

}  // namespace
}  // namespace atelier::image
