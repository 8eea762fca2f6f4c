// The window search on synthetic saliency maps, aspect parsing, presets and rendering.
#include "vision/smart_crop.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include <opencv2/imgproc.hpp>

#include "vision/saliency_eval.h"

namespace atelier::vision {
namespace {

Aspect aspect(const char* text) { return *parse_aspect(text); }

TEST(SmartCrop, SummedAreaTableEqualsBruteForce) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  cv::Mat map(37, 53, CV_32F);
  for (int y = 0; y < map.rows; ++y) for (int x = 0; x < map.cols; ++x) map.at<float>(y, x) = u(rng);
  const cv::Mat t = summed_area_table(map);
  std::uniform_int_distribution<int> px(0, 53), py(0, 37);
  for (int i = 0; i < 500; ++i) {
    int x0 = px(rng), x1 = px(rng), y0 = py(rng), y1 = py(rng);
    if (x0 > x1) std::swap(x0, x1);
    if (y0 > y1) std::swap(y0, y1);
    double brute = 0;
    for (int y = y0; y < y1; ++y) for (int x = x0; x < x1; ++x) brute += map.at<float>(y, x);
    ASSERT_NEAR(area_sum(t, x0, y0, x1, y1), brute, 1e-9 * (1 + brute)) << x0 << "," << y0 << " " << x1 << "," << y1;
  }
}

TEST(SmartCrop, ASingleBlobIsCovered) {
  // A 1000×500 photo with a blob at x ≈ 800: the 1:1 window (500×500) must contain it.
  cv::Mat map(100, 200, CV_32F, cv::Scalar(0));
  cv::circle(map, cv::Point(160, 50), 8, cv::Scalar(1), cv::FILLED);
  auto w = find_windows(map, cv::Size(1000, 500), std::vector{aspect("1:1")}, {});
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].rect.size(), cv::Size(500, 500));
  EXPECT_TRUE(w[0].rect.contains(cv::Point(800, 250))) << w[0].rect;
  EXPECT_GT(w[0].kept, 0.99);
  // Every window from x ≈ 345 to 755 keeps the whole blob: the tie goes to the one nearest
  // the centre (x = 250), so the window stops just past the blob.
  EXPECT_GE(w[0].rect.x, 340);
  EXPECT_LE(w[0].rect.x, 365);
}

TEST(SmartCrop, ABlobAtTheEdgeClampsTheWindow) {
  cv::Mat map(100, 200, CV_32F, cv::Scalar(0));
  cv::circle(map, cv::Point(196, 50), 6, cv::Scalar(1), cv::FILLED);  // right border
  auto w = find_windows(map, cv::Size(1000, 500), std::vector{aspect("1:1")}, {});
  EXPECT_EQ(w[0].rect, cv::Rect(500, 0, 500, 500));
  cv::Mat top(200, 100, CV_32F, cv::Scalar(0));
  cv::circle(top, cv::Point(50, 3), 5, cv::Scalar(1), cv::FILLED);  // top border of a portrait photo
  w = find_windows(top, cv::Size(500, 1000), std::vector{aspect("16:9")}, {});
  EXPECT_EQ(w[0].rect.y, 0);
  EXPECT_EQ(w[0].rect.width, 500);
}

TEST(SmartCrop, AUniformMapGivesTheCentreWindow) {
  cv::Mat map(60, 80, CV_32F, cv::Scalar(0.5));
  const cv::Size photo(1600, 1200);
  std::vector<Aspect> aspects{aspect("1:1"), aspect("9:16"), aspect("16:9"), aspect("3:1")};
  auto w = find_windows(map, photo, aspects, {});
  for (std::size_t i = 0; i < aspects.size(); ++i) {
    const cv::Rect centre = centre_window(photo, aspects[i]);
    EXPECT_NEAR(w[i].rect.x, centre.x, 1) << aspects[i].name;
    EXPECT_NEAR(w[i].rect.y, centre.y, 1) << aspects[i].name;
    EXPECT_EQ(w[i].rect.size(), centre.size()) << aspects[i].name;
  }
}

