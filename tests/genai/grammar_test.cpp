// The GBNF grammar generated from a design (design_grammar) and the GBNF matcher
// (gbnf_matches): the matcher on small hand-written grammars, its errors, and the design
// grammar against serialized designs and edited or broken answers.
#include "genai/grammar.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "design/scene_json.h"
#include "genai/answer.h"

namespace atelier::genai {
namespace {

// Whether `text` matches `grammar`; a grammar error fails the test.
bool matches(std::string_view grammar, std::string_view text) {
  auto r = gbnf_matches(grammar, text);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() && *r;
}

// The error of a grammar that does not parse (or match).
std::string error_of(std::string_view grammar, std::string_view text = "") {
  auto r = gbnf_matches(grammar, text);
  EXPECT_FALSE(r.ok()) << grammar;
  return r.ok() ? std::string() : r.status().message();
}

// ---------------------------------------------------------------------------------------
// The matcher

TEST(GbnfMatcher, Alternation) {
  const char* g = "root ::= \"cat\" | \"dog\" | \"cow\" \"boy\"";
  EXPECT_TRUE(matches(g, "cat"));
  EXPECT_TRUE(matches(g, "dog"));
  EXPECT_TRUE(matches(g, "cowboy"));
  EXPECT_FALSE(matches(g, "cow"));
  EXPECT_FALSE(matches(g, "catdog"));
  EXPECT_FALSE(matches(g, "ca"));
  EXPECT_FALSE(matches(g, ""));
}

TEST(GbnfMatcher, Repetition) {
  const char* g = "root ::= \"a\"* \"b\"+ \"c\"?";
  for (const char* yes : {"b", "bbb", "aab", "abc", "aaabbbc", "bc"}) EXPECT_TRUE(matches(g, yes)) << yes;
  for (const char* no : {"", "a", "c", "ac", "abcc", "ba", "abca"}) EXPECT_FALSE(matches(g, no)) << no;
  // Groups repeat as a whole; an item that can be empty does not loop forever.
  const char* groups = "root ::= ( \"ab\" | \"c\" )+ ( \"x\"? )*";
  EXPECT_TRUE(matches(groups, "abcab"));
  EXPECT_TRUE(matches(groups, "cxx"));
  EXPECT_FALSE(matches(groups, "aab"));
  EXPECT_FALSE(matches(groups, "x"));
}

TEST(GbnfMatcher, CharacterClasses) {
  const char* g = "root ::= [a-cX] [^0-9x] [\\-\\]] .";
  EXPECT_TRUE(matches(g, "a!-z"));
  EXPECT_TRUE(matches(g, "X ]é"));  // '.' is one code point, not one byte
  EXPECT_TRUE(matches(g, "cc-\n"));
  EXPECT_FALSE(matches(g, "d!-z"));   // not in a-c or X
  EXPECT_FALSE(matches(g, "a5-z"));   // a digit in the negated class
  EXPECT_FALSE(matches(g, "ax-z"));   // x in the negated class
  EXPECT_FALSE(matches(g, "a!az"));   // neither '-' nor ']'
  EXPECT_FALSE(matches(g, "a!-"));    // '.' needs a character
  // Ranges of code points beyond ASCII.
  const char* umlauts = "root ::= [ä-ü]+";
  EXPECT_TRUE(matches(umlauts, "äöü"));
  EXPECT_FALSE(matches(umlauts, "aou"));
}

TEST(GbnfMatcher, StringLiteralsWithEscapes) {
  const char* g = "root ::= \"say \\\"hi\\\"\\n\\t\\\\\" \"\\x41\\u00e9\\U0001F600\" \"ß\"";
  EXPECT_TRUE(matches(g, "say \"hi\"\n\t\\Aé😀ß"));
  EXPECT_FALSE(matches(g, "say \"hi\"\\n\\t\\\\Aé😀ß"));
  EXPECT_FALSE(matches(g, "say \"hi\"\n\t\\Ae😀ß"));
}

TEST(GbnfMatcher, RulesCommentsAndLines) {
  const char* g =
      "# a greeting\n"
      "root ::= greeting ws name   # rule references\n"
      "greeting ::= \"hello\" | \"hi\"\n"
      "\n"
      "name ::= [A-Z] [a-z]*\n"
      "ws ::= [ \\t]+\n";
  EXPECT_TRUE(matches(g, "hello World"));
  EXPECT_TRUE(matches(g, "hi \tAda"));
  EXPECT_FALSE(matches(g, "hiAda"));
  EXPECT_FALSE(matches(g, "hello world"));
}

TEST(GbnfMatcher, Recursion) {
  const char* g =
      "root ::= expr\n"
      "expr ::= term ( [+*] term )*\n"
      "term ::= [0-9]+ | \"(\" expr \")\"\n";
  for (const char* yes : {"1", "1+2*3", "(1+2)*3", "((7))", "(1+(2*(3+4)))"}) EXPECT_TRUE(matches(g, yes)) << yes;
  for (const char* no : {"", "1+", "(1+2", "1+2)", "()", "((7)"}) EXPECT_FALSE(matches(g, no)) << no;
  // Balanced brackets nested deeply (right recursion).
  const char* balanced = "root ::= pair*\npair ::= \"[\" root \"]\"";
  EXPECT_TRUE(matches(balanced, std::string(300, '[') + std::string(300, ']')));
  EXPECT_TRUE(matches(balanced, "[][[]][]"));
  EXPECT_FALSE(matches(balanced, "[[]"));
}

TEST(GbnfMatcher, AmbiguousGrammarsKeepEveryAlternative) {
  // The first alternative that matches a prefix must not hide a longer one.
  const char* g = "root ::= ( \"a\" | \"ab\" ) \"b\"? \"c\"";
  EXPECT_TRUE(matches(g, "abc"));
  EXPECT_TRUE(matches(g, "abbc"));
  EXPECT_TRUE(matches(g, "ac"));
  EXPECT_FALSE(matches(g, "abbbc"));
  const char* greedy = "root ::= [a-z]* \"z\"";
  EXPECT_TRUE(matches(greedy, "abcz"));
  EXPECT_TRUE(matches(greedy, "zzz"));
  EXPECT_FALSE(matches(greedy, "zza"));
}

TEST(GbnfMatcher, MalformedGrammars) {
  EXPECT_EQ(error_of("root ::= \"a\"\nitem ::= ( \"b\"\n"), "grammar: line 2: expected ')' to close the '(' here");
  EXPECT_EQ(error_of("root ::= \"a\" tail"), "grammar: line 1: undefined rule 'tail'");
  EXPECT_EQ(error_of("root ::= \"a\"\n\n\nx ::= \"abc\n"), "grammar: line 4: unterminated string literal");
  EXPECT_EQ(error_of("root ::= [b-a]"), "grammar: line 1: bad range in character class (end before start)");
  EXPECT_EQ(error_of("root ::= [abc\n"), "grammar: line 1: unterminated character class");
  EXPECT_EQ(error_of("root ::= \"a\"\nroot ::= \"b\""), "grammar: line 2: rule 'root' defined twice");
  EXPECT_EQ(error_of("root ::= \"a\" \"b\"{2}"), "grammar: line 1: repetition counts {m,n} are not supported");
  EXPECT_EQ(error_of("root ::= \"\\q\""), "grammar: line 1: unknown escape '\\q'");
  EXPECT_EQ(error_of("root ::= \"\\x4\""), "grammar: line 1: bad escape '\\x' (expected 2 hex digits)");
  EXPECT_EQ(error_of("root \"a\""), "grammar: line 1: expected '::=' after rule name 'root'");
  EXPECT_EQ(error_of("# comment\n::= \"a\""), "grammar: line 2: expected a rule name, got ':'");
  EXPECT_EQ(error_of("root ::= \"a\" ; \"b\""), "grammar: line 1: unexpected character ';'");
  EXPECT_EQ(error_of("item ::= \"a\""), "grammar: no rule 'root'");
  // Left recursion is found while matching.
  EXPECT_EQ(error_of("root ::= root \"a\" | \"a\"", "aa"),
            "grammar: rule 'root' is left-recursive (it reaches itself without consuming text)");
  EXPECT_EQ(gbnf_matches("root ::= item\nitem ::= \"b\" | item", "a").status().code(), StatusCode::kInvalidArgument);
}

TEST(GbnfMatcher, Limits) {
  // Nesting: each bracket pair is two rule levels.
  const char* balanced = "root ::= pair*\npair ::= \"[\" root \"]\"";
  auto deep = gbnf_matches(balanced, std::string(1500, '[') + std::string(1500, ']'));
  EXPECT_EQ(deep.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(deep.status().message(), "grammar: rules nested deeper than 2000 levels while matching");
  EXPECT_TRUE(matches(balanced, std::string(900, '[') + std::string(900, ']')));
  // A repetition of a repetition tries every split of the text (here 1000²/2 steps, well
  // below the limit of 20 million, which takes seconds to reach and is not tested).
  EXPECT_FALSE(matches("root ::= ( [a]* )* \"b\"", std::string(1000, 'a')));
  EXPECT_TRUE(matches("root ::= ( [a]* )* \"b\"", std::string(1000, 'a') + "b"));
}

TEST(GbnfMatcher, CallerLimits) {
  // The same repetition of a repetition with the step limit lowered: it gives up.
  GbnfLimits few;
  few.max_steps = 10'000;
  auto r = gbnf_matches("root ::= ( [a]* )* \"b\"", std::string(1000, 'a'), few);
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(r.status().message(), "grammar: matching gave up after 10000 steps");
  // A nesting limit of 10 levels: the outer root, then two levels per bracket pair (pair
  // and the root inside it), so 4 pairs nest 9 levels and pass, 5 nest 11 and do not.
  GbnfLimits shallow;
  shallow.max_depth = 10;
  const char* balanced = "root ::= pair*\npair ::= \"[\" root \"]\"";
  auto four = gbnf_matches(balanced, "[[[[]]]]", shallow);
  ASSERT_TRUE(four.ok()) << four.status().message();
  EXPECT_TRUE(*four);
  auto five = gbnf_matches(balanced, "[[[[[]]]]]", shallow);
  EXPECT_EQ(five.status().message(), "grammar: rules nested deeper than 10 levels while matching");
}

TEST(GbnfGrammar, ParsedOnceMatchesManyTexts) {
  auto g = GbnfGrammar::parse("root ::= word (\" \" word)*\nword ::= [a-z]+");
  ASSERT_TRUE(g.ok()) << g.status().message();
  for (const char* yes : {"a", "spring sale", "buy now today"}) {
    auto r = gbnf_matches(*g, yes);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(*r) << yes;
  }
  for (const char* no : {"", " a", "a  b", "Spring"}) {
    auto r = gbnf_matches(*g, no);
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(*r) << no;
  }
  // Parse errors are the same as gbnf_matches' on the grammar text.
  EXPECT_EQ(GbnfGrammar::parse("root ::= item").status().message(), "grammar: line 1: undefined rule 'item'");
  EXPECT_EQ(GbnfGrammar::parse("item ::= \"a\"").status().message(), "grammar: no rule 'root'");
}

// ---------------------------------------------------------------------------------------
// The design grammar

// A 1080×1080 page (1) with: 2 photo (image), 3 headline (text), 4 logo (shape), 5 a group
// holding 6 (button shape) and 7 (its label).
constexpr const char* kScene = R"({
  "format": "atelier-scene", "version": 1, "name": "Spring \"sale\"",
  "pages": [{"id": 1, "type": "page", "name": "Post", "width": 1080, "height": 1080, "fill": "#FFFFFF", "children": [
    {"id": 2, "type": "image", "name": "Photo", "kind": "photo", "x": 0, "y": 0, "width": 1080, "height": 600,
     "source": "tulips.jpg", "alt": "a field of tulips", "focus_x": 0.25},
    {"id": 3, "type": "text", "name": "Headline", "kind": "headline", "x": 60.4, "y": 640, "width": 600,
     "height": 100, "text": "Spring <sale> & \"more\"\nnow", "font_size": 64.5, "text_color": "#1B3A4B",
     "font_style": "italic", "letter_spacing": -1.5, "rotation": -4},
    {"id": 4, "type": "shape", "name": "Logo", "kind": "logo", "x": 900, "y": 900, "width": 120, "height": 120,
     "fill": "#E07A5F80", "opacity": 0.5, "shape": "star", "points": 7},
    {"id": 5, "type": "group", "name": "Button", "x": 60, "y": 900, "width": 400, "height": 100, "children": [
      {"id": 6, "type": "shape", "kind": "cta", "x": 60, "y": 900, "width": 400, "height": 100, "visible": false},
      {"id": 7, "type": "text", "kind": "cta", "x": 80, "y": 920, "width": 360, "height": 60, "text": "Buy now"}
    ]}
  ]}]
})";

design::Scene scene() {
  auto loaded = design::parse_scene(kScene, "test.json");
  EXPECT_TRUE(loaded.ok()) << loaded.status().message();
  return loaded->scene;
}

constexpr Profile kProfiles[] = {Profile::kLayout, Profile::kText, Profile::kStyle, Profile::kFull};

// The serialized scene with `from` (which must occur) replaced by `to`.
std::string edited(Profile profile, const std::string& from, const std::string& to) {
  std::string xml = serialize(scene(), profile);
  const std::size_t at = xml.find(from);
  EXPECT_NE(at, std::string::npos) << "'" << from << "' not in\n" << xml;
  return at == std::string::npos ? xml : xml.replace(at, from.size(), to);
}

TEST(DesignGrammar, MatchesTheSerializedDesignInEveryProfile) {
  for (Profile p : kProfiles) {
    const std::string g = design_grammar(scene(), p);
    EXPECT_TRUE(matches(g, serialize(scene(), p))) << to_string(p) << "\n" << g << "\n" << serialize(scene(), p);
  }
}

TEST(DesignGrammar, MatchesEveryExampleDesignInEveryProfile) {
  const std::filesystem::path dir = std::filesystem::path(ATELIER_SOURCE_DIR) / "examples" / "designs";
  int designs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    ++designs;
    auto loaded = design::load_scene(entry.path());
    ASSERT_TRUE(loaded.ok()) << loaded.status().message();
    for (Profile p : kProfiles) {
      const std::string g = design_grammar(loaded->scene, p);
      const std::string xml = serialize(loaded->scene, p);
      EXPECT_TRUE(matches(g, xml)) << entry.path().filename() << " " << to_string(p) << "\n" << g << "\n" << xml;
      // Wrapped in prose it is not an answer the grammar allows.
      EXPECT_FALSE(matches(g, "Here you go:\n" + xml)) << entry.path().filename() << " " << to_string(p);
    }
  }
  EXPECT_EQ(designs, 6);
}

