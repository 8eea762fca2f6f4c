// The model's answer: finding the one <design> document in it (extract_document) and
// validating and diffing it against the design that was sent (validate_and_diff).
#include "genai/answer.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "design/properties.h"
#include "design/scene_json.h"
#include "image/composite.h"

namespace atelier::genai {
namespace {

using design::BlockType;
using design::PropertyValue;

// A 1080×1080 page (1) with: 2 photo (image), 3 headline (text, x=60.4), 4 logo (shape),
// 5 a group holding 6 (button shape) and 7 (its label), 8 a decoration partly off the page.
constexpr const char* kScene = R"({
  "format": "atelier-scene", "version": 1,
  "pages": [{"id": 1, "type": "page", "name": "Post", "width": 1080, "height": 1080, "fill": "#FFFFFF", "children": [
    {"id": 2, "type": "image", "name": "Photo", "kind": "photo", "x": 0, "y": 0, "width": 1080, "height": 600,
     "source": "tulips.jpg", "alt": "a field of tulips"},
    {"id": 3, "type": "text", "name": "Headline", "kind": "headline", "x": 60.4, "y": 640, "width": 600,
     "height": 100, "text": "Spring sale", "font_size": 64, "text_color": "#1B3A4B"},
    {"id": 4, "type": "shape", "name": "Logo", "kind": "logo", "x": 900, "y": 900, "width": 120, "height": 120,
     "fill": "#E07A5F", "opacity": 0.5},
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

// The serialized scene with `from` (which must occur exactly once) replaced by `to`.
std::string edited(Profile profile, const std::string& from, const std::string& to) {
  std::string xml = serialize(scene(), profile);
  const std::size_t at = xml.find(from);
  EXPECT_NE(at, std::string::npos) << "'" << from << "' not in\n" << xml;
  if (at == std::string::npos) return xml;
  EXPECT_EQ(xml.find(from, at + 1), std::string::npos) << "'" << from << "' twice in\n" << xml;
  return xml.replace(at, from.size(), to);
}

PropertyValue color(const char* hex) {
  auto c = image::parse_color(hex);
  EXPECT_TRUE(c.ok()) << hex;
  return design::quantize_color(*c);
}

PropertyValue str(const char* s) { return std::string(s); }

std::string lines(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& l : v) s += l + "\n";
  return s;
}

// ---------------------------------------------------------------------------------------
// extract_document

TEST(ExtractDocument, ABareDocument) {
  auto doc = extract_document("<design w=\"10\" h=\"10\">\n  <page id=\"1\" w=\"10\" h=\"10\"/>\n</design>\n");
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  EXPECT_EQ(*doc, "<design w=\"10\" h=\"10\">\n  <page id=\"1\" w=\"10\" h=\"10\"/>\n</design>");
}

TEST(ExtractDocument, InsideFencesWithProseAround) {
  auto doc = extract_document(
      "Sure! Here is the updated design, with a bigger headline:\n"
      "```xml\n"
      "<design w=\"10\" h=\"10\">\n  <page id=\"1\" w=\"10\" h=\"10\"/>\n</design>\n"
      "```\n"
      "I made the headline bigger so that the design reads better from afar.");
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  EXPECT_EQ(*doc, "<design w=\"10\" h=\"10\">\n  <page id=\"1\" w=\"10\" h=\"10\"/>\n</design>");
}

TEST(ExtractDocument, ProseThatMentionsTheElementBeforeTheDocument) {
  auto doc = extract_document("The <design> element below keeps every id:\n<design>\n</design >\nDone.");
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  EXPECT_EQ(*doc, "<design>\n</design >");
}

TEST(ExtractDocument, ASelfClosingDocument) {
  auto doc = extract_document("Nothing to keep: <design w=\"10\" h=\"10\"/> is the answer.");
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  EXPECT_EQ(*doc, "<design w=\"10\" h=\"10\"/>");
}

TEST(ExtractDocument, NoDocument) {
  for (const char* answer : {"", "I could not change the design, sorry: the design has no headline.",
                             "```xml\n<designer name=\"me\"/>\n```", "<designs></designs>"}) {
    auto doc = extract_document(answer);
    ASSERT_FALSE(doc.ok()) << answer;
    EXPECT_EQ(doc.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(doc.status().message(), "the answer contains no <design> document") << answer;
  }
}

TEST(ExtractDocument, TwoDocuments) {
  const std::string document = "<design w=\"10\" h=\"10\">\n  <page id=\"1\" w=\"10\" h=\"10\"/>\n</design>";
  for (const std::string& answer :
       {"```xml\n" + document + "\n```\nTo recap, the whole answer is:\n" + document + "\n",
        document + document, "Before:\n<design/>\nAfter:\n" + document}) {
    auto doc = extract_document(answer);
    ASSERT_FALSE(doc.ok()) << answer;
    EXPECT_EQ(doc.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(doc.status().message(), "the answer contains 2 <design> documents") << answer;
  }
}

TEST(ExtractDocument, ATruncatedAnswerIsTheDocumentAndFailsToParse) {
  // The answer was cut off: what there is becomes the document, and parsing it says why.
  auto doc = extract_document("```xml\n<design w=\"1080\" h=\"1080\">\n  <page id=\"1\" w=\"1080\" h=\"10");
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  EXPECT_EQ(*doc, "<design w=\"1080\" h=\"1080\">\n  <page id=\"1\" w=\"1080\" h=\"10");
  const Validation v = validate_and_diff(*doc, scene(), Profile::kFull);
  ASSERT_EQ(v.errors.size(), 1u) << lines(v.errors);
  EXPECT_EQ(v.errors[0].rfind("invalid XML: ", 0), 0u) << v.errors[0];
  EXPECT_TRUE(v.changes.empty());
}

// ---------------------------------------------------------------------------------------
// validate_and_diff: changes

TEST(ValidateAndDiff, TheSerializedInputIsNoChangeInEveryProfile) {
  for (Profile p : {Profile::kLayout, Profile::kText, Profile::kStyle, Profile::kFull}) {
    const Validation v = validate_and_diff(serialize(scene(), p), scene(), p);
    EXPECT_TRUE(v.ok()) << to_string(p) << ":\n" << lines(v.errors);
    EXPECT_EQ(v.changes, ChangeSet{}) << to_string(p);
  }
}

TEST(ValidateAndDiff, TheExampleDesignsSerializedAreNoChange) {
  const std::filesystem::path dir = std::filesystem::path(ATELIER_SOURCE_DIR) / "examples" / "designs";
  int designs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    ++designs;
    auto loaded = design::load_scene(entry.path());
    ASSERT_TRUE(loaded.ok()) << loaded.status().message();
    for (Profile p : {Profile::kLayout, Profile::kText, Profile::kStyle, Profile::kFull}) {
      const Validation v = validate_and_diff(serialize(loaded->scene, p), loaded->scene, p);
      EXPECT_TRUE(v.ok()) << entry.path().filename() << " " << to_string(p) << ":\n" << lines(v.errors);
      EXPECT_EQ(v.changes, ChangeSet{}) << entry.path().filename() << " " << to_string(p);
    }
  }
  EXPECT_EQ(designs, 6);
}

TEST(ValidateAndDiff, AwkwardValuesRoundTrip) {
  // Escaped characters, spaces kept at both ends, control characters, values that round
  // (to the default, or half-way), colours with alpha, negative numbers.
  auto loaded = design::parse_scene(R"({"format": "atelier-scene", "version": 1, "pages": [{"id": 1,
    "type": "page", "name": " \"Quoted\" & <tagged> ", "width": 1080.4, "height": 1079.6, "children": [
      {"id": 2, "type": "text", "x": -20.5, "y": 0.49, "width": 100, "height": 100, "rotation": -0.4,
       "opacity": 0.999, "text": "  a\tb\r\nc\u0001 'é' — 😀  ", "font_size": 64.45, "line_height": 1.125,
       "letter_spacing": -0.05, "stroke_color": "#FF000080", "stroke_width": 2.55, "fill": "#00000000",
       "font_style": "italic", "font_family": "DejaVu Serif", "auto_fit": "grow-height"},
      {"id": 3, "type": "image", "x": 0, "y": 0, "width": 10, "height": 10, "alt": "", "focus_x": 0.125,
       "focus_y": 0.005, "fit": "fill", "visible": false},
      {"id": 4, "type": "shape", "x": 1, "y": 1, "width": 0, "height": 0, "shape": "line",
       "stroke_color": "#123456", "stroke_width": 1, "points": 64, "inner_radius": 0.999}]}]})",
                                    "awkward.json");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  for (Profile p : {Profile::kLayout, Profile::kText, Profile::kStyle, Profile::kFull}) {
    const Validation v = validate_and_diff(serialize(loaded->scene, p), loaded->scene, p);
    EXPECT_TRUE(v.ok()) << to_string(p) << ":\n" << lines(v.errors);
    EXPECT_EQ(v.changes, ChangeSet{}) << to_string(p) << "\n" << serialize(loaded->scene, p);
  }
}

TEST(ValidateAndDiff, SizesAndColoursInTheFullProfile) {
  std::string xml = edited(Profile::kFull, "size=\"64\" color=\"#1B3A4B\"", "size=\"80\" color=\"#FF0000\"");
  xml.replace(xml.find("w=\"120\""), 7, "w=\"150\"");
  xml.replace(xml.find("fill=\"#E07A5F\""), 14, "fill=\"#264653\"");
  const Validation v = validate_and_diff(xml, scene(), Profile::kFull);
  ASSERT_TRUE(v.ok()) << lines(v.errors);
  ChangeSet expected;
  expected.modified = {{3, "font_size", 64.0, 80.0},
                       {3, "text_color", color("#1B3A4B"), color("#FF0000")},
                       {4, "fill", color("#E07A5F"), color("#264653")},
                       {4, "width", 120.0, 150.0}};
  EXPECT_EQ(v.changes, expected);
}

TEST(ValidateAndDiff, TheLayoutProfile) {
  std::string xml = edited(Profile::kLayout, "x=\"900\" y=\"900\" w=\"120\" h=\"120\"",
                           "x=\"880\" y=\"900\" w=\"150\" h=\"150\" rot=\"-15\"");
  xml.replace(xml.find("size=\"64\""), 9, "size=\"72.5\"");
  const Validation v = validate_and_diff(xml, scene(), Profile::kLayout);
  ASSERT_TRUE(v.ok()) << lines(v.errors);
  ChangeSet expected;
  expected.modified = {{3, "font_size", 64.0, 72.5},
                       {4, "height", 120.0, 150.0},
                       {4, "rotation", 0.0, -15.0},
                       {4, "width", 120.0, 150.0},
                       {4, "x", 900.0, 880.0}};
  EXPECT_EQ(v.changes, expected);
}

TEST(ValidateAndDiff, TheTextProfile) {
  std::string xml = edited(Profile::kText, "text=\"Spring sale\"", "text=\"Fr&#252;hlings&#10;verkauf &amp; mehr\"");
  xml.replace(xml.find("alt=\"a field of tulips\""), 23, "alt=\"ein Tulpenfeld\"");
  const Validation v = validate_and_diff(xml, scene(), Profile::kText);
  ASSERT_TRUE(v.ok()) << lines(v.errors);
  ChangeSet expected;
  expected.modified = {{2, "alt", str("a field of tulips"), str("ein Tulpenfeld")},
                       {3, "text", str("Spring sale"), str("Frühlings\nverkauf & mehr")}};
  EXPECT_EQ(v.changes, expected);
}

TEST(ValidateAndDiff, TheStyleProfile) {
  std::string xml = edited(Profile::kStyle, "size=\"64\" color=\"#1B3A4B\"",
                           "size=\"64\" weight=\"700\" italic=\"true\" color=\"#1b3a4b\" align=\"center\"");
  const Validation v = validate_and_diff(xml, scene(), Profile::kStyle);
  ASSERT_TRUE(v.ok()) << lines(v.errors);
  ChangeSet expected;
  expected.modified = {{3, "align", str("left"), str("center")},
                       {3, "font_style", str("normal"), str("italic")},
                       {3, "font_weight", 400LL, 700LL}};
  EXPECT_EQ(v.changes, expected);
}

TEST(ValidateAndDiff, ALeftOutAttributeMeansItsDefault) {
  // opacity="0.5" dropped: opacity 1; a dropped name is kept.
  const std::string xml = edited(Profile::kStyle, " name=\"Logo\" kind=\"logo\" opacity=\"0.5\"", " kind=\"logo\"");
  const Validation v = validate_and_diff(xml, scene(), Profile::kStyle);
  ASSERT_TRUE(v.ok()) << lines(v.errors);
  ChangeSet expected;
  expected.modified = {{4, "opacity", 0.5, 1.0}};
  EXPECT_EQ(v.changes, expected);
}

TEST(ValidateAndDiff, ValuesAreComparedAsRounded) {
  // x=60.4 was sent as "60": "60" is no change, "61" is, with the old value as it is.
  ASSERT_NE(serialize(scene(), Profile::kLayout).find("<text id=\"3\" name=\"Headline\" kind=\"headline\" x=\"60\""),
            std::string::npos);
  Validation same = validate_and_diff(serialize(scene(), Profile::kLayout), scene(), Profile::kLayout);
  EXPECT_TRUE(same.ok()) << lines(same.errors);
  EXPECT_TRUE(same.changes.empty());
  const Validation v =
      validate_and_diff(edited(Profile::kLayout, "x=\"60\" y=\"640\"", "x=\"61\" y=\"640\""), scene(), Profile::kLayout);
  ASSERT_TRUE(v.ok()) << lines(v.errors);
  ChangeSet expected;
  expected.modified = {{3, "x", 60.4, 61.0}};
  EXPECT_EQ(v.changes, expected);
}

TEST(ValidateAndDiff, ALeftOutBlockIsRemoved) {
  // A block, a whole group (the group only: its members go with it), a group's member.
  const Validation logo = validate_and_diff(
      edited(Profile::kFull, "    <shape id=\"4\" name=\"Logo\" kind=\"logo\" x=\"900\" y=\"900\" w=\"120\" h=\"120\" "
                             "opacity=\"0.5\" fill=\"#E07A5F\"/>\n",
             ""),
      scene(), Profile::kFull);
  ASSERT_TRUE(logo.ok()) << lines(logo.errors);
  ChangeSet expected;
  expected.removed = {4};
  EXPECT_EQ(logo.changes, expected);

  std::string xml = serialize(scene(), Profile::kLayout);
  const std::size_t from = xml.find("    <group id=\"5\"");
  const std::size_t to = xml.find("</group>\n") + 9;
  ASSERT_NE(from, std::string::npos);
  xml.erase(from, to - from);
  const Validation group = validate_and_diff(xml, scene(), Profile::kLayout);
  ASSERT_TRUE(group.ok()) << lines(group.errors);
  expected.removed = {5};
  EXPECT_EQ(group.changes, expected);

  const Validation member = validate_and_diff(
      edited(Profile::kText, "      <text id=\"7\" kind=\"cta\" text=\"Buy now\"/>\n", ""), scene(), Profile::kText);
  ASSERT_TRUE(member.ok()) << lines(member.errors);
  expected.removed = {7};
  EXPECT_EQ(member.changes, expected);
}

TEST(ValidateAndDiff, ANewElementWithoutIdIsAdded) {
  std::string xml = edited(Profile::kFull, "  </page>",
                           "    <text x=\"100\" y=\"100\" w=\"300\" h=\"50\" text=\"New!\" size=\"40\"/>\n  </page>");
  xml.replace(xml.find("    </group>"), 12,
              "      <shape name=\"Dot\" x=\"70\" y=\"910\" w=\"20\" h=\"20\" fill=\"#FF0000\" shape=\"ellipse\"/>\n"
              "    </group>");
  const Validation v = validate_and_diff(xml, scene(), Profile::kFull);
  ASSERT_TRUE(v.ok()) << lines(v.errors);
  ChangeSet expected;
  expected.added = {
      {BlockType::kShape, 5, 2,
       {{"name", str("Dot")}, {"x", 70.0}, {"y", 910.0}, {"width", 20.0}, {"height", 20.0},
        {"fill", color("#FF0000")}, {"shape", str("ellipse")}}},
      {BlockType::kText, 1, 5,
       {{"x", 100.0}, {"y", 100.0}, {"width", 300.0}, {"height", 50.0}, {"text", str("New!")}, {"font_size", 40.0}}}};
  EXPECT_EQ(v.changes, expected);
}

// ---------------------------------------------------------------------------------------
// validate_and_diff: errors

TEST(ValidateAndDiff, InvalidXml) {
  for (const std::string& xml : {std::string("<design><page id=\"1\" w=\"1080\" h=\"1080\"></design>"),
                                 std::string("<design w=\"1080\" h=\"1080\">\n  <page id=\"1\""),
                                 std::string("not xml at all <")}) {
    const Validation v = validate_and_diff(xml, scene(), Profile::kFull);
    ASSERT_EQ(v.errors.size(), 1u) << xml << "\n" << lines(v.errors);
    EXPECT_EQ(v.errors[0].rfind("invalid XML: ", 0), 0u) << v.errors[0];
    EXPECT_FALSE(v.ok());
    EXPECT_TRUE(v.changes.empty());
  }
}

void expect_errors(const std::string& xml, Profile profile, const std::vector<std::string>& errors) {
  const Validation v = validate_and_diff(xml, scene(), profile);
  EXPECT_EQ(v.errors, errors) << xml;
  EXPECT_FALSE(v.ok());
}

TEST(ValidateAndDiff, UnknownAttributes) {
  expect_errors(edited(Profile::kStyle, "color=\"#1B3A4B\"", "colour=\"#FF0000\""), Profile::kStyle,
                {"<text id=\"3\">: unknown attribute 'colour'"});
  // Known, but not for the block's type, or not in the profile sent.
  expect_errors(edited(Profile::kFull, "text=\"Spring sale\"", "text=\"Spring sale\" alt=\"spring\""), Profile::kFull,
                {"<text id=\"3\">: a text has no attribute 'alt'"});
  expect_errors(edited(Profile::kText, "name=\"Photo\" kind=\"photo\"", "name=\"Photo\" kind=\"photo\" x=\"10\""),
                Profile::kText, {"<image id=\"2\">: attribute 'x' is not in the text profile"});
  expect_errors(edited(Profile::kStyle, "<design w=\"1080\" h=\"1080\">", "<design w=\"1080\" h=\"1080\" dpi=\"72\">"),
                Profile::kStyle, {"<design>: unknown attribute 'dpi'"});
}

TEST(ValidateAndDiff, UnknownAndDuplicateIds) {
  expect_errors(edited(Profile::kFull, "  </page>", "    <shape id=\"99\" x=\"0\" y=\"0\" w=\"10\" h=\"10\"/>\n  </page>"),
                Profile::kFull, {"<shape id=\"99\">: unknown id 99"});
  expect_errors(edited(Profile::kText, "  </page>", "    <shape id=\"4\" name=\"Logo\" kind=\"logo\"/>\n  </page>"),
                Profile::kText, {"<shape id=\"4\">: id 4 appears more than once"});
  expect_errors(edited(Profile::kText, "<shape id=\"4\"", "<shape id=\"x4\""), Profile::kText,
                {"<shape id=\"x4\">: bad id 'x4'"});
}

TEST(ValidateAndDiff, DuplicateAttributes) {
  expect_errors(edited(Profile::kText, "text=\"Spring sale\"", "text=\"Spring sale\" text=\"Summer sale\""),
                Profile::kText, {"<text id=\"3\">: duplicate attribute 'text'"});
}

TEST(ValidateAndDiff, AnElementMustKeepItsType) {
  const std::string xml = edited(Profile::kLayout, "<text id=\"3\"", "<shape id=\"3\"");
  const Validation v = validate_and_diff(xml, scene(), Profile::kLayout);
  EXPECT_EQ(v.errors, (std::vector<std::string>{"<shape id=\"3\">: id 3 is a text, not a shape",
                                                "<shape id=\"3\">: a shape has no attribute 'size'"}));
  EXPECT_TRUE(v.changes.removed.empty());  // named in the answer: not a removal
}

TEST(ValidateAndDiff, TheStructureMayNotChange) {
  // Blocks may be left out or added, not moved to another parent or restacked.
  std::string xml = serialize(scene(), Profile::kText);
  const std::string label = "      <text id=\"7\" kind=\"cta\" text=\"Buy now\"/>\n";
  xml.erase(xml.find(label), label.size());
  xml.insert(xml.find("    <shape id=\"8\""), "  " + label.substr(2));
  expect_errors(xml, Profile::kText, {"<text id=\"7\">: moving blocks between pages or groups is not supported"});

  xml = serialize(scene(), Profile::kText);
  const std::string logo = "    <shape id=\"4\" name=\"Logo\" kind=\"logo\"/>\n";
  xml.erase(xml.find(logo), logo.size());
  xml.insert(xml.find("    <image id=\"2\""), logo);
  expect_errors(xml, Profile::kText, {"<shape id=\"4\">: changing the stacking order is not supported"});

  expect_errors(edited(Profile::kText, "<shape id=\"4\" name=\"Logo\" kind=\"logo\"/>",
                       "<shape id=\"4\" name=\"Logo\" kind=\"logo\"><text text=\"inside\"/></shape>"),
                Profile::kText, {"<shape id=\"4\">: only pages and groups can contain blocks"});
  expect_errors(edited(Profile::kText, "<shape id=\"4\" name=\"Logo\" kind=\"logo\"/>",
                       "<shape id=\"4\" name=\"Logo\" kind=\"logo\">Our logo</shape>"),
                Profile::kText, {"<shape id=\"4\">: unexpected text 'Our logo'"});
  expect_errors(edited(Profile::kText, "  <page id=\"1\"", "  <circle r=\"5\"/>\n  <page id=\"1\""), Profile::kText,
                {"<circle>: unknown element 'circle'"});
}

TEST(ValidateAndDiff, BlocksMovedOffThePage) {
  expect_errors(edited(Profile::kLayout, "x=\"900\" y=\"900\" w=\"120\"", "x=\"2000\" y=\"900\" w=\"120\""),
                Profile::kLayout, {"<shape id=\"4\">: x=2000 puts it outside the page (0..1080)"});
  expect_errors(edited(Profile::kLayout, "x=\"900\" y=\"900\" w=\"120\"", "x=\"-120\" y=\"900\" w=\"120\""),
                Profile::kLayout, {"<shape id=\"4\">: x=-120 w=120 puts it outside the page (0..1080)"});
  expect_errors(edited(Profile::kLayout, "x=\"900\" y=\"900\" w=\"120\"", "x=\"900\" y=\"1080\" w=\"120\""),
                Profile::kLayout, {"<shape id=\"4\">: y=1080 puts it outside the page (0..1080)"});
  // Still touching the page: fine.
  const Validation edge = validate_and_diff(
      edited(Profile::kLayout, "x=\"900\" y=\"900\" w=\"120\"", "x=\"-119\" y=\"900\" w=\"120\""), scene(),
      Profile::kLayout);
  EXPECT_TRUE(edge.ok()) << lines(edge.errors);
  // A page made smaller leaves the logo outside it.
  expect_errors(edited(Profile::kLayout, "w=\"1080\" h=\"1080\">\n    <image", "w=\"800\" h=\"1080\">\n    <image"),
                Profile::kLayout,
                {"<shape id=\"4\">: x=900 puts it outside the page (0..800)",
                 "<shape id=\"8\">: x=900 puts it outside the page (0..800)"});
}

TEST(ValidateAndDiff, ABlockAlreadyOffThePageMayStayThere) {
  // 8 hangs over the top edge in the scene sent: unchanged, it is no error.
  ASSERT_NE(serialize(scene(), Profile::kLayout).find("<shape id=\"8\" name=\"Sun\" kind=\"decoration\" x=\"900\" y=\"-100\""),
            std::string::npos);
  const Validation v = validate_and_diff(serialize(scene(), Profile::kLayout), scene(), Profile::kLayout);
  EXPECT_TRUE(v.ok()) << lines(v.errors);
  EXPECT_TRUE(v.changes.empty());
  // Entirely off the page in the scene sent: still no error when unchanged.
  design::Scene off = scene();
  off.blocks[8].x = 1200;
  const Validation w = validate_and_diff(serialize(off, Profile::kLayout), off, Profile::kLayout);
  EXPECT_TRUE(w.ok()) << lines(w.errors);
  EXPECT_TRUE(w.changes.empty());
}

TEST(ValidateAndDiff, ValuesOfTheWrongTypeOrRange) {
  expect_errors(edited(Profile::kLayout, "w=\"120\"", "w=\"-5\""), Profile::kLayout,
                {"<shape id=\"4\">: w must not be negative, got -5"});
  expect_errors(edited(Profile::kLayout, "x=\"900\" y=\"900\"", "x=\"abc\" y=\"900\""), Profile::kLayout,
                {"<shape id=\"4\">: x: expected a number, got 'abc'"});
  expect_errors(edited(Profile::kStyle, "color=\"#1B3A4B\"", "italic=\"yes\" color=\"#1B3A4B\""), Profile::kStyle,
                {"<text id=\"3\">: italic: expected true or false, got 'yes'"});
  expect_errors(edited(Profile::kStyle, "opacity=\"0.5\"", "opacity=\"2\""), Profile::kStyle,
                {"<shape id=\"4\">: opacity must be within 0..1, got 2"});
  expect_errors(edited(Profile::kLayout, "<page id=\"1\" name=\"Post\" w=\"1080\"", "<page id=\"1\" name=\"Post\" w=\"0\""),
                Profile::kLayout, {"<page id=\"1\">: w must be positive, got 0"});
}

TEST(ValidateAndDiff, ErrorsDoNotStopTheOtherChecks) {
  // Every problem is reported (one line each) so that one repair round can fix them all.
  std::string xml = edited(Profile::kStyle, "color=\"#1B3A4B\"", "colour=\"#1B3A4B\"");
  xml.replace(xml.find("opacity=\"0.5\""), 13, "opacity=\"high\"");
  expect_errors(xml, Profile::kStyle,
                {"<text id=\"3\">: unknown attribute 'colour'",
                 "<shape id=\"4\">: opacity: expected a number, got 'high'"});
}

}  // namespace
}  // namespace atelier::genai
