// The deterministic format change (relayout_page): backgrounds, anchors, lengths, groups,
// clamping, text shrinking, photos' focus points, one undo step, errors, example designs.
#include "genai/relayout.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "design/renderer.h"
#include "design/scene_json.h"
#include "image/codec.h"
#include "support/scene_checks.h"
#include "support/test_support.h"
#include "vision/smart_crop.h"

namespace atelier::genai {
namespace {

using design::Block;
using design::BlockType;
using design::Engine;

// A 1080×1920 story (1). Going to 1280×720: sx = 1280/1080, sy = 720/1920 = 0.375 = s.
//   2  background shape covering the page (radius 40, stroke 8)
//   3  top-left shape (radius 24, stroke 4)
//   4  centred shape
//   5  bottom-right shape, rotated 30°
//   6  text centred horizontally, near the top (font 80, letter spacing 4)
//   7  group (start, centre) holding 8 (shape) and 9 (text, font 40)
//   10 a tall shape, 2400 high: 900 after scaling, too tall for the new page
//   11 a text that does not fit its box (font 200, auto_fit none)
//   12 the same text with auto_fit grow-height
constexpr const char* kStory = R"({
  "format": "atelier-scene", "version": 1,
  "pages": [{"id": 1, "type": "page", "width": 1080, "height": 1920, "fill": "#F4F1DE", "children": [
    {"id": 2, "type": "shape", "kind": "background", "x": 0, "y": 0, "width": 1080, "height": 1920,
     "corner_radius": 40, "stroke_color": "#000000", "stroke_width": 8},
    {"id": 3, "type": "shape", "x": 60, "y": 80, "width": 200, "height": 120, "corner_radius": 24,
     "stroke_color": "#FF0000", "stroke_width": 4},
    {"id": 4, "type": "shape", "x": 340, "y": 860, "width": 400, "height": 200},
    {"id": 5, "type": "shape", "x": 880, "y": 1720, "width": 160, "height": 160, "rotation": 30},
    {"id": 6, "type": "text", "x": 60, "y": 300, "width": 960, "height": 200, "text": "Hello", "font_size": 80,
     "letter_spacing": 4},
    {"id": 7, "type": "group", "x": 100, "y": 1300, "width": 300, "height": 100, "children": [
      {"id": 8, "type": "shape", "x": 100, "y": 1300, "width": 100, "height": 100},
      {"id": 9, "type": "text", "x": 220, "y": 1320, "width": 180, "height": 60, "text": "Go", "font_size": 40}
    ]},
    {"id": 10, "type": "shape", "x": 0, "y": -240, "width": 200, "height": 2400},
    {"id": 11, "type": "text", "x": 60, "y": 1500, "width": 960, "height": 120, "text": "Reach for the stars",
     "font_size": 200},
    {"id": 12, "type": "text", "x": 60, "y": 1500, "width": 960, "height": 120, "text": "Reach for the stars",
     "font_size": 200, "auto_fit": "grow-height"}
  ]}]
})";

design::Scene parse(const std::string& json) {
  auto loaded = design::parse_scene(json, "test.json");
  EXPECT_TRUE(loaded.ok()) << loaded.status().message();
  return loaded.ok() ? loaded->scene : design::Scene{};
}

struct Geometry {
  double x, y, w, h;
};

void expect_box(const Engine& e, design::BlockId id, Geometry g) {
  const Block* b = e.block(id);
  ASSERT_NE(b, nullptr) << id;
  EXPECT_EQ(b->x, g.x) << "block " << id;
  EXPECT_EQ(b->y, g.y) << "block " << id;
  EXPECT_EQ(b->width, g.w) << "block " << id;
  EXPECT_EQ(b->height, g.h) << "block " << id;
}

class StoryToLandscape : public ::testing::Test {
 protected:
  void SetUp() override {
    const Status s = relayout_page(engine_, 1, 1280, 720);
    ASSERT_TRUE(s.ok()) << s.message();
  }
  Engine engine_{parse(kStory)};
};

TEST_F(StoryToLandscape, ThePageTakesTheNewSize) {
  EXPECT_EQ(engine_.block(1)->width, 1280);
  EXPECT_EQ(engine_.block(1)->height, 720);
}

