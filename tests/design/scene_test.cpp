// The scene model: enum names, colours, lookups, traversal and the structural checks.
#include "design/scene.h"

#include <gtest/gtest.h>

namespace atelier::design {
namespace {

Block& add(Scene& s, BlockId id, BlockType type, BlockId parent) {
  Block b;
  b.id = id;
  b.type = type;
  b.parent = parent;
  if (type == BlockType::kPage) s.pages.push_back(id);
  else s.blocks.at(parent).children.push_back(id);
  return s.blocks[id] = b;
}

// Page 1: shape 2, group 3 (text 4, group 5 (image 6)), shape 7. Page 10: text 11.
Scene sample() {
  Scene s;
  add(s, 1, BlockType::kPage, 0);
  add(s, 2, BlockType::kShape, 1);
  add(s, 3, BlockType::kGroup, 1);
  add(s, 4, BlockType::kText, 3);
  add(s, 5, BlockType::kGroup, 3);
  add(s, 6, BlockType::kImage, 5);
  add(s, 7, BlockType::kShape, 1);
  add(s, 10, BlockType::kPage, 0);
  add(s, 11, BlockType::kText, 10);
  return s;
}

TEST(Scene, EnumNamesRoundTrip) {
  for (BlockType v : {BlockType::kPage, BlockType::kText, BlockType::kImage, BlockType::kShape, BlockType::kGroup}) {
    EXPECT_EQ(parse_block_type(to_string(v)), v);
  }
  for (TextAlign v : {TextAlign::kLeft, TextAlign::kCenter, TextAlign::kRight, TextAlign::kJustify}) {
    EXPECT_EQ(parse_text_align(to_string(v)), v);
  }
  for (AutoFit v : {AutoFit::kNone, AutoFit::kShrink, AutoFit::kGrowHeight}) EXPECT_EQ(parse_auto_fit(to_string(v)), v);
  for (ImageFit v : {ImageFit::kCover, ImageFit::kContain, ImageFit::kFill}) {
    EXPECT_EQ(parse_image_fit(to_string(v)), v);
  }
  for (ShapeKind v : {ShapeKind::kRect, ShapeKind::kEllipse, ShapeKind::kPolygon, ShapeKind::kStar, ShapeKind::kLine}) {
    EXPECT_EQ(parse_shape_kind(to_string(v)), v);
  }
  for (FontStyle v : {FontStyle::kNormal, FontStyle::kItalic}) EXPECT_EQ(parse_font_style(to_string(v)), v);
  EXPECT_EQ(to_string(BlockType::kGroup), "group");
  EXPECT_EQ(to_string(AutoFit::kGrowHeight), "grow-height");
  EXPECT_EQ(parse_block_type("Page"), std::nullopt);
  EXPECT_EQ(parse_shape_kind("circle"), std::nullopt);
  EXPECT_EQ(parse_text_align(""), std::nullopt);
}

TEST(Scene, ColorToHex) {
  EXPECT_EQ(color_to_hex({1, 1, 1, 1}), "#FFFFFF");
  EXPECT_EQ(color_to_hex({0, 0, 0, 1}), "#000000");
  EXPECT_EQ(color_to_hex({1, 0.5f, 0, 1}), "#FF8000");
  EXPECT_EQ(color_to_hex({0.2f, 0.4f, 0.6f, 0.5f}), "#33669980");
  EXPECT_EQ(color_to_hex({0, 0, 0, 0}), "#00000000");
  EXPECT_EQ(color_to_hex({1.5f, -1, 0, 0.999f}), "#FF0000");  // clamped; alpha rounds to 255
  EXPECT_EQ(quantize_color({0.3f, 0, 1, 1}), (Color{77.f / 255, 0, 1, 1}));
}

TEST(Scene, FindAndNextId) {
  Scene s = sample();
  ASSERT_NE(s.find(4), nullptr);
  EXPECT_EQ(s.find(4)->type, BlockType::kText);
  EXPECT_EQ(s.find(99), nullptr);
  s.find(4)->name = "edited";
  EXPECT_EQ(std::as_const(s).find(4)->name, "edited");
  EXPECT_EQ(s.next_id(), 12);
  EXPECT_EQ(Scene{}.next_id(), 1);
}

TEST(Scene, DescendantsDepthFirstBottomFirst) {
  const Scene s = sample();
  EXPECT_EQ(s.descendants(1), (std::vector<BlockId>{2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(s.descendants(3), (std::vector<BlockId>{4, 5, 6}));
  EXPECT_EQ(s.descendants(10), (std::vector<BlockId>{11}));
  EXPECT_TRUE(s.descendants(2).empty());
  EXPECT_TRUE(s.descendants(99).empty());
}

TEST(Scene, PageOf) {
  const Scene s = sample();
  EXPECT_EQ(s.page_of(1), 1);
  EXPECT_EQ(s.page_of(6), 1);
  EXPECT_EQ(s.page_of(11), 10);
  EXPECT_EQ(s.page_of(99), 0);
}

TEST(Scene, MalformedCyclesDoNotHang) {
  Scene s = sample();
  s.blocks[3].parent = 5;  // 3 -> 5 -> 3
  s.blocks[5].children.push_back(3);
  EXPECT_EQ(s.page_of(6), 0);
  EXPECT_EQ(s.descendants(3), (std::vector<BlockId>{4, 5, 6}));
  EXPECT_FALSE(check_scene(s).ok());
}

TEST(Scene, CheckAcceptsAValidScene) {
  EXPECT_TRUE(check_scene(sample()).ok()) << check_scene(sample()).message();
  EXPECT_TRUE(check_scene(Scene{}).ok());
}

TEST(Scene, CheckNamesTheFirstProblem) {
  auto problem = [](auto&& edit) {
    Scene s = sample();
    edit(s);
    Status st = check_scene(s);
    EXPECT_EQ(st.code(), st.ok() ? StatusCode::kOk : StatusCode::kInvalidArgument);
    return st.message();
  };
  EXPECT_EQ(problem([](Scene& s) { s.version = 2; }), "unsupported scene version 2 (expected 1)");
  EXPECT_EQ(problem([](Scene& s) { s.blocks[7].width = -5; }), "block 7: width must not be negative, got -5");
  EXPECT_EQ(problem([](Scene& s) { s.blocks[7].opacity = 1.5; }), "block 7: opacity must be within 0..1, got 1.5");
  EXPECT_EQ(problem([](Scene& s) { s.blocks[4].text.align = static_cast<TextAlign>(9); }),
            "block 4: align must be one of left, center, right, justify; got '?'");
  EXPECT_EQ(problem([](Scene& s) { s.blocks[1].width = 0; }), "block 1: a page's width and height must be positive");
  EXPECT_EQ(problem([](Scene& s) { s.blocks[2].stroke = {true, {0, 0, 0, 1}, 0}; }),
            "block 2: an enabled stroke must have a positive width");
  EXPECT_EQ(problem([](Scene& s) { s.blocks[2].id = 8; }), "block 2: stored under id 2 but its id is 8");
  EXPECT_EQ(problem([](Scene& s) { s.blocks[7].parent = 3; }), "block 1: child 7 names 3 as its parent");
  EXPECT_EQ(problem([](Scene& s) { s.blocks[1].children.push_back(7); }),
            "block 7: its parent 1 must list it once among its children");
  EXPECT_EQ(problem([](Scene& s) {
              s.blocks[7].parent = 42;
              s.blocks[1].children.pop_back();
            }),
            "block 7: parent 42 does not exist");
  EXPECT_EQ(problem([](Scene& s) { s.blocks[1].children.push_back(42); }), "block 1: child 42 does not exist");
  EXPECT_EQ(problem([](Scene& s) { s.blocks[2].children.push_back(7); }), "block 2: only pages and groups have children");
  EXPECT_EQ(problem([](Scene& s) { s.blocks[1].parent = 10; }), "block 1: a page cannot have a parent");
  EXPECT_EQ(problem([](Scene& s) { s.pages.pop_back(); }), "block 10: a page must be listed once in the scene's pages");
  EXPECT_EQ(problem([](Scene& s) { s.pages.push_back(4); }),
            "block 4: listed in the scene's pages but is a text");
  EXPECT_EQ(problem([](Scene& s) { s.pages.push_back(50); }), "page 50 does not exist");
  EXPECT_EQ(problem([](Scene& s) {
              Block b;
              b.id = 0;
              b.parent = 1;
              s.blocks[0] = b;
            }),
            "block 0: ids must be within 1..9007199254740991");
  EXPECT_EQ(problem([](Scene& s) {
              s.blocks[3].parent = 5;
              s.blocks[5].children.push_back(3);
              std::erase(s.blocks[1].children, 3);
            }),
            "block 3: not on any page (a cycle of groups)");
}

TEST(Scene, CheckLimitsNesting) {
  Scene s;
  add(s, 1, BlockType::kPage, 0);
  BlockId parent = 1;
  for (BlockId id = 2; id < 2 + kMaxBlockDepth; ++id) {
    add(s, id, BlockType::kGroup, parent);
    parent = id;
  }
  EXPECT_TRUE(check_scene(s).ok()) << check_scene(s).message();
  add(s, 100, BlockType::kShape, parent);
  EXPECT_EQ(check_scene(s).message(), "block 100: nested 31 levels deep (at most 30)");
}

}  // namespace
}  // namespace atelier::design
