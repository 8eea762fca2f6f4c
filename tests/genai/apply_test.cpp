// Applying change sets: each change kind, one undo step, rollback, clean-up (clamp, text
// shrink, overlaps) and the asset search for changed alt texts.
#include "genai/apply.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "design/renderer.h"
#include "design/scene_json.h"
#include "support/test_support.h"

namespace atelier::genai {
namespace {
namespace fs = std::filesystem;
using design::BlockType;
using design::PropertyValue;

// A 1080×1080 page (1) with: 2 photo (image), 3 headline (text), 4 logo (shape),
// 5 a group holding 6 (button shape) and 7 (its label), 8 a decoration partly off the page.
constexpr const char* kScene = R"({
  "format": "atelier-scene", "version": 1,
  "pages": [{"id": 1, "type": "page", "width": 1080, "height": 1080, "children": [
    {"id": 2, "type": "image", "name": "Photo", "kind": "photo", "x": 0, "y": 0, "width": 1080, "height": 600,
     "source": "old.jpg", "alt": "a field of tulips"},
    {"id": 3, "type": "text", "name": "Headline", "kind": "headline", "x": 60, "y": 640, "width": 600, "height": 100,
     "text": "Spring sale", "font_size": 64},
    {"id": 4, "type": "shape", "name": "Logo", "kind": "logo", "x": 900, "y": 900, "width": 120, "height": 120},
    {"id": 5, "type": "group", "name": "Button", "x": 60, "y": 900, "width": 400, "height": 100, "children": [
      {"id": 6, "type": "shape", "kind": "cta", "x": 60, "y": 900, "width": 400, "height": 100},
      {"id": 7, "type": "text", "kind": "cta", "x": 80, "y": 920, "width": 360, "height": 60, "text": "Buy now"}
    ]},
    {"id": 8, "type": "shape", "name": "Sun", "kind": "decoration", "x": 900, "y": -100, "width": 300, "height": 300}
  ]}]
})";

design::Scene scene() {
  auto loaded = design::parse_scene(kScene, "test.json");
  EXPECT_TRUE(loaded.ok()) << loaded.status().message();
  return loaded->scene;
}

// old_value is not read by the applier.
PropertyChange change(design::BlockId id, std::string property, PropertyValue v, const design::Engine&) {
  return {id, std::move(property), PropertyValue(0.0), std::move(v)};
}

bool has_note(const ApplyReport& r, const std::string& text) {
  return std::find(r.notes.begin(), r.notes.end(), text) != r.notes.end();
}

std::string notes(const ApplyReport& r) {
  std::string s;
  for (const auto& n : r.notes) s += n + "\n";
  return s;
}

TEST(Apply, ModifiesProperties) {
  design::Engine e(scene());
  ChangeSet cs;
  cs.modified.push_back(change(3, "text_color", PropertyValue(std::string("#FF0000")), e));
  cs.modified.push_back(change(4, "opacity", PropertyValue(0.5), e));
  cs.modified.push_back(change(3, "font_weight", PropertyValue(700LL), e));
  auto r = apply_changes(e, cs, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->applied, 3);
  EXPECT_EQ(design::color_to_hex(e.block(3)->text.color), "#FF0000");
  EXPECT_EQ(e.block(4)->opacity, 0.5);
  EXPECT_EQ(e.block(3)->text.font_weight, 700);
  EXPECT_TRUE(r->notes.empty()) << notes(*r);
}

TEST(Apply, AddsBlocksWithTheirPropertiesAndPlace) {
  design::Engine e(scene());
  ChangeSet cs;
  AddedBlock text;
  text.type = BlockType::kText;
  text.parent = 1;
  text.index = 0;
  text.properties = {{"text", PropertyValue(std::string("New!"))}, {"x", PropertyValue(100.0)},
                     {"y", PropertyValue(780.0)}, {"width", PropertyValue(300.0)}, {"height", PropertyValue(60.0)},
                     {"kind", PropertyValue(std::string("badge"))}};
  AddedBlock in_group;
  in_group.type = BlockType::kShape;
  in_group.parent = 5;
  in_group.properties = {{"x", PropertyValue(70.0)}, {"y", PropertyValue(910.0)}, {"width", PropertyValue(20.0)},
                         {"height", PropertyValue(20.0)}};
  cs.added = {text, in_group};
  auto r = apply_changes(e, cs, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->applied, 2);
  const design::Block* page = e.block(1);
  const design::BlockId new_text = page->children.front();  // index 0: at the bottom
  EXPECT_EQ(new_text, 9);
  EXPECT_EQ(e.block(9)->text.content, "New!");
  EXPECT_EQ(e.block(9)->kind, "badge");
  EXPECT_EQ(e.block(9)->x, 100);
  EXPECT_EQ(e.block(9)->height, 60);
  EXPECT_EQ(e.block(5)->children.back(), 10);  // -1: on top in its group
  EXPECT_EQ(e.block(10)->parent, 5);
}