TEST_F(StoryToLandscape, ABackgroundIsStretched) {
  const Block& b = *engine_.block(2);
  EXPECT_EQ(b.x, 0);
  EXPECT_EQ(b.y, 0);
  EXPECT_DOUBLE_EQ(b.width, 1280);  // 1080 · (1280/1080)
  EXPECT_EQ(b.height, 720);         // 1920 · 0.375
  // Its lengths scale by s = 0.375 like everyone's.
  EXPECT_EQ(b.corner_radius, 15);
  EXPECT_EQ(b.stroke.width, 3);
}

TEST_F(StoryToLandscape, BlocksKeepTheirAnchors) {
  // Top-left: x' = 60·s, y' = 80·s.
  expect_box(engine_, 3, {22.5, 30, 75, 45});
  EXPECT_EQ(engine_.block(3)->corner_radius, 9);
  EXPECT_EQ(engine_.block(3)->stroke.width, 1.5);
  // Centre on both axes: x' = 1280/2 − 150/2, y' = 720/2 − 75/2.
  expect_box(engine_, 4, {565, 322.5, 150, 75});
  // Bottom-right: x' = 1280 − (1080 − 880 − 160)·s − 60, y' = 720 − (1920 − 1720 − 160)·s − 60.
  expect_box(engine_, 5, {1205, 645, 60, 60});
  EXPECT_EQ(engine_.block(5)->rotation, 30);  // kept
  // Centred horizontally (|540 − 540| = 0), top vertically: x' = 640 − 360/2, y' = 300·s.
  expect_box(engine_, 6, {460, 112.5, 360, 75});
}

TEST_F(StoryToLandscape, FontSizesAndLetterSpacingScale) {
  EXPECT_EQ(engine_.block(6)->text.font_size, 30);
  EXPECT_EQ(engine_.block(6)->text.letter_spacing, 1.5);
  EXPECT_EQ(engine_.block(9)->text.font_size, 15);
}

TEST_F(StoryToLandscape, AGroupsMembersFollowTheGroup) {
  // The group: start horizontally (|100| is the least), centre vertically (|1350 − 960| = 390
  // against 1300 and 520): X' = 100·s = 37.5, Y' = 360 + 390·s − 37.5/2 = 487.5.
  expect_box(engine_, 7, {37.5, 487.5, 112.5, 37.5});
  // Members: x' = X' + (x − X)·s.
  expect_box(engine_, 8, {37.5, 487.5, 37.5, 37.5});
  expect_box(engine_, 9, {82.5, 495, 67.5, 22.5});
}

TEST_F(StoryToLandscape, ABleedKeepsItsScaledWidth) {
  // It stuck out 240 above and below the old page. Scaled: x' = 0, y' = 360 − 900/2 = −90
  // (centred), 75×900: it sticks out 240·s = 90 on both sides, as much as it may.
  expect_box(engine_, 10, {0, -90, 75, 900});
}

TEST_F(StoryToLandscape, TextsThatDoNotFitGetTheLargestWholeSizeThatFits) {
  const Block& b = *engine_.block(11);
  // Anchored: centre horizontally, end vertically (|1920 − 1620| = 300 is the least).
  expect_box(engine_, 11, {460, 562.5, 360, 45});
  const double size = b.text.font_size;
  EXPECT_LT(size, 75);  // below 200·s
  EXPECT_EQ(size, std::floor(size));
  auto now = design::measure_text(b);
  ASSERT_TRUE(now.ok()) << now.status().message();
  EXPECT_TRUE(now->fits) << size;
  auto bigger = design::measure_text(b, size + 1);
  ASSERT_TRUE(bigger.ok()) << bigger.status().message();
  EXPECT_FALSE(bigger->fits) << size;
  // Grow-height texts grow instead: their size is only scaled.
  EXPECT_EQ(engine_.block(12)->text.font_size, 75);
}