TEST(DesignGrammar, MatchesAwkwardValues) {
  // Escaped and control characters, emoji, negative and rounded numbers, colours with
  // alpha, a zero-size line, an empty group, a second page.
  auto loaded = design::parse_scene(R"({"format": "atelier-scene", "version": 1, "name": "Two\nlines # not a comment",
    "pages": [{"id": 1, "type": "page", "name": " \"Quoted\" & <tagged> ", "width": 1080.4, "height": 1079.6,
      "children": [
      {"id": 2, "type": "text", "x": -20.5, "y": 0.49, "width": 100, "height": 100, "rotation": -0.6,
       "opacity": 0.999, "text": "  a\tb\r\nc\u0001 'é' — 😀  ", "font_size": 64.45, "line_height": 1.125,
       "letter_spacing": -0.05, "stroke_color": "#FF000080", "stroke_width": 2.55, "font_style": "italic",
       "font_family": "DejaVu Serif", "auto_fit": "grow-height"},
      {"id": 3, "type": "image", "x": 0, "y": 0, "width": 10, "height": 10, "focus_x": 0.125, "fit": "fill",
       "visible": false},
      {"id": 4, "type": "shape", "x": 1, "y": 1, "width": 0, "height": 0, "shape": "line",
       "stroke_color": "#123456", "stroke_width": 1, "points": 64, "inner_radius": 0.999},
      {"id": 5, "type": "group", "x": 0, "y": 0, "width": 0, "height": 0}]},
      {"id": 6, "type": "page", "width": 100, "height": 100}]})",
                                    "awkward.json");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  for (Profile p : kProfiles) {
    const std::string g = design_grammar(loaded->scene, p);
    const std::string xml = serialize(loaded->scene, p);
    EXPECT_TRUE(matches(g, xml)) << to_string(p) << "\n" << g << "\n" << xml;
  }
}