TEST(SmartCrop, BorderPenaltyAvoidsSlicingThroughTheSubject) {
  // Two blobs; the smaller one straddles where the mass-optimal window would end.
  cv::Mat map(100, 300, CV_32F, cv::Scalar(0));
  cv::rectangle(map, cv::Rect(20, 30, 60, 40), cv::Scalar(1), cv::FILLED);
  cv::rectangle(map, cv::Rect(110, 40, 30, 20), cv::Scalar(1), cv::FILLED);
  CropOptions with;
  with.border_penalty = 50;
  auto w = find_windows(map, cv::Size(300, 100), std::vector{aspect("1:1")}, with);
  const cv::Rect r = w[0].rect;
  for (int x : {110, 140}) {  // the second blob is either wholly in or wholly out
    EXPECT_TRUE(x <= r.x || x >= r.x + r.width || (r.x <= 110 && r.x + r.width >= 140)) << r;
  }
}

TEST(SmartCrop, WindowsStayInsideThePhotoAndKeepTheRatio) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> side(1, 5000);
  cv::Mat map(40, 40, CV_32F);
  cv::randu(map, 0.f, 1.f);
  std::vector<Aspect> aspects;
  for (const auto& p : crop_presets()) aspects.push_back(aspect(p.name.c_str()));
  for (const char* a : {"1:1", "9:16", "16:9", "1.91:1", "100:1", "1:100"}) aspects.push_back(aspect(a));
  for (int i = 0; i < 200; ++i) {
    const cv::Size photo(side(rng), side(rng));
    for (const CropWindow& w : find_windows(map, photo, aspects, {})) {
      ASSERT_GE(w.rect.x, 0);
      ASSERT_GE(w.rect.y, 0);
      ASSERT_LE(w.rect.x + w.rect.width, photo.width) << photo;
      ASSERT_LE(w.rect.y + w.rect.height, photo.height) << photo;
      ASSERT_GE(w.rect.width, 1);
      ASSERT_GE(w.rect.height, 1);
      // The ratio is exact within one pixel (when the window is more than a sliver).
      const double r = w.aspect.ratio();
      if (std::min(w.rect.width, w.rect.height) > 1) {
        EXPECT_TRUE(std::abs(w.rect.width - w.rect.height * r) <= 1.0 ||
                    std::abs(w.rect.height - w.rect.width / r) <= 1.0)
            << w.aspect.name << " " << w.rect << " in " << photo;
      }
      // It is the largest of its ratio: it spans the photo in one direction.
      EXPECT_TRUE(w.rect.width == photo.width || w.rect.height == photo.height) << w.rect << " in " << photo;
    }
  }
}

TEST(SmartCrop, EveryPresetRatioIsExactWithinOnePixel) {
  for (const auto& p : crop_presets()) {
    const Aspect a = aspect(p.name.c_str());
    EXPECT_EQ(double(a.width) / a.height, double(p.width) / p.height) << p.name;
    for (cv::Size photo : {cv::Size(4000, 3000), cv::Size(3000, 4000), cv::Size(1080, 1920), cv::Size(999, 333)}) {
      const cv::Size w = largest_window(photo, a);
      EXPECT_LE(std::abs(w.width * double(p.height) - w.height * double(p.width)), std::max(p.width, p.height))
          << p.name << " " << w << " in " << photo;  // |w/h − W/H| within one pixel
    }
  }
  EXPECT_EQ(aspect("instagram-story").width, 9);
  EXPECT_EQ(aspect("instagram-story").height, 16);
}