TEST_F(StoryToLandscape, OneUndoStepRestoresTheScene) {
  const std::string before = design::scene_to_json(parse(kStory));
  EXPECT_NE(design::scene_to_json(engine_.scene()), before);
  ASSERT_TRUE(engine_.can_undo());
  ASSERT_TRUE(engine_.undo().ok());
  EXPECT_EQ(design::scene_to_json(engine_.scene()), before);
  EXPECT_EQ(engine_.scene(), parse(kStory));
  EXPECT_FALSE(engine_.can_undo());
}

// More of the rules, 1080×1920 → 1280×720 (s = 0.375):
//   2, 3  shapes whose centre is as close to the page's centre as their start (2) or end (3)
//         is to the page's edge: ties go to the centre
//   4     a shape covering exactly 90% of the page's width and all of its height: a background
//   5     one unit narrower: anchored (start horizontally; vertically start, centre and end
//         tie: centre)
//   6     a shape rotated 45° at the right edge: its rotated bounds are moved into the page
//   7     a group 2400 high (with 8, a shape, and 9, a text): too tall once scaled
constexpr const char* kRules = R"({
  "format": "atelier-scene", "version": 1,
  "pages": [{"id": 1, "type": "page", "width": 1080, "height": 1920, "children": [
    {"id": 2, "type": "shape", "x": 170, "y": 100, "width": 400, "height": 100},
    {"id": 3, "type": "shape", "x": 510, "y": 100, "width": 400, "height": 100},
    {"id": 4, "type": "shape", "x": 0, "y": 0, "width": 972, "height": 1920},
    {"id": 5, "type": "shape", "x": 0, "y": 0, "width": 971, "height": 1920},
    {"id": 6, "type": "shape", "x": 920, "y": 800, "width": 160, "height": 160, "rotation": 45},
    {"id": 7, "type": "group", "x": 300, "y": -240, "width": 200, "height": 2400, "children": [
      {"id": 8, "type": "shape", "x": 300, "y": -240, "width": 200, "height": 2400},
      {"id": 9, "type": "text", "x": 320, "y": 0, "width": 160, "height": 100, "text": "Hi", "font_size": 40}
    ]}
  ]},
  {"id": 10, "type": "page", "width": 500, "height": 500, "children": [
    {"id": 11, "type": "shape", "x": 400, "y": 400, "width": 200, "height": 200}
  ]}]
})";

TEST(Relayout, TiesBackgroundsRotationAndGroups) {
  const design::Scene before = parse(kRules);
  Engine e(before);
  RelayoutOptions anchors_only;  // 5 would be a panel hero carrying 6 (reflow: RelayoutReflow)
  anchors_only.reflow = false;
  ASSERT_TRUE(relayout_page(e, 1, 1280, 720, anchors_only).ok());
  // Ties: x' = 640 + (370 − 540)·s − 75 and 640 + (710 − 540)·s − 75; both start vertically.
  expect_box(e, 2, {501.25, 37.5, 150, 37.5});
  expect_box(e, 3, {628.75, 37.5, 150, 37.5});
  // 90%: stretched.
  EXPECT_EQ(e.block(4)->x, 0);
  EXPECT_EQ(e.block(4)->y, 0);
  EXPECT_DOUBLE_EQ(e.block(4)->width, 1152);  // 972 · 1280/1080
  EXPECT_EQ(e.block(4)->height, 720);
  // Below 90%: scaled by s; vertically centred (all three distances are 0).
  expect_box(e, 5, {0, 0, 364.125, 720});
  // End horizontally (x' = 1280 − 60 = 1220), centre vertically (y' = 360 − 80·s − 30 = 300).
  // Its rotated corners stuck out 80·√2 − 80 on the right of the old page; the bounds now
  // reach 1250 + 30·√2, exactly that bleed × s past 1280: not moved.
  EXPECT_NEAR(e.block(6)->x, 1220, 1e-9);
  EXPECT_EQ(e.block(6)->y, 300);
  EXPECT_EQ(e.block(6)->rotation, 45);
  // The group: centre on both axes: X' = 640 + (400 − 540)·s − 37.5 = 550, Y' = 360 − 450 = −90,
  // 75×900; members follow (9 at 557.5, 0, 60×37.5, font 15). The unit bled 240 above and
  // below the old page: 90 each side on the new one, so it stays.
  expect_box(e, 7, {550, -90, 75, 900});
  expect_box(e, 8, {550, -90, 75, 900});
  expect_box(e, 9, {557.5, 0, 60, 37.5});
  EXPECT_DOUBLE_EQ(e.block(9)->text.font_size, 15);
  // The other page is left alone.
  EXPECT_EQ(*e.block(10), *before.find(10));
  EXPECT_EQ(*e.block(11), *before.find(11));
}

