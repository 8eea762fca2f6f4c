// The scene's JSON format: the canonical layout, byte-stable round trips, every
// validation error with its line and column, and the missing-image warning.
#include "design/scene_json.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "design/properties.h"
#include "support/test_support.h"

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

void set(Block& b, std::string_view name, const PropertyValue& v) {
  Status st = set_property(b, name, v);
  ASSERT_TRUE(st.ok()) << st.message();
}

// Every block type, and every property of each set to something other than its default.
Scene rich_scene() {
  Scene s;
  s.name = "Spring sale \"poster\" ✿";
  Block& page = add(s, 1, BlockType::kPage, 0);
  set(page, "name", std::string("Front"));
  set(page, "kind", std::string("cover"));
  set(page, "width", 1080.0);
  set(page, "height", 1350.5);
  set(page, "fill", std::string("#FAF7F0"));

  Block& bg = add(s, 2, BlockType::kShape, 1);
  set(bg, "name", std::string("Backdrop"));
  set(bg, "kind", std::string("background"));
  set(bg, "x", -10.0);
  set(bg, "y", 0.5);
  set(bg, "width", 1100.0);
  set(bg, "height", 700.0);
  set(bg, "rotation", -12.25);
  set(bg, "opacity", 0.8);
  set(bg, "visible", false);
  set(bg, "fill", std::string("#33669980"));
  set(bg, "stroke_color", std::string("#112233"));
  set(bg, "stroke_width", 3.0);
  set(bg, "corner_radius", 24.0);
  set(bg, "shape", std::string("star"));
  set(bg, "points", 7LL);
  set(bg, "inner_radius", 0.375);

  Block& group = add(s, 3, BlockType::kGroup, 1);
  set(group, "name", std::string("Headline group"));
  set(group, "kind", std::string("headline"));
  set(group, "x", 40.0);
  set(group, "y", 60.0);
  set(group, "width", 1000.0);
  set(group, "height", 300.0);
  set(group, "rotation", 2.0);
  set(group, "opacity", 0.9);
  set(group, "visible", false);

  Block& text = add(s, 4, BlockType::kText, 3);
  set(text, "name", std::string("Title"));
  set(text, "kind", std::string("headline"));
  set(text, "x", 40.0);
  set(text, "y", 60.0);
  set(text, "width", 1000.0);
  set(text, "height", 180.0);
  set(text, "rotation", 0.1);
  set(text, "opacity", 1.0 / 3);
  set(text, "fill", std::string("#FFFFFF"));
  set(text, "stroke_color", std::string("#FF0000"));
  set(text, "stroke_width", 0.5);
  set(text, "corner_radius", 8.0);
  set(text, "text", std::string("Spring \"sale\"\n\t50% off — ✓ 😀 \\ /"));
  set(text, "font_family", std::string("DejaVu Serif"));
  set(text, "font_size", 96.0);
  set(text, "font_weight", 700LL);
  set(text, "font_style", std::string("italic"));
  set(text, "text_color", std::string("#1A2B3C"));
  set(text, "align", std::string("center"));
  set(text, "line_height", 1.05);
  set(text, "letter_spacing", -0.5);
  set(text, "auto_fit", std::string("shrink"));

  Block& inner = add(s, 5, BlockType::kGroup, 3);  // an empty group inside a group
  set(inner, "name", std::string("Empty"));

  Block& photo = add(s, 6, BlockType::kImage, 1);
  set(photo, "name", std::string("Hero photo"));
  set(photo, "kind", std::string("photo"));
  set(photo, "x", 100.0);
  set(photo, "y", 400.0);
  set(photo, "width", 880.0);
  set(photo, "height", 660.0);
  set(photo, "opacity", 0.95);
  set(photo, "fill", std::string("#000000"));
  set(photo, "stroke_color", std::string("#FFFFFF"));
  set(photo, "stroke_width", 4.0);
  set(photo, "corner_radius", 16.0);
  set(photo, "source", std::string("photos/hero.jpg"));
  set(photo, "alt", std::string("a woman in a field of tulips"));
  set(photo, "fit", std::string("contain"));
  set(photo, "focus_x", 0.25);
  set(photo, "focus_y", 0.0);

  Block& line = add(s, 7, BlockType::kShape, 1);
  set(line, "shape", std::string("line"));
  set(line, "stroke_width", 2.0);

  add(s, 20, BlockType::kPage, 0);  // a default page: 100 × 100, no children
  Block& p3 = add(s, 30, BlockType::kPage, 0);
  set(p3, "width", 595.0);
  set(p3, "height", 842.0);
  Block& poly = add(s, 31, BlockType::kShape, 30);
  set(poly, "shape", std::string("polygon"));
  set(poly, "points", 6LL);
  Block& ell = add(s, 32, BlockType::kShape, 30);
  set(ell, "shape", std::string("ellipse"));
  set(ell, "fill", std::string("red"));
  Block& plain_text = add(s, 33, BlockType::kText, 30);
  set(plain_text, "align", std::string("justify"));
  set(plain_text, "auto_fit", std::string("grow-height"));
  Block& plain_image = add(s, 34, BlockType::kImage, 30);
  set(plain_image, "fit", std::string("fill"));
  set(plain_image, "source", std::string("/absolute/missing.png"));
  Block& right = add(s, 35, BlockType::kText, 30);
  set(right, "align", std::string("right"));
  set(right, "stroke_color", std::string("none"));  // transparent black, saved as "none"
  return s;
}