TEST(SmartCrop, BadAspectsAreClearErrors) {
  const std::string tail = "' (expected W:H with positive numbers such as 16:9, or a preset name: atelier crop --list-presets)";
  for (const char* bad : {"0:1", "abc", "-3:2", "16:", ":9", "16x9", "1:0", "nan:1"}) {
    auto r = parse_aspect(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().message(), std::string("bad aspect '") + bad + tail);
  }
  EXPECT_EQ(aspect("1.91:1").width, 191);
  EXPECT_EQ(aspect("1.91:1").height, 100);
  EXPECT_EQ(aspect("16:9").name, "16x9");
  EXPECT_EQ(aspect("32:18").width, 16);
}

TEST(SmartCrop, ZoomChoosesATighterWindowThatKeepsMostSaliency) {
  cv::Mat map(100, 100, CV_32F, cv::Scalar(0.001f));
  cv::circle(map, cv::Point(30, 30), 8, cv::Scalar(1), cv::FILLED);
  CropOptions opt;
  opt.min_scale = 0.3f;
  auto w = find_windows(map, cv::Size(1000, 1000), std::vector{aspect("1:1")}, opt);
  EXPECT_LT(w[0].rect.width, 500);
  EXPECT_TRUE(w[0].rect.contains(cv::Point(300, 300)));
  EXPECT_GT(w[0].kept, 0.8);
}

// Face rule (issue 8): a window that slices a face loses to one that keeps every face
// wholly in or wholly out. The maps below are zero except for value-1 (or 0.5) rectangles,
// on a 1000-pixel photo with a 100-pixel map, so every sum is a count of map pixels; the
// border penalty is off so the expected windows follow from those sums alone.

// Whether `r` keeps the core of `face` (5 % in from each side) wholly in or wholly out.
bool keeps_whole_or_out(const cv::Rect& r, const cv::Rect& face) {
  const int tx = int(std::ceil(0.05 * face.width - 1e-4)), ty = int(std::ceil(0.05 * face.height - 1e-4));
  const cv::Rect core(face.x + tx, face.y + ty, face.width - 2 * tx, face.height - 2 * ty);
  const cv::Rect both = r & core;
  return both.empty() || both == core;
}

CropOptions no_border_penalty() {
  CropOptions o;
  o.border_penalty = 0;
  return o;
}

TEST(SmartCropFaces, AWideBannerKeepsTheFaceWholeInsteadOfCuttingAtTheEyes) {
  // A portrait: a face (map rows 20–40, 20 columns) above shoulders (rows 40–52, 40
  // columns). A 4:1 window is 250 pixels (25 map rows) tall. By mass alone the best window
  // takes all shoulders and the lower 13 face rows: y = 270 (740 of 880), cutting the face
  // in its upper half. Keeping the face whole (core 210–390) the best is y = 210: face rows
  // 21–40 and shoulder rows 40–46 (380 + 240 = 620); leaving it out (y ≥ 390) keeps 500.
  cv::Mat map(100, 100, CV_32F, cv::Scalar(0));
  map(cv::Rect(40, 20, 20, 20)) = 1.0f;
  map(cv::Rect(30, 40, 40, 12)) = 1.0f;
  const cv::Size photo(1000, 1000);
  const std::vector<cv::Rect> faces{{400, 200, 200, 200}};
  const std::vector a{aspect("4:1")};
  const auto old_rule = find_windows(map, photo, a, no_border_penalty());  // no faces given
  EXPECT_EQ(old_rule[0].rect, cv::Rect(0, 270, 1000, 250));
  EXPECT_FALSE(keeps_whole_or_out(old_rule[0].rect, faces[0]));
  CropOptions off = no_border_penalty();
  off.keep_faces_whole = false;
  EXPECT_EQ(find_windows(map, photo, a, off, faces)[0].rect, cv::Rect(0, 270, 1000, 250));

  const auto w = find_windows(map, photo, a, no_border_penalty(), faces);
  EXPECT_EQ(w[0].rect, cv::Rect(0, 210, 1000, 250));
  EXPECT_NEAR(w[0].kept, 620.0 / 880.0, 1e-9);
  EXPECT_EQ(w[0].faces_cut, 0);
  EXPECT_EQ(old_rule[0].faces_cut, 0);  // without faces nothing is counted

  // With the default border penalty the face is still whole (or out).
  const auto d = find_windows(map, photo, a, {}, faces);
  EXPECT_EQ(d[0].faces_cut, 0);
  EXPECT_TRUE(keeps_whole_or_out(d[0].rect, faces[0])) << d[0].rect;
}

