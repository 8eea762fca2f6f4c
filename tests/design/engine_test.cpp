#include "design/engine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <type_traits>

namespace atelier::design {
namespace {

using Kind = ChangeEvent::Kind;

// ---- a starting scene: two pages with text, image, shape and (nested) group blocks ----
//
// page 1 (800x600): 2 background shape, 3 "Title" text, 4 photo, 5 group "Badge"
//   { 7 text "NEW", 6 star shape, 8 group { 9 ellipse, 10 "Caption" text } }, 11 cta text
// page 12 (1080x1080): 13 background image, 14 "Title" text, 15 group { 16 shape, 17 image }
// The group's children are stacked 7, 6, 8 so that document order differs from id order.

Block make(BlockId id, BlockType type, BlockId parent, double x, double y, double w, double h) {
  Block b;
  b.id = id;
  b.type = type;
  b.parent = parent;
  b.x = x;
  b.y = y;
  b.width = w;
  b.height = h;
  return b;
}

Scene make_scene() {
  Scene s;
  s.name = "Engine test";
  auto add = [&](Block b) {
    if (b.parent == 0) {
      s.pages.push_back(b.id);
    } else {
      s.blocks.at(b.parent).children.push_back(b.id);
    }
    s.blocks.emplace(b.id, std::move(b));
  };
  Block p1 = make(1, BlockType::kPage, 0, 0, 0, 800, 600);
  p1.fill = {true, {1, 1, 1, 1}};
  add(p1);
  Block bg = make(2, BlockType::kShape, 1, 0, 0, 800, 600);
  bg.kind = "background";
  bg.name = "Background";
  bg.fill = {true, {0, 0, 1, 1}};
  add(bg);
  Block title = make(3, BlockType::kText, 1, 40, 40, 720, 80);
  title.name = "Title";
  title.kind = "headline";
  title.text.content = "Summer sale";
  title.text.font_size = 48;
  title.text.font_weight = 700;
  add(title);
  Block photo = make(4, BlockType::kImage, 1, 40, 140, 360, 300);
  photo.kind = "photo";
  photo.image.source = "photo.jpg";
  photo.image.alt = "a cat on a sofa";
  photo.corner_radius = 12;
  add(photo);
  Block badge = make(5, BlockType::kGroup, 1, 450, 150, 300, 300);
  badge.name = "Badge";
  add(badge);
  Block label = make(7, BlockType::kText, 5, 500, 200, 100, 40);
  label.text.content = "NEW";
  label.text.align = TextAlign::kCenter;
  add(label);
  Block star = make(6, BlockType::kShape, 5, 450, 150, 200, 200);
  star.shape.shape = ShapeKind::kStar;
  star.shape.points = 7;
  star.fill = {true, {1, 0, 0, 1}};
  star.stroke = {true, {0, 0, 0, 1}, 2};
  add(star);
  Block inner = make(8, BlockType::kGroup, 5, 600, 350, 150, 100);
  add(inner);
  Block dot = make(9, BlockType::kShape, 8, 600, 350, 100, 100);
  dot.shape.shape = ShapeKind::kEllipse;
  dot.fill = {true, {0, 1, 0, 1}};
  add(dot);
  Block caption = make(10, BlockType::kText, 8, 650, 400, 100, 50);
  caption.name = "Caption";
  caption.text.content = "Grüße 🎨";
  add(caption);
  Block cta = make(11, BlockType::kText, 1, 40, 500, 200, 50);
  cta.kind = "cta";
  cta.text.content = "Buy now";
  cta.rotation = 10;
  cta.opacity = 0.9;
  add(cta);

  Block p2 = make(12, BlockType::kPage, 0, 0, 0, 1080, 1080);
  p2.fill = {true, {0, 0, 0, 1}};
  add(p2);
  Block backdrop = make(13, BlockType::kImage, 12, 0, 0, 1080, 1080);
  backdrop.kind = "background";
  backdrop.image.source = "/tmp/backdrop.png";
  backdrop.image.fit = ImageFit::kContain;
  add(backdrop);
  Block title2 = make(14, BlockType::kText, 12, 100, 100, 880, 120);
  title2.name = "Title";
  title2.text.content = "Page two";
  add(title2);
  add(make(15, BlockType::kGroup, 12, 100, 400, 600, 400));
  Block square = make(16, BlockType::kShape, 15, 100, 400, 300, 300);
  square.fill = {true, {1, 1, 0, 1}};
  add(square);
  Block thumb = make(17, BlockType::kImage, 15, 400, 500, 300, 300);
  thumb.image.source = "thumb.webp";
  add(thumb);
  return s;
}

// The first difference between two scenes, for failure messages.
std::string first_difference(const Scene& a, const Scene& b) {
  if (a.version != b.version || a.name != b.name) return "version or name differ";
  if (a.pages != b.pages) return "pages differ";
  std::set<BlockId> ids;
  for (const auto& [id, _] : a.blocks) ids.insert(id);
  for (const auto& [id, _] : b.blocks) ids.insert(id);
  for (BlockId id : ids) {
    const Block* x = a.find(id);
    const Block* y = b.find(id);
    if (!x || !y) return "block " + std::to_string(id) + (x ? " only in the first" : " only in the second");
    if (*x == *y) continue;
    if (x->children != y->children) return "block " + std::to_string(id) + ": children differ";
    if (x->parent != y->parent) return "block " + std::to_string(id) + ": parent differs";
    for (const PropertyInfo* info : properties_of(x->type)) {
      auto vx = get_property(*x, info->name);
      auto vy = get_property(*y, info->name);
      if (vx.ok() && vy.ok() && *vx != *vy) {
        return "block " + std::to_string(id) + ": " + std::string(info->name) + " " + format_property(*vx) +
               " vs " + format_property(*vy);
      }
    }
    return "block " + std::to_string(id) + " differs";
  }
  return "";
}

#define EXPECT_SCENE_EQ(a, b) EXPECT_TRUE((a) == (b)) << first_difference((a), (b))
#define ASSERT_SCENE_EQ(a, b) ASSERT_TRUE((a) == (b)) << first_difference((a), (b))
#define ASSERT_VALID(engine) ASSERT_EQ(check_scene((engine).scene()), Status())

void expect_error(const Status& s, StatusCode code, const std::string& message) {
  EXPECT_EQ(s.code(), code) << s.message();
  EXPECT_EQ(s.message(), message);
}

// Records every event an engine delivers.
struct Recorder {
  explicit Recorder(Engine& e) : engine(e) {
    token = e.subscribe([this](const ChangeEvent& ev) { events.push_back(ev); });
  }
  ~Recorder() { engine.unsubscribe(token); }
  std::vector<ChangeEvent> take() { return std::exchange(events, {}); }
  Engine& engine;
  int token;
  std::vector<ChangeEvent> events;
};

ChangeEvent prop_event(BlockId id, std::string property, PropertyValue old_value, PropertyValue new_value) {
  ChangeEvent e;
  e.kind = Kind::kPropertyChanged;
  e.id = id;
  e.property = std::move(property);
  e.old_value = std::move(old_value);
  e.new_value = std::move(new_value);
  return e;
}
ChangeEvent structure(Kind kind, BlockId id, long long old_parent, long long new_parent) {
  ChangeEvent e;
  e.kind = kind;
  e.id = id;
  e.old_value = old_parent;
  e.new_value = new_parent;
  return e;
}
ChangeEvent labelled(Kind kind, std::string label) {
  ChangeEvent e;
  e.kind = kind;
  e.label = std::move(label);
  return e;
}

std::string describe(const ChangeEvent& e) {
  static const char* kNames[] = {"changed", "created", "destroyed", "moved", "undo", "redo", "committed", "rolled back"};
  std::ostringstream out;
  out << kNames[static_cast<int>(e.kind)] << " id=" << e.id;
  if (!e.property.empty()) out << " " << e.property;
  out << " " << format_property(e.old_value) << "->" << format_property(e.new_value);
  if (!e.label.empty()) out << " '" << e.label << "'";
  return out.str();
}
std::string describe(const std::vector<ChangeEvent>& events) {
  std::string out;
  for (const ChangeEvent& e : events) out += describe(e) + "\n";
  return out;
}
#define EXPECT_EVENTS(actual, ...) EXPECT_EQ(describe(actual), describe(std::vector<ChangeEvent>{__VA_ARGS__}))

// ---- basics ----

TEST(Engine, StartingSceneIsValidAndEngineIsNotCopyable) {
  EXPECT_EQ(check_scene(make_scene()), Status());
  static_assert(!std::is_copy_constructible_v<Engine>);
  static_assert(std::is_move_constructible_v<Engine>);
  Engine e(make_scene());
  EXPECT_SCENE_EQ(e.scene(), make_scene());
  EXPECT_FALSE(e.can_undo());
  EXPECT_FALSE(e.can_redo());
  EXPECT_FALSE(e.in_transaction());
}

TEST(Engine, FindsBlocksInDocumentOrder) {
  Engine e(make_scene());
  EXPECT_EQ(e.all_blocks(), (std::vector<BlockId>{1, 2, 3, 4, 5, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}));
  EXPECT_EQ(e.find_by_name("Title"), (std::vector<BlockId>{3, 14}));
  EXPECT_EQ(e.find_by_name("Nope"), std::vector<BlockId>{});
  EXPECT_EQ(e.find_by_kind("background"), (std::vector<BlockId>{2, 13}));
  EXPECT_EQ(e.find_by_type(BlockType::kText), (std::vector<BlockId>{3, 7, 10, 11, 14}));
  EXPECT_EQ(e.find_by_type(BlockType::kPage), (std::vector<BlockId>{1, 12}));
  EXPECT_EQ(e.find_by_type(BlockType::kGroup), (std::vector<BlockId>{5, 8, 15}));
  ASSERT_TRUE(e.reorder(12, 0).ok());  // page order is document order
  EXPECT_EQ(e.find_by_name("Title"), (std::vector<BlockId>{14, 3}));
  ASSERT_NE(e.block(3), nullptr);
  EXPECT_EQ(e.block(3)->text.content, "Summer sale");
  EXPECT_EQ(e.block(99), nullptr);
}

// ---- properties ----

TEST(Engine, GetsAndSetsPropertiesGenerically) {
  Engine e(make_scene());
  Recorder rec(e);
  EXPECT_EQ(*e.get(3, "font_size"), PropertyValue(48.0));
  EXPECT_EQ(*e.get(3, "font_weight"), PropertyValue(700LL));
  EXPECT_EQ(*e.get(4, "source"), PropertyValue(std::string("photo.jpg")));
  EXPECT_EQ(*e.get(13, "fit"), PropertyValue(std::string("contain")));

  ASSERT_EQ(e.set(3, "text", std::string("Winter sale")), Status());
  ASSERT_EQ(e.set(3, "align", std::string("center")), Status());
  ASSERT_EQ(e.set(6, "points", 9LL), Status());
  ASSERT_EQ(e.set(6, "fill", std::string("none")), Status());  // a colour may be given as text
  ASSERT_VALID(e);
  EXPECT_EQ(e.block(3)->text.content, "Winter sale");
  EXPECT_EQ(e.block(3)->text.align, TextAlign::kCenter);
  EXPECT_EQ(e.block(6)->shape.points, 9);
  EXPECT_FALSE(e.block(6)->fill.enabled);
  EXPECT_EVENTS(rec.take(), prop_event(3, "text", std::string("Summer sale"), std::string("Winter sale")),
                prop_event(3, "align", std::string("left"), std::string("center")),
                prop_event(6, "points", 7LL, 9LL), prop_event(6, "fill", Color{1, 0, 0, 1}, Color{0, 0, 0, 0}));
}

TEST(Engine, PropertyErrorsNameTheBlockAndChangeNothing) {
  Engine e(make_scene());
  Recorder rec(e);
  expect_error(e.get(99, "x").status(), StatusCode::kNotFound, "no block with id 99");
  expect_error(e.set(99, "x", 1.0), StatusCode::kNotFound, "no block with id 99");
  expect_error(e.set(3, "colour", std::string("red")), StatusCode::kInvalidArgument,
               "block 3: unknown property 'colour'");
  expect_error(e.get(3, "source").status(), StatusCode::kInvalidArgument, "block 3 (text) has no property 'source'");
  expect_error(e.set(3, "source", std::string("a.jpg")), StatusCode::kInvalidArgument,
               "block 3 (text) has no property 'source'");
  expect_error(e.set(1, "x", 5.0), StatusCode::kInvalidArgument, "block 1 (page) has no property 'x'");
  expect_error(e.set(3, "opacity", 2.0), StatusCode::kInvalidArgument, "block 3: opacity must be within 0..1, got 2");
  expect_error(e.set_width(4, -5), StatusCode::kInvalidArgument, "block 4: width must not be negative, got -5");
  expect_error(e.set(3, "opacity", std::string("half")), StatusCode::kInvalidArgument,
               "block 3: opacity must be a number, got a string");
  expect_error(e.set_width(1, 0), StatusCode::kInvalidArgument, "block 1: a page's width must be positive, got 0");
  EXPECT_SCENE_EQ(e.scene(), make_scene());
  EXPECT_FALSE(e.can_undo());
  EXPECT_TRUE(rec.events.empty());
}

TEST(Engine, TypedSettersAndGetters) {
  Engine e(make_scene());
  ASSERT_EQ(e.set_position_x(4, 10), Status());
  ASSERT_EQ(e.set_position_y(4, 20.5), Status());
  ASSERT_EQ(e.set_width(4, 300), Status());
  ASSERT_EQ(e.set_height(4, 200), Status());
  ASSERT_EQ(e.set_rotation(4, -45), Status());
  ASSERT_EQ(e.set_opacity(4, 0.25), Status());
  ASSERT_EQ(e.set_visible(4, false), Status());
  ASSERT_EQ(e.set_name(4, "Hero photo"), Status());
  ASSERT_EQ(e.set_kind(4, "hero"), Status());
  ASSERT_EQ(e.set_fill_color(4, Color{1, 0, 0, 0.4f}), Status());
  ASSERT_EQ(e.set_image_source(4, "dog.png"), Status());
  ASSERT_EQ(e.set_text(3, "Hello\nworld"), Status());
  ASSERT_EQ(e.set_font_size(3, 64), Status());
  ASSERT_EQ(e.set_text_color(3, Color{0, 0, 1, 1}), Status());
  ASSERT_VALID(e);
  EXPECT_EQ(*e.position_x(4), 10);
  EXPECT_EQ(*e.position_y(4), 20.5);
  EXPECT_EQ(*e.width(4), 300);
  EXPECT_EQ(*e.height(4), 200);
  EXPECT_EQ(*e.width(1), 800);  // pages have a size but no position
  expect_error(e.position_x(1).status(), StatusCode::kInvalidArgument, "block 1 (page) has no property 'x'");
  expect_error(e.height(42).status(), StatusCode::kNotFound, "no block with id 42");
  const Block& b = *e.block(4);
  EXPECT_EQ(b.rotation, -45);
  EXPECT_EQ(b.opacity, 0.25);
  EXPECT_FALSE(b.visible);
  EXPECT_EQ(b.name, "Hero photo");
  EXPECT_EQ(b.kind, "hero");
  EXPECT_EQ(b.fill, (Fill{true, quantize_color({1, 0, 0, 0.4f})}));
  EXPECT_EQ(b.image.source, "dog.png");
  EXPECT_EQ(e.block(3)->text.content, "Hello\nworld");
  EXPECT_EQ(e.block(3)->text.font_size, 64);
  EXPECT_EQ(e.block(3)->text.color, (Color{0, 0, 1, 1}));
  expect_error(e.set_text(4, "x"), StatusCode::kInvalidArgument, "block 4 (image) has no property 'text'");
  expect_error(e.set_image_source(3, "x"), StatusCode::kInvalidArgument, "block 3 (text) has no property 'source'");
}

TEST(Engine, SettingTheCurrentValueIsNotAChange) {
  Engine e(make_scene());
  Recorder rec(e);
  ASSERT_EQ(e.set_width(4, 360), Status());
  ASSERT_EQ(e.set(4, "source", std::string("photo.jpg")), Status());
  EXPECT_FALSE(e.can_undo());
  EXPECT_TRUE(rec.events.empty());
}

// ---- structure ----

TEST(Engine, CreateGivesDefaultsPerTypeAndNewIds) {
  Engine e(make_scene());
  Recorder rec(e);
  auto text = e.create(BlockType::kText, 1);
  ASSERT_TRUE(text.ok()) << text.status().message();
  EXPECT_EQ(*text, 18);
  auto shape = e.create(BlockType::kShape, 5, 0);
  ASSERT_TRUE(shape.ok());
  auto image = e.create(BlockType::kImage, 12, 1);
  ASSERT_TRUE(image.ok());
  auto group = e.create(BlockType::kGroup, 8);
  ASSERT_TRUE(group.ok());
  ASSERT_VALID(e);
  EXPECT_EQ((std::vector<BlockId>{*text, *shape, *image, *group}), (std::vector<BlockId>{18, 19, 20, 21}));

  EXPECT_EQ(e.block(1)->children, (std::vector<BlockId>{2, 3, 4, 5, 11, 18}));
  EXPECT_EQ(e.block(5)->children, (std::vector<BlockId>{19, 7, 6, 8}));
  EXPECT_EQ(e.block(12)->children, (std::vector<BlockId>{13, 20, 14, 15}));
  EXPECT_EQ(e.block(8)->children, (std::vector<BlockId>{9, 10, 21}));

  const Block& t = *e.block(18);
  EXPECT_EQ(t.type, BlockType::kText);
  EXPECT_EQ(t.parent, 1);
  EXPECT_EQ(t.text.content, "Text");
  EXPECT_EQ(t.width, 400);
  EXPECT_EQ(t.height, 40);
  EXPECT_EQ(t.x, 200);  // centred on its page
  EXPECT_EQ(t.y, 280);
  const Block& s = *e.block(19);
  EXPECT_EQ(s.shape.shape, ShapeKind::kRect);
  EXPECT_TRUE(s.fill.enabled);
  EXPECT_EQ(s.x, 300);
  EXPECT_EQ(s.y, 200);
  const Block& i = *e.block(20);
  EXPECT_EQ(i.type, BlockType::kImage);
  EXPECT_EQ(i.image.fit, ImageFit::kCover);
  EXPECT_EQ(i.x, (1080 - 400) / 2.0);
  const Block& g = *e.block(21);
  EXPECT_EQ(g.type, BlockType::kGroup);
  EXPECT_TRUE(g.children.empty());
  EXPECT_EQ(g.width, 0);

  EXPECT_EVENTS(rec.take(), structure(Kind::kCreated, 18, 0, 1), structure(Kind::kCreated, 19, 0, 5),
                structure(Kind::kCreated, 20, 0, 12), structure(Kind::kCreated, 21, 0, 8));
  // Each create is one step.
  ASSERT_EQ(e.undo(), Status());
  EXPECT_EQ(e.block(21), nullptr);
  EXPECT_EQ(e.block(8)->children, (std::vector<BlockId>{9, 10}));
}

TEST(Engine, CreateErrors) {
  Engine e(make_scene());
  Recorder rec(e);
  expect_error(e.create(BlockType::kText, 3).status(), StatusCode::kInvalidArgument,
               "block 3 (text) cannot hold blocks: a parent must be a page or a group");
  expect_error(e.create(BlockType::kImage, 99).status(), StatusCode::kNotFound, "no block with id 99");
  expect_error(e.create(BlockType::kText, 0).status(), StatusCode::kInvalidArgument,
               "a text block needs a parent page or group");
  expect_error(e.create(BlockType::kText, 1, 6).status(), StatusCode::kOutOfRange,
               "block 1: index 6 is out of range 0..5 (-1: on top)");
  expect_error(e.create(BlockType::kText, 1, -2).status(), StatusCode::kOutOfRange,
               "block 1: index -2 is out of range 0..5 (-1: on top)");
  expect_error(e.create(BlockType::kPage, 1).status(), StatusCode::kInvalidArgument,
               "a page cannot be placed in block 1: pages have no parent");
  expect_error(e.create_page(0, 100).status(), StatusCode::kInvalidArgument,
               "block 18: a page's width must be positive, got 0");
  expect_error(e.create_page(100, -1).status(), StatusCode::kInvalidArgument,
               "block 18: height must not be negative, got -1");
  expect_error(e.create_page(100, 100, 3).status(), StatusCode::kOutOfRange,
               "pages: index 3 is out of range 0..2 (-1: on top)");
  EXPECT_SCENE_EQ(e.scene(), make_scene());
  EXPECT_FALSE(e.can_undo());
  EXPECT_TRUE(rec.events.empty());
}

TEST(Engine, CreatePage) {
  Engine e(make_scene());
  auto a = e.create_page(1920, 1080);
  ASSERT_TRUE(a.ok());
  auto b = e.create_page(500, 500, 0);
  ASSERT_TRUE(b.ok());
  auto c = e.create(BlockType::kPage, 0, 1);
  ASSERT_TRUE(c.ok());
  ASSERT_VALID(e);
  EXPECT_EQ(e.scene().pages, (std::vector<BlockId>{19, 20, 1, 12, 18}));
  EXPECT_EQ(e.block(18)->width, 1920);
  EXPECT_EQ(e.block(18)->height, 1080);
  EXPECT_EQ(e.block(20)->width, 1080);
  EXPECT_EQ(e.block(20)->parent, 0);
  EXPECT_TRUE(e.block(20)->fill.enabled);  // a white background
  auto t = e.create(BlockType::kText, 19);  // centred on the new page
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(e.block(*t)->x, 50);
  ASSERT_EQ(e.undo(), Status());
  ASSERT_EQ(e.undo(), Status());
  ASSERT_EQ(e.undo(), Status());
  ASSERT_EQ(e.undo(), Status());
  EXPECT_SCENE_EQ(e.scene(), make_scene());
}

TEST(Engine, DuplicateIsDeepWithNewIdsRightAboveTheOriginal) {
  Engine e(make_scene());
  Recorder rec(e);
  auto copy = e.duplicate(5);
  ASSERT_TRUE(copy.ok()) << copy.status().message();
  ASSERT_VALID(e);
  EXPECT_EQ(*copy, 18);
  EXPECT_EQ(e.block(1)->children, (std::vector<BlockId>{2, 3, 4, 5, 18, 11}));
  // Document order of the original 5, 7, 6, 8, 9, 10 maps to 18..23.
  EXPECT_EQ(e.block(18)->children, (std::vector<BlockId>{19, 20, 21}));
  EXPECT_EQ(e.block(21)->children, (std::vector<BlockId>{22, 23}));
  const std::map<BlockId, BlockId> original_of = {{18, 5}, {19, 7}, {20, 6}, {21, 8}, {22, 9}, {23, 10}};
  for (auto [id, orig] : original_of) {
    Block c = *e.block(id);
    const Block& o = *e.block(orig);
    EXPECT_EQ(c.parent, id == 18 ? 1 : original_of.count(c.parent) ? c.parent : -1);
    c.id = o.id;
    c.parent = o.parent;
    c.children = o.children;
    EXPECT_EQ(c, o) << id;
  }
  // The original is untouched.
  EXPECT_EQ(e.block(5)->children, (std::vector<BlockId>{7, 6, 8}));
  EXPECT_EVENTS(rec.take(), structure(Kind::kCreated, 18, 0, 1), structure(Kind::kCreated, 19, 0, 18),
                structure(Kind::kCreated, 20, 0, 18), structure(Kind::kCreated, 21, 0, 18),
                structure(Kind::kCreated, 22, 0, 21), structure(Kind::kCreated, 23, 0, 21));

  auto leaf = e.duplicate(9);  // inside a nested group
  ASSERT_TRUE(leaf.ok());
  EXPECT_EQ(e.block(8)->children, (std::vector<BlockId>{9, 24, 10}));

  auto page = e.duplicate(12);  // a page: right after it in the page order
  ASSERT_TRUE(page.ok());
  ASSERT_VALID(e);
  EXPECT_EQ(*page, 25);
  EXPECT_EQ(e.scene().pages, (std::vector<BlockId>{1, 12, 25}));
  EXPECT_EQ(e.block(25)->children, (std::vector<BlockId>{26, 27, 28}));
  EXPECT_EQ(e.block(28)->children, (std::vector<BlockId>{29, 30}));
  EXPECT_EQ(e.block(30)->image.source, "thumb.webp");

  expect_error(e.duplicate(99).status(), StatusCode::kNotFound, "no block with id 99");
}

TEST(Engine, DestroyRemovesChildrenAndPages) {
  Engine e(make_scene());
  Recorder rec(e);
  ASSERT_EQ(e.destroy(5), Status());
  ASSERT_VALID(e);
  EXPECT_EQ(e.block(1)->children, (std::vector<BlockId>{2, 3, 4, 11}));
  for (BlockId id : {5, 6, 7, 8, 9, 10}) EXPECT_EQ(e.block(id), nullptr) << id;
  // Children before their parents.
  EXPECT_EVENTS(rec.take(), structure(Kind::kDestroyed, 10, 8, 0), structure(Kind::kDestroyed, 9, 8, 0),
                structure(Kind::kDestroyed, 8, 5, 0), structure(Kind::kDestroyed, 6, 5, 0),
                structure(Kind::kDestroyed, 7, 5, 0), structure(Kind::kDestroyed, 5, 1, 0));

  // Destroying a page removes it from the page list with all its blocks.
  ASSERT_EQ(e.destroy(1), Status());
  ASSERT_VALID(e);
  EXPECT_EQ(e.scene().pages, std::vector<BlockId>{12});
  EXPECT_EQ(e.all_blocks(), (std::vector<BlockId>{12, 13, 14, 15, 16, 17}));
  EXPECT_EQ(e.scene().blocks.size(), 6u);
  expect_error(e.destroy(1), StatusCode::kNotFound, "no block with id 1");

  ASSERT_EQ(e.undo(), Status());
  ASSERT_EQ(e.undo(), Status());
  EXPECT_SCENE_EQ(e.scene(), make_scene());
}

TEST(Engine, Reorder) {
  Engine e(make_scene());
  Recorder rec(e);
  ASSERT_EQ(e.reorder(2, -1), Status());
  EXPECT_EQ(e.block(1)->children, (std::vector<BlockId>{3, 4, 5, 11, 2}));
  ASSERT_EQ(e.reorder(2, 0), Status());
  ASSERT_EQ(e.reorder(11, 1), Status());
  EXPECT_EQ(e.block(1)->children, (std::vector<BlockId>{2, 11, 3, 4, 5}));
  ASSERT_EQ(e.reorder(10, 0), Status());  // inside a nested group
  EXPECT_EQ(e.block(8)->children, (std::vector<BlockId>{10, 9}));
  ASSERT_EQ(e.reorder(12, 0), Status());  // pages: the page order
  EXPECT_EQ(e.scene().pages, (std::vector<BlockId>{12, 1}));
  ASSERT_VALID(e);
  EXPECT_EVENTS(rec.take(), structure(Kind::kMoved, 2, 1, 1), structure(Kind::kMoved, 2, 1, 1),
                structure(Kind::kMoved, 11, 1, 1), structure(Kind::kMoved, 10, 8, 8), structure(Kind::kMoved, 12, 0, 0));
  ASSERT_EQ(e.reorder(9, 1), Status());  // already there: nothing to do
  EXPECT_TRUE(rec.events.empty());
  expect_error(e.reorder(2, 5), StatusCode::kOutOfRange, "block 1: index 5 is out of range 0..4 (-1: on top)");
  expect_error(e.reorder(12, 2), StatusCode::kOutOfRange, "pages: index 2 is out of range 0..1 (-1: on top)");
  expect_error(e.reorder(99, 0), StatusCode::kNotFound, "no block with id 99");
  for (int i = 0; i < 5; ++i) ASSERT_EQ(e.undo(), Status());
  EXPECT_FALSE(e.can_undo());
  EXPECT_SCENE_EQ(e.scene(), make_scene());
}

TEST(Engine, MoveTo) {
  Engine e(make_scene());
  Recorder rec(e);
  ASSERT_EQ(e.move_to(3, 8, 0), Status());
  EXPECT_EQ(e.block(8)->children, (std::vector<BlockId>{3, 9, 10}));
  EXPECT_EQ(e.block(1)->children, (std::vector<BlockId>{2, 4, 5, 11}));
  EXPECT_EQ(e.block(3)->parent, 8);
  EXPECT_EQ(e.block(3)->x, 40);  // geometry is page-relative: unchanged
  ASSERT_EQ(e.move_to(5, 12, 1), Status());  // to another page, with its children
  EXPECT_EQ(e.block(12)->children, (std::vector<BlockId>{13, 5, 14, 15}));
  EXPECT_EQ(e.scene().page_of(9), 12);
  ASSERT_EQ(e.move_to(14, 12), Status());  // same parent: to the top
  EXPECT_EQ(e.block(12)->children, (std::vector<BlockId>{13, 5, 15, 14}));
  ASSERT_VALID(e);
  EXPECT_EVENTS(rec.take(), structure(Kind::kMoved, 3, 1, 8), structure(Kind::kMoved, 5, 1, 12),
                structure(Kind::kMoved, 14, 12, 12));

  expect_error(e.move_to(1, 12), StatusCode::kInvalidArgument, "block 1 is a page: pages cannot be moved into a block");
  expect_error(e.move_to(5, 8), StatusCode::kInvalidArgument,
               "cannot move block 5 into block 8: it is the block itself or inside it");
  expect_error(e.move_to(5, 5), StatusCode::kInvalidArgument,
               "cannot move block 5 into block 5: it is the block itself or inside it");
  expect_error(e.move_to(4, 9), StatusCode::kInvalidArgument,
               "block 9 (shape) cannot hold blocks: a parent must be a page or a group");
  expect_error(e.move_to(4, 77), StatusCode::kNotFound, "no block with id 77");
  expect_error(e.move_to(4, 15, 3), StatusCode::kOutOfRange, "block 15: index 3 is out of range 0..2 (-1: on top)");
  expect_error(e.move_to(14, 12, 4), StatusCode::kOutOfRange, "block 12: index 4 is out of range 0..3 (-1: on top)");
  EXPECT_TRUE(rec.events.empty());
  for (int i = 0; i < 3; ++i) ASSERT_EQ(e.undo(), Status());
  EXPECT_SCENE_EQ(e.scene(), make_scene());
}

TEST(Engine, GroupTakesTheTopmostMembersPlaceAndBoundsThem) {
  Engine e(make_scene());
  Recorder rec(e);
  auto g = e.group({4, 3});  // listed in any order; stacked as in the parent
  ASSERT_TRUE(g.ok()) << g.status().message();
  ASSERT_VALID(e);
  EXPECT_EQ(*g, 18);
  EXPECT_EQ(e.block(1)->children, (std::vector<BlockId>{2, 18, 5, 11}));
  const Block& b = *e.block(18);
  EXPECT_EQ(b.type, BlockType::kGroup);
  EXPECT_EQ(b.parent, 1);
  EXPECT_EQ(b.children, (std::vector<BlockId>{3, 4}));
  EXPECT_EQ(b.x, 40);
  EXPECT_EQ(b.y, 40);
  EXPECT_EQ(b.width, 720);   // 40..760
  EXPECT_EQ(b.height, 400);  // 40..440
  EXPECT_EQ(e.block(3)->parent, 18);
  EXPECT_EQ(e.block(4)->parent, 18);
  EXPECT_EVENTS(rec.take(), structure(Kind::kCreated, 18, 0, 1), structure(Kind::kMoved, 3, 1, 18),
                structure(Kind::kMoved, 4, 1, 18));

  // Non-adjacent members: the group sits where the topmost one was.
  auto g2 = e.group({2, 11});
  ASSERT_TRUE(g2.ok());
  EXPECT_EQ(e.block(1)->children, (std::vector<BlockId>{18, 5, 19}));
  // A rotated member counts with its rotated box (cta: 200x50 at 40,500, 10 degrees).
  const double rad = 10 * 3.14159265358979323846 / 180;
  const double half_h = (200 * std::sin(rad) + 50 * std::cos(rad)) / 2;
  EXPECT_EQ(e.block(19)->x, 0);
  EXPECT_EQ(e.block(19)->width, 800);
  EXPECT_NEAR(e.block(19)->height, std::max(600.0, 525 + half_h), 1e-9);

  // Groups inside groups, and a single block.
  auto g3 = e.group({9});
  ASSERT_TRUE(g3.ok());
  EXPECT_EQ(e.block(8)->children, (std::vector<BlockId>{20, 10}));
  EXPECT_EQ(e.block(20)->children, std::vector<BlockId>{9});
  ASSERT_VALID(e);

  // A quarter turn: 880x120 at 100,100 bounds as 120x880 about the same centre (540,160).
  ASSERT_EQ(e.set_rotation(14, 90), Status());
  auto g4 = e.group({14});
  ASSERT_TRUE(g4.ok());
  EXPECT_NEAR(e.block(*g4)->x, 480, 1e-9);
  EXPECT_NEAR(e.block(*g4)->y, -280, 1e-9);
  EXPECT_NEAR(e.block(*g4)->width, 120, 1e-9);
  EXPECT_NEAR(e.block(*g4)->height, 880, 1e-9);
  ASSERT_VALID(e);

  for (int i = 0; i < 5; ++i) ASSERT_EQ(e.undo(), Status());
  EXPECT_SCENE_EQ(e.scene(), make_scene());
}

TEST(Engine, GroupErrors) {
  Engine e(make_scene());
  Recorder rec(e);
  expect_error(e.group({3, 6}).status(), StatusCode::kInvalidArgument,
               "blocks 3 and 6 have different parents (1 and 5): only blocks with the same parent can be grouped");
  expect_error(e.group({}).status(), StatusCode::kInvalidArgument, "nothing to group: no blocks given");
  expect_error(e.group({3, 99}).status(), StatusCode::kNotFound, "no block with id 99");
  expect_error(e.group({1}).status(), StatusCode::kInvalidArgument, "block 1 is a page: pages cannot be grouped");
  expect_error(e.group({3, 4, 3}).status(), StatusCode::kInvalidArgument, "block 3 is listed twice");
  EXPECT_SCENE_EQ(e.scene(), make_scene());
  EXPECT_FALSE(e.can_undo());
  EXPECT_TRUE(rec.events.empty());
}

TEST(Engine, Ungroup) {
  Engine e(make_scene());
  Recorder rec(e);
  ASSERT_EQ(e.ungroup(5), Status());
  ASSERT_VALID(e);
  EXPECT_EQ(e.block(5), nullptr);
  EXPECT_EQ(e.block(1)->children, (std::vector<BlockId>{2, 3, 4, 7, 6, 8, 11}));
  EXPECT_EQ(e.block(8)->parent, 1);
  EXPECT_EQ(e.block(8)->children, (std::vector<BlockId>{9, 10}));  // nested groups stay
  EXPECT_EVENTS(rec.take(), structure(Kind::kMoved, 7, 5, 1), structure(Kind::kMoved, 6, 5, 1),
                structure(Kind::kMoved, 8, 5, 1), structure(Kind::kDestroyed, 5, 1, 0));
  expect_error(e.ungroup(3), StatusCode::kInvalidArgument, "block 3 (text) is not a group");
  expect_error(e.ungroup(1), StatusCode::kInvalidArgument, "block 1 (page) is not a group");
  expect_error(e.ungroup(5), StatusCode::kNotFound, "no block with id 5");
  // Group then ungroup restores the structure.
  auto g = e.group({7, 6, 8});
  ASSERT_TRUE(g.ok());
  ASSERT_EQ(e.ungroup(*g), Status());
  EXPECT_EQ(e.block(1)->children, (std::vector<BlockId>{2, 3, 4, 7, 6, 8, 11}));
  // An empty group just goes.
  auto empty = e.create(BlockType::kGroup, 12, 0);
  ASSERT_TRUE(empty.ok());
  ASSERT_EQ(e.ungroup(*empty), Status());
  ASSERT_VALID(e);
  while (e.can_undo()) ASSERT_EQ(e.undo(), Status());
  EXPECT_SCENE_EQ(e.scene(), make_scene());
}

// ---- transactions, undo, redo ----

TEST(Engine, EachCallOutsideATransactionIsOneStep) {
  Engine e(make_scene());
  ASSERT_EQ(e.set_position_x(4, 1), Status());
  ASSERT_EQ(e.set_position_y(4, 2), Status());
  ASSERT_EQ(e.undo(), Status());
  EXPECT_EQ(e.block(4)->x, 1);
  EXPECT_EQ(e.block(4)->y, 140);
  ASSERT_EQ(e.undo(), Status());
  EXPECT_SCENE_EQ(e.scene(), make_scene());
  expect_error(e.undo(), StatusCode::kFailedPrecondition, "nothing to undo");
  ASSERT_EQ(e.redo(), Status());
  ASSERT_EQ(e.redo(), Status());
  EXPECT_EQ(e.block(4)->y, 2);
  expect_error(e.redo(), StatusCode::kFailedPrecondition, "nothing to redo");
}

TEST(Engine, ANewChangeClearsRedo) {
  Engine e(make_scene());
  ASSERT_EQ(e.set_opacity(3, 0.5), Status());
  ASSERT_EQ(e.undo(), Status());
  EXPECT_TRUE(e.can_redo());
  ASSERT_EQ(e.set_opacity(3, 0.7), Status());
  EXPECT_FALSE(e.can_redo());
  expect_error(e.redo(), StatusCode::kFailedPrecondition, "nothing to redo");
  // A failed call is not a change: redo survives it.
  ASSERT_EQ(e.undo(), Status());
  EXPECT_FALSE(e.set_opacity(3, 7).ok());
  EXPECT_TRUE(e.can_redo());
}

TEST(Engine, ATransactionIsOneStep) {
  Engine e(make_scene());
  Recorder rec(e);
  e.begin("Resize logo");
  EXPECT_TRUE(e.in_transaction());
  ASSERT_EQ(e.set_width(4, 300), Status());
  ASSERT_EQ(e.set_height(4, 250), Status());
  auto t = e.create(BlockType::kText, 1);
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(e.set_text(*t, "Logo"), Status());
  EXPECT_FALSE(e.can_undo());
  expect_error(e.undo(), StatusCode::kFailedPrecondition, "cannot undo inside a transaction");
  expect_error(e.redo(), StatusCode::kFailedPrecondition, "cannot redo inside a transaction");
  ASSERT_EQ(e.commit(), Status());
  EXPECT_FALSE(e.in_transaction());
  ASSERT_VALID(e);
  const Scene after = e.scene();
  const std::vector<ChangeEvent> forward = {
      prop_event(4, "width", 360.0, 300.0), prop_event(4, "height", 300.0, 250.0),
      structure(Kind::kCreated, 18, 0, 1), prop_event(18, "text", std::string("Text"), std::string("Logo"))};
  std::vector<ChangeEvent> expected = forward;
  expected.push_back(labelled(Kind::kCommitted, "Resize logo"));
  EXPECT_EQ(describe(rec.take()), describe(expected));

  ASSERT_EQ(e.undo(), Status());
  EXPECT_SCENE_EQ(e.scene(), make_scene());
  EXPECT_FALSE(e.can_undo());
  // Undo delivers the inverse changes, last first, then kUndo with the label.
  EXPECT_EVENTS(rec.take(), prop_event(18, "text", std::string("Logo"), std::string("Text")),
                structure(Kind::kDestroyed, 18, 1, 0), prop_event(4, "height", 250.0, 300.0),
                prop_event(4, "width", 300.0, 360.0), labelled(Kind::kUndo, "Resize logo"));
  ASSERT_EQ(e.redo(), Status());
  EXPECT_SCENE_EQ(e.scene(), after);
  expected = forward;
  expected.push_back(labelled(Kind::kRedo, "Resize logo"));
  EXPECT_EQ(describe(rec.take()), describe(expected));
}

TEST(Engine, StepsOutsideTransactionsAreLabelledByTheCall) {
  Engine e(make_scene());
  Recorder rec(e);
  ASSERT_EQ(e.set_opacity(3, 0.5), Status());
  ASSERT_TRUE(e.group({3, 4}).ok());
  ASSERT_EQ(e.undo(), Status());
  ASSERT_EQ(e.undo(), Status());
  std::vector<std::string> labels;
  for (const ChangeEvent& ev : rec.events) {
    if (ev.kind == Kind::kUndo) labels.push_back(ev.label);
  }
  EXPECT_EQ(labels, (std::vector<std::string>{"group", "set opacity"}));
}

TEST(Engine, NestedTransactionsJoinTheOuterOne) {
  Engine e(make_scene());
  Recorder rec(e);
  e.begin("outer");
  ASSERT_EQ(e.set_position_x(3, 1), Status());
  e.begin("inner");
  ASSERT_EQ(e.set_position_y(3, 2), Status());
  ASSERT_EQ(e.commit(), Status());  // joins: no event, still in the outer transaction
  EXPECT_TRUE(e.in_transaction());
  ASSERT_EQ(e.destroy(11), Status());
  ASSERT_EQ(e.commit(), Status());
  EXPECT_FALSE(e.in_transaction());
  EXPECT_EVENTS(rec.take(), prop_event(3, "x", 40.0, 1.0), prop_event(3, "y", 40.0, 2.0),
                structure(Kind::kDestroyed, 11, 1, 0), labelled(Kind::kCommitted, "outer"));
  ASSERT_EQ(e.undo(), Status());
  EXPECT_SCENE_EQ(e.scene(), make_scene());
  EXPECT_FALSE(e.can_undo());
}

TEST(Engine, RollbackRestoresExactly) {
  Engine e(make_scene());
  ASSERT_EQ(e.set_opacity(3, 0.5), Status());  // an earlier step, kept
  const Scene before = e.scene();
  Recorder rec(e);
  e.begin("Try things");
  ASSERT_EQ(e.set_text(3, "Changed"), Status());
  auto d = e.duplicate(5);
  ASSERT_TRUE(d.ok());
  auto g = e.group({2, 4, *d});
  ASSERT_TRUE(g.ok());
  ASSERT_EQ(e.move_to(14, *d), Status());
  ASSERT_EQ(e.destroy(12), Status());
  ASSERT_TRUE(e.create_page(100, 100, 0).ok());
  ASSERT_EQ(e.reorder(11, 0), Status());
  ASSERT_EQ(e.ungroup(8), Status());
  ASSERT_VALID(e);
  rec.take();
  ASSERT_EQ(e.rollback(), Status());
  EXPECT_FALSE(e.in_transaction());
  EXPECT_SCENE_EQ(e.scene(), before);
  ASSERT_FALSE(rec.events.empty());
  EXPECT_EQ(describe(rec.events.back()), describe(labelled(Kind::kRolledBack, "Try things")));
  EXPECT_EQ(describe(rec.events.front()), describe(structure(Kind::kCreated, 8, 0, 5)));  // ungroup reversed first
  // Nothing recorded: the one step left is the earlier one.
  ASSERT_EQ(e.undo(), Status());
  EXPECT_SCENE_EQ(e.scene(), make_scene());
  EXPECT_FALSE(e.can_undo());
}

TEST(Engine, InnerRollbackUndoesOnlyTheInnerChanges) {
  Engine e(make_scene());
  Recorder rec(e);
  e.begin("outer");
  ASSERT_EQ(e.set_position_x(3, 1), Status());
  e.begin("inner");
  ASSERT_EQ(e.set_position_x(3, 2), Status());
  ASSERT_EQ(e.destroy(5), Status());
  ASSERT_EQ(e.rollback(), Status());
  EXPECT_TRUE(e.in_transaction());
  EXPECT_EQ(e.block(3)->x, 1);
  ASSERT_NE(e.block(5), nullptr);
  ASSERT_EQ(e.commit(), Status());
  Scene expected = make_scene();
  expected.blocks.at(3).x = 1;
  EXPECT_SCENE_EQ(e.scene(), expected);
  auto events = rec.take();
  ASSERT_EQ(events.size(), 2u + 6u + 6u + 1u + 1u + 1u);
  EXPECT_EQ(describe(events[8]), describe(structure(Kind::kCreated, 5, 0, 1)));
  EXPECT_EQ(describe(events[14]), describe(prop_event(3, "x", 2.0, 1.0)));
  EXPECT_EQ(describe(events[15]), describe(labelled(Kind::kRolledBack, "inner")));
  EXPECT_EQ(describe(events[16]), describe(labelled(Kind::kCommitted, "outer")));
  ASSERT_EQ(e.undo(), Status());
  EXPECT_SCENE_EQ(e.scene(), make_scene());
}

TEST(Engine, TransactionErrorsAndEmptyTransactions) {
  Engine e(make_scene());
  Recorder rec(e);
  expect_error(e.commit(), StatusCode::kFailedPrecondition, "no transaction to commit");
  expect_error(e.rollback(), StatusCode::kFailedPrecondition, "no transaction to roll back");
  e.begin("nothing");
  ASSERT_EQ(e.commit(), Status());
  EXPECT_FALSE(e.can_undo());  // no step for no change
  e.begin("back and forth");
  ASSERT_EQ(e.set_opacity(3, 0.5), Status());
  ASSERT_EQ(e.set_opacity(3, 1), Status());
  ASSERT_EQ(e.commit(), Status());
  EXPECT_FALSE(e.can_undo());
  EXPECT_EVENTS(rec.take(), labelled(Kind::kCommitted, "nothing"), prop_event(3, "opacity", 1.0, 0.5),
                prop_event(3, "opacity", 0.5, 1.0), labelled(Kind::kCommitted, "back and forth"));
}

TEST(Engine, AFailedCallInsideATransactionChangesNothing) {
  Engine e(make_scene());
  Recorder rec(e);
  e.begin("Edit");
  ASSERT_EQ(e.set_position_x(3, 5), Status());
  const Scene mid = e.scene();
  EXPECT_FALSE(e.set_opacity(3, 3).ok());
  EXPECT_FALSE(e.group({3, 9}).ok());
  EXPECT_FALSE(e.move_to(5, 9).ok());
  EXPECT_SCENE_EQ(e.scene(), mid);
  ASSERT_EQ(e.commit(), Status());
  EXPECT_EVENTS(rec.take(), prop_event(3, "x", 40.0, 5.0), labelled(Kind::kCommitted, "Edit"));
  ASSERT_EQ(e.undo(), Status());
  EXPECT_SCENE_EQ(e.scene(), make_scene());
}

TEST(Engine, UndoAndRedoOfStructureDeliverInverseEvents) {
  Engine e(make_scene());
  Recorder rec(e);
  ASSERT_TRUE(e.group({3, 4}).ok());
  rec.take();
  ASSERT_EQ(e.undo(), Status());
  EXPECT_EVENTS(rec.take(), structure(Kind::kMoved, 4, 18, 1), structure(Kind::kMoved, 3, 18, 1),
                structure(Kind::kDestroyed, 18, 1, 0), labelled(Kind::kUndo, "group"));
  ASSERT_EQ(e.redo(), Status());
  EXPECT_EVENTS(rec.take(), structure(Kind::kCreated, 18, 0, 1), structure(Kind::kMoved, 3, 1, 18),
                structure(Kind::kMoved, 4, 1, 18), labelled(Kind::kRedo, "group"));
  ASSERT_EQ(e.destroy(18), Status());
  rec.take();
  ASSERT_EQ(e.undo(), Status());
  EXPECT_EVENTS(rec.take(), structure(Kind::kCreated, 18, 0, 1), structure(Kind::kCreated, 3, 0, 18),
                structure(Kind::kCreated, 4, 0, 18), labelled(Kind::kUndo, "destroy"));
}

TEST(Engine, Unsubscribe) {
  Engine e(make_scene());
  int a = 0, b = 0;
  const int ta = e.subscribe([&](const ChangeEvent&) { ++a; });
  e.subscribe([&](const ChangeEvent&) { ++b; });
  ASSERT_EQ(e.set_opacity(3, 0.5), Status());
  e.unsubscribe(ta);
  ASSERT_EQ(e.set_opacity(3, 0.6), Status());
  ASSERT_EQ(e.undo(), Status());
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 4);  // two sets, then the undo's inverse change and kUndo
}

// ---- the property test: random edits, then undo everything and redo everything ----

// Mirrors the scene's structure and the property values it hears about from events alone,
// and checks each event against what it has heard before.
struct EventMirror {
  explicit EventMirror(const Scene& s) {
    for (const auto& [id, b] : s.blocks) parent[id] = b.parent;
  }
  void on(const ChangeEvent& ev) {
    ++count;
    switch (ev.kind) {
      case Kind::kCreated:
        EXPECT_EQ(parent.count(ev.id), 0u) << describe(ev);
        parent[ev.id] = std::get<long long>(ev.new_value);
        forget(ev.id);
        break;
      case Kind::kDestroyed:
        EXPECT_EQ(parent.count(ev.id), 1u) << describe(ev);
        EXPECT_EQ(parent[ev.id], std::get<long long>(ev.old_value)) << describe(ev);
        parent.erase(ev.id);
        forget(ev.id);
        break;
      case Kind::kMoved:
        EXPECT_EQ(parent[ev.id], std::get<long long>(ev.old_value)) << describe(ev);
        parent[ev.id] = std::get<long long>(ev.new_value);
        break;
      case Kind::kPropertyChanged: {
        auto key = std::make_pair(ev.id, ev.property);
        auto it = values.find(key);
        if (it != values.end()) {
          EXPECT_EQ(it->second, ev.old_value) << describe(ev);
        }
        EXPECT_NE(ev.old_value, ev.new_value) << describe(ev);
        values[key] = ev.new_value;
        break;
      }
      default:
        break;
    }
  }
  void forget(BlockId id) {
    values.erase(values.lower_bound({id, ""}), values.lower_bound({id + 1, ""}));
  }
  void expect_matches(const Engine& e) const {
    std::map<BlockId, long long> actual;
    for (const auto& [id, b] : e.scene().blocks) actual[id] = b.parent;
    EXPECT_EQ(parent, actual);
    for (const auto& [key, value] : values) {
      auto v = e.get(key.first, key.second);
      ASSERT_TRUE(v.ok()) << v.status().message();
      EXPECT_EQ(*v, value) << key.first << " " << key.second;
    }
  }
  std::map<BlockId, long long> parent;
  std::map<std::pair<BlockId, std::string>, PropertyValue> values;
  std::size_t count = 0;
};

class RandomEditor {
 public:
  RandomEditor(std::uint64_t seed, const Scene& start) : rng_(seed), e_(start), mirror_(start) {
    e_.subscribe([this](const ChangeEvent& ev) { mirror_.on(ev); });
    undo_model_.push_back(start);
  }

