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

TEST(Resample, RowSpanFillsOnlyItsColumns) {
  cv::Mat src(5, 6, CV_32FC4);
  cv::randu(src, 0.f, 1.f);
  RowUpsampler rows(src, cv::Size(40, 17));
  std::vector<float> whole(40 * 4), span(40 * 4, -7.f);
  for (int y = 0; y < 17; ++y) {
    rows.row(y, whole.data());
    rows.row(y, span.data(), 11, 29);
    for (int x = 0; x < 40; ++x) {
      for (int k = 0; k < 4; ++k) {
        const float got = span[std::size_t(x * 4 + k)];
        if (x >= 11 && x < 29) ASSERT_EQ(got, whole[std::size_t(x * 4 + k)]) << x;
        else ASSERT_EQ(got, -7.f) << x;
      }
    }
  }
  rows.row(0, whole.data());
  std::fill(span.begin(), span.end(), -7.f);
  rows.row(0, span.data(), 35, 99);  // clamped to the row's 40 columns
  for (int i = 35 * 4; i < 40 * 4; ++i) EXPECT_EQ(span[std::size_t(i)], whole[std::size_t(i)]);
  EXPECT_EQ(span[34 * 4 + 3], -7.f);
}

TEST(Resample, IntegerAsymmetricResizeEqualsTheFloatPathRounded) {
  // 8- and 16-bit sources are interpolated without a float copy of the source: the result
  // must equal interpolating the float image and rounding.
  for (int depth : {CV_8U, CV_16U}) {
    for (int channels : {1, 3, 4}) {
      cv::Mat src(37, 53, CV_MAKETYPE(depth, channels));
      cv::randu(src, 0, depth == CV_8U ? 256 : 65536);
      for (cv::Size size : {cv::Size(16, 11), cv::Size(101, 70)}) {
        cv::Mat got = resize_bilinear(src, size, Sampling::kAsymmetric);
        cv::Mat srcf, want;
        src.convertTo(srcf, CV_32F);
        resize_bilinear(srcf, size, Sampling::kAsymmetric).convertTo(want, depth);
        ASSERT_EQ(got.type(), src.type());
        EXPECT_EQ(cv::norm(got, want, cv::NORM_INF), 0.0) << depth << " " << channels << " " << size;
      }
    }
  }
}

}  // namespace
}  // namespace atelier::image
