// Background removal with the real default model (installed by `make model`, which
// `make test` runs first) on Debian's sample photos.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "image/codec.h"
#include "support/test_support.h"
#include "vision/cutout.h"

namespace atelier::vision {
namespace {

struct Probe {
  int x, y;
};

// `scale` > 1 enlarges the photo first, so that the model's map is coarser than the photo
// and refinement has work to do (it leaves photos at or below the map's size alone).
cv::Mat alpha_of(const std::string& photo_name, bool refine, double scale = 1.0) {
  auto photo = image::read_image(testing::sample(photo_name));
  EXPECT_TRUE(photo.ok()) << photo.status().message();
  if (!photo.ok()) return {};
  if (scale != 1.0) {
    cv::Mat big;
    cv::resize(photo->mat(), big, cv::Size(), scale, scale, cv::INTER_CUBIC);
    photo = image::Image(big);
  }
  CutoutOptions opt;
  opt.refine = refine;
  opt.mask_only = true;
  auto r = cutout(*photo, opt);
  EXPECT_TRUE(r.ok()) << r.status().message() << " (run `make model` to install the default model)";
  if (!r.ok()) return {};
  EXPECT_EQ(r->image.width(), photo->width());
  EXPECT_EQ(r->image.height(), photo->height());
  return r->image.mat();
}

void expect_subject(const cv::Mat& a, std::initializer_list<Probe> opaque, std::initializer_list<Probe> clear,
                    double min_coverage, double max_coverage) {
  ASSERT_FALSE(a.empty());
  for (auto p : opaque) EXPECT_GE(a.at<std::uint8_t>(p.y, p.x), 240) << "subject at " << p.x << "," << p.y;
  for (auto p : clear) EXPECT_LE(a.at<std::uint8_t>(p.y, p.x), 5) << "background at " << p.x << "," << p.y;
  double coverage = cv::countNonZero(a > 127) / double(a.total());
  EXPECT_GE(coverage, min_coverage);
  EXPECT_LE(coverage, max_coverage);
}

TEST(CutoutModel, AstronautFaceAndSuitOpaqueSkyTransparent) {
  for (bool refine : {false, true}) {
    SCOPED_TRACE(refine ? "refined" : "plain");
    cv::Mat a = alpha_of("astronaut.png", refine);
    // face, suit, arm with the flag patch; the dark sky at the top corners and right of the head
    expect_subject(a, {{230, 100}, {200, 300}, {100, 400}, {150, 200}}, {{2, 2}, {509, 2}, {300, 60}, {450, 150}},
                   0.45, 0.62);
  }
}

TEST(CutoutModel, RefinementAtThreeTimesTheModelsScaleKeepsTheSubjectWhole) {
  cv::Mat plain = alpha_of("astronaut.png", false, 3.0);
  cv::Mat refined = alpha_of("astronaut.png", true, 3.0);
  ASSERT_FALSE(plain.empty() || refined.empty());
  expect_subject(refined, {{690, 300}, {600, 900}, {300, 1200}, {450, 600}}, {{6, 6}, {1527, 6}, {900, 180}, {1350, 450}},
                 0.45, 0.62);
  // Only edges move: the masks agree almost everywhere.
  cv::Mat a = plain > 127, b = refined > 127;
  double iou = cv::countNonZero(a & b) / double(cv::countNonZero(a | b));
  EXPECT_GE(iou, 0.98);
}

TEST(CutoutModel, ChelseaCatOpaqueBackgroundTransparent) {
  for (bool refine : {false, true}) {
    SCOPED_TRACE(refine ? "refined" : "plain");
    cv::Mat a = alpha_of("chelsea.png", refine);
    // the cat's face and forehead; the top corners and the right border
    expect_subject(a, {{230, 100}, {200, 130}, {300, 60}}, {{2, 2}, {448, 2}, {448, 297}, {440, 150}}, 0.65, 0.88);
  }
}

TEST(CutoutModel, OneModelLoadPerProcess) {
  auto first = ml::get_session("isnet", {});
  ASSERT_TRUE(first.ok()) << first.status().message();
  auto second = ml::get_session("isnet", {});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->get(), second->get());
}

}  // namespace
}  // namespace atelier::vision