LoadedScene parse_ok(std::string_view text, const std::filesystem::path& base_dir = {}) {
  auto r = parse_scene(text, "design.json", base_dir);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : LoadedScene{};
}

std::string parse_error(std::string_view text) {
  auto r = parse_scene(text, "design.json");
  if (r.ok()) return "(parsed)";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

// A one-page document whose page holds `blocks` (JSON text, inserted on line 4).
std::string doc(const std::string& blocks) {
  return "{\"format\": \"atelier-scene\", \"version\": 1, \"pages\": [\n"
         "{\"id\": 1, \"type\": \"page\", \"width\": 100, \"height\": 100,\n"
         " \"children\": [\n" +
         blocks + "\n]}]}";
}

TEST(SceneJson, RichSceneRoundTripsByteStable) {
  const Scene s = rich_scene();
  ASSERT_TRUE(check_scene(s).ok()) << check_scene(s).message();
  const std::string text = scene_to_json(s);
  const LoadedScene loaded = parse_ok(text);
  EXPECT_EQ(loaded.scene, s);
  EXPECT_EQ(scene_to_json(loaded.scene), text);
  // Every non-default property made it into the text.
  for (const char* key : {"\"stroke_color\": \"#112233\"", "\"inner_radius\": 0.375", "\"points\": 7",
                          "\"visible\": false", "\"opacity\": 0.3333333333333333", "\"font_weight\": 700",
                          "\"font_style\": \"italic\"", "\"auto_fit\": \"shrink\"", "\"fit\": \"contain\"",
                          "\"focus_y\": 0", "\"alt\": \"a woman in a field of tulips\"", "\"height\": 1350.5",
                          "\"fill\": \"#33669980\"", "\"stroke_color\": \"none\"",
                          "\"text\": \"Spring \\\"sale\\\"\\n\\t50% off — ✓ 😀 \\\\ /\""}) {
    EXPECT_NE(text.find(key), std::string::npos) << key;
  }
}

TEST(SceneJson, CanonicalLayout) {
  Scene s;
  s.name = "Card";
  Block& page = add(s, 1, BlockType::kPage, 0);
  page.width = 800;
  page.height = 600;
  ASSERT_TRUE(set_property(page, "fill", std::string("white")).ok());
  Block& g = add(s, 2, BlockType::kGroup, 1);
  Block& t = add(s, 3, BlockType::kText, 2);
  t.x = 10;
  t.text.content = "Hi";
  t.text.font_size = 48;
  t.kind = "headline";
  (void)g;
  add(s, 4, BlockType::kShape, 1).fill = Fill{true, {1, 0, 0, 1}};
  add(s, 9, BlockType::kPage, 0);
  const std::string expected = R"({
  "format": "atelier-scene",
  "version": 1,
  "name": "Card",
  "pages": [
    {
      "id": 1,
      "type": "page",
      "width": 800,
      "height": 600,
      "fill": "#FFFFFF",
      "children": [
        {
          "id": 2,
          "type": "group",
          "children": [
            {
              "id": 3,
              "type": "text",
              "kind": "headline",
              "x": 10,
              "text": "Hi",
              "font_size": 48
            }
          ]
        },
        {
          "id": 4,
          "type": "shape",
          "fill": "#FF0000"
        }
      ]
    },
    {
      "id": 9,
      "type": "page",
      "width": 100,
      "height": 100,
      "children": []
    }
  ]
}
)";
  EXPECT_EQ(scene_to_json(s), expected);
  EXPECT_EQ(parse_ok(expected).scene, s);
  EXPECT_EQ(scene_to_json(Scene{}), "{\n  \"format\": \"atelier-scene\",\n  \"version\": 1,\n  \"pages\": []\n}\n");
  EXPECT_EQ(parse_ok(scene_to_json(Scene{})).scene, Scene{});
}