TEST(Relayout, TextsThatFitKeepTheirScaledSize) {
  Engine e(parse(kStory));
  ASSERT_TRUE(relayout_page(e, 1, 1080, 1080).ok());
  // s = min(1, 1080/1920) = 0.5625: 80 → 45, 40 → 22.5 (fitting still).
  EXPECT_EQ(e.block(6)->text.font_size, 45);
  EXPECT_EQ(e.block(9)->text.font_size, 22.5);
}

TEST(Relayout, ShrinkingStopsAtOne) {
  // 20 lines can never fit in a 1-unit-high box: the size becomes 1.
  Engine e(parse(R"({"format": "atelier-scene", "version": 1, "pages": [{"id": 1, "type": "page",
    "width": 1000, "height": 1000, "children": [{"id": 2, "type": "text", "x": 0, "y": 0, "width": 100,
    "height": 1, "text": "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn\no\np\nq\nr\ns\nt", "font_size": 40}]}]})"));
  ASSERT_TRUE(relayout_page(e, 1, 500, 500).ok());
  EXPECT_EQ(e.block(2)->text.font_size, 1);
}

TEST(Relayout, Errors) {
  Engine e(parse(kStory));
  const std::string before = design::scene_to_json(e.scene());
  Status s = relayout_page(e, 99, 1280, 720);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "no block with id 99");
  s = relayout_page(e, 3, 1280, 720);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "block 3 (shape) is not a page");
  s = relayout_page(e, 1, 0, 720);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "the new page size must be positive, got 0x720");
  s = relayout_page(e, 1, 1280, -1.5);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "the new page size must be positive, got 1280x-1.5");
  s = relayout_page(e, 1, std::numeric_limits<double>::infinity(), 720);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(design::scene_to_json(e.scene()), before);
  EXPECT_FALSE(e.can_undo());
}

TEST(Relayout, AnEngineErrorRollsBack) {
  // 100 → 2000 on both axes: s = 20, and the text's font size 1000 would become 20000, past
  // the property's range, after the page and the shape have changed.
  Engine e(parse(R"({"format": "atelier-scene", "version": 1, "pages": [{"id": 1, "type": "page",
    "width": 100, "height": 100, "children": [
      {"id": 2, "type": "shape", "x": 10, "y": 10, "width": 20, "height": 20},
      {"id": 3, "type": "text", "x": 0, "y": 50, "width": 100, "height": 50, "text": "A", "font_size": 1000}]}]})"));
  const std::string before = design::scene_to_json(e.scene());
  const Status s = relayout_page(e, 1, 2000, 2000);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "block 3: font_size must be within 1..10000, got 20000");
  EXPECT_EQ(design::scene_to_json(e.scene()), before);
  EXPECT_FALSE(e.can_undo());
}

// ---------------------------------------------------------------------------------------
// Photos

// A page-filling photo (a background: stretched, so its box changes aspect) with its focus
// at (0.3, 0.9).
// ---------------------------------------------------------------------------------------
// Reflow of an orientation flip around the hero photo

// A story (1080×1920) with a background (2), an inset hero photo (3), a headline (4), a
// button (5) and a decoration (6).
constexpr const char* kHeroStory = R"({
  "format": "atelier-scene", "version": 1,
  "pages": [{"id": 1, "type": "page", "width": 1080, "height": 1920, "children": [
    {"id": 2, "type": "shape", "kind": "background", "x": 0, "y": 0, "width": 1080, "height": 1920},
    {"id": 3, "type": "image", "kind": "photo", "x": 60, "y": 340, "width": 960, "height": 980,
     "source": "/nonexistent/photo.jpg", "corner_radius": 40},
    {"id": 4, "type": "text", "kind": "headline", "x": 60, "y": 1370, "width": 960, "height": 260, "text": "Go",
     "font_size": 100},
    {"id": 5, "type": "shape", "kind": "cta", "x": 60, "y": 1790, "width": 440, "height": 96},
    {"id": 6, "type": "shape", "kind": "decoration", "x": 900, "y": 1760, "width": 120, "height": 120}
  ]}]
})";