TEST(SmartCropFaces, AFaceTheWindowCanHoldIsShownRatherThanLeftOut) {
  // The astronaut's case: shoulders (rows 40–70, 40 columns) outweigh the face (rows
  // 20–40, 20 columns). By mass the 25-row window sits in the shoulders below the face
  // (y = 400, 1000 of 1600). Without the preference for faces inside, the rule only stops
  // slicing, so that stays; with it, the best window holding the face whole is y = 210
  // (face 380 + shoulders 240).
  cv::Mat map(100, 100, CV_32F, cv::Scalar(0));
  map(cv::Rect(40, 20, 20, 20)) = 1.0f;
  map(cv::Rect(30, 40, 40, 30)) = 1.0f;
  const cv::Size photo(1000, 1000);
  const std::vector<cv::Rect> faces{{400, 200, 200, 200}};
  const std::vector a{aspect("4:1")};
  CropOptions out_is_fine = no_border_penalty();
  out_is_fine.prefer_faces_inside = false;
  EXPECT_EQ(find_windows(map, photo, a, out_is_fine, faces)[0].rect, cv::Rect(0, 400, 1000, 250));
  const auto w = find_windows(map, photo, a, no_border_penalty(), faces);
  EXPECT_EQ(w[0].rect, cv::Rect(0, 210, 1000, 250));
  EXPECT_NEAR(w[0].kept, 620.0 / 1600.0, 1e-9);
  EXPECT_EQ(w[0].faces_cut, 0);
}

TEST(SmartCropFaces, AFaceTallerThanTheWindowIsLeftOutWholeRatherThanCut) {
  // The face (rows 10–40, photo 100–400, core 115–385) cannot fit a 250-pixel-tall window.
  // By mass the window takes the shoulders (rows 40–60) and face rows 35–40: y = 350. The
  // best window that avoids the face starts on its core's edge, y = 385 (a candidate only
  // because candidates include face edges): shoulders 800 + the face's margin 1.5 × 20.
  cv::Mat map(100, 100, CV_32F, cv::Scalar(0));
  map(cv::Rect(40, 10, 20, 30)) = 1.0f;
  map(cv::Rect(30, 40, 40, 20)) = 1.0f;
  const cv::Size photo(1000, 1000);
  const std::vector<cv::Rect> faces{{400, 100, 200, 300}};
  const std::vector a{aspect("4:1")};
  EXPECT_EQ(find_windows(map, photo, a, no_border_penalty())[0].rect, cv::Rect(0, 350, 1000, 250));
  const auto w = find_windows(map, photo, a, no_border_penalty(), faces);
  EXPECT_EQ(w[0].rect, cv::Rect(0, 385, 1000, 250));
  EXPECT_NEAR(w[0].kept, 830.0 / 1400.0, 1e-6);
  EXPECT_EQ(w[0].faces_cut, 0);
}

TEST(SmartCropFaces, AnUnavoidableCutFallsBackToTheBestScore) {
  // A face core spanning y 140–860 of a 1000-pixel photo: every 250-pixel-tall window
  // slices it, so the rule changes nothing and says so.
  cv::Mat map(100, 100, CV_32F, cv::Scalar(0));
  map(cv::Rect(40, 10, 20, 80)) = 1.0f;
  map(cv::Rect(30, 60, 40, 10)) = 1.0f;
  const cv::Size photo(1000, 1000);
  const std::vector<cv::Rect> faces{{400, 100, 200, 800}};
  const std::vector a{aspect("4:1")};
  const auto plain = find_windows(map, photo, a, {});
  const auto w = find_windows(map, photo, a, {}, faces);
  EXPECT_EQ(w[0].rect, plain[0].rect);
  EXPECT_EQ(w[0].faces_cut, 1);
}

