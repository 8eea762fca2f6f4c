#include "design/renderer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "core/subprocess.h"
#include "image/codec.h"
#include "support/test_support.h"

namespace atelier::design {
namespace {

namespace fs = std::filesystem;

// Builds scenes for the tests: one or more pages, blocks appended on top.
struct Builder {
  Scene scene;

  BlockId page(double w, double h, std::optional<Color> fill = Color{1, 1, 1, 1}) {
    Block p;
    p.id = scene.next_id();
    p.type = BlockType::kPage;
    p.width = w;
    p.height = h;
    p.fill.enabled = fill.has_value();
    if (fill) p.fill.color = *fill;
    scene.pages.push_back(p.id);
    scene.blocks[p.id] = p;
    return p.id;
  }
  Block& add(BlockId parent, BlockType type, double x, double y, double w, double h) {
    Block b;
    b.id = scene.next_id();
    b.type = type;
    b.parent = parent;
    b.x = x;
    b.y = y;
    b.width = w;
    b.height = h;
    scene.blocks[parent].children.push_back(b.id);
    return scene.blocks[b.id] = b;
  }
  Block& rect(BlockId parent, double x, double y, double w, double h, Color fill) {
    Block& b = add(parent, BlockType::kShape, x, y, w, h);
    b.fill.enabled = true;
    b.fill.color = fill;
    return b;
  }
  Block& text(BlockId parent, double x, double y, double w, double h, const std::string& content, double size = 32) {
    Block& b = add(parent, BlockType::kText, x, y, w, h);
    b.text.content = content;
    b.text.font_size = size;
    return b;
  }
  Block& block(BlockId id) { return scene.blocks.at(id); }
};

cv::Vec4b px(const image::Image& img, int x, int y) { return img.mat().at<cv::Vec4b>(y, x); }

constexpr Color kRed{1, 0, 0, 1};
constexpr Color kBlue{0, 0, 1, 1};
constexpr Color kWhite{1, 1, 1, 1};
const cv::Vec4b kWhitePx(255, 255, 255, 255);
const cv::Vec4b kRedPx(255, 0, 0, 255);
const cv::Vec4b kBluePx(0, 0, 255, 255);

// Bounding box of pixels that differ from `bg` by more than `tol` in any channel.
cv::Rect ink_box(const image::Image& img, cv::Vec4b bg = cv::Vec4b(255, 255, 255, 255), int tol = 8) {
  int x0 = img.width(), y0 = img.height(), x1 = -1, y1 = -1;
  for (int y = 0; y < img.height(); ++y) {
    for (int x = 0; x < img.width(); ++x) {
      cv::Vec4b p = px(img, x, y);
      bool ink = false;
      for (int c = 0; c < 4; ++c) ink |= std::abs(int(p[c]) - int(bg[c])) > tol;
      if (ink) {
        x0 = std::min(x0, x);
        y0 = std::min(y0, y);
        x1 = std::max(x1, x);
        y1 = std::max(y1, y);
      }
    }
  }
  if (x1 < 0) return {};
  return {x0, y0, x1 - x0 + 1, y1 - y0 + 1};
}

bool near(cv::Vec4b a, cv::Vec4b b, int tol = 1) {
  for (int c = 0; c < 4; ++c) {
    if (std::abs(int(a[c]) - int(b[c])) > tol) return false;
  }
  return true;
}

image::Image render(const Scene& s, int page = 0, RenderOptions o = {}) {
  Result<image::Image> r = render_page(s, page, o);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : image::Image();
}

std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// A 200×100 PNG: left half red, right half blue.
fs::path write_halves(const fs::path& dir, const std::string& name = "halves.png") {
  cv::Mat m(100, 200, CV_8UC3, cv::Scalar(255, 0, 0));  // RGB order: red
  m(cv::Rect(100, 0, 100, 100)).setTo(cv::Scalar(0, 0, 255));
  fs::path p = dir / name;
  EXPECT_TRUE(image::write_image(p, image::Image(m)).ok());
  return p;
}

TEST(Renderer, FilledRectangleIsExactInsideAndBackgroundOutside) {
  Builder b;
  BlockId page = b.page(200, 100);
  b.rect(page, 50, 25, 100, 50, Color{0.8f, 0.2f, 0.4f, 1});
  for (double scale : {1.0, 2.0}) {
    RenderOptions o;
    o.scale = scale;
    image::Image img = render(b.scene, 0, o);
    ASSERT_EQ(img.width(), int(200 * scale));
    ASSERT_EQ(img.height(), int(100 * scale));
    ASSERT_EQ(img.channels(), 4);
    auto at = [&](double x, double y) { return px(img, int(x * scale), int(y * scale)); };
    const cv::Vec4b inside(204, 51, 102, 255);
    EXPECT_EQ(at(51, 26), inside);
    EXPECT_EQ(at(100, 50), inside);
    EXPECT_EQ(at(148.9, 73.9), inside);
    EXPECT_EQ(at(10, 10), kWhitePx);
    EXPECT_EQ(at(48, 50), kWhitePx);
    EXPECT_EQ(at(152, 50), kWhitePx);
    EXPECT_EQ(at(100, 77), kWhitePx);
    // The rectangle's edges are on whole pixels: the ink box is exactly the rectangle.
    EXPECT_EQ(ink_box(img), cv::Rect(int(50 * scale), int(25 * scale), int(100 * scale), int(50 * scale)));
  }
}

TEST(Renderer, TransparentPageKeepsStraightColours) {
  Builder b;
  BlockId page = b.page(40, 40, std::nullopt);
  b.rect(page, 10, 10, 20, 20, Color{1, 0, 0, 0.5f});
  image::Image img = render(b.scene);
  EXPECT_EQ(px(img, 2, 2), cv::Vec4b(0, 0, 0, 0));
  EXPECT_TRUE(near(px(img, 20, 20), cv::Vec4b(255, 0, 0, 128))) << px(img, 20, 20);
}

TEST(Renderer, OpacityMixesWithTheBackground) {
  Builder b;
  BlockId page = b.page(300, 100);
  Block& r = b.rect(page, 0, 0, 100, 100, kBlue);
  r.opacity = 0.5;
  // Fill and stroke at half opacity: one isolated paint, the overlap is not darker.
  Block& s = b.rect(page, 100, 0, 100, 100, kBlue);
  s.opacity = 0.5;
  s.stroke.enabled = true;
  s.stroke.color = kBlue;
  s.stroke.width = 20;
  // A half-transparent group of two overlapping opaque rectangles: the same mix, once.
  Block& g = b.add(page, BlockType::kGroup, 200, 0, 100, 100);
  g.opacity = 0.5;
  BlockId gid = g.id;
  b.rect(gid, 200, 0, 80, 100, kBlue);
  b.rect(gid, 220, 0, 80, 100, kBlue);
  image::Image img = render(b.scene);
  // 0.5 · blue + 0.5 · white = (127.5, 127.5, 255).
  const cv::Vec4b mix(128, 128, 255, 255);
  EXPECT_TRUE(near(px(img, 50, 50), mix)) << px(img, 50, 50);
  EXPECT_TRUE(near(px(img, 150, 50), mix)) << px(img, 150, 50);
  EXPECT_TRUE(near(px(img, 101, 50), mix)) << px(img, 101, 50);  // under the stroke
  EXPECT_TRUE(near(px(img, 250, 50), mix)) << px(img, 250, 50);  // both group members
  EXPECT_TRUE(near(px(img, 215, 50), mix)) << px(img, 215, 50);  // one group member
}

TEST(Renderer, InvisibleBlocksAndGroupsAreSkipped) {
  Builder b;
  BlockId page = b.page(100, 100);
  b.rect(page, 0, 0, 50, 50, kRed).visible = false;
  Block& g = b.add(page, BlockType::kGroup, 50, 50, 50, 50);
  g.visible = false;
  b.rect(g.id, 50, 50, 50, 50, kRed);
  image::Image img = render(b.scene);
  EXPECT_EQ(ink_box(img), cv::Rect());
}

TEST(Renderer, StackingOrderIsBottomFirst) {
  Builder b;
  BlockId page = b.page(100, 100);
  b.rect(page, 0, 0, 60, 60, kRed);
  Block& g = b.add(page, BlockType::kGroup, 0, 0, 100, 100);
  b.rect(g.id, 30, 30, 60, 60, kBlue);
  image::Image img = render(b.scene);
  EXPECT_EQ(px(img, 10, 10), kRedPx);
  EXPECT_EQ(px(img, 45, 45), kBluePx);
}

TEST(Renderer, RotationTurnsTheBoxAboutItsCentre) {
  Builder b;
  BlockId page = b.page(600, 600);
  Block& r = b.rect(page, 200, 250, 200, 100, kRed);  // centre (300, 300)
  r.rotation = 90;
  image::Image img = render(b.scene);
  cv::Rect box = ink_box(img);
  EXPECT_NEAR(box.x, 250, 1);
  EXPECT_NEAR(box.y, 200, 1);
  EXPECT_NEAR(box.width, 100, 1);
  EXPECT_NEAR(box.height, 200, 1);
  EXPECT_EQ(px(img, 300, 210), kRedPx);
  EXPECT_EQ(px(img, 220, 300), kWhitePx);

  // 45°: a 100×100 square's bounding box is 100·√2 wide.
  Builder b2;
  BlockId p2 = b2.page(300, 300);
  b2.rect(p2, 100, 100, 100, 100, kRed).rotation = 45;
  cv::Rect box2 = ink_box(render(b2.scene));
  EXPECT_NEAR(box2.width, 100 * std::sqrt(2.0), 2);
  EXPECT_NEAR(box2.x + box2.width / 2.0, 150, 1);
}

TEST(Renderer, ShapesFillTheirBoxes) {
  Builder b;
  BlockId page = b.page(400, 200);
  Block& e = b.add(page, BlockType::kShape, 0, 0, 200, 100);
  e.shape.shape = ShapeKind::kEllipse;
  e.fill = {true, kRed};
  Block& poly = b.add(page, BlockType::kShape, 200, 0, 100, 100);
  poly.shape.shape = ShapeKind::kPolygon;
  poly.shape.points = 6;
  poly.fill = {true, kBlue};
  Block& star = b.add(page, BlockType::kShape, 300, 0, 100, 100);
  star.shape.shape = ShapeKind::kStar;
  star.shape.points = 5;
  star.shape.inner_radius = 0.4;
  star.fill = {true, kRed};
  Block& line = b.add(page, BlockType::kShape, 0, 100, 400, 100);
  line.shape.shape = ShapeKind::kLine;
  line.stroke = {true, kBlue, 4};
  image::Image img = render(b.scene);

  // Ellipse: centre and edge midpoints inside, box corners outside.
  EXPECT_EQ(px(img, 100, 50), kRedPx);
  EXPECT_EQ(px(img, 3, 50), kRedPx);
  EXPECT_EQ(px(img, 100, 97), kRedPx);
  EXPECT_EQ(px(img, 8, 8), kWhitePx);
  EXPECT_EQ(px(img, 192, 92), kWhitePx);
  cv::Mat ell = img.mat()(cv::Rect(0, 0, 200, 100));
  EXPECT_EQ(ink_box(image::Image(ell.clone())), cv::Rect(0, 0, 200, 100));
  // Ellipse area π/4 of the box.
  int red = 0;
  for (int y = 0; y < 100; ++y)
    for (int x = 0; x < 200; ++x) red += px(img, x, y)[1] < 128;
  EXPECT_NEAR(red / 20000.0, 3.14159265 / 4, 0.01);

  // Hexagon (vertex up): touches the box's four sides, corners empty.
  cv::Rect hex = ink_box(image::Image(img.mat()(cv::Rect(200, 0, 100, 100)).clone()));
  EXPECT_NEAR(hex.x, 0, 1);
  EXPECT_NEAR(hex.width, 100, 1);
  EXPECT_NEAR(hex.height, 100, 1);
  EXPECT_EQ(px(img, 250, 50), kBluePx);
  EXPECT_EQ(px(img, 203, 3), kWhitePx);
  EXPECT_EQ(px(img, 250, 3), kBluePx);  // top vertex

  // Star: centre and the top point filled; between two points (near the top corners and
  // halfway down the sides of the points) empty; touches its box.
  EXPECT_EQ(px(img, 350, 50), kRedPx);
  EXPECT_EQ(px(img, 350, 4), kRedPx);
  EXPECT_EQ(px(img, 320, 20), kWhitePx);
  EXPECT_EQ(px(img, 350, 97), kWhitePx);  // between the two lower points
  cv::Rect st = ink_box(image::Image(img.mat()(cv::Rect(300, 0, 100, 100)).clone()));
  EXPECT_NEAR(st.width, 100, 1);
  EXPECT_NEAR(st.height, 100, 1);

  // Line from the top-left to the bottom-right of its box.
  EXPECT_EQ(px(img, 200, 150), kBluePx);
  EXPECT_EQ(px(img, 40, 110), kBluePx);
  EXPECT_EQ(px(img, 200, 120), kWhitePx);
  EXPECT_EQ(px(img, 200, 180), kWhitePx);
}

TEST(Renderer, RoundedCornersAndStroke) {
  Builder b;
  BlockId page = b.page(200, 200);
  Block& r = b.rect(page, 50, 50, 100, 100, kRed);
  r.corner_radius = 30;
  r.stroke = {true, kBlue, 6};
  image::Image img = render(b.scene);
  EXPECT_EQ(px(img, 53, 53), kWhitePx);   // cut corner
  EXPECT_EQ(px(img, 100, 50), kBluePx);   // stroke centred on the edge
  EXPECT_EQ(px(img, 100, 100), kRedPx);
  EXPECT_EQ(ink_box(img), cv::Rect(47, 47, 106, 106));
}

TEST(Renderer, TextInkStaysInItsBox) {
  Builder b;
  BlockId page = b.page(500, 400);
  b.text(page, 40, 30, 300, 250, "The quick brown fox jumps over the lazy dog. Pack my box with five dozen jugs.", 28);
  image::Image img = render(b.scene);
  cv::Rect ink = ink_box(img);
  ASSERT_GT(ink.area(), 0);
  // Glyphs may overhang their advance by a pixel or so (a 'j' at the start of a line).
  EXPECT_GE(ink.x, 38);
  EXPECT_GE(ink.y, 30);
  EXPECT_LE(ink.x + ink.width, 340);
  EXPECT_LE(ink.y + ink.height, 280);
  EXPECT_GT(ink.height, 28 * 3);  // wrapped onto several lines
  // Deterministic: the same pixels every time.
  image::Image again = render(b.scene);
  EXPECT_EQ(cv::norm(img.mat(), again.mat(), cv::NORM_INF), 0);
}

TEST(Renderer, AlignedTextSitsWhereItShould) {
  for (TextAlign align : {TextAlign::kLeft, TextAlign::kCenter, TextAlign::kRight}) {
    Builder b;
    BlockId page = b.page(600, 200);
    Block& t = b.text(page, 100, 50, 400, 100, "Centre me", 40);
    t.text.align = align;
    t.text.color = kBlue;
    cv::Rect ink = ink_box(render(b.scene));
    ASSERT_GT(ink.area(), 0);
    if (align == TextAlign::kCenter) {
      EXPECT_NEAR(ink.x + ink.width / 2.0, 300, 3);
    } else if (align == TextAlign::kLeft) {
      EXPECT_NEAR(ink.x, 100, 5);
    } else {
      EXPECT_NEAR(ink.x + ink.width, 500, 5);
    }
  }
}

TEST(Renderer, JustifiedTextReachesBothEdges) {
  Builder b;
  BlockId page = b.page(400, 400);
  Block& t = b.text(page, 50, 50, 300, 300, "one two three four five six seven eight nine ten eleven twelve thirteen", 24);
  t.text.align = TextAlign::kJustify;
  image::Image img = render(b.scene);
  // The first line is justified: ink from the left edge to the right edge.
  cv::Rect first = ink_box(image::Image(img.mat()(cv::Rect(0, 50, 400, 24)).clone()));
  EXPECT_NEAR(first.x, 50, 4);
  EXPECT_NEAR(first.x + first.width, 350, 4);
}

TEST(Renderer, TextScalesWithTheOutput) {
  Builder b;
  BlockId page = b.page(400, 200);
  Block& t = b.text(page, 20, 20, 360, 160, "Scale invariant layout, wrapped over lines", 30);
  t.fill = {true, Color{1, 1, 0, 1}};
  t.text.color = kBlue;
  RenderOptions two;
  two.scale = 2;
  image::Image x1 = render(b.scene), x2 = render(b.scene, 0, two);
  // The yellow box is drawn behind the text.
  EXPECT_EQ(px(x1, 370, 170), cv::Vec4b(255, 255, 0, 255));
  cv::Rect i1 = ink_box(x1, cv::Vec4b(255, 255, 0, 255)), i2 = ink_box(x2, cv::Vec4b(255, 255, 0, 255));
  // Same layout at both scales: the ink box doubles (within antialiasing).
  EXPECT_NEAR(i2.x, 2 * i1.x, 3);
  EXPECT_NEAR(i2.y, 2 * i1.y, 3);
  EXPECT_NEAR(i2.width, 2 * i1.width, 4);
  EXPECT_NEAR(i2.height, 2 * i1.height, 4);
}

TEST(Renderer, AWordBrokenAcrossLinesDoesNotFit) {
  Block t;
  t.type = BlockType::kText;
  t.width = 200;
  t.height = 400;
  t.text.font_size = 40;
  t.text.content = "Produktdesignabteilung";  // one word, wider than the box at 40
  Result<TextMeasure> broken = measure_text(t);
  ASSERT_TRUE(broken.ok());
  EXPECT_GE(broken->lines, 2);
  EXPECT_LE(broken->height, 400);
  EXPECT_TRUE(broken->word_broken);
  EXPECT_FALSE(broken->fits);
  // Words that wrap at spaces fit.
  t.text.content = "Produkt design abteilung";
  Result<TextMeasure> wrapped = measure_text(t);
  ASSERT_TRUE(wrapped.ok());
  EXPECT_GE(wrapped->lines, 2);
  EXPECT_FALSE(wrapped->word_broken);
  EXPECT_TRUE(wrapped->fits);
  // So does the long word at a size where it fits on one line; paragraphs are no breaks.
  t.text.content = "Produktdesignabteilung\nneu";
  Result<TextMeasure> small = measure_text(t, 12.0);
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->lines, 2);
  EXPECT_FALSE(small->word_broken);
  EXPECT_TRUE(small->fits);
}

TEST(Renderer, MeasureText) {
  Block t;
  t.type = BlockType::kText;
  t.width = 200;
  t.height = 100;
  t.text.font_size = 20;
  t.text.line_height = 1.5;
  t.text.content = "Short";
  Result<TextMeasure> short_m = measure_text(t);
  ASSERT_TRUE(short_m.ok());
  EXPECT_EQ(short_m->lines, 1);
  EXPECT_TRUE(short_m->fits);
  EXPECT_GT(short_m->width, 20);
  EXPECT_LT(short_m->width, 200);
  EXPECT_NEAR(short_m->height, 30, 0.01);  // one line of 1.5 × 20

  t.text.content = "a\nb\nc";
  EXPECT_EQ(measure_text(t)->lines, 3);
  EXPECT_NEAR(measure_text(t)->height, 90, 0.01);

  t.text.content = "A much longer text that has to wrap onto more lines than the short one does";
  Result<TextMeasure> long_m = measure_text(t);
  ASSERT_TRUE(long_m.ok());
  EXPECT_GT(long_m->height, short_m->height);
  EXPECT_GT(long_m->lines, 1);
  EXPECT_LE(long_m->width, 200);
  EXPECT_FALSE(long_m->fits);  // 5+ lines of 30 units in a 100-unit box
  // A smaller font needs fewer lines; the override does not change the block.
  Result<TextMeasure> small = measure_text(t, 10.0);
  EXPECT_LT(small->lines, long_m->lines);
  EXPECT_TRUE(small->fits);
  // A larger font is wider.
  t.text.content = "Short";
  EXPECT_GT(measure_text(t, 40.0)->width, short_m->width * 1.9);
  // Letter spacing adds width between characters.
  t.text.letter_spacing = 5;
  EXPECT_NEAR(measure_text(t)->width, short_m->width + 4 * 5, 0.5);

  Block shape;
  shape.type = BlockType::kShape;
  EXPECT_FALSE(measure_text(shape).ok());
}

TEST(Renderer, ShrinkMakesALongTextFit) {
  const std::string text =
      "Shrink to fit: this headline is far too long for its small box at the font size it "
      "asks for, so the renderer picks a smaller size.";
  Builder b;
  BlockId page = b.page(400, 300);
  Block& t = b.text(page, 50, 50, 300, 120, text, 40);
  t.text.auto_fit = AutoFit::kShrink;
  BlockId id = t.id;
  EXPECT_FALSE(measure_text(t)->fits);
  image::Image shrunk = render(b.scene);
  cv::Rect ink = ink_box(shrunk);
  EXPECT_GE(ink.y, 50);
  EXPECT_LE(ink.y + ink.height, 170);
  EXPECT_GT(ink.height, 80);  // it uses most of the box

  // Like drawing the text at the largest size that fits (found here by measuring; the
  // sizes differ by a few hundredths, which moves glyph edges by a fraction of a pixel).
  double lo = 1, hi = 40;
  while (hi - lo > 1.0 / 64) {
    double mid = (lo + hi) / 2;
    (measure_text(b.block(id), mid)->fits ? lo : hi) = mid;
  }
  b.block(id).text.auto_fit = AutoFit::kNone;
  b.block(id).text.font_size = lo;
  image::Image manual = render(b.scene);
  cv::Mat diff;
  cv::absdiff(shrunk.mat(), manual.mat(), diff);
  EXPECT_LT(cv::mean(diff)[0], 3.0);
  EXPECT_NEAR(ink_box(manual).height, ink.height, 3);

  // Without auto-fit the overflowing lines are left out (kept inside the box); grow-height
  // draws them all, past the bottom of the box.
  b.block(id).text.font_size = 40;
  cv::Rect cut = ink_box(render(b.scene));
  EXPECT_LE(cut.y + cut.height, 170);
  b.block(id).text.auto_fit = AutoFit::kGrowHeight;
  cv::Rect grown = ink_box(render(b.scene));
  EXPECT_GT(grown.y + grown.height, 200);
}

TEST(Renderer, ImageFits) {
  TempDir dir = testing::temp_dir();
  write_halves(dir.path());
  Builder b;
  BlockId page = b.page(500, 100);
  auto add_image = [&](double x, ImageFit fit, double fx) {
    Block& i = b.add(page, BlockType::kImage, x, 0, 100, 100);
    i.image.source = "halves.png";  // relative: resolved against base_dir
    i.image.fit = fit;
    i.image.focus_x = fx;
  };
  add_image(0, ImageFit::kCover, 0.0);    // left half: red
  add_image(100, ImageFit::kCover, 1.0);  // right half: blue
  add_image(200, ImageFit::kCover, 0.5);  // centred: the middle of the image
  add_image(300, ImageFit::kContain, 0.5);
  add_image(400, ImageFit::kFill, 0.5);
  RenderOptions o;
  o.base_dir = dir.path();
  image::Image img = render(b.scene, 0, o);
  for (auto [x, y] : {std::pair{2, 2}, {50, 50}, {97, 97}}) {
    EXPECT_EQ(px(img, x, y), kRedPx) << x << "," << y;
    EXPECT_EQ(px(img, 100 + x, y), kBluePx) << x << "," << y;
  }
  EXPECT_EQ(px(img, 210, 50), kRedPx);
  EXPECT_EQ(px(img, 290, 50), kBluePx);
  // Contain: 100×50 in the middle, white above and below.
  EXPECT_EQ(px(img, 350, 10), kWhitePx);
  EXPECT_EQ(px(img, 350, 90), kWhitePx);
  EXPECT_EQ(px(img, 310, 50), kRedPx);
  EXPECT_EQ(px(img, 390, 50), kBluePx);
  EXPECT_EQ(ink_box(image::Image(img.mat()(cv::Rect(300, 0, 100, 100)).clone())), cv::Rect(0, 25, 100, 50));
  // Fill: squeezed, both halves over the full height.
  EXPECT_EQ(px(img, 410, 3), kRedPx);
  EXPECT_EQ(px(img, 490, 97), kBluePx);
}

TEST(Renderer, ImageCornersOpacityAndRotation) {
  TempDir dir = testing::temp_dir();
  fs::path src = write_halves(dir.path());
  Builder b;
  BlockId page = b.page(300, 300);
  Block& i = b.add(page, BlockType::kImage, 50, 100, 200, 100);
  i.image.source = src.string();
  i.image.fit = ImageFit::kFill;
  i.corner_radius = 20;
  i.rotation = 180;  // halves swap sides
  i.opacity = 0.5;
  image::Image img = render(b.scene);
  EXPECT_EQ(px(img, 52, 102), kWhitePx);  // rounded corner
  EXPECT_TRUE(near(px(img, 100, 150), cv::Vec4b(128, 128, 255, 255))) << px(img, 100, 150);
  EXPECT_TRUE(near(px(img, 200, 150), cv::Vec4b(255, 128, 128, 255))) << px(img, 200, 150);
}

TEST(Renderer, ImageAlphaAndLargeDownscales) {
  TempDir dir = testing::temp_dir();
  // RGBA: opaque red left half, half-transparent red right half.
  cv::Mat rgba(50, 100, CV_8UC4, cv::Scalar(255, 0, 0, 255));
  rgba(cv::Rect(50, 0, 50, 50)).setTo(cv::Scalar(255, 0, 0, 128));
  ASSERT_TRUE(image::write_image(dir.path() / "alpha.png", image::Image(rgba)).ok());
  // A large photo drawn 1/8 of its size (a cached rendition, area-averaged): a fine
  // checkerboard averages to grey, with no aliasing.
  cv::Mat checker(800, 800, CV_8UC3);
  for (int y = 0; y < 800; ++y)
    for (int x = 0; x < 800; ++x) checker.at<cv::Vec3b>(y, x) = ((x + y) % 2) ? cv::Vec3b(255, 255, 255) : cv::Vec3b(0, 0, 0);
  ASSERT_TRUE(image::write_image(dir.path() / "checker.png", image::Image(checker)).ok());
  Builder b;
  BlockId page = b.page(300, 100);
  Block& a = b.add(page, BlockType::kImage, 0, 0, 200, 100);
  a.image.source = "alpha.png";
  a.image.fit = ImageFit::kFill;
  b.add(page, BlockType::kImage, 200, 0, 100, 100).image.source = "checker.png";
  RenderOptions o;
  o.base_dir = dir.path();
  for (int run = 0; run < 2; ++run) {  // decoded, then from the cache
    image::Image img = render(b.scene, 0, o);
    EXPECT_EQ(px(img, 50, 50), kRedPx);
    EXPECT_TRUE(near(px(img, 150, 50), cv::Vec4b(255, 127, 127, 255))) << px(img, 150, 50);
    cv::Scalar mean = cv::mean(img.mat()(cv::Rect(210, 10, 80, 80)));
    EXPECT_NEAR(mean[0], 127.5, 2);
    cv::Mat rgb;
    cv::cvtColor(img.mat()(cv::Rect(210, 10, 80, 80)), rgb, cv::COLOR_RGBA2RGB);
    double lo, hi;
    cv::minMaxLoc(rgb.reshape(1), &lo, &hi);
    EXPECT_GT(lo, 110);
    EXPECT_LT(hi, 145);
  }
}

TEST(Renderer, ChangedImageFileIsDecodedAgain) {
  TempDir dir = testing::temp_dir();
  fs::path p = dir.path() / "swap.png";
  cv::Mat red(10, 10, CV_8UC3, cv::Scalar(255, 0, 0));
  ASSERT_TRUE(image::write_image(p, image::Image(red)).ok());
  Builder b;
  BlockId page = b.page(20, 20);
  b.add(page, BlockType::kImage, 0, 0, 20, 20).image.source = p.string();
  EXPECT_EQ(px(render(b.scene), 10, 10), kRedPx);
  EXPECT_EQ(px(render(b.scene), 10, 10), kRedPx);  // from the cache
  const auto t = fs::last_write_time(p);
  cv::Mat blue(10, 10, CV_8UC3, cv::Scalar(0, 0, 255));
  ASSERT_TRUE(image::write_image(p, image::Image(blue)).ok());
  fs::last_write_time(p, t + std::chrono::seconds(2));
  EXPECT_EQ(px(render(b.scene), 10, 10), kBluePx);
}

TEST(Renderer, MissingImageDrawsAPlaceholder) {
  TempDir dir = testing::temp_dir();
  fs::path broken = dir.path() / "broken.png";
  testing::write_bytes(broken, {0x89, 'P', 'N', 'G', 1, 2, 3});
  Builder b;
  BlockId page = b.page(300, 100);
  b.add(page, BlockType::kImage, 0, 0, 100, 100).image.source = (dir.path() / "nope.jpg").string();
  b.add(page, BlockType::kImage, 100, 0, 100, 100).image.source = broken.string();
  b.add(page, BlockType::kImage, 200, 0, 100, 100);  // no source at all
  image::Image img = render(b.scene);
  for (int x0 : {0, 100, 200}) {
    cv::Vec4b grey = px(img, x0 + 50, 20);  // off the diagonals
    EXPECT_EQ(grey[0], grey[1]);
    EXPECT_EQ(grey[1], grey[2]);
    EXPECT_GT(grey[0], 150);
    EXPECT_LT(grey[0], 240);
    cv::Vec4b cross = px(img, x0 + 50, 50);  // where the diagonals meet: darker
    EXPECT_LT(cross[0], grey[0] - 20);
    EXPECT_NEAR(px(img, x0 + 25, 25)[0], cross[0], 2);
  }
  TempDir out = testing::temp_dir();
  EXPECT_TRUE(render_to_file(b.scene, out.path() / "p.png", std::nullopt).ok());
}

TEST(Renderer, PngFileRoundTrips) {
  // Tall enough for several compressed strips; half-transparent pixels and text edges.
  Builder b;
  BlockId page = b.page(120, 700, std::nullopt);
  b.rect(page, 10, 10, 50, 600, Color{0, 0.5f, 1, 0.5f});
  b.rect(page, 60, 10, 50, 50, kRed).rotation = 30;
  b.text(page, 0, 300, 120, 400, "Straight alpha survives the round trip", 20);
  TempDir dir = testing::temp_dir();
  fs::path p = dir.path() / "page.PNG";
  ASSERT_TRUE(render_to_file(b.scene, p, 0).ok());
  Result<image::Image> back = image::read_image(p);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(cv::norm(back->mat(), render(b.scene).mat(), cv::NORM_INF), 0);
  // Opaque pages are written as RGB.
  Builder o;
  BlockId op = o.page(30, 20);
  o.rect(op, 5, 5, 10, 10, kBlue);
  ASSERT_TRUE(render_to_file(o.scene, dir.path() / "opaque.png", std::nullopt).ok());
  Result<image::Image> rgb = image::read_image(dir.path() / "opaque.png");
  ASSERT_TRUE(rgb.ok());
  EXPECT_EQ(rgb->channels(), 3);
  EXPECT_EQ(rgb->mat().at<cv::Vec3b>(10, 10), cv::Vec3b(0, 0, 255));
  EXPECT_EQ(testing::listing(dir.path()), (std::vector<std::string>{"opaque.png", "page.PNG"}));
}

TEST(Renderer, PdfHasEveryPageAtItsOwnSize) {
  fs::path pdfinfo = find_program("pdfinfo");
  ASSERT_FALSE(pdfinfo.empty()) << "pdfinfo is not installed (scripts/install-deps installs poppler-utils)";
  TempDir dir = testing::temp_dir();
  Builder b;
  BlockId p1 = b.page(200, 100);
  b.text(p1, 10, 10, 180, 80, "Page one", 24);
  BlockId p2 = b.page(300, 400, Color{0.9f, 0.9f, 1, 1});
  b.rect(p2, 10, 10, 100, 100, kRed).opacity = 0.5;
  Block& star = b.add(p2, BlockType::kShape, 100, 100, 100, 100);
  star.shape.shape = ShapeKind::kStar;
  star.fill = {true, kBlue};
  b.add(p2, BlockType::kImage, 0, 200, 100, 100).image.source = write_halves(dir.path()).string();

  fs::path all = dir.path() / "all.pdf";
  ASSERT_TRUE(render_to_file(b.scene, all, std::nullopt).ok());
  Result<ProcessResult> info = run_process({pdfinfo.string(), "-f", "1", "-l", "2", all.string()});
  ASSERT_TRUE(info.ok());
  ASSERT_EQ(info->exit_code, 0) << info->err;
  EXPECT_TRUE(std::regex_search(info->out, std::regex("Pages:\\s+2\\n"))) << info->out;
  EXPECT_TRUE(std::regex_search(info->out, std::regex("Page\\s+1 size:\\s+200 x 100 pts"))) << info->out;
  EXPECT_TRUE(std::regex_search(info->out, std::regex("Page\\s+2 size:\\s+300 x 400 pts"))) << info->out;

  fs::path second = dir.path() / "second.pdf";
  RenderOptions o;
  o.scale = 0.5;
  ASSERT_TRUE(render_to_file(b.scene, second, 1, o).ok());
  info = run_process({pdfinfo.string(), second.string()});
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(std::regex_search(info->out, std::regex("Pages:\\s+1\\n"))) << info->out;
  EXPECT_TRUE(std::regex_search(info->out, std::regex("Page size:\\s+150 x 200 pts"))) << info->out;

  // Text stays text (vector): the PDF embeds a font.
  fs::path pdffonts = find_program("pdffonts");
  if (!pdffonts.empty()) {
    Result<ProcessResult> fonts = run_process({pdffonts.string(), all.string()});
    ASSERT_TRUE(fonts.ok());
    EXPECT_NE(fonts->out.find("DejaVu"), std::string::npos) << fonts->out;
  }
}

TEST(Renderer, SvgIsXml) {
  Builder b;
  BlockId page = b.page(200, 100);
  b.rect(page, 10, 10, 50, 50, kRed);
  b.text(page, 70, 10, 120, 80, "SVG", 24);
  TempDir dir = testing::temp_dir();
  fs::path p = dir.path() / "page.svg";
  ASSERT_TRUE(render_to_file(b.scene, p, std::nullopt).ok());
  std::string svg = read_text(p);
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("width=\"200px\""), std::string::npos) << svg.substr(0, 300);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
}