TEST(RelayoutReflow, AStoryBecomesPhotoLeftTextRight) {
  Engine e(parse(kHeroStory));
  ASSERT_TRUE(relayout_page(e, 1, 1280, 720).ok());
  // Aspect ×3.16: reflow. Margin m = round(4% of 720) = 29. The hero's centre (540) is in
  // the left half and it was inset: left half less m, m/2 towards the middle.
  expect_box(e, 3, {29, 29, 596.5, 662});
  EXPECT_DOUBLE_EQ(e.block(3)->corner_radius, 40 * (596.5 / 960));  // × the smaller axis factor
  // Content: the union of 4 and 5 (60, 1370)–(1020, 1886), 960×516, into the right half
  // less m: (669, 29)–(1251, 691), 582×662; k = 582/960; centred vertically.
  const double k = 582.0 / 960, oy = 29 + (662 - 516 * k) / 2;
  expect_box(e, 4, {669, oy, 960 * k, 260 * k});
  EXPECT_DOUBLE_EQ(e.block(4)->text.font_size, 100 * k);
  expect_box(e, 5, {669, oy + 420 * k, 440 * k, 96 * k});
  // The decoration lies within the content's union: it flows with it. The background stretches.
  expect_box(e, 6, {669 + 840 * k, oy + 390 * k, 120 * k, 120 * k});
  expect_box(e, 2, {0, 0, 1280, 720});
}

TEST(RelayoutReflow, ALandscapeBecomesPhotoTopTextBelow) {
  Engine e(parse(R"({"format": "atelier-scene", "version": 1,
    "pages": [{"id": 1, "type": "page", "width": 1280, "height": 720, "children": [
      {"id": 2, "type": "text", "x": 60, "y": 200, "width": 520, "height": 120, "text": "Go", "font_size": 40},
      {"id": 3, "type": "image", "x": 640, "y": 0, "width": 640, "height": 720, "source": "/nonexistent/a.jpg"}
    ]}]})"));
  ASSERT_TRUE(relayout_page(e, 1, 1080, 1920).ok());
  // The hero touched the edges: no inset; its vertical centre is the old middle: top half.
  expect_box(e, 3, {0, 0, 1080, 960});
  // m = round(43.2) = 43; region (43, 1003)–(1037, 1877), 994×874; k = min(994/520, 874/120, 2).
  const double k = 994.0 / 520;
  expect_box(e, 2, {43, 1003 + (874 - 120 * k) / 2, 994, 120 * k});
  EXPECT_DOUBLE_EQ(e.block(2)->text.font_size, 40 * k);
}