TEST(SmartCropFaces, TwoFacesTooFarApartForOneWindowKeepTheBrighterOneWhole) {
  // A 1600×900 photo, faces at x 500–700 (value 0.5) and 900–1100 (value 1), the same size:
  // a 9:16 window (506 wide) cannot hold both. By mass it takes all of the brighter face and
  // the right 11 columns of the other (x = 590, slicing it). The rule keeps one face whole
  // and the other out; the score picks the bright one: x = 690, the dim face's core edge
  // (B 400 + A's margin 10 of 600).
  cv::Mat map(90, 160, CV_32F, cv::Scalar(0));
  map(cv::Rect(50, 20, 20, 20)) = 0.5f;
  map(cv::Rect(90, 20, 20, 20)) = 1.0f;
  const cv::Size photo(1600, 900);
  const std::vector<cv::Rect> faces{{500, 200, 200, 200}, {900, 200, 200, 200}};
  const std::vector a{aspect("9:16")};
  const auto old_rule = find_windows(map, photo, a, no_border_penalty());
  EXPECT_EQ(old_rule[0].rect, cv::Rect(590, 0, 506, 900));
  EXPECT_FALSE(keeps_whole_or_out(old_rule[0].rect, faces[0]));
  const auto w = find_windows(map, photo, a, no_border_penalty(), faces);
  EXPECT_EQ(w[0].rect, cv::Rect(690, 0, 506, 900));
  EXPECT_NEAR(w[0].kept, 410.0 / 600.0, 1e-9);
  EXPECT_EQ(w[0].faces_cut, 0);
  for (const cv::Rect& f : faces) EXPECT_TRUE(keeps_whole_or_out(w[0].rect, f)) << f;
}

TEST(SmartCropFaces, ZoomNeverTradesAWholeFaceForATighterCut) {
  // A body (rows and columns 20–60) with a face beside it (columns 60–70, rows 30–40;
  // photo x 600–700, core 605–695). Zooming to keep 90 %: by mass the 475-pixel window at
  // (200, 200) keeps 1675 of 1700 but slices the face at x = 675. Keeping the face whole,
  // the 475 window moves to x = 220, ending on the core's edge (body 1520 + face 95 = 1615,
  // 95 %); no smaller size keeps 90 %.
  cv::Mat map(100, 100, CV_32F, cv::Scalar(0));
  map(cv::Rect(20, 20, 40, 40)) = 1.0f;
  map(cv::Rect(60, 30, 10, 10)) = 1.0f;
  const cv::Size photo(1000, 1000);
  const std::vector<cv::Rect> faces{{600, 300, 100, 100}};
  const std::vector a{aspect("1:1")};
  CropOptions zoom = no_border_penalty();
  zoom.min_scale = 0.3f;
  const auto old_rule = find_windows(map, photo, a, zoom);
  EXPECT_EQ(old_rule[0].rect, cv::Rect(200, 200, 475, 475));
  EXPECT_FALSE(keeps_whole_or_out(old_rule[0].rect, faces[0]));
  const auto w = find_windows(map, photo, a, zoom, faces);
  EXPECT_EQ(w[0].rect, cv::Rect(220, 200, 475, 475));
  EXPECT_NEAR(w[0].kept, 1615.0 / 1700.0, 1e-9);
  EXPECT_EQ(w[0].faces_cut, 0);
}