  void run(int operations) {
    for (int i = 0; i < operations && !::testing::Test::HasFatalFailure(); ++i) {
      const int r = pick(100);
      if (r < 10) {
        transaction(0);
      } else if (r < 16) {
        undo_one();
      } else if (r < 20) {
        redo_one();
      } else {
        top_level_op();
      }
      ASSERT_VALID(e_);
      mirror_.expect_matches(e_);
      ASSERT_EQ(e_.can_undo(), undo_model_.size() > 1);
      ASSERT_EQ(e_.can_redo(), !redo_model_.empty());
    }
  }

  void undo_and_redo_everything(const Scene& original) {
    const Scene final_scene = e_.scene();
    std::size_t undone = 0;
    while (e_.can_undo()) {
      ASSERT_EQ(e_.undo(), Status());
      ++undone;
      ASSERT_VALID(e_);
      ASSERT_SCENE_EQ(e_.scene(), undo_model_[undo_model_.size() - 1 - undone]);
    }
    EXPECT_EQ(undone, undo_model_.size() - 1);
    ASSERT_SCENE_EQ(e_.scene(), original);
    mirror_.expect_matches(e_);
    for (std::size_t i = 0; i < undone; ++i) {
      ASSERT_EQ(e_.redo(), Status());
      ASSERT_VALID(e_);
    }
    ASSERT_SCENE_EQ(e_.scene(), final_scene);
    mirror_.expect_matches(e_);
  }

