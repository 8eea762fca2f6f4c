// The fast PNG encoder: lossless round trips through libpng (OpenCV) for every channel
// count and across strip boundaries, bytes independent of the thread count, bad input.
#include "image/png_encode.h"

#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstring>

#include "image/codec.h"
#include "support/test_support.h"

namespace atelier::image {
namespace {

// A PngRows view of an 8-bit cv::Mat (channels in the order they are stored).
PngRows rows_of(const cv::Mat& m) {
  PngRows rows;
  rows.width = m.cols;
  rows.height = m.rows;
  rows.channels = m.channels();
  rows.row = [&m](int y, std::uint8_t* dst) {
    std::memcpy(dst, m.ptr<std::uint8_t>(y), std::size_t(m.cols) * std::size_t(m.channels()));
  };
  return rows;
}

// Decoded by libpng as stored (OpenCV returns BGR(A); converted back to the file's order).
cv::Mat decode(const std::vector<std::uint8_t>& png) {
  cv::Mat m = cv::imdecode(png, cv::IMREAD_UNCHANGED);
  if (m.channels() == 3) cv::cvtColor(m, m, cv::COLOR_BGR2RGB);
  if (m.channels() == 4) cv::cvtColor(m, m, cv::COLOR_BGRA2RGBA);
  return m;
}

bool same(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

TEST(PngEncode, RoundTripsEveryChannelCountAcrossStrips) {
  cv::Mat rgb = testing::pattern_rgb(301, 517);  // 517 rows: 5 strips, the last partial
  cv::Mat noise(517, 301, CV_8UC1);
  cv::randu(noise, 0, 256);
  cv::Mat grey, rgba, grey_alpha;
  cv::cvtColor(rgb, grey, cv::COLOR_RGB2GRAY);
  cv::merge(std::vector<cv::Mat>{rgb, noise}, rgba);
  cv::merge(std::vector<cv::Mat>{grey, noise}, grey_alpha);
  for (const cv::Mat& m : {grey, grey_alpha, rgb, rgba}) {
    auto png = encode_png(rows_of(m));
    ASSERT_TRUE(png.ok()) << png.status().message();
    const cv::Mat back = decode(*png);
    if (m.channels() == 2) {  // OpenCV expands grey + alpha to BGRA
      std::vector<cv::Mat> parts;
      cv::split(back, parts);
      EXPECT_TRUE(same(parts[0], grey) && same(parts[3], noise));
    } else {
      EXPECT_TRUE(same(back, m)) << m.channels() << " channels";
    }
  }
  // One pixel; every zlib level.
  cv::Mat one(1, 1, CV_8UC3, cv::Scalar(1, 2, 3));
  for (int level : {0, 1, 6, 9}) {
    auto png = encode_png(rows_of(one), level);
    ASSERT_TRUE(png.ok());
    EXPECT_TRUE(same(decode(*png), one)) << level;
  }
}

TEST(PngEncode, BytesDoNotDependOnTheThreadCount) {
  const cv::Mat m = testing::pattern_rgb(640, 700);
  const int threads = cv::getNumThreads();
  cv::setNumThreads(1);
  auto one = encode_png(rows_of(m));
  cv::setNumThreads(4);
  auto four = encode_png(rows_of(m));
  cv::setNumThreads(threads);
  ASSERT_TRUE(one.ok() && four.ok());
  EXPECT_EQ(*one, *four);
}

TEST(PngEncode, WriteImageUsesItForEightBitPngsAndKeepsSixteenBits) {
  const cv::Mat m = testing::pattern_rgb(200, 150);
  auto png = encode_image(Image(m), Format::kPng);
  ASSERT_TRUE(png.ok());
  EXPECT_EQ(*png, *encode_png(rows_of(m)));
  cv::Mat wide;
  m.convertTo(wide, CV_16U, 257.0);
  auto png16 = encode_image(Image(wide), Format::kPng);
  ASSERT_TRUE(png16.ok());
  const cv::Mat back = cv::imdecode(*png16, cv::IMREAD_UNCHANGED);
  EXPECT_EQ(back.depth(), CV_16U);
}

TEST(PngEncode, BadInputIsAnError) {
  PngRows rows;
  rows.width = 4;
  rows.height = 4;
  rows.channels = 5;
  rows.row = [](int, std::uint8_t*) {};
  auto r = encode_png(rows);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "PNG encoder: a 4x4 image with 5 channels cannot be encoded");
  rows.channels = 3;
  rows.height = 0;
  EXPECT_EQ(encode_png(rows).status().message(), "PNG encoder: a 4x0 image with 3 channels cannot be encoded");
  rows.height = 4;
  rows.row = nullptr;
  EXPECT_FALSE(encode_png(rows).ok());
}

}  // namespace
}  // namespace atelier::image