TEST(SmartCropFaces, RandomMapsAndFacesNeverGiveACutWhenACleanWindowExists) {
  // Brute force over every pixel offset: if any window of the chosen size keeps each face
  // wholly in or out, the chosen one does too.
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> coord(0, 900), size(20, 300), n(1, 3);
  cv::Mat map(50, 50, CV_32F);
  const cv::Size photo(1000, 1000);
  for (int trial = 0; trial < 60; ++trial) {
    cv::randu(map, 0.f, 1.f);
    std::vector<cv::Rect> faces;
    for (int k = n(rng); k > 0; --k) {
      cv::Rect f(coord(rng), coord(rng), size(rng), 0);
      f.height = f.width;
      faces.push_back(f & cv::Rect(0, 0, photo.width, photo.height));
    }
    for (const char* ratio : {"3:1", "1:2", "1:1"}) {
      CropOptions opt;
      opt.min_scale = trial % 2 ? 0.5f : 1.0f;
      const auto w = find_windows(map, photo, std::vector{aspect(ratio)}, opt, faces);
      const cv::Size win = w[0].rect.size();
      bool clean_exists = false;
      for (int y = 0; y <= photo.height - win.height && !clean_exists; ++y) {
        for (int x = 0; x <= photo.width - win.width && !clean_exists; ++x) {
          bool clean = true;
          for (const cv::Rect& f : faces) clean = clean && keeps_whole_or_out(cv::Rect(cv::Point(x, y), win), f);
          clean_exists = clean;
        }
      }
      bool chosen_clean = true;
      for (const cv::Rect& f : faces) chosen_clean = chosen_clean && keeps_whole_or_out(w[0].rect, f);
      EXPECT_EQ(chosen_clean, clean_exists) << ratio << " trial " << trial << " " << w[0].rect;
      if (opt.min_scale == 1.0f && clean_exists) {
        // No clean window of this size holds more face area (cores) than the chosen one.
        auto inside_area = [&](const cv::Rect& r) {
          int area = 0;
          for (const cv::Rect& f : faces) {
            const int tx = int(std::ceil(0.05 * f.width - 1e-4)), ty = int(std::ceil(0.05 * f.height - 1e-4));
            const cv::Rect core(f.x + tx, f.y + ty, f.width - 2 * tx, f.height - 2 * ty);
            if ((r & core) == core) area += core.area();
          }
          return area;
        };
        int most = 0;
        for (int y = 0; y <= photo.height - win.height; y += 1) {
          for (int x = 0; x <= photo.width - win.width; x += 1) {
            const cv::Rect r(cv::Point(x, y), win);
            bool clean = true;
            for (const cv::Rect& f : faces) clean = clean && keeps_whole_or_out(r, f);
            if (clean) most = std::max(most, inside_area(r));
          }
        }
        EXPECT_EQ(inside_area(w[0].rect), most) << ratio << " trial " << trial << " " << w[0].rect;
      }
      EXPECT_EQ(w[0].faces_cut == 0, chosen_clean) << ratio << " trial " << trial;
    }
  }
}

TEST(SmartCrop, RenderingResizesAndRefusesToUpscaleUnlessAllowed) {
  image::Image photo(cv::Mat(300, 400, CV_8UC3, cv::Scalar(10, 20, 30)));
  CropWindow w{aspect("16:9"), cv::Rect(0, 37, 400, 225), 1, 1};
  auto small = render_crop(photo, w, cv::Size(160, 90), false);
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->width(), 160);
  auto big = render_crop(photo, w, cv::Size(1280, 720), false);
  EXPECT_EQ(big.status().message(),
            "the 16x9 crop is 400x225 pixels, smaller than 1280x720; add --allow-upscale to enlarge it");
  auto allowed = render_crop(photo, w, cv::Size(1280, 720), true);
  ASSERT_TRUE(allowed.ok());
  EXPECT_EQ(allowed->height(), 720);
  auto plain = render_crop(photo, w, std::nullopt, false);
  EXPECT_EQ(plain->mat().size(), cv::Size(400, 225));
}

}  // namespace
}  // namespace atelier::vision