TEST(Apply, RemovalsNeedAllowDelete) {
  ChangeSet cs;
  cs.removed = {4, 5, 7};  // 7 goes with its group 5
  {
    design::Engine e(scene());
    auto r = apply_changes(e, cs, {});
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->applied, 0);
    EXPECT_EQ(r->skipped_removals, (std::vector<design::BlockId>{4, 5, 7}));
    EXPECT_EQ(e.scene(), scene());
    EXPECT_FALSE(e.can_undo());  // nothing changed: no undo step
  }
  design::Engine e(scene());
  ApplyOptions opt;
  opt.allow_delete = true;
  auto r = apply_changes(e, cs, opt);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->applied, 3);
  EXPECT_TRUE(r->skipped_removals.empty());
  EXPECT_FALSE(e.block(4));
  EXPECT_FALSE(e.block(5));
  EXPECT_FALSE(e.block(6));
  EXPECT_FALSE(e.block(7));
}

TEST(Apply, OneUndoStepUndoesTheChangesAndTheCleanUp) {
  design::Engine e(scene());
  ChangeSet cs;
  cs.modified.push_back(change(4, "x", PropertyValue(1000.0), e));  // clamped back
  cs.modified.push_back(change(3, "text", PropertyValue(std::string("Spring sale: everything must go")), e));  // shrunk
  AddedBlock added;
  added.type = BlockType::kShape;
  added.parent = 1;
  cs.added = {added};
  cs.removed = {8};
  ApplyOptions opt;
  opt.allow_delete = true;
  auto r = apply_changes(e, cs, opt);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(has_note(*r, "clamped 4 into the page")) << notes(*r);
  EXPECT_LT(e.block(3)->text.font_size, 64);
  ASSERT_TRUE(e.can_undo());
  ASSERT_TRUE(e.undo().ok());
  EXPECT_EQ(e.scene(), scene());
  EXPECT_FALSE(e.can_undo());
  ASSERT_TRUE(e.redo().ok());
  EXPECT_EQ(e.block(4)->x, 960);
}

