#include "image/composite.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace atelier::image {
namespace {

TEST(Composite, OverOnKnownPixels) {
  // Opaque front hides the back; transparent front shows it.
  EXPECT_EQ(over({1, 0, 0, 1}, {0, 0, 1, 1}), (Rgba{1, 0, 0, 1}));
  EXPECT_EQ(over({1, 0, 0, 0}, {0, 0, 1, 1}), (Rgba{0, 0, 1, 1}));
  // Half red over opaque blue: premultiplied sum (0.5, 0, 0.5), alpha 1.
  EXPECT_EQ(over({1, 0, 0, 0.5f}, {0, 0, 1, 1}), (Rgba{0.5f, 0, 0.5f, 1}));
  // Half red over half blue: a = 0.5 + 0.5·0.5 = 0.75; rgb = (0.5, 0, 0.25) / 0.75.
  Rgba r = over({1, 0, 0, 0.5f}, {0, 0, 1, 0.5f});
  EXPECT_FLOAT_EQ(r.a, 0.75f);
  EXPECT_FLOAT_EQ(r.r, 2.f / 3.f);
  EXPECT_FLOAT_EQ(r.b, 1.f / 3.f);
  // Over a transparent back the straight colour is kept unchanged (no darkening).
  EXPECT_EQ(over({0.2f, 0.4f, 0.6f, 0.25f}, {0, 0, 0, 0}), (Rgba{0.2f, 0.4f, 0.6f, 0.25f}));
  EXPECT_EQ(over({0, 0, 0, 0}, {0, 0, 0, 0}), (Rgba{0, 0, 0, 0}));
}

TEST(Composite, ImageOverColourAndOverImage) {
  cv::Mat fg(2, 2, CV_32FC3, cv::Scalar(1, 1, 1));  // white
  cv::Mat alpha = (cv::Mat_<float>(2, 2) << 1, 0.5f, 0, 0.25f);
  Backdrop black_opaque;
  black_opaque.color = {0, 0, 0, 1};
  cv::Mat out = composite_over(fg, alpha, black_opaque, CV_8U, true);
  ASSERT_EQ(out.type(), CV_8UC3);
  EXPECT_EQ(out.at<cv::Vec3b>(0, 0), cv::Vec3b(255, 255, 255));
  EXPECT_EQ(out.at<cv::Vec3b>(0, 1), cv::Vec3b(128, 128, 128));  // 127.5 rounds up
  EXPECT_EQ(out.at<cv::Vec3b>(1, 0), cv::Vec3b(0, 0, 0));
  EXPECT_EQ(out.at<cv::Vec3b>(1, 1), cv::Vec3b(64, 64, 64));

  Backdrop transparent;
  transparent.color = {0, 0, 0, 0};
  cv::Mat rgba = composite_over(fg, alpha, transparent, CV_16U, false);
  ASSERT_EQ(rgba.type(), CV_16UC4);
  EXPECT_EQ(rgba.at<cv::Vec4w>(0, 1), cv::Vec4w(65535, 65535, 65535, 32768));
  EXPECT_EQ(rgba.at<cv::Vec4w>(1, 0), cv::Vec4w(0, 0, 0, 0));

  Backdrop photo;
  photo.image = cv::Mat(2, 2, CV_32FC3, cv::Scalar(0, 0.5, 1));
  cv::Mat mixed = composite_over(fg, alpha, photo, CV_8U, true);
  EXPECT_EQ(mixed.at<cv::Vec3b>(1, 1), cv::Vec3b(64, 159, 255));  // .25 white + .75 (0,.5,1)
}

TEST(Composite, SolidBackdropsGiveExactlyThePerPixelOver) {
  // Over a solid colour, opaque and transparent pixels are copied rather than computed;
  // every pixel must still be what `over` and rounding to nearest give.
  cv::RNG rng(3);
  cv::Mat fg(37, 301, CV_8UC3), alpha(37, 301, CV_32F);
  rng.fill(fg, cv::RNG::UNIFORM, 0, 256);
  for (int y = 0; y < alpha.rows; ++y) {
    for (int x = 0; x < alpha.cols; ++x) {
      const int kind = (x / 7 + y) % 4;  // runs of opaque, transparent and soft pixels
      alpha.at<float>(y, x) = kind == 0 ? 1.f : kind == 1 ? 0.f : kind == 2 ? rng.uniform(0.f, 1.f) : 1.5f;
    }
  }
  for (const Rgba back : {Rgba{0, 0, 0, 0}, Rgba{0.2f, 0.4f, 0.6f, 1}, Rgba{1, 0.5f, 0, 0.3f}}) {
    for (bool opaque_out : {false, true}) {
      if (opaque_out && back.a < 1) continue;
      const cv::Mat out = composite_over(fg, alpha, Backdrop{back, {}, {}}, CV_8U, opaque_out);
      const int channels = opaque_out ? 3 : 4;
      ASSERT_EQ(out.channels(), channels);
      for (int y = 0; y < fg.rows; ++y) {
        for (int x = 0; x < fg.cols; ++x) {
          const cv::Vec3b f = fg.at<cv::Vec3b>(y, x);
          const Rgba want = over({f[0] / 255.f, f[1] / 255.f, f[2] / 255.f, std::clamp(alpha.at<float>(y, x), 0.f, 1.f)}, back);
          const float v[4] = {want.r, want.g, want.b, want.a};
          for (int c = 0; c < channels; ++c) {
            ASSERT_EQ(int(out.ptr<std::uint8_t>(y)[x * channels + c]), int(std::lround(std::clamp(v[c], 0.f, 1.f) * 255)))
                << x << "," << y << " channel " << c << " alpha " << alpha.at<float>(y, x);
          }
        }
      }
    }
  }
}

TEST(Composite, ParsesColours) {
  EXPECT_EQ(*parse_color("#ff8000"), (Rgba{1, 128.f / 255, 0, 1}));
  EXPECT_EQ(*parse_color("FF800080"), (Rgba{1, 128.f / 255, 0, 128.f / 255}));
  EXPECT_EQ(*parse_color("White"), (Rgba{1, 1, 1, 1}));
  EXPECT_EQ(parse_color("#12345").status().message(),
            "bad colour '#12345' (expected #RRGGBB, #RRGGBBAA or a name such as white)");
  EXPECT_FALSE(parse_color("#gg0000").ok());
}

}  // namespace
}  // namespace atelier::image
