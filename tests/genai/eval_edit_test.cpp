// The edit evaluation's checks on hand-made before/after scenes, and the harness's order
// of work (progress) without a model.
#include "genai/eval_edit.h"

#include <gtest/gtest.h>

#include "design/scene_json.h"
#include "support/test_support.h"

namespace atelier::genai {
namespace {

using json = nlohmann::json;

// A 1000×500 page (1) with a logo (2), a headline (3, auto-fit shrink), a name (4).
design::Scene scene(const std::string& headline = "Our new shop", double headline_w = 600) {
  json j = {{"format", "atelier-scene"},
            {"version", 1},
            {"pages",
             {{{"id", 1},
               {"type", "page"},
               {"width", 1000},
               {"height", 500},
               {"children",
                {{{"id", 2}, {"type", "shape"}, {"kind", "logo"}, {"x", 20}, {"y", 20}, {"width", 100}, {"height", 50}},
                 {{"id", 3},
                  {"type", "text"},
                  {"kind", "headline"},
                  {"x", 20},
                  {"y", 100},
                  {"width", headline_w},
                  {"height", 80},
                  {"text", headline},
                  {"font_size", 60},
                  {"auto_fit", "shrink"}},
                 {{"id", 4}, {"type", "text"}, {"x", 20}, {"y", 300}, {"width", 400}, {"height", 60}, {"text", "Ada Whitfield"},
                  {"font_size", 30}}}}}}}};
  auto loaded = design::parse_scene(j.dump(), "test.json");
  EXPECT_TRUE(loaded.ok()) << loaded.status().message();
  return loaded->scene;
}

CheckOutcome check(const json& c, const design::Scene& before, const design::Scene& after) {
  return run_check(c, before, after, std::nullopt);
}

TEST(EvalChecks, AreaGrewComparesTheKindsArea) {
  design::Scene before = scene(), after = scene();
  after.find(2)->width = 120;  // 100×50 -> 120×50: ×1.2
  CheckOutcome o = check({{"check", "area_grew"}, {"kind", "logo"}, {"min_ratio", 1.2}}, before, after);
  EXPECT_TRUE(o.passed);
  EXPECT_EQ(o.detail, "logo area x1.20 (>= 1.20)");
  after.find(2)->width = 119;
  EXPECT_FALSE(check({{"check", "area_grew"}, {"kind", "logo"}, {"min_ratio", 1.2}}, before, after).passed);
}

TEST(EvalChecks, LanguageNeedsGermanOrAChangedTextWithoutEnglish) {
  const design::Scene before = scene();
  design::Scene after = scene("Unser neuer Laden");
  const json c = {{"check", "language"}, {"lang", "de"}};
  // The unchanged name has no evidence either way: it fails unless excepted by id.
  CheckOutcome o = check(c, before, after);
  EXPECT_FALSE(o.passed);
  EXPECT_EQ(o.detail, "block 4 'Ada Whitfield' is not German");
  json except = c;
  except["except_ids"] = {4};
  o = check(except, before, after);
  EXPECT_TRUE(o.passed) << o.detail;
  EXPECT_EQ(o.detail, "1 texts in German");
  // A changed text without stop words counts (a translated title); English does not.
  after.find(3)->text.content = "Leiterin Produktdesign";
  EXPECT_TRUE(check(except, before, after).passed);
  after.find(3)->text.content = "Shop now for the best deals";
  EXPECT_EQ(check(except, before, after).detail, "block 3 'Shop now for the best deals' is not German");
}

TEST(EvalChecks, NoTextOverflowMeasuresAsDrawn) {
  const json c = {{"check", "no_text_overflow"}};
  // Auto-fit shrink: fits when 60% of the size fits; a longer text at the same box does not.
  design::Scene fits = scene("Ein neuer Laden", 420);
  EXPECT_TRUE(check(c, fits, fits).passed);
  design::Scene overflows = scene("Ein ganz neuer Laden in der Stadtmitte mit allem", 420);
  CheckOutcome o = check(c, overflows, overflows);
  EXPECT_FALSE(o.passed);
  EXPECT_EQ(o.detail, "block 3 'Ein ganz neuer Laden in der Stadtmitte m' overflows its box");
}

TEST(EvalChecks, UntouchedAndUnknownChecks) {
  const design::Scene before = scene();
  design::Scene after = scene();
  after.find(3)->text.font_size = 50;
  EXPECT_EQ(check({{"check", "untouched"}}, before, after).detail, "block 3 () changed");
  EXPECT_TRUE(check({{"check", "untouched"}, {"except_properties", {"font_size"}}}, before, after).passed);
  CheckOutcome o = check({{"check", "sparkle"}}, before, after);
  EXPECT_FALSE(o.passed);
  EXPECT_EQ(o.detail, "unknown check 'sparkle'");
}

TEST(EvalHarness, ReportsProgressPerCaseInOrder) {
  TempDir dir = testing::temp_dir();
  const auto design = dir.path() / "d.json";
  ASSERT_TRUE(design::save_scene(design, scene()).ok());
  std::vector<EditCase> cases(2);
  cases[0].id = "first";
  cases[1].id = "second";
  for (auto& c : cases) {
    c.design = design;
    c.request = "Make it square";
    c.to = "500x500";
    c.checks = json::array({{{"check", "page_size"}, {"w", 500}, {"h", 500}}});
  }
  std::vector<std::pair<std::size_t, std::string>> calls;
  EditEvalReport r = evaluate_edits(cases, nullptr, [&](std::size_t i, const std::string& id) { calls.emplace_back(i, id); });
  EXPECT_EQ(calls, (std::vector<std::pair<std::size_t, std::string>>{{0, "first"}, {1, "second"}}));
  ASSERT_EQ(r.cases.size(), 2u);
  EXPECT_TRUE(r.cases[0].baseline && r.cases[0].success);  // no model: the relayout
  EXPECT_DOUBLE_EQ(r.success_rate, 1.0);
  EXPECT_DOUBLE_EQ(r.validity_rate, 0.0);
}

}  // namespace
}  // namespace atelier::genai