  int successes = 0, failures = 0, undos = 0, commits = 0, rollbacks = 0;
  std::map<std::string, int> done;  // successful operations by name

 private:
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  double uniform(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng_); }

  BlockId any_block() {
    if (chance(0.03)) return 1000 + pick(3);  // does not exist
    std::vector<BlockId> all = e_.all_blocks();
    return all[pick(static_cast<int>(all.size()))];
  }
  BlockId any_non_page() {
    std::vector<BlockId> all = e_.all_blocks();
    std::erase_if(all, [&](BlockId id) { return e_.block(id)->type == BlockType::kPage; });
    if (all.empty() || chance(0.03)) return any_block();
    return all[pick(static_cast<int>(all.size()))];
  }
  BlockId any_container() {
    std::vector<BlockId> all = e_.find_by_type(BlockType::kPage);
    for (BlockId g : e_.find_by_type(BlockType::kGroup)) all.push_back(g);
    if (chance(0.05)) return any_block();
    return all[pick(static_cast<int>(all.size()))];
  }
  int any_index(std::size_t size) {  // mostly valid: -1 or 0..size
    if (chance(0.3)) return -1;
    return pick(static_cast<int>(size) + 2);  // size + 1 is out of range
  }

  PropertyValue random_value(const PropertyInfo& info) {
    const bool valid = chance(0.93);
    switch (info.type) {
      case PropertyType::kNumber: {
        if (!valid) return chance(0.5) ? info.max + 1 : info.min - 1;
        const double lo = std::max(info.min, -2000.0), hi = std::min(info.max, 2000.0);
        double v = uniform(lo, hi);
        if (chance(0.5)) v = std::round(v);
        return std::clamp(v, info.min, info.max);
      }
      case PropertyType::kInteger:
        if (!valid) return static_cast<long long>(info.max) + 1;
        return static_cast<long long>(info.min) + pick(static_cast<int>(info.max - info.min) + 1);
      case PropertyType::kBool:
        return chance(0.5);
      case PropertyType::kString: {
        static const std::vector<std::string> kStrings = {"", "Hello", "Grüße 🎨", "two\nlines", "photo.png", "cta",
                                                          "a much longer piece of text that wraps"};
        if (!valid) return std::string("\xff\xfe");  // not UTF-8
        return kStrings[pick(static_cast<int>(kStrings.size()))];
      }
      case PropertyType::kColor: {
        if (!valid) return Color{2, 0, 0, 1};
        auto channel = [&] { return static_cast<float>(pick(256)) / 255.f; };
        Color c{channel(), channel(), channel(), chance(0.7) ? 1.f : channel()};
        return c;
      }
      case PropertyType::kEnum:
        if (!valid) return std::string("bogus");
        return std::string(info.choices[pick(static_cast<int>(info.choices.size()))]);
    }
    return 0.0;
  }