TEST(Apply, AnEngineErrorRollsEverythingBack) {
  const design::Scene before = scene();
  {
    design::Engine e(before);
    ChangeSet cs;
    cs.modified.push_back(change(3, "text", PropertyValue(std::string("changed")), e));
    cs.modified.push_back(change(4, "opacity", PropertyValue(2.0), e));  // out of range
    auto r = apply_changes(e, cs, {});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("opacity"), std::string::npos) << r.status().message();
    EXPECT_EQ(e.scene(), before);
    EXPECT_FALSE(e.can_undo());
    EXPECT_FALSE(e.in_transaction());
  }
  {
    design::Engine e(before);
    ChangeSet cs;
    cs.modified.push_back(change(3, "text", PropertyValue(std::string("changed")), e));
    AddedBlock bad;
    bad.type = BlockType::kText;
    bad.parent = 3;  // a text cannot hold blocks
    cs.added = {bad};
    auto r = apply_changes(e, cs, {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(e.scene(), before);
  }
  {
    design::Engine e(before);
    ChangeSet cs;
    cs.modified.push_back(change(99, "x", PropertyValue(1.0), e));
    auto r = apply_changes(e, cs, {});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
    EXPECT_EQ(e.scene(), before);
  }
  {
    design::Engine e(before);
    ChangeSet cs;
    cs.removed = {42};  // no such block
    ApplyOptions opt;
    opt.allow_delete = true;
    EXPECT_FALSE(apply_changes(e, cs, opt).ok());
    EXPECT_EQ(e.scene(), before);
  }
  {
    design::Engine e(before);
    ApplyOptions opt;
    opt.min_font_scale = 1.5;
    EXPECT_EQ(apply_changes(e, {}, opt).status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(Apply, ClampsChangedAndAddedBlocksIntoThePage) {
  design::Engine e(scene());
  ChangeSet cs;
  cs.modified.push_back(change(4, "x", PropertyValue(1000.0), e));   // 1000 + 120 > 1080
  cs.modified.push_back(change(4, "y", PropertyValue(-30.0), e));
  cs.modified.push_back(change(2, "width", PropertyValue(2000.0), e));  // larger than the page
  cs.modified.push_back(change(8, "fill", PropertyValue(std::string("#FF0000")), e));  // bleeds as before: kept
  AddedBlock added;
  added.type = BlockType::kShape;
  added.parent = 1;
  added.properties = {{"x", PropertyValue(-50.0)}, {"y", PropertyValue(1000.0)}, {"width", PropertyValue(100.0)},
                      {"height", PropertyValue(100.0)}};
  cs.added = {added};
  auto r = apply_changes(e, cs, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(e.block(4)->x, 960);
  EXPECT_EQ(e.block(4)->y, 0);
  EXPECT_EQ(e.block(2)->width, 1080);
  EXPECT_EQ(e.block(2)->x, 0);
  EXPECT_EQ(e.block(8)->y, -100);
  EXPECT_EQ(e.block(8)->x, 900);
  EXPECT_EQ(e.block(9)->x, 0);
  EXPECT_EQ(e.block(9)->y, 980);
  EXPECT_EQ(e.block(9)->width, 100);
  EXPECT_TRUE(has_note(*r, "clamped 4 into the page")) << notes(*r);
  EXPECT_TRUE(has_note(*r, "clamped 2 into the page")) << notes(*r);
  EXPECT_TRUE(has_note(*r, "clamped 9 into the page")) << notes(*r);
  EXPECT_FALSE(has_note(*r, "clamped 8 into the page")) << notes(*r);
}

TEST(Apply, ASmallerPageClampsEveryBlockOnIt) {
  design::Engine e(scene());
  ChangeSet cs;
  cs.modified.push_back(change(1, "width", PropertyValue(800.0), e));  // only the page changes
  auto r = apply_changes(e, cs, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->applied, 1);
  EXPECT_EQ(e.block(4)->x, 680);      // 900 + 120 > 800: moved in
  EXPECT_EQ(e.block(2)->x, 0);        // 1080 wide: shrunk to the page on that axis only
  EXPECT_EQ(e.block(2)->width, 800);
  EXPECT_EQ(e.block(2)->height, 600);
  EXPECT_EQ(e.block(3)->x, 60);       // inside the new page: untouched
  EXPECT_EQ(e.block(8)->x, 620);      // the bleed stays as wide as before (120 past the edge)
  EXPECT_EQ(e.block(8)->y, -100);
  EXPECT_TRUE(has_note(*r, "clamped 4 into the page")) << notes(*r);
  EXPECT_TRUE(has_note(*r, "clamped 2 into the page")) << notes(*r);
  EXPECT_FALSE(has_note(*r, "clamped 3 into the page")) << notes(*r);
}

TEST(Apply, ABleedMayNotGrowButStays) {
  design::Engine e(scene());
  ChangeSet cs;
  cs.modified.push_back(change(8, "y", PropertyValue(-200.0), e));  // further out at the top than before (-100)
  auto r = apply_changes(e, cs, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(e.block(8)->y, -100);
  EXPECT_EQ(e.block(8)->x, 900);  // its right side bled 120 before: still may
  EXPECT_TRUE(has_note(*r, "clamped 8 into the page")) << notes(*r);
}

TEST(Apply, AClampedGroupMovesItsMembers) {
  design::Engine e(scene());
  ChangeSet cs;
  cs.modified.push_back(change(5, "x", PropertyValue(900.0), e));  // the group and its members: 900..1300
  cs.modified.push_back(change(6, "x", PropertyValue(900.0), e));
  cs.modified.push_back(change(7, "x", PropertyValue(920.0), e));
  auto r = apply_changes(e, cs, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(e.block(5)->x, 680);
  EXPECT_EQ(e.block(6)->x, 680);
  EXPECT_EQ(e.block(7)->x, 700);
  EXPECT_EQ(e.block(7)->width, 360);
  EXPECT_TRUE(has_note(*r, "clamped 5 into the page")) << notes(*r);
  EXPECT_FALSE(has_note(*r, "clamped 6 into the page")) << notes(*r);  // inside once its group moved
}

TEST(Apply, TextsThatNoLongerFitAreShrunkAsMeasured) {
  design::Engine e(scene());
  ChangeSet cs;
  cs.modified.push_back(change(3, "text", PropertyValue(std::string("Spring sale this weekend")), e));
  auto r = apply_changes(e, cs, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  const design::Block& b = *e.block(3);
  const double size = b.text.font_size;
  EXPECT_LT(size, 64);
  EXPECT_GE(size, 64 * 0.6);
  EXPECT_EQ(size, std::floor(size));
  EXPECT_TRUE(design::measure_text(b)->fits);
  EXPECT_FALSE(design::measure_text(b, size + 1)->fits);  // the largest whole size that fits
  EXPECT_TRUE(has_note(*r, "shrank 3's text 64 -> " + design::format_property(PropertyValue(size)))) << notes(*r);
  EXPECT_FALSE(has_note(*r, "3's text still overflows its box")) << notes(*r);
}

TEST(Apply, ShrinkingStopsAtTheMinimumScale) {
  design::Engine e(scene());
  ChangeSet cs;
  cs.modified.push_back(change(
      3, "text",
      PropertyValue(std::string("Spring sale: every flower, every pot and every watering can in the shop at half price")),
      e));
  auto r = apply_changes(e, cs, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(e.block(3)->text.font_size, 39);  // ceil(0.6 × 64)
  EXPECT_FALSE(design::measure_text(*e.block(3))->fits);
  EXPECT_TRUE(has_note(*r, "shrank 3's text 64 -> 39")) << notes(*r);
  EXPECT_TRUE(has_note(*r, "3's text still overflows its box")) << notes(*r);
}

TEST(Apply, ATextThatAlreadyOverflowedIsLeftAlone) {
  design::Scene s = scene();
  s.blocks[3].text.content = "Spring sale: every flower, every pot and every watering can in the shop at half price";
  ASSERT_FALSE(design::measure_text(s.blocks[3])->fits);
  design::Engine e(s);
  ChangeSet cs;
  cs.modified.push_back(change(3, "text_color", PropertyValue(std::string("#00FF00")), e));
  auto r = apply_changes(e, cs, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(e.block(3)->text.font_size, 64);
  EXPECT_TRUE(r->notes.empty()) << notes(*r);
}

TEST(Apply, ANewTextIsShrunkToFit) {
  design::Engine e(scene());
  ChangeSet cs;
  AddedBlock t;
  t.type = BlockType::kText;
  t.parent = 1;
  t.properties = {{"x", PropertyValue(700.0)}, {"y", PropertyValue(640.0)}, {"width", PropertyValue(300.0)},
                  {"height", PropertyValue(60.0)}, {"font_size", PropertyValue(60.0)},
                  {"text", PropertyValue(std::string("Limited"))}};
  cs.added = {t};
  auto r = apply_changes(e, cs, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_LT(e.block(9)->text.font_size, 60);
  EXPECT_TRUE(design::measure_text(*e.block(9))->fits);
}

TEST(Apply, OverlapsAreReportedOnlyWhenNew) {
  design::Engine e(scene());
  ChangeSet cs;
  cs.modified.push_back(change(3, "y", PropertyValue(860.0), e));  // onto the button group and the logo
  cs.modified.push_back(change(3, "x", PropertyValue(400.0), e));
  auto r = apply_changes(e, cs, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  // The headline (400..1000 × 860..960) now crosses the button (6), its label (7) and the
  // logo (4); the decoration (8) is not reported; the photo (2) is not touched.
  EXPECT_TRUE(has_note(*r, "overlap: 3 (Headline) now overlaps 4 (Logo)")) << notes(*r);
  EXPECT_TRUE(has_note(*r, "overlap: 3 (Headline) now overlaps 6 (cta)")) << notes(*r);
  EXPECT_TRUE(has_note(*r, "overlap: 3 (Headline) now overlaps 7 (cta)")) << notes(*r);
  EXPECT_EQ(r->notes.size(), 3u) << notes(*r);

  // Overlaps that were there before are not reported again, nor is the label inside its
  // button, nor anything with the decoration.
  ChangeSet again;
  again.modified.push_back(change(3, "x", PropertyValue(410.0), e));
  again.modified.push_back(change(6, "fill", PropertyValue(std::string("#00FF00")), e));
  again.modified.push_back(change(4, "x", PropertyValue(880.0), e));  // into the sun's box
  auto r2 = apply_changes(e, again, {});
  ASSERT_TRUE(r2.ok()) << r2.status().message();
  EXPECT_TRUE(r2->notes.empty()) << notes(*r2);
}

TEST(Apply, InvisibleBlocksDoNotOverlap) {
  design::Scene s = scene();
  s.blocks[4].visible = false;
  design::Engine e(s);
  ChangeSet cs;
  cs.modified.push_back(change(3, "x", PropertyValue(800.0), e));
  cs.modified.push_back(change(3, "y", PropertyValue(920.0), e));
  cs.modified.push_back(change(3, "width", PropertyValue(200.0), e));
  auto r = apply_changes(e, cs, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  for (const auto& n : r->notes) EXPECT_EQ(n.find("overlap"), std::string::npos) << n;
}

void write_text(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

TEST(Apply, ChangedAltTextsFindAnAsset) {
  TempDir dir = testing::temp_dir();
  write_text(dir.path() / "bike.jpg", "x");
  write_text(dir.path() / "tulips.jpg", "x");
  write_text(dir.path() / "assets.json", R"([
    {"file": "bike.jpg", "caption": "a red bicycle against a wall", "tags": ["bicycle", "red", "street"]},
    {"file": "tulips.jpg", "caption": "tulips", "tags": ["flower"]}
  ])");
  auto lib = open_asset_library(dir.path());
  ASSERT_TRUE(lib.ok()) << lib.status().message();
  ApplyOptions opt;
  opt.assets = lib->get();
  {
    design::Engine e(scene());
    ChangeSet cs;
    cs.modified.push_back(change(2, "alt", PropertyValue(std::string("A red bicycle")), e));
    auto r = apply_changes(e, cs, opt);
    ASSERT_TRUE(r.ok()) << r.status().message();
    const std::string path = fs::absolute(dir.path() / "bike.jpg").lexically_normal().string();
    EXPECT_EQ(e.block(2)->image.source, path);
    EXPECT_TRUE(has_note(*r, "2: new image for 'A red bicycle': " + path)) << notes(*r);
    EXPECT_EQ(r->applied, 1);
    ASSERT_TRUE(e.undo().ok());  // the search is part of the one step
    EXPECT_EQ(e.scene(), scene());
  }
  {
    design::Engine e(scene());
    ChangeSet cs;
    cs.modified.push_back(change(2, "alt", PropertyValue(std::string("a blue sports car on a race track")), e));
    auto r = apply_changes(e, cs, opt);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(e.block(2)->image.source, "old.jpg");
    EXPECT_TRUE(has_note(*r, "2: no asset for 'a blue sports car on a race track'; image kept")) << notes(*r);
  }
  {
    // A weak match (one word of three, in the caption) is below the threshold.
    design::Engine e(scene());
    ChangeSet cs;
    cs.modified.push_back(change(2, "alt", PropertyValue(std::string("red tulips in a vase")), e));
    opt.min_asset_score = 0.9;
    auto r = apply_changes(e, cs, opt);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(e.block(2)->image.source, "old.jpg");
    opt.min_asset_score = 0.5;
  }
  {
    // The changes set the source themselves: no search.
    design::Engine e(scene());
    ChangeSet cs;
    cs.modified.push_back(change(2, "alt", PropertyValue(std::string("A red bicycle")), e));
    cs.modified.push_back(change(2, "source", PropertyValue(std::string("mine.jpg")), e));
    auto r = apply_changes(e, cs, opt);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(e.block(2)->image.source, "mine.jpg");
    EXPECT_TRUE(r->notes.empty()) << notes(*r);
  }
  {
    // Without a library the alt text just changes.
    design::Engine e(scene());
    ChangeSet cs;
    cs.modified.push_back(change(2, "alt", PropertyValue(std::string("A red bicycle")), e));
    auto r = apply_changes(e, cs, {});
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(e.block(2)->image.source, "old.jpg");
    EXPECT_TRUE(r->notes.empty()) << notes(*r);
  }
}

TEST(Apply, AssetsByFileNameForAddedImages) {
  TempDir dir = testing::temp_dir();
  write_text(dir.path() / "red-bicycle.jpg", "x");
  write_text(dir.path() / "mountain-lake.png", "x");
  auto lib = open_asset_library(dir.path());
  ASSERT_TRUE(lib.ok()) << lib.status().message();
  ApplyOptions opt;
  opt.assets = lib->get();
  design::Engine e(scene());
  ChangeSet cs;
  AddedBlock img;
  img.type = BlockType::kImage;
  img.parent = 1;
  img.properties = {{"alt", PropertyValue(std::string("Lakes in the mountains"))}, {"x", PropertyValue(700.0)},
                    {"y", PropertyValue(620.0)}, {"width", PropertyValue(300.0)}, {"height", PropertyValue(200.0)}};
  cs.added = {img};
  auto r = apply_changes(e, cs, opt);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(fs::path(e.block(9)->image.source).filename(), "mountain-lake.png");
}

}  // namespace
}  // namespace atelier::genai