TEST(Renderer, ThreadsRenderTheSamePixels) {
  TempDir dir = testing::temp_dir();
  fs::path photo = write_halves(dir.path());
  Builder b;
  BlockId page = b.page(300, 300);
  Block& t = b.text(page, 10, 10, 280, 150, "Every thread has its own fonts; the pixels agree.", 26);
  t.text.auto_fit = AutoFit::kShrink;
  Block& i = b.add(page, BlockType::kImage, 10, 170, 130, 120);
  i.image.source = photo.string();
  i.rotation = 10;
  b.add(page, BlockType::kShape, 160, 170, 130, 120).fill = {true, kBlue};
  b.block(b.scene.blocks.rbegin()->first).shape.shape = ShapeKind::kStar;
  const image::Image reference = render(b.scene);
  std::vector<double> worst(4, 0);
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int n = 0; n < 5; ++n) {
        Result<image::Image> img = render_page(b.scene, 0);
        worst[std::size_t(k)] = std::max(worst[std::size_t(k)], img.ok() ? cv::norm(img->mat(), reference.mat(), cv::NORM_INF) : 999.0);
        Result<TextMeasure> m = measure_text(b.scene.blocks.at(2));
        if (!m.ok()) worst[std::size_t(k)] = 999;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (double w : worst) EXPECT_EQ(w, 0);
}

