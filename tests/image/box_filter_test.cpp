#include "image/box_filter.h"

#include <atomic>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

namespace atelier::image {
namespace {

// OpenCV's normalised box filter with reflected borders is the reference.
TEST(BoxFilter, EqualsOpenCvsBoxFilterWithReflectedBorders) {
  cv::RNG rng(7);
  for (int channels : {1, 2, 3, 4, 13, 70}) {  // specialised counts, the generic path, and > 64
    for (cv::Size size : {cv::Size(1, 1), cv::Size(5, 3), cv::Size(40, 1), cv::Size(97, 61), cv::Size(300, 200)}) {
      for (int radius : {0, 1, 4, 16}) {
        cv::Mat src(size, CV_MAKETYPE(CV_32F, channels));
        rng.fill(src, cv::RNG::UNIFORM, -1.0, 1.0);
        cv::Mat want;
        cv::boxFilter(src, want, CV_32F, cv::Size(2 * radius + 1, 2 * radius + 1), cv::Point(-1, -1), true,
                      cv::BORDER_REFLECT);
        cv::Mat got = box_filter(src, radius);
        ASSERT_EQ(got.type(), src.type());
        EXPECT_LE(cv::norm(got, want, cv::NORM_INF), 1e-5) << channels << " " << size << " r=" << radius;
      }
    }
  }
}

TEST(BoxFilter, StreamingDeliversEveryRowOnceFromComputedSources) {
  // A source computed on the fly (x + 10y) and a sink that counts: each row arrives once,
  // and a constant gradient's mean away from the borders is the gradient itself. Source
  // rows are built once each, plus the window's overlap at each thread's stripe edges.
  const int w = 64, h = 150, r = 3;
  std::vector<std::atomic<int>> seen(h);
  std::atomic<int> built{0};
  cv::Mat out(h, w, CV_32F);
  box_filter_rows(
      w, h, 1, r,
      [&](int y, float* row) {
        ++built;
        for (int x = 0; x < w; ++x) row[x] = float(x + 10 * y);
      },
      [&](int y, const float* row) {
        seen[std::size_t(y)]++;
        std::copy(row, row + w, out.ptr<float>(y));
      });
  for (int y = 0; y < h; ++y) ASSERT_EQ(seen[std::size_t(y)].load(), 1) << y;
  EXPECT_LE(built.load(), h + cv::getNumThreads() * 2 * r);
  for (int y = r; y < h - r; ++y) {
    for (int x = r; x < w - r; ++x) ASSERT_NEAR(out.at<float>(y, x), float(x + 10 * y), 1e-3) << x << "," << y;
  }
}

}  // namespace
}  // namespace atelier::image
