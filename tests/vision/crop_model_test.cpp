// Smart crop with the real model: the analysis is shared with cutout (the model runs once
// per image), and the crops keep the subject.
#include <gtest/gtest.h>

#include "image/codec.h"
#include "support/test_support.h"
#include "vision/analysis_cache.h"
#include "vision/cutout.h"
#include "vision/smart_crop.h"

namespace atelier::vision {
namespace {

TEST(CropModel, CutoutAndCropRunTheModelOncePerImage) {
  auto photo = image::read_image(testing::sample("coffee.png"));
  ASSERT_TRUE(photo.ok());
  auto session = ml::get_session("isnet", {});
  ASSERT_TRUE(session.ok()) << session.status().message() << " (run `make model`)";
  const int before = (*session)->runs();
  CutoutOptions cut;
  cut.mask_only = true;
  ASSERT_TRUE(cutout(*photo, cut).ok());
  std::vector<Aspect> aspects{*parse_aspect("1:1"), *parse_aspect("9:16"), *parse_aspect("16:9")};
  auto crops = smart_crop(*photo, aspects, {});
  ASSERT_TRUE(crops.ok()) << crops.status().message();
  EXPECT_EQ(crops->saliency.source, "isnet");
  ASSERT_TRUE(cutout(photo->clone(), cut).ok());  // same pixels, another buffer
  EXPECT_EQ((*session)->runs() - before, 1);
}

TEST(CropModel, TheCupStaysInTheCrop) {
  // coffee.png (600×400): the cup and saucer fill the middle; a 9:16 crop (225×400) must
  // keep the cup's centre and a 16:9 one spans the width.
  auto photo = image::read_image(testing::sample("coffee.png"));
  ASSERT_TRUE(photo.ok());
  std::vector<Aspect> aspects{*parse_aspect("9:16"), *parse_aspect("16:9")};
  auto r = smart_crop(*photo, aspects, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->windows[0].rect.size(), cv::Size(225, 400));
  EXPECT_TRUE(r->windows[0].rect.contains(cv::Point(330, 170))) << r->windows[0].rect;
  EXPECT_EQ(r->windows[1].rect.width, 600);
  EXPECT_GT(r->windows[0].kept, 0.6);
}

}  // namespace
}  // namespace atelier::vision
