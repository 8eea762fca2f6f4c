// The compact XML of a design for language models: attribute table, profiles, exact output,
// rounding, escaping, profile guessing and token estimate.
#include "genai/serializer.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "design/properties.h"
#include "design/scene_json.h"

namespace atelier::genai {
namespace {

using design::Block;
using design::BlockId;
using design::BlockType;
using design::PropertyValue;
using design::Scene;

void add_block(Scene& scene, BlockId id, BlockType type, BlockId parent,
               const std::vector<std::pair<std::string, PropertyValue>>& props) {
  Block b;
  b.id = id;
  b.type = type;
  b.parent = parent;
  for (const auto& [name, value] : props) {
    const Status s = design::set_property(b, name, value);
    ASSERT_TRUE(s.ok()) << s.message();
  }
  scene.blocks[id] = b;
  if (parent == 0) {
    scene.pages.push_back(id);
  } else {
    scene.blocks[parent].children.push_back(id);
  }
}

// A card: a page with a text, an image and a group holding a shape.
Scene card() {
  Scene s;
  s.name = "Card";
  add_block(s, 1, BlockType::kPage, 0, {{"name", std::string("Card")}, {"width", 600.0}, {"height", 400.0},
                                         {"fill", std::string("#FFFFFF")}});
  add_block(s, 2, BlockType::kText, 1,
            {{"name", std::string("Title")}, {"kind", std::string("headline")}, {"x", 40.4}, {"y", 30.0},
             {"width", 520.0}, {"height", 80.6}, {"text", std::string("Hello & \"you\"\n<now>")},
             {"font_size", 48.0}, {"font_weight", 700LL}, {"font_style", std::string("italic")},
             {"text_color", std::string("#1B3A4B")}, {"align", std::string("center")}, {"line_height", 1.254}});
  add_block(s, 3, BlockType::kImage, 1,
            {{"name", std::string("Photo")}, {"kind", std::string("photo")}, {"x", 40.0}, {"y", 130.0},
             {"width", 250.0}, {"height", 240.0}, {"corner_radius", 12.0}, {"source", std::string("secret/cat.png")},
             {"alt", std::string("A cat on a sofa")}, {"fit", std::string("contain")}, {"focus_x", 0.333}});
  add_block(s, 4, BlockType::kGroup, 1,
            {{"name", std::string("Badge")}, {"x", 320.0}, {"y", 130.0}, {"width", 240.0}, {"height", 240.0}});
  add_block(s, 5, BlockType::kShape, 4,
            {{"name", std::string("Disc")}, {"x", 320.0}, {"y", 130.0}, {"width", 240.0}, {"height", 240.0},
             {"rotation", 12.6}, {"opacity", 0.456}, {"fill", std::string("#E07A5F")},
             {"stroke_color", std::string("#FF0000")}, {"stroke_width", 2.5}, {"shape", std::string("ellipse")}});
  return s;
}

TEST(Serializer, LayoutProfile) {
  EXPECT_EQ(serialize(card(), Profile::kLayout),
            "<design w=\"600\" h=\"400\">\n"
            "  <page id=\"1\" name=\"Card\" w=\"600\" h=\"400\">\n"
            "    <text id=\"2\" name=\"Title\" kind=\"headline\" x=\"40\" y=\"30\" w=\"520\" h=\"81\" size=\"48\"/>\n"
            "    <image id=\"3\" name=\"Photo\" kind=\"photo\" x=\"40\" y=\"130\" w=\"250\" h=\"240\" "
            "alt=\"A cat on a sofa\" fit=\"contain\" focus-x=\"0.33\"/>\n"
            "    <group id=\"4\" name=\"Badge\" x=\"320\" y=\"130\" w=\"240\" h=\"240\">\n"
            "      <shape id=\"5\" name=\"Disc\" x=\"320\" y=\"130\" w=\"240\" h=\"240\" rot=\"13\"/>\n"
            "    </group>\n"
            "  </page>\n"
            "</design>\n");
}

TEST(Serializer, TextProfile) {
  EXPECT_EQ(serialize(card(), Profile::kText),
            "<design w=\"600\" h=\"400\">\n"
            "  <page id=\"1\" name=\"Card\" w=\"600\" h=\"400\">\n"
            "    <text id=\"2\" name=\"Title\" kind=\"headline\" "
            "text=\"Hello &amp; &quot;you&quot;&#10;&lt;now&gt;\"/>\n"
            "    <image id=\"3\" name=\"Photo\" kind=\"photo\" alt=\"A cat on a sofa\"/>\n"
            "    <group id=\"4\" name=\"Badge\">\n"
            "      <shape id=\"5\" name=\"Disc\"/>\n"
            "    </group>\n"
            "  </page>\n"
            "</design>\n");
}

TEST(Serializer, StyleProfile) {
  EXPECT_EQ(serialize(card(), Profile::kStyle),
            "<design w=\"600\" h=\"400\">\n"
            "  <page id=\"1\" name=\"Card\" w=\"600\" h=\"400\" fill=\"#FFFFFF\">\n"
            "    <text id=\"2\" name=\"Title\" kind=\"headline\" size=\"48\" weight=\"700\" italic=\"true\" "
            "color=\"#1B3A4B\" align=\"center\" lh=\"1.25\"/>\n"
            "    <image id=\"3\" name=\"Photo\" kind=\"photo\" alt=\"A cat on a sofa\" radius=\"12\"/>\n"
            "    <group id=\"4\" name=\"Badge\">\n"
            "      <shape id=\"5\" name=\"Disc\" opacity=\"0.46\" fill=\"#E07A5F\" stroke=\"#FF0000\" stroke-w=\"2.5\" "
            "shape=\"ellipse\"/>\n"
            "    </group>\n"
            "  </page>\n"
            "</design>\n");
}

TEST(Serializer, FullProfile) {
  EXPECT_EQ(serialize(card(), Profile::kFull),
            "<design w=\"600\" h=\"400\">\n"
            "  <page id=\"1\" name=\"Card\" w=\"600\" h=\"400\" fill=\"#FFFFFF\">\n"
            "    <text id=\"2\" name=\"Title\" kind=\"headline\" x=\"40\" y=\"30\" w=\"520\" h=\"81\" "
            "text=\"Hello &amp; &quot;you&quot;&#10;&lt;now&gt;\" size=\"48\" weight=\"700\" italic=\"true\" "
            "color=\"#1B3A4B\" align=\"center\" lh=\"1.25\"/>\n"
            "    <image id=\"3\" name=\"Photo\" kind=\"photo\" x=\"40\" y=\"130\" w=\"250\" h=\"240\" "
            "alt=\"A cat on a sofa\" fit=\"contain\" focus-x=\"0.33\" radius=\"12\"/>\n"
            "    <group id=\"4\" name=\"Badge\" x=\"320\" y=\"130\" w=\"240\" h=\"240\">\n"
            "      <shape id=\"5\" name=\"Disc\" x=\"320\" y=\"130\" w=\"240\" h=\"240\" rot=\"13\" opacity=\"0.46\" "
            "fill=\"#E07A5F\" stroke=\"#FF0000\" stroke-w=\"2.5\" shape=\"ellipse\"/>\n"
            "    </group>\n"
            "  </page>\n"
            "</design>\n");
}

TEST(Serializer, NeverSendsImageSources) {
  for (Profile p : {Profile::kLayout, Profile::kText, Profile::kStyle, Profile::kFull}) {
    EXPECT_EQ(serialize(card(), p).find("secret"), std::string::npos) << to_string(p);
  }
}

TEST(Serializer, EmptyPagesSelfCloseAndAnEmptySceneHasNoSize) {
  Scene s;
  add_block(s, 1, BlockType::kPage, 0, {{"width", 100.0}, {"height", 50.0}});
  add_block(s, 2, BlockType::kPage, 0, {{"width", 300.0}, {"height", 200.0}});
  EXPECT_EQ(serialize(s, Profile::kText),
            "<design w=\"100\" h=\"50\">\n"
            "  <page id=\"1\" w=\"100\" h=\"50\"/>\n"
            "  <page id=\"2\" w=\"300\" h=\"200\"/>\n"
            "</design>\n");
  EXPECT_EQ(serialize(Scene{}, Profile::kFull), "<design>\n</design>\n");
}

TEST(Serializer, DefaultsAreLeftOutExceptTheBox) {
  Scene s;
  add_block(s, 1, BlockType::kPage, 0, {{"width", 100.0}, {"height", 100.0}});
  add_block(s, 2, BlockType::kShape, 1, {{"rotation", 0.2}, {"opacity", 0.999}});
  // x/y/w/h at their defaults are still written; rotation 0.2 rounds to the default 0 and
  // opacity 0.999 to 1: both left out.
  EXPECT_EQ(serialize(s, Profile::kFull),
            "<design w=\"100\" h=\"100\">\n"
            "  <page id=\"1\" w=\"100\" h=\"100\">\n"
            "    <shape id=\"2\" x=\"0\" y=\"0\" w=\"100\" h=\"100\"/>\n"
            "  </page>\n"
            "</design>\n");
}

TEST(Serializer, ControlCharactersAreCharacterReferences) {
  Scene s;
  add_block(s, 1, BlockType::kPage, 0, {{"width", 100.0}, {"height", 100.0}});
  add_block(s, 2, BlockType::kText, 1, {{"text", std::string("a\tb\r\nc > d 'e' — ü")}});
  EXPECT_NE(serialize(s, Profile::kText).find("text=\"a&#9;b&#13;&#10;c &gt; d 'e' — ü\""), std::string::npos)
      << serialize(s, Profile::kText);
}

TEST(Serializer, AttributeTable) {
  std::vector<std::string> names, properties;
  for (const XmlAttribute& a : xml_attributes()) {
    names.emplace_back(a.name);
    properties.emplace_back(a.property);
    if (!a.property.empty()) {
      EXPECT_NE(design::find_property(a.property), nullptr) << a.property;
    }
  }
  EXPECT_EQ(names, (std::vector<std::string>{"id",     "name",     "kind",   "x",      "y",      "w",       "h",
                                             "rot",    "visible",  "alt",    "text",   "fit",    "focus-x", "focus-y",
                                             "opacity", "fill",    "stroke", "stroke-w", "radius", "font",  "size",
                                             "weight", "italic",   "color",  "align",  "lh",     "ls",      "auto-fit",
                                             "shape",  "points",   "inner"}));
  EXPECT_EQ(properties,
            (std::vector<std::string>{"",          "name",          "kind",         "x",           "y",
                                      "width",     "height",        "rotation",     "visible",     "alt",
                                      "text",      "fit",           "focus_x",      "focus_y",     "opacity",
                                      "fill",      "stroke_color",  "stroke_width", "corner_radius", "font_family",
                                      "font_size", "font_weight",   "font_style",   "text_color",  "align",
                                      "line_height", "letter_spacing", "auto_fit",  "shape",       "points",
                                      "inner_radius"}));
  ASSERT_NE(find_xml_attribute("w"), nullptr);
  EXPECT_EQ(find_xml_attribute("w")->property, "width");
  EXPECT_EQ(find_xml_attribute("colour"), nullptr);
}

std::vector<std::string> names_of(BlockType type, Profile profile) {
  std::vector<std::string> out;
  for (const XmlAttribute* a : attributes_for(type, profile)) out.emplace_back(a->name);
  return out;
}

TEST(Serializer, AttributesPerTypeAndProfile) {
  using V = std::vector<std::string>;
  EXPECT_EQ(names_of(BlockType::kPage, Profile::kLayout), (V{"id", "name", "kind", "w", "h"}));
  EXPECT_EQ(names_of(BlockType::kPage, Profile::kText), (V{"id", "name", "kind", "w", "h"}));
  EXPECT_EQ(names_of(BlockType::kPage, Profile::kStyle), (V{"id", "name", "kind", "w", "h", "fill"}));
  EXPECT_EQ(names_of(BlockType::kText, Profile::kLayout), (V{"id", "name", "kind", "x", "y", "w", "h", "rot", "visible", "size"}));
  EXPECT_EQ(names_of(BlockType::kText, Profile::kText), (V{"id", "name", "kind", "text"}));
  EXPECT_EQ(names_of(BlockType::kText, Profile::kStyle),
            (V{"id", "name", "kind", "opacity", "fill", "stroke", "stroke-w", "radius", "font", "size", "weight",
               "italic", "color", "align", "lh", "ls", "auto-fit"}));
  EXPECT_EQ(names_of(BlockType::kImage, Profile::kText), (V{"id", "name", "kind", "alt"}));
  EXPECT_EQ(names_of(BlockType::kImage, Profile::kLayout),
            (V{"id", "name", "kind", "x", "y", "w", "h", "rot", "visible", "alt", "fit", "focus-x", "focus-y"}));
  EXPECT_EQ(names_of(BlockType::kShape, Profile::kStyle),
            (V{"id", "name", "kind", "opacity", "fill", "stroke", "stroke-w", "radius", "shape", "points", "inner"}));
  EXPECT_EQ(names_of(BlockType::kGroup, Profile::kStyle), (V{"id", "name", "kind", "opacity"}));
  EXPECT_EQ(names_of(BlockType::kGroup, Profile::kFull),
            (V{"id", "name", "kind", "x", "y", "w", "h", "rot", "visible", "opacity"}));
}

TEST(Serializer, ValuesRoundAndParse) {
  const XmlAttribute& x = *find_xml_attribute("x");
  const XmlAttribute& lh = *find_xml_attribute("lh");
  const XmlAttribute& italic = *find_xml_attribute("italic");
  const XmlAttribute& fill = *find_xml_attribute("fill");
  EXPECT_EQ(format_xml_value(x, 60.4), "60");
  EXPECT_EQ(format_xml_value(x, -0.4), "0");
  EXPECT_EQ(format_xml_value(lh, 1.0549), "1.05");
  EXPECT_EQ(format_xml_value(italic, std::string("italic")), "true");
  EXPECT_EQ(format_xml_value(fill, design::Color{0, 0, 0, 0}), "none");
  EXPECT_EQ(rounded_value(x, 60.4), PropertyValue(60.0));
  EXPECT_EQ(*parse_xml_value(x, "60.5"), PropertyValue(60.5));
  EXPECT_EQ(*parse_xml_value(italic, "false"), PropertyValue(std::string("normal")));
  EXPECT_EQ(*parse_xml_value(fill, "#12345600"), PropertyValue(design::Color{0, 0, 0, 0}));
  EXPECT_EQ(parse_xml_value(*find_xml_attribute("w"), "-5").status().message(), "w must not be negative, got -5");
  EXPECT_EQ(parse_xml_value(x, "abc").status().message(), "x: expected a number, got 'abc'");
  EXPECT_EQ(parse_xml_value(italic, "yes").status().message(), "italic: expected true or false, got 'yes'");
  EXPECT_EQ(parse_xml_value(*find_xml_attribute("stroke"), "#12").status().message(),
            "stroke: bad colour '#12' (expected #RRGGBB, #RRGGBBAA, none or a name such as white)");
}

TEST(Serializer, ProfileNames) {
  for (Profile p : {Profile::kLayout, Profile::kText, Profile::kStyle, Profile::kFull}) {
    EXPECT_EQ(parse_profile(to_string(p)), p);
  }
  EXPECT_EQ(parse_profile("colour"), std::nullopt);
}

TEST(Serializer, GuessProfile) {
  EXPECT_EQ(guess_profile("Translate the texts into French"), Profile::kText);
  EXPECT_EQ(guess_profile("Übersetze alles ins Englische"), Profile::kText);
  EXPECT_EQ(guess_profile("Fix the typos"), Profile::kText);
  EXPECT_EQ(guess_profile("Use our brand colours"), Profile::kStyle);
  EXPECT_EQ(guess_profile("MAKE THE HEADLINE RED"), Profile::kStyle);
  EXPECT_EQ(guess_profile("Die Überschrift in Rot, bitte"), Profile::kStyle);
  EXPECT_EQ(guess_profile("Change the font to something friendlier"), Profile::kStyle);
  EXPECT_EQ(guess_profile("Move the logo to the top right"), Profile::kLayout);
  EXPECT_EQ(guess_profile("Make the photo bigger"), Profile::kLayout);
  EXPECT_EQ(guess_profile("Reformat this as a square post"), Profile::kLayout);
  EXPECT_EQ(guess_profile("Rotate the star a little"), Profile::kLayout);
  EXPECT_EQ(guess_profile("Das Logo größer machen"), Profile::kLayout);
  EXPECT_EQ(guess_profile("Verschiebe das Bild nach links"), Profile::kLayout);
  // Several kinds of change, or none recognised: everything.
  EXPECT_EQ(guess_profile("Translate the headline and make it blue"), Profile::kFull);
  EXPECT_EQ(guess_profile("Make it pop"), Profile::kFull);
  EXPECT_EQ(guess_profile(""), Profile::kFull);
}

TEST(Serializer, EstimateTokens) {
  EXPECT_EQ(estimate_tokens(""), 0);
  EXPECT_EQ(estimate_tokens("abcd"), 1);
  EXPECT_EQ(estimate_tokens("abcde"), 2);
  EXPECT_EQ(estimate_tokens("äöüß"), 1);  // code points, not bytes
}

TEST(Serializer, ExampleDesignsAreCompact) {
  const std::filesystem::path dir = std::filesystem::path(ATELIER_SOURCE_DIR) / "examples" / "designs";
  for (const char* name : {"instagram-story", "youtube-thumbnail", "a4-event-poster", "business-card",
                           "product-sale-banner", "linkedin-post"}) {
    auto loaded = design::load_scene(dir / (std::string(name) + ".json"));
    ASSERT_TRUE(loaded.ok()) << loaded.status().message();
    const std::string full = serialize(loaded->scene, Profile::kFull);
    const std::string json = design::scene_to_json(loaded->scene);
    EXPECT_LT(full.size() * 2, json.size()) << name << ": the XML should be well under half the JSON";
    EXPECT_LT(estimate_tokens(full), 700) << name;
    for (Profile p : {Profile::kLayout, Profile::kText, Profile::kStyle}) {
      EXPECT_LT(serialize(loaded->scene, p).size(), full.size()) << name << " " << to_string(p);
    }
    EXPECT_EQ(full.find("source"), std::string::npos);
    EXPECT_EQ(full.find("/usr/"), std::string::npos);
  }
}

}  // namespace
}  // namespace atelier::genai
