// The property registry: names and block types, typed get/set with range checks, the
// fill/stroke conventions, and the text forms (format/parse).
#include "design/properties.h"

#include <cmath>
#include <limits>
#include <set>

#include <gtest/gtest.h>

namespace atelier::design {
namespace {

Block make(BlockType type, BlockId id = 7) {
  Block b;
  b.id = id;
  b.type = type;
  return b;
}

std::set<std::string> names_of(BlockType type) {
  std::set<std::string> out;
  for (const PropertyInfo* p : properties_of(type)) out.emplace(p->name);
  return out;
}

std::string set_error(Block& b, std::string_view name, const PropertyValue& v) {
  return set_property(b, name, v).message();
}

TEST(Properties, RegistryHasEveryDocumentedNameInOrder) {
  const std::vector<std::string> expected = {
      "name", "kind", "x", "y", "width", "height", "rotation", "opacity", "visible", "fill", "stroke_color",
      "stroke_width", "corner_radius", "text", "font_family", "font_size", "font_weight", "font_style", "text_color",
      "align", "line_height", "letter_spacing", "auto_fit", "source", "alt", "fit", "focus_x", "focus_y", "shape",
      "points", "inner_radius"};
  std::vector<std::string> got;
  for (const PropertyInfo& p : properties()) {
    got.emplace_back(p.name);
    EXPECT_FALSE(p.description.empty()) << p.name;
    EXPECT_EQ(find_property(p.name), &p);
    if (p.type == PropertyType::kEnum) {
      EXPECT_FALSE(p.choices.empty()) << p.name;
    }
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(find_property("colour"), nullptr);
  EXPECT_EQ(find_property(""), nullptr);
}

TEST(Properties, BlockTypesHaveTheirProperties) {
  EXPECT_EQ(names_of(BlockType::kPage), (std::set<std::string>{"name", "kind", "width", "height", "fill"}));
  EXPECT_EQ(names_of(BlockType::kGroup),
            (std::set<std::string>{"name", "kind", "x", "y", "width", "height", "rotation", "opacity", "visible"}));
  const std::set<std::string> text = names_of(BlockType::kText);
  for (const char* n : {"fill", "stroke_color", "stroke_width", "corner_radius", "text", "font_family", "font_size",
                        "font_weight", "font_style", "text_color", "align", "line_height", "letter_spacing",
                        "auto_fit"}) {
    EXPECT_TRUE(text.count(n)) << n;
  }
  EXPECT_FALSE(text.count("source"));
  EXPECT_FALSE(text.count("shape"));
  const std::set<std::string> image = names_of(BlockType::kImage);
  for (const char* n : {"source", "alt", "fit", "focus_x", "focus_y", "corner_radius", "fill", "stroke_width"}) {
    EXPECT_TRUE(image.count(n)) << n;
  }
  EXPECT_FALSE(image.count("text"));
  const std::set<std::string> shape = names_of(BlockType::kShape);
  for (const char* n : {"shape", "points", "inner_radius", "corner_radius", "fill", "stroke_color"}) {
    EXPECT_TRUE(shape.count(n)) << n;
  }
  EXPECT_FALSE(shape.count("font_size"));
  EXPECT_TRUE(applies_to(*find_property("name"), BlockType::kPage));
  EXPECT_FALSE(applies_to(*find_property("x"), BlockType::kPage));
}

TEST(Properties, GetReturnsTypedDefaults) {
  const Block t = make(BlockType::kText);
  EXPECT_EQ(std::get<double>(*get_property(t, "font_size")), 32.0);
  EXPECT_EQ(std::get<long long>(*get_property(t, "font_weight")), 400);
  EXPECT_EQ(std::get<std::string>(*get_property(t, "font_style")), "normal");
  EXPECT_EQ(std::get<std::string>(*get_property(t, "font_family")), "DejaVu Sans");
  EXPECT_EQ(std::get<bool>(*get_property(t, "visible")), true);
  EXPECT_EQ(std::get<Color>(*get_property(t, "text_color")), (Color{0, 0, 0, 1}));
  EXPECT_EQ(std::get<Color>(*get_property(t, "fill")), (Color{0, 0, 0, 0}));  // disabled
  EXPECT_EQ(std::get<double>(*get_property(t, "stroke_width")), 0.0);       // disabled
  EXPECT_EQ(std::get<std::string>(*get_property(t, "auto_fit")), "none");
  const Block s = make(BlockType::kShape);
  EXPECT_EQ(std::get<std::string>(*get_property(s, "shape")), "rect");
  EXPECT_EQ(std::get<long long>(*get_property(s, "points")), 5);
  EXPECT_EQ(std::get<double>(*get_property(s, "inner_radius")), 0.5);
  const Block i = make(BlockType::kImage);
  EXPECT_EQ(std::get<std::string>(*get_property(i, "fit")), "cover");
  EXPECT_EQ(std::get<double>(*get_property(i, "focus_y")), 0.5);
}

TEST(Properties, SetWritesEachType) {
  Block t = make(BlockType::kText);
  ASSERT_TRUE(set_property(t, "x", 12.5).ok());
  ASSERT_TRUE(set_property(t, "y", 3LL).ok());  // an integer for a number
  ASSERT_TRUE(set_property(t, "visible", false).ok());
  ASSERT_TRUE(set_property(t, "name", std::string("Headline")).ok());
  ASSERT_TRUE(set_property(t, "text", std::string("Hello\nWorld ✓")).ok());
  ASSERT_TRUE(set_property(t, "font_weight", 700LL).ok());
  ASSERT_TRUE(set_property(t, "font_style", std::string("italic")).ok());
  ASSERT_TRUE(set_property(t, "align", std::string("justify")).ok());
  ASSERT_TRUE(set_property(t, "auto_fit", std::string("grow-height")).ok());
  ASSERT_TRUE(set_property(t, "text_color", Color{1, 0, 0, 1}).ok());
  ASSERT_TRUE(set_property(t, "letter_spacing", -1.5).ok());
  EXPECT_EQ(t.x, 12.5);
  EXPECT_EQ(t.y, 3.0);
  EXPECT_FALSE(t.visible);
  EXPECT_EQ(t.name, "Headline");
  EXPECT_EQ(t.text.content, "Hello\nWorld ✓");
  EXPECT_EQ(t.text.font_weight, 700);
  EXPECT_EQ(t.text.font_style, FontStyle::kItalic);
  EXPECT_EQ(t.text.align, TextAlign::kJustify);
  EXPECT_EQ(t.text.auto_fit, AutoFit::kGrowHeight);
  EXPECT_EQ(t.text.color, (Color{1, 0, 0, 1}));
  EXPECT_EQ(t.text.letter_spacing, -1.5);

  Block s = make(BlockType::kShape);
  ASSERT_TRUE(set_property(s, "shape", std::string("star")).ok());
  ASSERT_TRUE(set_property(s, "points", 8.0).ok());  // an integral number for an integer
  ASSERT_TRUE(set_property(s, "inner_radius", 0.25).ok());
  EXPECT_EQ(s.shape.shape, ShapeKind::kStar);
  EXPECT_EQ(s.shape.points, 8);
  EXPECT_EQ(s.shape.inner_radius, 0.25);

  Block i = make(BlockType::kImage);
  ASSERT_TRUE(set_property(i, "source", std::string("photos/a.jpg")).ok());
  ASSERT_TRUE(set_property(i, "fit", std::string("contain")).ok());
  ASSERT_TRUE(set_property(i, "focus_x", 0.0).ok());
  EXPECT_EQ(i.image.source, "photos/a.jpg");
  EXPECT_EQ(i.image.fit, ImageFit::kContain);
  EXPECT_EQ(i.image.focus_x, 0.0);
}

TEST(Properties, FillNoneMeansDisabled) {
  Block b = make(BlockType::kShape);
  ASSERT_TRUE(set_property(b, "fill", std::string("#FF8000")).ok());  // a string for a colour
  EXPECT_TRUE(b.fill.enabled);
  EXPECT_EQ(color_to_hex(b.fill.color), "#FF8000");
  EXPECT_EQ(format_property(*get_property(b, "fill")), "#FF8000");
  ASSERT_TRUE(set_property(b, "fill", std::string("none")).ok());
  EXPECT_EQ(b.fill, Fill{});
  EXPECT_EQ(format_property(*get_property(b, "fill")), "none");
  ASSERT_TRUE(set_property(b, "fill", Color{0, 0, 1, 0.5f}).ok());
  EXPECT_TRUE(b.fill.enabled);
  ASSERT_TRUE(set_property(b, "fill", Color{1, 1, 1, 0}).ok());  // any alpha-0 colour: none
  EXPECT_EQ(b.fill, Fill{});
}

TEST(Properties, StrokeWidthZeroMeansNoStroke) {
  Block b = make(BlockType::kImage);
  ASSERT_TRUE(set_property(b, "stroke_color", std::string("#00FF00")).ok());
  EXPECT_FALSE(b.stroke.enabled);  // the colour alone does not enable it
  ASSERT_TRUE(set_property(b, "stroke_width", 2.5).ok());
  EXPECT_TRUE(b.stroke.enabled);
  EXPECT_EQ(b.stroke.width, 2.5);
  ASSERT_TRUE(set_property(b, "stroke_width", 0.0).ok());
  EXPECT_FALSE(b.stroke.enabled);
  EXPECT_EQ(b.stroke.width, 1.0);  // back to the default, as a disabled stroke is saved
  EXPECT_EQ(std::get<double>(*get_property(b, "stroke_width")), 0.0);
  EXPECT_EQ(color_to_hex(b.stroke.color), "#00FF00");  // kept
}

TEST(Properties, ColoursAreStoredAtEightBits) {
  Block b = make(BlockType::kText);
  ASSERT_TRUE(set_property(b, "text_color", Color{0.3f, 0.5f, 1.f / 3, 0.999f}).ok());
  EXPECT_EQ(b.text.color, quantize_color(Color{0.3f, 0.5f, 1.f / 3, 0.999f}));
  EXPECT_EQ(b.text.color.r, 77.f / 255.f);
  EXPECT_EQ(b.text.color.a, 1.f);
}

TEST(Properties, RangeErrorsNameBlockPropertyAndValue) {
  Block b = make(BlockType::kShape);
  EXPECT_EQ(set_error(b, "opacity", 2.0), "block 7: opacity must be within 0..1, got 2");
  EXPECT_EQ(set_error(b, "opacity", -0.5), "block 7: opacity must be within 0..1, got -0.5");
  EXPECT_EQ(set_error(b, "width", -5.0), "block 7: width must not be negative, got -5");
  EXPECT_EQ(set_error(b, "height", 2e6), "block 7: height must be within 0..1000000, got 2000000");
  EXPECT_EQ(set_error(b, "rotation", 400.0), "block 7: rotation must be within -360..360, got 400");
  EXPECT_EQ(set_error(b, "points", 2LL), "block 7: points must be within 3..64, got 2");
  EXPECT_EQ(set_error(b, "points", 5.5), "block 7: points must be an integer, got 5.5");
  EXPECT_EQ(set_error(b, "inner_radius", 1.5), "block 7: inner_radius must be within 0..1, got 1.5");
  EXPECT_EQ(set_error(b, "shape", std::string("oval")),
            "block 7: shape must be one of rect, ellipse, polygon, star, line; got 'oval'");
  EXPECT_EQ(set_error(b, "opacity", std::string("0.5")), "block 7: opacity must be a number, got a string");
  EXPECT_EQ(set_error(b, "visible", 1LL), "block 7: visible must be true or false, got an integer");
  EXPECT_EQ(set_error(b, "name", 3.0), "block 7: name must be a string, got a number");
  EXPECT_EQ(set_error(b, "fill", true), "block 7: fill must be a colour, got a boolean");
  EXPECT_EQ(set_error(b, "fill", std::string("#12")),
            "block 7: bad colour '#12' for fill (expected #RRGGBB, #RRGGBBAA, none or a name such as white)");
  EXPECT_EQ(set_error(b, "fill", Color{2, 0, 0, 1}), "block 7: fill must have colour channels within 0..1");
  EXPECT_EQ(set_error(b, "x", std::numeric_limits<double>::quiet_NaN()), "block 7: x must be a finite number");
  EXPECT_EQ(set_error(b, "x", std::numeric_limits<double>::infinity()), "block 7: x must be a finite number");
  EXPECT_EQ(set_error(b, "name", std::string("bad \xC3\x28")), "block 7: name must be valid UTF-8");
  EXPECT_EQ(set_error(b, "stroke_width", -1.0), "block 7: stroke_width must not be negative, got -1");
  // Nothing was written by the failed calls.
  EXPECT_EQ(b, make(BlockType::kShape));

  Block t = make(BlockType::kText);
  EXPECT_EQ(set_error(t, "font_weight", 950LL), "block 7: font_weight must be within 100..900, got 950");
  EXPECT_EQ(set_error(t, "font_size", 0.0), "block 7: font_size must be within 1..10000, got 0");
  EXPECT_EQ(set_error(t, "line_height", 0.0), "block 7: line_height must be within 0.1..10, got 0");

  Block p = make(BlockType::kPage, 1);
  EXPECT_EQ(set_error(p, "width", 0.0), "block 1: a page's width must be positive, got 0");
  EXPECT_TRUE(set_property(p, "height", 1350.0).ok());
}

TEST(Properties, UnknownOrForeignPropertiesAreErrors) {
  Block t = make(BlockType::kText);
  EXPECT_EQ(get_property(t, "source").status().message(), "block 7 (text) has no property 'source'");
  EXPECT_EQ(get_property(t, "colour").status().message(), "block 7: unknown property 'colour'");
  EXPECT_EQ(get_property(t, "colour").status().code(), StatusCode::kInvalidArgument);
  Block g = make(BlockType::kGroup, 3);
  EXPECT_EQ(set_error(g, "fill", std::string("#FFFFFF")), "block 3 (group) has no property 'fill'");
  Block p = make(BlockType::kPage, 1);
  EXPECT_EQ(set_error(p, "x", 5.0), "block 1 (page) has no property 'x'");
  Block s = make(BlockType::kShape);
  EXPECT_EQ(set_error(s, "font_size", 12.0), "block 7 (shape) has no property 'font_size'");
  EXPECT_EQ(set_error(s, "id", 12.0), "block 7: unknown property 'id'");
}

TEST(Properties, NegativeZeroIsStoredAsZero) {
  Block b = make(BlockType::kShape);
  ASSERT_TRUE(set_property(b, "x", -0.0).ok());
  EXPECT_FALSE(std::signbit(b.x));
}

TEST(Properties, FormatUsesShortestRoundTripForms) {
  EXPECT_EQ(format_property(0.0), "0");
  EXPECT_EQ(format_property(100.0), "100");
  EXPECT_EQ(format_property(100000.0), "100000");
  EXPECT_EQ(format_property(-12.5), "-12.5");
  EXPECT_EQ(format_property(0.1), "0.1");
  EXPECT_EQ(format_property(0.0001), "0.0001");
  EXPECT_EQ(format_property(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(format_property(1e14), "100000000000000");
  EXPECT_EQ(format_property(1e20), "1e+20");
  EXPECT_EQ(format_property(1e15), "1e+15");
  EXPECT_EQ(format_property(1.5e-7), "1.5e-07");
  EXPECT_EQ(format_property(400LL), "400");
  EXPECT_EQ(format_property(-3LL), "-3");
  EXPECT_EQ(format_property(true), "true");
  EXPECT_EQ(format_property(false), "false");
  EXPECT_EQ(format_property(std::string("a \"b\"")), "a \"b\"");
  EXPECT_EQ(format_property(Color{1, 128.f / 255, 0, 1}), "#FF8000");
  EXPECT_EQ(format_property(Color{1, 128.f / 255, 0, 128.f / 255}), "#FF800080");
  EXPECT_EQ(format_property(Color{0, 0, 0, 0}), "none");
  EXPECT_EQ(format_property(Color{1, 0, 0, 0}), "#FF000000");
  // Every double survives format -> parse.
  for (double v : {0.1, 1.0 / 3, 2.0 / 3 * 1e-5, 123456.789, 1e-300, 5e-324, 1.7976931348623157e308, -0.7}) {
    auto back = parse_property(*find_property("x"), format_property(v));
    ASSERT_TRUE(back.ok()) << format_property(v);
    EXPECT_EQ(std::get<double>(*back), v) << format_property(v);
  }
}

TEST(Properties, ParseEachType) {
  auto parse = [](std::string_view name, std::string_view text) { return parse_property(*find_property(name), text); };
  EXPECT_EQ(std::get<double>(*parse("opacity", "0.25")), 0.25);
  EXPECT_EQ(std::get<double>(*parse("x", "-1e3")), -1000.0);
  EXPECT_EQ(std::get<long long>(*parse("points", "6")), 6);
  EXPECT_EQ(std::get<long long>(*parse("points", "6.0")), 6);
  EXPECT_EQ(std::get<bool>(*parse("visible", "false")), false);
  EXPECT_EQ(std::get<std::string>(*parse("text", " spaced ")), " spaced ");
  EXPECT_EQ(std::get<std::string>(*parse("align", "center")), "center");
  EXPECT_EQ(std::get<Color>(*parse("fill", "none")), (Color{0, 0, 0, 0}));
  EXPECT_EQ(std::get<Color>(*parse("fill", "#ff8000")), (Color{1, 128.f / 255, 0, 1}));
  EXPECT_EQ(std::get<Color>(*parse("text_color", "white")), (Color{1, 1, 1, 1}));
  EXPECT_EQ(std::get<Color>(*parse("stroke_color", "#00000080")), (Color{0, 0, 0, 128.f / 255}));

  EXPECT_EQ(parse("opacity", "abc").status().message(), "opacity: expected a number, got 'abc'");
  EXPECT_EQ(parse("opacity", "").status().message(), "opacity: expected a number, got ''");
  EXPECT_EQ(parse("opacity", "1.5x").status().message(), "opacity: expected a number, got '1.5x'");
  EXPECT_EQ(parse("x", "inf").status().message(), "x: expected a number, got 'inf'");
  EXPECT_EQ(parse("x", "nan").status().message(), "x: expected a number, got 'nan'");
  EXPECT_EQ(parse("points", "5.5").status().message(), "points: expected an integer, got '5.5'");
  EXPECT_EQ(parse("visible", "yes").status().message(), "visible: expected true or false, got 'yes'");
  EXPECT_EQ(parse("fill", "#12").status().message(),
            "fill: bad colour '#12' (expected #RRGGBB, #RRGGBBAA, none or a name such as white)");
  EXPECT_EQ(parse("align", "middle").status().message(),
            "align: expected one of left, center, right, justify; got 'middle'");
  EXPECT_EQ(parse("auto_fit", "grow").status().message(), "auto_fit: expected one of none, shrink, grow-height; got 'grow'");
}

TEST(Properties, EveryPropertyRoundTripsThroughText) {
  for (BlockType type : {BlockType::kPage, BlockType::kText, BlockType::kImage, BlockType::kShape, BlockType::kGroup}) {
    const Block b = make(type);
    for (const PropertyInfo* info : properties_of(type)) {
      auto v = get_property(b, info->name);
      ASSERT_TRUE(v.ok()) << info->name;
      const std::string text = format_property(*v);
      auto back = parse_property(*info, text);
      ASSERT_TRUE(back.ok()) << info->name << " " << text;
      EXPECT_EQ(format_property(*back), text) << info->name;
      Block copy = b;
      ASSERT_TRUE(set_property(copy, info->name, *back).ok()) << info->name;
      EXPECT_EQ(copy, b) << info->name;
    }
  }
}

}  // namespace
}  // namespace atelier::design