TEST(Renderer, Errors) {
  Builder b;
  BlockId page = b.page(100, 100);
  b.rect(page, 0, 0, 10, 10, kRed);
  EXPECT_EQ(render_page(b.scene, 1).status().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(render_page(b.scene, -1).status().code(), StatusCode::kOutOfRange);
  RenderOptions bad;
  bad.scale = 0;
  EXPECT_EQ(render_page(b.scene, 0, bad).status().code(), StatusCode::kInvalidArgument);
  TempDir dir = testing::temp_dir();
  Status st = render_to_file(b.scene, dir.path() / "x.gif", std::nullopt);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("x.gif"), std::string::npos);
  st = render_to_file(b.scene, dir.path() / "x.png", 3);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("x.png"), std::string::npos) << st.message();
  st = render_to_file(b.scene, dir.path() / "missing-dir" / "x.pdf", std::nullopt);
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(testing::listing(dir.path()).empty());
  // An empty scene has no page to render.
  EXPECT_FALSE(render_page(Scene{}, 0).ok());
  EXPECT_FALSE(render_to_file(Scene{}, dir.path() / "e.pdf", std::nullopt).ok());
}

TEST(Renderer, ImagesThatCannotBeDrawnAreReported) {
  TempDir dir = testing::temp_dir();
  const fs::path good = write_halves(dir.path());
  Builder b;
  BlockId page = b.page(400, 100);
  const BlockId missing = b.add(page, BlockType::kImage, 0, 0, 100, 100).id;
  b.block(missing).image.source = "gone.png";
  const BlockId text_file = b.add(page, BlockType::kImage, 100, 0, 100, 100).id;
  b.block(text_file).image.source = "/etc/passwd";
  const BlockId ok = b.add(page, BlockType::kImage, 200, 0, 100, 100).id;
  b.block(ok).image.source = good.filename().string();
  const BlockId hidden = b.add(page, BlockType::kImage, 300, 0, 100, 100).id;
  b.block(hidden).image.source = "/dev/zero";
  b.block(hidden).visible = false;  // not drawn: not reported
  RenderReport report;
  RenderOptions o;
  o.base_dir = dir.path();
  o.report = &report;
  image::Image img = render(b.scene, 0, o);
  ASSERT_EQ(report.issues.size(), 2u);
  EXPECT_EQ(report.issues[0].block, missing);
  EXPECT_EQ(report.issues[0].message,
            "block " + std::to_string(missing) + ": image " + (dir.path() / "gone.png").string() + ": no such file");
  EXPECT_EQ(report.issues[1].message, "block " + std::to_string(text_file) +
                                          ": image /etc/passwd: not an image (expected JPEG, PNG, WebP, TIFF or BMP)");
  EXPECT_EQ(px(img, 210, 50), kRedPx);  // the good one is drawn
  // A second render reports again (the cached failure keeps its reason).
  report.issues.clear();
  render(b.scene, 0, o);
  EXPECT_EQ(report.issues.size(), 2u);

  // Strict: the first issue is the error, nothing is written, the report has them all.
  o.strict = true;
  report.issues.clear();
  const Status strict = render_page(b.scene, 0, o).status();
  ASSERT_EQ(report.issues.size(), 2u);
  EXPECT_EQ(strict.message(), report.issues[0].message + " (and 1 more problem)");
  TempDir out = testing::temp_dir();
  report.issues.clear();
  Status st = render_to_file(b.scene, out.path() / "p.png", std::nullopt, o);
  EXPECT_EQ(st.message(), (out.path() / "p.png").string() + ": not written: block " + std::to_string(missing) +
                              ": image " + (dir.path() / "gone.png").string() + ": no such file (and 1 more problem)");
  EXPECT_EQ(report.issues.size(), 2u);
  EXPECT_TRUE(testing::listing(out.path()).empty());
  // Without a report strict still works; without strict the file is written.
  o.report = nullptr;
  EXPECT_FALSE(render_to_file(b.scene, out.path() / "p.pdf", std::nullopt, o).ok());
  o.strict = false;
  EXPECT_TRUE(render_to_file(b.scene, out.path() / "p.pdf", std::nullopt, o).ok());
  EXPECT_EQ(testing::listing(out.path()), (std::vector<std::string>{"p.pdf"}));
}