TEST(RelayoutReflow, APanelCarriesItsLogoAndOuterDecorationsKeepTheirAnchors) {
  // A 1050×600 card: a colour band (2) with the logo (3) on it, a name (4), a rule (5,
  // decoration, between the texts), contact lines (6) and a corner ornament (7, decoration).
  Engine e(parse(R"({"format": "atelier-scene", "version": 1,
    "pages": [{"id": 1, "type": "page", "width": 1050, "height": 600, "children": [
      {"id": 2, "type": "shape", "kind": "background", "x": 0, "y": 0, "width": 360, "height": 600, "fill": "#2A9D8F"},
      {"id": 3, "type": "shape", "kind": "logo", "x": 110, "y": 170, "width": 140, "height": 140},
      {"id": 4, "type": "text", "x": 420, "y": 140, "width": 580, "height": 70, "text": "Ada", "font_size": 56},
      {"id": 5, "type": "shape", "kind": "decoration", "x": 420, "y": 290, "width": 220, "height": 4},
      {"id": 6, "type": "text", "x": 420, "y": 320, "width": 580, "height": 170, "text": "ada@example", "font_size": 28},
      {"id": 7, "type": "shape", "kind": "decoration", "x": 1010, "y": 560, "width": 30, "height": 30}
    ]}]})"));
  ASSERT_TRUE(relayout_page(e, 1, 600, 1050).ok());
  // No photo: the band, which carries the logo, is the hero; its centre (300) is the old
  // middle: the top half, no inset (it touched the edges).
  expect_box(e, 2, {0, 0, 600, 525});
  // The logo keeps its place on the band: the band's old box scaled by min(600/360, 525/600)
  // = 0.875 into the new one, centred horizontally.
  const double kh = 0.875, ox = (600 - 360 * kh) / 2;
  expect_box(e, 3, {ox + 110 * kh, 170 * kh, 140 * kh, 140 * kh});
  // Content: 4, 6 and the rule inside their union (420, 140)–(1000, 490) into
  // (24, 549)–(576, 1026) (m = 24): k = 552/580, centred vertically.
  const double k = 552.0 / 580, oy = 549 + (477 - 350 * k) / 2;
  expect_box(e, 4, {24, oy, 580 * k, 70 * k});
  expect_box(e, 5, {24, oy + 150 * k, 220 * k, 4 * k});
  expect_box(e, 6, {24, oy + 180 * k, 580 * k, 170 * k});
  // The ornament outside the union keeps its anchors (end, end), s = min(600/1050, 1050/600).
  const double s = 600.0 / 1050;
  expect_box(e, 7, {600 - 10 * s - 30 * s, 1050 - 10 * s - 30 * s, 30 * s, 30 * s});
}

TEST(RelayoutReflow, UnitsOnThePhotoStayOnItButShadesDoNot) {
  Engine e(parse(R"({"format": "atelier-scene", "version": 1,
    "pages": [{"id": 1, "type": "page", "width": 1280, "height": 720, "children": [
      {"id": 2, "type": "image", "x": 640, "y": 0, "width": 640, "height": 720, "source": "/nonexistent/a.jpg"},
      {"id": 3, "type": "shape", "kind": "background", "x": 640, "y": 0, "width": 80, "height": 720, "opacity": 0.6},
      {"id": 4, "type": "shape", "kind": "logo", "x": 1180, "y": 620, "width": 60, "height": 60},
      {"id": 5, "type": "text", "x": 60, "y": 200, "width": 520, "height": 120, "text": "Go", "font_size": 40}
    ]}]})"));
  ASSERT_TRUE(relayout_page(e, 1, 1080, 1920).ok());
  expect_box(e, 2, {0, 0, 1080, 960});
  // The logo on the photo: the photo's box scaled by min(1080/640, 960/720) = 4/3, centred.
  const double kh = 4.0 / 3, ox = (1080 - 640 * kh) / 2;
  expect_box(e, 4, {ox + 540 * kh, 620 * kh, 60 * kh, 60 * kh});
  // The shade is layout, not part of the photo: it goes with the content, below the photo.
  EXPECT_GE(e.block(3)->y, 960);
  EXPECT_GE(e.block(5)->y, 960);
}

TEST(RelayoutReflow, SmallChangesNoHeroOrReflowOffKeepTheAnchors) {
  // 1080×1920 → 1080×1350: aspect ×1.42, below 1.6: anchors (s = 1350/1920, the hero centred).
  Engine small(parse(kHeroStory));
  ASSERT_TRUE(relayout_page(small, 1, 1080, 1350).ok());
  const double s = 1350.0 / 1920;
  expect_box(small, 3, {540 - 480 * s, 675 + (830 - 960) * s - 490 * s, 960 * s, 980 * s});
  Engine e(parse(kHeroStory));
  RelayoutOptions off;
  off.reflow = false;
  ASSERT_TRUE(relayout_page(e, 1, 1280, 720, off).ok());
  // Anchors, s = 0.375: the hero centred on both axes.
  expect_box(e, 3, {640 + (540 - 540) * 0.375 - 180, 360 + (830 - 960) * 0.375 - 183.75, 360, 367.5});
  // Without a cover image of 15% of the page there is no hero: the kStory scene has none
  // (its anchors are checked above), and a contain-fitted photo is none either.
  auto contain = parse(kHeroStory);
  contain.find(3)->image.fit = design::ImageFit::kContain;
  Engine c(contain);
  ASSERT_TRUE(relayout_page(c, 1, 1280, 720).ok());
  expect_box(c, 3, {460, 127.5, 360, 367.5});
}