  // One random call; returns its status. Names it in `what`.
  Status random_call(std::string& what) {
    const int r = pick(100);
    const bool crowded = e_.scene().blocks.size() > 90;
    if (r < 40) {
      const BlockId id = any_block();
      const Block* b = e_.block(id);
      std::vector<const PropertyInfo*> props = properties_of(b ? b->type : BlockType::kText);
      const PropertyInfo* info = props[pick(static_cast<int>(props.size()))];
      if (chance(0.03)) info = &properties()[pick(static_cast<int>(properties().size()))];  // maybe not its type's
      what = "set";
      return e_.set(id, info->name, random_value(*info));
    }
    if (r < 50 && !crowded) {
      static const BlockType kTypes[] = {BlockType::kText, BlockType::kImage, BlockType::kShape, BlockType::kGroup};
      const BlockId parent = any_container();
      const Block* p = e_.block(parent);
      what = "create";
      if (chance(0.04)) return e_.create_page(uniform(100, 2000), uniform(100, 2000), any_index(e_.scene().pages.size())).status();
      return e_.create(kTypes[pick(4)], parent, any_index(p ? p->children.size() : 0)).status();
    }
    if (r < 56 && !crowded) {
      what = "duplicate";
      return e_.duplicate(chance(0.05) ? any_block() : any_non_page()).status();
    }
    if (r < 64 || (crowded && r < 70)) {
      BlockId id = any_block();
      const Block* b = e_.block(id);
      if (b && b->type == BlockType::kPage && e_.scene().pages.size() < 2) id = any_non_page();  // keep a page
      b = e_.block(id);
      if (b && b->type == BlockType::kPage && e_.scene().pages.size() < 2) return Status();
      what = "destroy";
      return e_.destroy(id);
    }
    if (r < 72) {
      const BlockId id = any_block();
      const Block* b = e_.block(id);
      std::size_t size = 1;
      if (b && b->type == BlockType::kPage) size = e_.scene().pages.size();
      else if (b) size = e_.block(b->parent)->children.size();
      what = "reorder";
      return e_.reorder(id, any_index(size - 1));
    }
    if (r < 82) {
      const BlockId id = any_non_page();
      const BlockId parent = any_container();
      const Block* p = e_.block(parent);
      what = "move";
      return e_.move_to(id, parent, any_index(p ? p->children.size() : 0));
    }
    if (r < 91) {
      // Some children of one container; now and then a stranger.
      const BlockId parent = any_container();
      const Block* p = e_.block(parent);
      std::vector<BlockId> ids;
      if (p) {
        for (BlockId c : p->children) {
          if (chance(0.4)) ids.push_back(c);
        }
        if (ids.empty() && !p->children.empty()) ids.push_back(p->children[pick(static_cast<int>(p->children.size()))]);
      }
      if (chance(0.08)) ids.push_back(any_block());
      std::shuffle(ids.begin(), ids.end(), rng_);
      what = "group";
      return e_.group(ids).status();
    }
    std::vector<BlockId> groups = e_.find_by_type(BlockType::kGroup);
    const BlockId id = groups.empty() || chance(0.05) ? any_block() : groups[pick(static_cast<int>(groups.size()))];
    what = "ungroup";
    return e_.ungroup(id);
  }