TEST(Renderer, CutTextIsReported) {
  Builder b;
  BlockId page = b.page(300, 300);
  const std::string words = "one two three four five six seven eight nine ten eleven twelve";
  Block& cut = b.text(page, 0, 0, 100, 60, words, 20);
  const BlockId cut_id = cut.id;
  Block& grown = b.text(page, 150, 0, 100, 60, words, 20);
  grown.text.auto_fit = AutoFit::kGrowHeight;
  b.text(page, 0, 200, 300, 60, "fits", 20);
  Block& shrunk = b.text(page, 150, 200, 100, 60, words, 20);
  shrunk.text.auto_fit = AutoFit::kShrink;

  Result<TextFit> fit = fit_text(b.block(cut_id));
  ASSERT_TRUE(fit.ok());
  Result<TextMeasure> m = measure_text(b.block(cut_id));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(fit->lines, m->lines);
  EXPECT_GT(fit->lines, fit->lines_shown);
  EXPECT_GE(fit->lines_shown, 1);
  // Each line is 20 × line_height high: what fits in 60 units.
  EXPECT_EQ(fit->lines_shown, int(60 / (20 * b.block(cut_id).text.line_height)));
  EXPECT_TRUE(fit->cut());
  for (BlockId id : b.scene.blocks.at(page).children) {
    if (id == cut_id) continue;
    Result<TextFit> f = fit_text(b.block(id));
    ASSERT_TRUE(f.ok());
    EXPECT_FALSE(f->cut()) << "block " << id;
  }
  RenderReport report;
  RenderOptions o;
  o.report = &report;
  render(b.scene, 0, o);
  ASSERT_EQ(report.issues.size(), 1u);
  EXPECT_EQ(report.issues[0].block, cut_id);
  EXPECT_EQ(report.issues[0].message, "block " + std::to_string(cut_id) + ": text does not fit its box (" +
                                          std::to_string(fit->lines_shown) + " of " + std::to_string(fit->lines) +
                                          " lines shown)");
  EXPECT_EQ(fit_text(b.block(page)).status().message(), "block " + std::to_string(page) + " is not a text block");
}