TEST(SceneJson, AnyKeyOrderAndSpacingLoadsToTheCanonicalText) {
  const std::string messy =
      R"({"pages":[{"children":[{"fill":"#ff0000","type":"shape","id":4,"shape":"ellipse","points":5.0}],)"
      R"("height":600,"width":800,"type":"page","id":1}],"version":1,"format":"atelier-scene"})";
  const LoadedScene loaded = parse_ok(messy);
  const Block* b = loaded.scene.find(4);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->parent, 1);
  EXPECT_EQ(b->shape.shape, ShapeKind::kEllipse);
  EXPECT_TRUE(b->fill.enabled);
  const std::string canonical = scene_to_json(loaded.scene);
  EXPECT_EQ(scene_to_json(parse_ok(canonical).scene), canonical);
  EXPECT_NE(canonical.find("\"fill\": \"#FF0000\""), std::string::npos);
  EXPECT_EQ(canonical.find("points"), std::string::npos);  // 5 is the default
}

TEST(SceneJson, TopLevelErrors) {
  EXPECT_EQ(parse_error("{\"format\": \"atelier-scene\",\n \"version\": 1, \"pages\": [}"),
            "design.json:2:26: expected a value");
  EXPECT_EQ(parse_error("[]"), "design.json:1:1: expected an object at the top level, got an array");
  EXPECT_EQ(parse_error("{\"version\": 1, \"pages\": []}"), "design.json:1:1: missing 'format' at the top level");
  EXPECT_EQ(parse_error("{\"format\": \"svg\", \"version\": 1, \"pages\": []}"),
            "design.json:1:12: unsupported format 'svg' (expected 'atelier-scene')");
  EXPECT_EQ(parse_error("{\"format\": 1, \"version\": 1, \"pages\": []}"),
            "design.json:1:12: format must be a string, got 1");
  EXPECT_EQ(parse_error("{\"format\": \"atelier-scene\", \"pages\": []}"),
            "design.json:1:1: missing 'version' at the top level");
  EXPECT_EQ(parse_error("{\"format\": \"atelier-scene\", \"version\": 2, \"pages\": []}"),
            "design.json:1:40: unsupported version 2 (this build reads version 1)");
  EXPECT_EQ(parse_error("{\"format\": \"atelier-scene\", \"version\": 1.5, \"pages\": []}"),
            "design.json:1:40: version must be an integer, got 1.5");
  EXPECT_EQ(parse_error("{\"format\": \"atelier-scene\", \"version\": 1}"),
            "design.json:1:1: missing 'pages' at the top level");
  EXPECT_EQ(parse_error("{\"format\": \"atelier-scene\", \"version\": 1, \"pages\": {}}"),
            "design.json:1:52: pages must be an array, got an object");
  EXPECT_EQ(parse_error("{\"format\": \"atelier-scene\", \"version\": 1, \"pages\": [], \"author\": \"me\"}"),
            "design.json:1:56: unknown key 'author' at the top level");
  EXPECT_EQ(parse_error("{\"format\": \"atelier-scene\", \"version\": 1, \"name\": 5, \"pages\": []}"),
            "design.json:1:51: name must be a string, got 5");
  EXPECT_EQ(parse_error("{\"format\": \"atelier-scene\", \"version\": 1, \"pages\": [], \"pages\": []}"),
            "design.json:1:56: duplicate key 'pages' at the top level (first at 1:43)");
  auto named = parse_scene("{\"format\": \"atelier-scene\", \"version\": 1, \"name\": \"A\", \"pages\": []}", "x.json");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->scene.name, "A");
  // Without a source name, messages start with the position.
  EXPECT_EQ(parse_scene("[]", "").status().message(), "1:1: expected an object at the top level, got an array");
}