std::string photo_scene(const std::string& source, double w, double h, const std::string& fit = "cover") {
  return R"({"format": "atelier-scene", "version": 1, "pages": [{"id": 1, "type": "page", "width": )" +
         std::to_string(w) + R"(, "height": )" + std::to_string(h) +
         R"(, "children": [{"id": 2, "type": "image", "x": 0, "y": 0, "width": )" + std::to_string(w) +
         R"(, "height": )" + std::to_string(h) + R"(, "source": ")" + source +
         R"(", "fit": ")" + fit + R"(", "focus_x": 0.3, "focus_y": 0.9}]}]})";
}

// The centre of smart crop's best window of `aspect` (fast saliency) in a sample photo,
// normalised to the photo.
cv::Point2d window_centre(const std::string& sample, const vision::Aspect& aspect) {
  auto photo = image::read_image(testing::sample(sample));
  EXPECT_TRUE(photo.ok()) << photo.status().message();
  if (!photo.ok()) return {};
  vision::CropOptions options;
  options.saliency.source = vision::SaliencyOptions::Source::kFast;
  auto crop = vision::smart_crop(*photo, std::vector<vision::Aspect>{aspect}, options);
  EXPECT_TRUE(crop.ok()) << crop.status().message();
  if (!crop.ok()) return {};
  const cv::Rect r = crop->windows.front().rect;
  return {(r.x + r.width / 2.0) / photo->width(), (r.y + r.height / 2.0) / photo->height()};
}

TEST(RelayoutPhotos, TheFocusMovesOnTheCroppedAxisOnly) {
  // The astronaut (512×512) in a 16:9 box: the window is cropped vertically.
  Engine wide(parse(photo_scene(testing::sample("astronaut.png").string(), 1080, 1920)));
  ASSERT_TRUE(relayout_page(wide, 1, 1280, 720).ok());
  EXPECT_EQ(wide.block(2)->image.focus_x, 0.3);
  const double fy = wide.block(2)->image.focus_y;
  EXPECT_NE(fy, 0.9);
  // A 288-row window's centre lies within 144..368 of 512 rows: the centre of smart crop's
  // window for 16:9 with fast saliency.
  EXPECT_GE(fy, 144.0 / 512);
  EXPECT_LE(fy, 368.0 / 512);
  EXPECT_DOUBLE_EQ(fy, window_centre("astronaut.png", {16, 9, "16:9"}).y);

  // The coffee cup (600×400) in a square box: the window is cropped horizontally.
  Engine square(parse(photo_scene(testing::sample("coffee.png").string(), 1080, 1920)));
  ASSERT_TRUE(relayout_page(square, 1, 1080, 1080).ok());
  EXPECT_EQ(square.block(2)->image.focus_y, 0.9);
  const double fx = square.block(2)->image.focus_x;
  EXPECT_NE(fx, 0.3);
  // A 400-column window's centre lies within 200..400 of 600 columns.
  EXPECT_GE(fx, 200.0 / 600);
  EXPECT_LE(fx, 400.0 / 600);
  EXPECT_DOUBLE_EQ(fx, window_centre("coffee.png", {1, 1, "1:1"}).x);
}

TEST(RelayoutPhotos, RelativeSourcesResolveAgainstTheBaseDirectory) {
  Engine e(parse(photo_scene("astronaut.png", 1080, 1920)));
  RelayoutOptions options;
  options.base_dir = testing::sample("astronaut.png").parent_path();
  ASSERT_TRUE(relayout_page(e, 1, 1280, 720, options).ok());
  EXPECT_EQ(e.block(2)->image.focus_x, 0.3);
  EXPECT_NE(e.block(2)->image.focus_y, 0.9);
}