  // A call that fails changes nothing and delivers nothing.
  void checked_call() {
    const Scene before = e_.scene();
    const std::size_t events = mirror_.count;
    std::string what;
    Status s = random_call(what);
    ASSERT_VALID(e_);
    if (s.ok()) {
      ++successes;
      ++done[what];
    } else {
      ++failures;
      ASSERT_SCENE_EQ(e_.scene(), before) << what << ": " << s.message();
      ASSERT_EQ(mirror_.count, events) << what << ": " << s.message();
    }
  }

  void record_change(const Scene& before) {
    if (e_.scene() == before) return;  // no change, no step
    undo_model_.push_back(e_.scene());
    redo_model_.clear();
  }

  void top_level_op() {
    const Scene before = e_.scene();
    checked_call();
    record_change(before);
  }

  void transaction(int depth) {
    const Scene at_begin = e_.scene();
    e_.begin("transaction " + std::to_string(commits + rollbacks) + " at depth " + std::to_string(depth));
    EXPECT_EQ(e_.undo().message(), "cannot undo inside a transaction");
    const int n = 1 + pick(8);
    for (int i = 0; i < n && !::testing::Test::HasFatalFailure(); ++i) {
      if (depth < 2 && chance(0.12)) {
        transaction(depth + 1);
      } else {
        checked_call();
      }
      ASSERT_VALID(e_);
    }
    if (chance(0.3)) {
      ASSERT_EQ(e_.rollback(), Status());
      ++rollbacks;
      ASSERT_SCENE_EQ(e_.scene(), at_begin);
    } else {
      ASSERT_EQ(e_.commit(), Status());
      ++commits;
      if (depth == 0) record_change(at_begin);
    }
  }