TEST(SceneJson, PageErrors) {
  const std::string head = "{\"format\": \"atelier-scene\", \"version\": 1, \"pages\": [\n";
  auto page_error = [&](const std::string& page) { return parse_error(head + page + "]}"); };
  EXPECT_EQ(page_error("3"), "design.json:2:1: expected a page object, got 3");
  EXPECT_EQ(page_error("{\"type\": \"page\", \"width\": 10, \"height\": 10}"), "design.json:2:1: missing 'id' in a page");
  EXPECT_EQ(page_error("{\"id\": 1, \"width\": 10, \"height\": 10}"), "design.json:2:1: missing 'type' in page 1");
  EXPECT_EQ(page_error("{\"id\": 1, \"type\": \"page\", \"height\": 10}"), "design.json:2:1: missing 'width' in page 1");
  EXPECT_EQ(page_error("{\"id\": 1, \"type\": \"page\", \"width\": 10}"), "design.json:2:1: missing 'height' in page 1");
  EXPECT_EQ(page_error("{\"id\": 1, \"type\": \"text\", \"width\": 10, \"height\": 10}"),
            "design.json:2:19: expected a page in 'pages', got a text block (block 1)");
  EXPECT_EQ(page_error("{\"id\": 1, \"type\": \"page\", \"width\": 0, \"height\": 10}"),
            "design.json:2:36: block 1: a page's width must be positive, got 0");
  EXPECT_EQ(page_error("{\"id\": 1, \"type\": \"page\", \"width\": 10, \"height\": 10, \"x\": 5}"),
            "design.json:2:54: block 1 (page) has no property 'x'");
  EXPECT_EQ(page_error("{\"id\": 1, \"type\": \"page\", \"width\": 10, \"height\": 10, \"width\": 20}"),
            "design.json:2:54: duplicate key 'width' in page 1 (first at 2:27)");
}

TEST(SceneJson, IdErrors) {
  EXPECT_EQ(parse_error(doc("{\"type\": \"shape\"}")), "design.json:4:1: missing 'id' in a block");
  EXPECT_EQ(parse_error(doc("{\"id\": 0, \"type\": \"shape\"}")),
            "design.json:4:8: id must be an integer within 1..9007199254740991, got 0");
  EXPECT_EQ(parse_error(doc("{\"id\": -3, \"type\": \"shape\"}")),
            "design.json:4:8: id must be an integer within 1..9007199254740991, got -3");
  EXPECT_EQ(parse_error(doc("{\"id\": 7.0, \"type\": \"shape\"}")),
            "design.json:4:8: id must be an integer within 1..9007199254740991, got 7.0");
  EXPECT_EQ(parse_error(doc("{\"id\": \"7\", \"type\": \"shape\"}")),
            "design.json:4:8: id must be an integer within 1..9007199254740991, got a string");
  EXPECT_EQ(parse_error(doc("{\"id\": 9007199254740992, \"type\": \"shape\"}")),
            "design.json:4:8: id must be an integer within 1..9007199254740991, got 9007199254740992");
  EXPECT_EQ(parse_error(doc("{\"id\": 7, \"type\": \"shape\"},\n {\"id\": 7, \"type\": \"text\"}")),
            "design.json:5:9: duplicate block id 7 (first at 4:8)");
  EXPECT_EQ(parse_error(doc("{\"id\": 1, \"type\": \"shape\"}")), "design.json:4:8: duplicate block id 1 (first at 2:8)");
}

TEST(SceneJson, TypeAndStructureErrors) {
  EXPECT_EQ(parse_error(doc("{\"id\": 7}")), "design.json:4:1: missing 'type' in block 7");
  EXPECT_EQ(parse_error(doc("{\"id\": 7, \"type\": \"circle\"}")), "design.json:4:19: unknown block type 'circle' in block 7");
  EXPECT_EQ(parse_error(doc("{\"id\": 7, \"type\": 3}")), "design.json:4:19: type must be a string in block 7, got 3");
  EXPECT_EQ(parse_error(doc("{\"id\": 7, \"type\": \"page\", \"width\": 5, \"height\": 5}")),
            "design.json:4:19: a page cannot be inside another block (block 7)");
  EXPECT_EQ(parse_error(doc("{\"id\": 7, \"type\": \"text\", \"children\": []}")),
            "design.json:4:27: block 7 (text) cannot have children");
  EXPECT_EQ(parse_error(doc("{\"id\": 7, \"type\": \"group\", \"children\": {}}")),
            "design.json:4:40: children must be an array in block 7, got an object");
  EXPECT_EQ(parse_error(doc("\"shape\"")), "design.json:4:1: expected a block object, got a string");
  EXPECT_EQ(parse_error(doc("{\"id\": 7, \"type\": \"group\", \"children\": [{\"id\": 8, \"type\": \"shape\", \"x\": \"1\"}]}")),
            "design.json:4:73: block 8: x must be a number, got a string");
}

