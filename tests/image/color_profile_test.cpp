// Embedded ICC profiles are converted to sRGB on decode (JPEG APP2, PNG iCCP); sRGB-tagged
// and broken profiles leave the pixels alone. Profiles are made here with Little CMS.
#include "image/color_profile.h"

#include <gtest/gtest.h>
#include <lcms2.h>
#include <zlib.h>

#include <opencv2/imgcodecs.hpp>

#include "image/codec.h"

namespace atelier::image {
namespace {

std::vector<std::uint8_t> save(cmsHPROFILE p) {
  cmsUInt32Number n = 0;
  cmsSaveProfileToMem(p, nullptr, &n);
  std::vector<std::uint8_t> out(n);
  cmsSaveProfileToMem(p, out.data(), &n);
  cmsCloseProfile(p);
  return out;
}

// sRGB primaries and white point, but linear (gamma 1.0) tone curves.
std::vector<std::uint8_t> linear_rgb_profile() {
  cmsCIExyY white;
  cmsWhitePointFromTemp(&white, 6504);
  cmsCIExyYTRIPLE primaries = {{0.64, 0.33, 1}, {0.30, 0.60, 1}, {0.15, 0.06, 1}};
  cmsToneCurve* linear = cmsBuildGamma(nullptr, 1.0);
  cmsToneCurve* curves[3] = {linear, linear, linear};
  cmsHPROFILE p = cmsCreateRGBProfile(&white, &primaries, curves);
  cmsFreeToneCurve(linear);
  return save(p);
}

// A flat gray JPEG (value 128) with `icc` in APP2 segments.
std::vector<std::uint8_t> jpeg_with_icc(const std::vector<std::uint8_t>& icc) {
  std::vector<std::uint8_t> jpg;
  cv::imencode(".jpg", cv::Mat(16, 16, CV_8UC3, cv::Scalar(128, 128, 128)), jpg, {cv::IMWRITE_JPEG_QUALITY, 100});
  std::vector<std::uint8_t> app2{0xFF, 0xE2};
  std::size_t len = 2 + 14 + icc.size();
  app2.push_back(std::uint8_t(len >> 8));
  app2.push_back(std::uint8_t(len));
  for (char c : std::string("ICC_PROFILE\0", 12)) app2.push_back(std::uint8_t(c));
  app2.push_back(1);  // sequence number
  app2.push_back(1);  // of one segment
  app2.insert(app2.end(), icc.begin(), icc.end());
  jpg.insert(jpg.begin() + 2, app2.begin(), app2.end());
  return jpg;
}

// A flat gray PNG (value 128) with `icc` in a zlib-compressed iCCP chunk.
std::vector<std::uint8_t> png_with_icc(const std::vector<std::uint8_t>& icc) {
  std::vector<std::uint8_t> png;
  cv::imencode(".png", cv::Mat(16, 16, CV_8UC3, cv::Scalar(128, 128, 128)), png);
  uLongf zlen = compressBound(uLong(icc.size()));
  std::vector<std::uint8_t> z(zlen);
  compress(z.data(), &zlen, icc.data(), uLong(icc.size()));
  z.resize(zlen);
  std::vector<std::uint8_t> data{'p', 'r', 'o', 'f', 0, 0};
  data.insert(data.end(), z.begin(), z.end());
  std::vector<std::uint8_t> chunk;
  auto be32 = [&](std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) chunk.push_back(std::uint8_t(v >> s));
  };
  be32(std::uint32_t(data.size()));
  std::vector<std::uint8_t> body{'i', 'C', 'C', 'P'};
  body.insert(body.end(), data.begin(), data.end());
  chunk.insert(chunk.end(), body.begin(), body.end());
  be32(std::uint32_t(crc32(0, body.data(), uInt(body.size()))));
  png.insert(png.begin() + 33, chunk.begin(), chunk.end());  // after the signature and IHDR
  return png;
}

TEST(ColorProfile, ProbeFindsTheProfile) {
  auto icc = linear_rgb_profile();
  auto h = probe_image(jpeg_with_icc(icc));
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ(h->icc_profile, icc);
  auto p = probe_image(png_with_icc(icc));
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->icc_profile, icc);
}

TEST(ColorProfile, LinearProfileBecomesSrgbOnDecode) {
  // Linear 128/255 = 0.502 is sRGB-encoded 0.735 = 188.
  for (const auto& bytes : {jpeg_with_icc(linear_rgb_profile()), png_with_icc(linear_rgb_profile())}) {
    auto img = decode_image(bytes);
    ASSERT_TRUE(img.ok()) << img.status().message();
    cv::Vec3b v = img->mat().at<cv::Vec3b>(8, 8);
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(v[c], 188, 2);
  }
}

TEST(ColorProfile, SrgbAndBrokenProfilesChangeNothing) {
  auto srgb = save(cmsCreate_sRGBProfile());
  auto img = decode_image(jpeg_with_icc(srgb));
  ASSERT_TRUE(img.ok());
  EXPECT_NEAR(img->mat().at<cv::Vec3b>(8, 8)[0], 128, 1);
  std::vector<std::uint8_t> junk(300, 0x5a);
  img = decode_image(jpeg_with_icc(junk));
  ASSERT_TRUE(img.ok());
  EXPECT_NEAR(img->mat().at<cv::Vec3b>(8, 8)[0], 128, 1);
  // Sixteen bits and alpha go through the transform too; alpha is kept.
  cv::Mat rgba(4, 4, CV_16UC4, cv::Scalar(32896, 32896, 32896, 1234));
  Image out = convert_to_srgb(Image(rgba), linear_rgb_profile());
  EXPECT_NEAR(out.mat().at<cv::Vec4w>(1, 1)[0], 188 * 257, 2 * 257);
  EXPECT_EQ(out.mat().at<cv::Vec4w>(1, 1)[3], 1234);
}

}  // namespace
}  // namespace atelier::image