TEST(DesignGrammar, AnEmptyScene) {
  const std::string g = design_grammar(design::Scene{}, Profile::kFull);
  EXPECT_TRUE(matches(g, serialize(design::Scene{}, Profile::kFull)));
  EXPECT_FALSE(matches(g, "<design>\n  <page id=\"1\" w=\"10\" h=\"10\"/>\n</design>\n"));
}

TEST(DesignGrammar, MatchesEditedAnswers) {
  const std::string g = design_grammar(scene(), Profile::kFull);
  std::string xml = edited(Profile::kFull, "x=\"900\" y=\"900\" w=\"120\" h=\"120\"",
                           "x=\"-12.5\" y=\"880\" w=\"150\" h=\"150\" rot=\"15\"");
  xml = xml.replace(xml.find("color=\"#1B3A4B\""), 15, "color=\"#ff0000cc\"");
  xml = xml.replace(xml.find("text=\"Buy now\""), 14, "text=\"Jetzt kaufen &#8211; 20 % &amp; mehr ▶\"");
  xml = xml.replace(xml.find("shape=\"star\""), 12, "shape=\"ellipse\"");
  xml = xml.replace(xml.find("italic=\"true\""), 13, "italic=\"false\"");
  EXPECT_TRUE(matches(g, xml)) << xml;
  // Blocks and attributes may be left out; spacing may differ.
  EXPECT_TRUE(matches(g, "<design>\n<page id=\"1\">\n<text id=\"3\" text=\"Hi\"/><group id=\"5\"/></page></design>"));
  EXPECT_TRUE(matches(g, "  <design w=\"1080\" h=\"1080\" ><page id=\"1\" w=\"1280\" h=\"720\"\n/></design>\n\n"));
}