TEST(SceneJson, PropertyErrors) {
  EXPECT_EQ(parse_error(doc("{\"id\": 7, \"type\": \"shape\", \"colour\": \"#FF0000\"}")),
            "design.json:4:28: unknown property 'colour' in block 7");
  EXPECT_EQ(parse_error(doc("{\"id\": 7, \"type\": \"text\", \"source\": \"a.png\"}")),
            "design.json:4:27: block 7 (text) has no property 'source'");
  EXPECT_EQ(parse_error(doc("{\"id\": 7, \"type\": \"group\", \"fill\": \"#FFFFFF\"}")),
            "design.json:4:28: block 7 (group) has no property 'fill'");
  EXPECT_EQ(parse_error(doc("{\"id\": 7, \"type\": \"shape\", \"fill\": \"#12\"}")),
            "design.json:4:36: bad colour '#12' for fill in block 7");
  EXPECT_EQ(parse_error(doc("{\"id\": 7, \"type\": \"shape\", \"fill\": 255}")),
            "design.json:4:36: block 7: fill must be a colour, got an integer");
  EXPECT_EQ(parse_error(doc("{\"id\": 7, \"type\": \"shape\",\n  \"width\": -5}")),
            "design.json:5:12: block 7: width must not be negative, got -5");
  EXPECT_EQ(parse_error(doc("{\"id\": 7, \"type\": \"shape\", \"height\": -0.5}")),
            "design.json:4:38: block 7: height must not be negative, got -0.5");
  EXPECT_EQ(parse_error(doc("{\"id\": 7, \"type\": \"shape\", \"opacity\": 1.5}")),
            "design.json:4:39: block 7: opacity must be within 0..1, got 1.5");
  EXPECT_EQ(parse_error(doc("{\"id\": 7, \"type\": \"shape\", \"points\": 100}")),
            "design.json:4:38: block 7: points must be within 3..64, got 100");
  EXPECT_EQ(parse_error(doc("{\"id\": 7, \"type\": \"shape\", \"points\": 4.5}")),
            "design.json:4:38: block 7: points must be an integer, got 4.5");
  EXPECT_EQ(parse_error(doc("{\"id\": 7, \"type\": \"shape\", \"shape\": \"oval\"}")),
            "design.json:4:37: block 7: shape must be one of rect, ellipse, polygon, star, line; got 'oval'");
  EXPECT_EQ(parse_error(doc("{\"id\": 7, \"type\": \"shape\", \"visible\": \"no\"}")),
            "design.json:4:39: block 7: visible must be true or false, got a string");
  EXPECT_EQ(parse_error(doc("{\"id\": 7, \"type\": \"shape\", \"visible\": null}")),
            "design.json:4:39: block 7: visible must be true or false, got null");
  EXPECT_EQ(parse_error(doc("{\"id\": 7, \"type\": \"shape\", \"name\": [\"a\"]}")),
            "design.json:4:36: block 7: name must be a string, got an array");
  EXPECT_EQ(parse_error(doc("{\"id\": 7, \"type\": \"text\", \"font_size\": 1e5}")),
            "design.json:4:40: block 7: font_size must be within 1..10000, got 100000");
  EXPECT_EQ(parse_error(doc("{\"id\": 7, \"type\": \"shape\", \"x\": 1, \"x\": 2}")),
            "design.json:4:36: duplicate key 'x' in block 7 (first at 4:28)");
}

TEST(SceneJson, FillNoneAndStrokeZeroLoadAsDisabled) {
  const LoadedScene l =
      parse_ok(doc("{\"id\": 7, \"type\": \"shape\", \"fill\": \"none\", \"stroke_width\": 0, \"stroke_color\": \"#FF0000\"}"));
  const Block* b = l.scene.find(7);
  ASSERT_NE(b, nullptr);
  EXPECT_FALSE(b->fill.enabled);
  EXPECT_FALSE(b->stroke.enabled);
  EXPECT_EQ(color_to_hex(b->stroke.color), "#FF0000");
  const std::string text = scene_to_json(l.scene);
  EXPECT_EQ(text.find("\"fill\""), std::string::npos);
  EXPECT_EQ(text.find("stroke_width"), std::string::npos);
  EXPECT_NE(text.find("\"stroke_color\": \"#FF0000\""), std::string::npos);
}