  void undo_one() {
    if (undo_model_.size() <= 1) {
      EXPECT_EQ(e_.undo().message(), "nothing to undo");
      return;
    }
    ASSERT_EQ(e_.undo(), Status());
    ++undos;
    redo_model_.push_back(undo_model_.back());
    undo_model_.pop_back();
    ASSERT_SCENE_EQ(e_.scene(), undo_model_.back());
  }

  void redo_one() {
    if (redo_model_.empty()) {
      EXPECT_EQ(e_.redo().message(), "nothing to redo");
      return;
    }
    ASSERT_EQ(e_.redo(), Status());
    undo_model_.push_back(redo_model_.back());
    redo_model_.pop_back();
    ASSERT_SCENE_EQ(e_.scene(), undo_model_.back());
  }

  std::mt19937_64 rng_;
  Engine e_;
  EventMirror mirror_;
  std::vector<Scene> undo_model_;  // the scene after each step, the start first
  std::vector<Scene> redo_model_;  // scenes that redo gives back, next last
};

TEST(Engine, RandomEditsUndoToTheOriginalAndRedoToTheResult) {
  const Scene original = make_scene();
  for (std::uint64_t seed : {1u, 2u, 3u, 42u, 2024u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    RandomEditor editor(seed, original);
    editor.run(300);
    if (HasFatalFailure()) return;
    editor.undo_and_redo_everything(original);
    if (HasFatalFailure()) return;
    // The mix really exercised every kind of call, successes and failures.
    EXPECT_GT(editor.successes, 150);
    EXPECT_GT(editor.failures, 10);
    EXPECT_GT(editor.commits, 10);
    EXPECT_GT(editor.rollbacks, 3);
    EXPECT_GT(editor.undos, 5);
    for (const char* what : {"set", "create", "duplicate", "destroy", "reorder", "move", "group", "ungroup"}) {
      EXPECT_GT(editor.done[what], 2) << what;
    }
  }
}

}  // namespace
}  // namespace atelier::design
