// The cutout pipeline from a given matte (no model): trimming, mask output, backgrounds,
// bit depth and the photo's own alpha.
#include "vision/cutout.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "support/test_support.h"

namespace atelier::vision {
namespace {

image::Image photo_rgb(int w = 200, int h = 100) { return image::Image(testing::pattern_rgb(w, h)); }

// Subject = the rectangle x in [60,140), y in [20,70) of a 200×100 photo, crisp.
cv::Mat box_matte() {
  cv::Mat m(100, 200, CV_32F, cv::Scalar(0));
  m(cv::Rect(60, 20, 80, 50)).setTo(1);
  return m;
}

CutoutOptions plain() {
  CutoutOptions o;
  o.refine = false;
  o.decontaminate = false;
  return o;
}

TEST(Cutout, TransparentRgbaWithTheMatteAsAlpha) {
  auto r = cutout_with_matte(photo_rgb(), box_matte(), plain());
  ASSERT_TRUE(r.ok()) << r.status().message();
  const cv::Mat& m = r->image.mat();
  ASSERT_EQ(m.type(), CV_8UC4);
  EXPECT_EQ(r->crop, cv::Rect(0, 0, 200, 100));
  EXPECT_EQ(m.at<cv::Vec4b>(40, 100)[3], 255);
  EXPECT_EQ(m.at<cv::Vec4b>(5, 5)[3], 0);
  cv::Vec3b src = testing::pattern_rgb(200, 100).at<cv::Vec3b>(40, 100);
  EXPECT_EQ(m.at<cv::Vec4b>(40, 100), cv::Vec4b(src[0], src[1], src[2], 255));
}

TEST(Cutout, AlphaWithinHalfALevelOfOpaqueOrClearIsExactlyThat) {
  // A model's 0.0009 and 0.9991 write as 0 and 255 anyway; they are snapped before the
  // colour estimate, so the subject keeps the photo's exact colours.
  cv::Mat m(100, 200, CV_32F, cv::Scalar(0.0009));
  m(cv::Rect(60, 20, 80, 50)).setTo(0.9991);
  m(cv::Rect(0, 90, 200, 10)).setTo(0.5);  // a genuinely soft strip
  CutoutOptions o = plain();
  o.decontaminate = true;
  auto r = cutout_with_matte(photo_rgb(), m, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const cv::Mat& out = r->image.mat();
  const cv::Mat src = testing::pattern_rgb(200, 100);
  for (int x = 60; x < 140; x += 5) {
    const cv::Vec3b s = src.at<cv::Vec3b>(40, x);
    EXPECT_EQ(out.at<cv::Vec4b>(40, x), cv::Vec4b(s[0], s[1], s[2], 255)) << x;
    EXPECT_EQ(out.at<cv::Vec4b>(5, x), cv::Vec4b(0, 0, 0, 0)) << x;
  }
  EXPECT_EQ(out.at<cv::Vec4b>(95, 100)[3], 128);
  auto mask = cutout_with_matte(photo_rgb(), m, [&] { CutoutOptions k = o; k.mask_only = true; return k; }());
  ASSERT_TRUE(mask.ok());
  EXPECT_EQ(mask->image.mat().at<std::uint8_t>(40, 100), 255);
  EXPECT_EQ(mask->image.mat().at<std::uint8_t>(5, 100), 0);
}

TEST(Cutout, TrimWithMarginAndMaskOnly) {
  CutoutOptions o = plain();
  o.trim = true;
  o.margin = 5;
  o.mask_only = true;
  auto r = cutout_with_matte(photo_rgb(), box_matte(), o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->crop, cv::Rect(55, 15, 90, 60));
  const cv::Mat& m = r->image.mat();
  ASSERT_EQ(m.type(), CV_8UC1);
  EXPECT_EQ(m.size(), cv::Size(90, 60));
  EXPECT_EQ(m.at<std::uint8_t>(0, 0), 0);
  EXPECT_EQ(m.at<std::uint8_t>(5, 5), 255);
  EXPECT_EQ(m.at<std::uint8_t>(54, 84), 255);
  EXPECT_EQ(m.at<std::uint8_t>(55, 85), 0);
  // A margin past the photo's border is clamped.
  o.margin = 50;
  EXPECT_EQ(cutout_with_matte(photo_rgb(), box_matte(), o)->crop, cv::Rect(10, 0, 180, 100));
  // Nothing to trim to.
  auto none = cutout_with_matte(photo_rgb(), cv::Mat(100, 200, CV_32F, cv::Scalar(0)), o);
  EXPECT_EQ(none.status().message(), "no subject found (nothing to trim to)");
}

TEST(Cutout, OpaqueBackgroundsGiveRgb) {
  CutoutOptions o = plain();
  o.background = *parse_background("#0000ff");
  auto r = cutout_with_matte(photo_rgb(), box_matte(), o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->image.mat().type(), CV_8UC3);
  EXPECT_EQ(r->image.mat().at<cv::Vec3b>(5, 5), cv::Vec3b(0, 0, 255));

  o.background = *parse_background("blur=4");
  r = cutout_with_matte(photo_rgb(), box_matte(), o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->image.mat().type(), CV_8UC3);

  TempDir dir = testing::temp_dir();
  auto bg_path = dir.path() / "bg.png";
  cv::imwrite(bg_path.string(), cv::Mat(10, 10, CV_8UC3, cv::Scalar(0, 255, 0)));  // BGR green
  auto bg = parse_background(bg_path.string());
  ASSERT_TRUE(bg.ok());
  o.background = *bg;
  r = cutout_with_matte(photo_rgb(), box_matte(), o);
  EXPECT_EQ(r->image.mat().at<cv::Vec3b>(95, 195), cv::Vec3b(0, 255, 0));
}

TEST(Cutout, BlurredBackdropKeepsTheSubjectsColoursOut) {
  // A white subject on black: the blurred backdrop right beside it stays dark.
  cv::Mat img(100, 200, CV_8UC3, cv::Scalar(0, 0, 0));
  img(cv::Rect(60, 20, 80, 50)).setTo(cv::Scalar(255, 255, 255));
  Background bg = *parse_background("blur=8");
  image::Backdrop back = make_backdrop(bg, image::Image(img), box_matte());
  ASSERT_EQ(back.image.type(), CV_8UC3);
  EXPECT_LT(back.image.at<cv::Vec3b>(45, 55)[0], 8);
  EXPECT_LT(back.image.at<cv::Vec3b>(45, 145)[0], 8);
}

TEST(Cutout, SixteenBitPhotosGiveSixteenBitResultsAndOwnAlphaMultiplies) {
  cv::Mat deep(100, 200, CV_16UC4, cv::Scalar(1000, 2000, 3000, 32768));
  auto r = cutout_with_matte(image::Image(deep), box_matte(), plain());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->image.mat().type(), CV_16UC4);
  EXPECT_EQ(r->image.mat().at<cv::Vec4w>(40, 100), cv::Vec4w(1000, 2000, 3000, 32768));
  EXPECT_EQ(r->image.mat().at<cv::Vec4w>(5, 5)[3], 0);
}

TEST(Cutout, BackgroundSpecs) {
  EXPECT_EQ(parse_background("transparent")->kind, Background::Kind::kTransparent);
  EXPECT_EQ(parse_background("#ffffff")->kind, Background::Kind::kColor);
  EXPECT_TRUE(parse_background("#ffffff")->opaque());
  EXPECT_FALSE(parse_background("#ffffff80")->opaque());
  EXPECT_EQ(parse_background("blur")->blur_radius, 0.f);
  EXPECT_EQ(parse_background("blur=12.5")->blur_radius, 12.5f);
  EXPECT_EQ(parse_background("blur=-1").status().message(),
            "bad blur radius '-1' (expected a number of pixels in (0, 1000])");
  EXPECT_EQ(parse_background("#zzz").status().message(),
            "bad background '#zzz' (expected transparent, #RRGGBB, a colour name, blur[=RADIUS] or an image file)");
  EXPECT_EQ(parse_background("/no/such/bg.png").status().message(), "/no/such/bg.png: no such file");
}

}  // namespace
}  // namespace atelier::vision