TEST(DesignGrammar, AcceptsAdditionsTheValidatorAccepts) {
  const Profile p = Profile::kFull;
  const std::string g = design_grammar(scene(), p);
  const std::string answer = edited(p, "  </page>",
                                    "    <text name=\"Subtitle\" kind=\"body\" x=\"60\" y=\"760\" w=\"600\" h=\"60\" "
                                    "text=\"Only this week\" size=\"32\"/>\n  </page>");
  EXPECT_TRUE(matches(g, answer)) << answer;
  Validation v = validate_and_diff(answer, scene(), p);
  ASSERT_TRUE(v.ok()) << v.errors.front();
  ASSERT_EQ(v.changes.added.size(), 1u);
  EXPECT_EQ(v.changes.added[0].type, design::BlockType::kText);
  EXPECT_EQ(v.changes.added[0].parent, 1);
  EXPECT_TRUE(v.changes.modified.empty());
}

TEST(DesignGrammar, RejectsWhatTheDesignDoesNotAllow) {
  const Profile p = Profile::kFull;
  const std::string g = design_grammar(scene(), p);
  // An unknown attribute, one of another profile, or another block type's.
  EXPECT_FALSE(matches(g, edited(p, "color=\"#1B3A4B\"", "colour=\"#1B3A4B\"")));
  EXPECT_FALSE(matches(design_grammar(scene(), Profile::kText),
                       edited(Profile::kText, "text=\"Buy now\"", "text=\"Buy now\" size=\"40\"")));
  EXPECT_FALSE(matches(g, edited(p, "alt=\"a field of tulips\"", "alt=\"a field of tulips\" text=\"Tulips\"")));
  // An unknown id, an id under the wrong element name, an id in the wrong place.
  EXPECT_FALSE(matches(g, edited(p, "<shape id=\"4\"", "<shape id=\"99\"")));
  EXPECT_FALSE(matches(g, edited(p, "<text id=\"3\"", "<shape id=\"3\"")));
  EXPECT_FALSE(matches(g, edited(p, "<text id=\"7\"", "<text id=\"3\"")));
  // New elements go last in their page or group, without an id, of a leaf type, with the
  // profile's attributes.
  EXPECT_FALSE(matches(g, edited(p, "    <image id=\"2\"", "    <text text=\"New\"/>\n    <image id=\"2\"")));
  EXPECT_FALSE(matches(g, edited(p, "  </page>", "    <text id=\"99\" text=\"New\"/>\n  </page>")));
  EXPECT_FALSE(matches(g, edited(p, "  </page>", "    <group name=\"New\"/>\n  </page>")));
  EXPECT_FALSE(matches(g, edited(p, "  </page>", "    <text colour=\"#FF0000\"/>\n  </page>")));
  // A missing closing tag; a block that is not self-closing.
  EXPECT_FALSE(matches(g, edited(p, "    </group>\n", "")));
  EXPECT_FALSE(matches(g, edited(p, "</design>\n", "")));
  EXPECT_FALSE(matches(g, edited(p, "text=\"Buy now\"/>", "text=\"Buy now\"></text>")));
  // Values of the wrong shape.
  EXPECT_FALSE(matches(g, edited(p, "x=\"900\"", "x=\"abc\"")));
  EXPECT_FALSE(matches(g, edited(p, "w=\"120\"", "w=\"-120\"")));
  EXPECT_FALSE(matches(g, edited(p, "points=\"7\"", "points=\"7.5\"")));
  EXPECT_FALSE(matches(g, edited(p, "italic=\"true\"", "italic=\"yes\"")));
  EXPECT_FALSE(matches(g, edited(p, "shape=\"star\"", "shape=\"oval\"")));
  EXPECT_FALSE(matches(g, edited(p, "fill=\"#E07A5F80\"", "fill=\"#E07A5\"")));
  EXPECT_FALSE(matches(g, edited(p, "x=\"900\"", "x=900")));
  EXPECT_FALSE(matches(g, edited(p, "text=\"Buy now\"", "text=\"Buy <b>now</b>\"")));
  // Attributes out of the table's order.
  EXPECT_FALSE(matches(g, edited(p, "name=\"Logo\" kind=\"logo\"", "kind=\"logo\" name=\"Logo\"")));
}

}  // namespace
}  // namespace atelier::genai