TEST(RelayoutPhotos, NoCropNoChange) {
  // A square photo in a square box: nothing is cropped, the designer's focus stays.
  Engine e(parse(photo_scene(testing::sample("astronaut.png").string(), 1080, 1920)));
  ASSERT_TRUE(relayout_page(e, 1, 1080, 1080).ok());
  EXPECT_EQ(e.block(2)->image.focus_x, 0.3);
  EXPECT_EQ(e.block(2)->image.focus_y, 0.9);
  // Photos that are not cropped by their box (fit contain or fill) keep their focus.
  for (const char* fit : {"contain", "fill"}) {
    Engine other(parse(photo_scene(testing::sample("astronaut.png").string(), 1080, 1920, fit)));
    ASSERT_TRUE(relayout_page(other, 1, 1280, 720).ok());
    EXPECT_EQ(other.block(2)->image.focus_x, 0.3) << fit;
    EXPECT_EQ(other.block(2)->image.focus_y, 0.9) << fit;
  }
}

TEST(RelayoutPhotos, WithoutSaliencyOrFileTheFocusStays) {
  RelayoutOptions off;
  off.use_saliency = false;
  Engine e(parse(photo_scene(testing::sample("astronaut.png").string(), 1080, 1920)));
  ASSERT_TRUE(relayout_page(e, 1, 1280, 720, off).ok());
  EXPECT_EQ(e.block(2)->image.focus_x, 0.3);
  EXPECT_EQ(e.block(2)->image.focus_y, 0.9);
  EXPECT_DOUBLE_EQ(e.block(2)->width, 1280);  // the layout itself still happens
  // A file that cannot be read is skipped silently.
  Engine missing(parse(photo_scene("/nonexistent/photo.png", 1080, 1920)));
  ASSERT_TRUE(relayout_page(missing, 1, 1280, 720).ok());
  EXPECT_EQ(missing.block(2)->image.focus_x, 0.3);
  EXPECT_EQ(missing.block(2)->image.focus_y, 0.9);
}

// ---------------------------------------------------------------------------------------
// The example designs

TEST(RelayoutExamples, EveryBlockEndsInsideTheNewPageOrKeepsItsBleed) {
  const std::filesystem::path dir = std::filesystem::path(ATELIER_SOURCE_DIR) / "examples" / "designs";
  int designs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    ++designs;
    for (const auto& [w, h] : {std::pair{1280.0, 720.0}, std::pair{1080.0, 1080.0}}) {
      auto loaded = design::load_scene(entry.path());
      ASSERT_TRUE(loaded.ok()) << loaded.status().message();
      Engine e(loaded->scene);
      RelayoutOptions options;
      options.base_dir = dir;
      const design::BlockId page = loaded->scene.pages.front();
      const Status s = relayout_page(e, page, w, h, options);
      ASSERT_TRUE(s.ok()) << entry.path().filename() << ": " << s.message();
      const std::string where = entry.path().filename().string() + " to " + std::to_string(int(w)) + "x" +
                                std::to_string(int(h));
      EXPECT_EQ(e.block(page)->width, w) << where;
      EXPECT_EQ(e.block(page)->height, h) << where;
      // Inside the page, or a deliberate bleed (the story's sun) kept, still partly on it.
      EXPECT_THAT(testing::page_bound_problems(loaded->scene, e.scene()), ::testing::IsEmpty()) << where;
      for (design::BlockId id : e.scene().descendants(page)) {
        const Block& b = *e.block(id);
        if (b.type == BlockType::kText && b.text.auto_fit != design::AutoFit::kGrowHeight) {
          auto m = design::measure_text(b);
          ASSERT_TRUE(m.ok()) << m.status().message();
          EXPECT_TRUE(m->fits || b.text.font_size == 1) << where << ": text " << id << " (" << b.name << ") at "
                                                        << b.text.font_size;
        }
      }
      // One step back to the design as loaded (none when nothing changed: the thumbnail is
      // 1280×720 already, with every block inside the page).
      if (e.scene() == loaded->scene) {
        EXPECT_EQ(where, "youtube-thumbnail.json to 1280x720");
        EXPECT_FALSE(e.can_undo()) << where;
      } else {
        ASSERT_TRUE(e.undo().ok()) << where;
        EXPECT_EQ(design::scene_to_json(e.scene()), design::scene_to_json(loaded->scene)) << where;
        EXPECT_FALSE(e.can_undo()) << where;
      }
    }
  }
  EXPECT_EQ(designs, 6);
}

}  // namespace
}  // namespace atelier::genai