TEST(SceneJson, SizeLimit) {
  const std::string big((std::size_t{64} << 20) + 1, ' ');
  auto r = parse_scene(big, "big.json");
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(r.status().message(), "big.json: document too large: 67108865 bytes (limit 67108864)");
}

TEST(SceneJson, SyntaxErrorsCarryTheSourceName) {
  EXPECT_EQ(parse_error(doc("{\"id\": 7, \"type\": \"shape\" \"x\": 1}")), "design.json:4:27: expected ',' or '}'");
  EXPECT_EQ(parse_error(doc("{\"id\": 7, \"type\": \"shape\",}")), "design.json:4:27: trailing comma before '}'");
  EXPECT_EQ(parse_error(""), "design.json:1:1: unexpected end of input, expected a value");
}

TEST(SceneJson, MissingImageIsAWarning) {
  TempDir dir = testing::temp_dir();
  std::filesystem::create_directories(dir.path() / "photos");
  testing::write_bytes(dir.path() / "photos" / "here.jpg", {1, 2, 3});
  const std::string text = doc(
      "{\"id\": 7, \"type\": \"image\", \"source\": \"photos/here.jpg\"},\n"
      "{\"id\": 8, \"type\": \"image\",\n \"source\": \"photos/gone.jpg\"},\n"
      "{\"id\": 9, \"type\": \"image\"}");
  const LoadedScene l = parse_ok(text, dir.path());
  EXPECT_EQ(l.warnings, (std::vector<std::string>{"design.json:6:12: block 8: image " +
                                                  (dir.path() / "photos" / "gone.jpg").string() + ": no such file"}));
  EXPECT_EQ(l.scene.find(8)->image.source, "photos/gone.jpg");
  // Absolute paths are used as they are.
  const std::string abs = (dir.path() / "photos" / "here.jpg").string();
  EXPECT_TRUE(parse_ok(doc("{\"id\": 7, \"type\": \"image\", \"source\": \"" + abs + "\"}")).warnings.empty());
}

TEST(SceneJson, SaveAndLoadFiles) {
  TempDir dir = testing::temp_dir();
  const auto path = dir.path() / "design.json";
  const Scene s = rich_scene();
  ASSERT_TRUE(save_scene(path, s).ok());
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  EXPECT_EQ(content.str(), scene_to_json(s));
  auto loaded = load_scene(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->scene, s);
  // photos/hero.jpg (relative to the file's folder) and /absolute/missing.png are missing.
  ASSERT_EQ(loaded->warnings.size(), 2u);
  EXPECT_EQ(loaded->warnings[0].rfind(path.string() + ":", 0), 0u) << loaded->warnings[0];
  EXPECT_NE(loaded->warnings[0].find(": image " + (dir.path() / "photos" / "hero.jpg").string() + ": no such file"),
            std::string::npos)
      << loaded->warnings[0];
  EXPECT_EQ(testing::listing(dir.path()), (std::vector<std::string>{"design.json"}));

  // Errors name the file.
  testing::write_bytes(dir.path() / "bad.json", {'[', ']'});
  EXPECT_EQ(load_scene(dir.path() / "bad.json").status().message(),
            (dir.path() / "bad.json").string() + ":1:1: expected an object at the top level, got an array");
  EXPECT_EQ(load_scene(dir.path() / "none.json").status().code(), StatusCode::kNotFound);

  // An invalid scene is not saved.
  Scene broken = s;
  broken.blocks[2].opacity = 3;
  const Status st = save_scene(dir.path() / "broken.json", broken);
  EXPECT_EQ(st.message(), (dir.path() / "broken.json").string() + ": not saved: block 2: opacity must be within 0..1, got 3");
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "broken.json"));
}

TEST(SceneJson, DeepGroupsUpToTheLimitRoundTrip) {
  Scene s;
  add(s, 1, BlockType::kPage, 0);
  BlockId parent = 1;
  for (BlockId id = 2; id < 2 + kMaxBlockDepth; ++id) {
    add(s, id, BlockType::kGroup, parent);
    parent = id;
  }
  ASSERT_TRUE(check_scene(s).ok());
  const std::string text = scene_to_json(s);
  EXPECT_EQ(parse_ok(text).scene, s);
}

}  // namespace
}  // namespace atelier::design