TEST(Renderer, PagesAreCountedFromOneInMessages) {
  Builder b;
  b.page(100, 100);
  EXPECT_EQ(render_page(b.scene, 1).status().message(), "page 2 does not exist (the design has 1 page)");
  EXPECT_EQ(check_page_size(b.scene, 5).message(), "page 6 does not exist (the design has 1 page)");
  EXPECT_EQ(render_page(Scene{}, 0).status().message(), "the design has no pages");
  RenderOptions tiny;
  tiny.scale = 0.001;
  EXPECT_EQ(render_page(b.scene, 0, tiny).status().message(), "page 1 has no area at this scale");
}

TEST(Renderer, PageSizeLimits) {
  Builder b;
  b.page(10000, 10000);
  b.page(30000, 100);
  RenderOptions o;
  o.scale = 2;
  EXPECT_EQ(check_page_size(b.scene, 0, o).message(),
            "page 1 would be 400.0 MP (20000x20000), more than the 100.0 MP limit");
  EXPECT_EQ(render_page(b.scene, 0, o).status().code(), StatusCode::kResourceExhausted);
  o.scale = 1.2;
  EXPECT_EQ(check_page_size(b.scene, 1, o).message(),
            "page 2 would be 36000x120, more than 32767 pixels a side (the renderer's limit)");
  o.scale = 1;
  o.limits.max_output_pixels = 1000;
  EXPECT_EQ(check_page_size(b.scene, 1, o).message(),
            "page 2 would be 3.0 MP (30000x100), more than the 1000 pixels limit");
  o.limits = Limits{};
  EXPECT_TRUE(check_page_size(b.scene, 1, o).ok());
  TempDir dir = testing::temp_dir();
  o.scale = 2;
  Status st = render_to_file(b.scene, dir.path() / "big.PNG", 0, o);
  EXPECT_EQ(st.message(), (dir.path() / "big.PNG").string() +
                              ": page 1 would be 400.0 MP (20000x20000), more than the 100.0 MP limit");
  EXPECT_TRUE(testing::listing(dir.path()).empty());
}

}  // namespace
}  // namespace atelier::design
