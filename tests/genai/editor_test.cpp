// The whole edit round trip (genai/editor.h) against a scripted local LLM server
// (FakeLlmServer): prompt, provider wire formats, answer extraction and validation, the
// repair round, the ChangeSet, applying it, dry runs, format changes with the relayout
// baseline, brand kits and parse_format.
#include "genai/editor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>

#include <nlohmann/json.hpp>

#include "design/scene_json.h"
#include "genai/grammar.h"
#include "support/fake_llm_server.h"
#include "support/scene_checks.h"
#include "support/test_support.h"

namespace atelier::genai {
namespace {

namespace fs = std::filesystem;
using design::BlockId;
using design::PropertyValue;
using design::Scene;
using json = nlohmann::json;
using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::FakeLlmServer;
using testing::FakeResponse;
using testing::ScopedEnv;

constexpr const char* kLogoRequest = "Make the logo bigger";

fs::path example_design(const std::string& name) {
  return fs::path(ATELIER_SOURCE_DIR) / "examples" / "designs" / (name + ".json");
}

Scene load_example(const std::string& name) {
  auto loaded = design::load_scene(example_design(name));
  if (!loaded.ok()) {
    ADD_FAILURE() << loaded.status().message();
    std::abort();
  }
  return std::move(loaded->scene);
}

// `text` with each `from` (which must occur exactly once) replaced by its `to`.
std::string replaced(std::string text, const std::vector<std::pair<std::string, std::string>>& edits) {
  for (const auto& [from, to] : edits) {
    const auto at = text.find(from);
    if (at == std::string::npos || text.find(from, at + 1) != std::string::npos) {
      ADD_FAILURE() << "not exactly once in the answer: " << from;
      continue;
    }
    text.replace(at, from.size(), to);
  }
  return text;
}

// A model's answer: the scene after `change`, serialized the way the model saw it.
std::string answer_with(const Scene& scene, Profile profile, const std::function<void(Scene&)>& change) {
  Scene s = scene;
  change(s);
  return serialize(s, profile);
}

// "Make the logo bigger" done right: the logo group and its three parts 1.5x, top left kept.
std::string logo_answer(const Scene& scene) {
  return replaced(serialize(scene, Profile::kLayout),
                  {{R"(<group id="4" name="Logo" kind="logo" x="60" y="80" w="604" h="120">)",
                    R"(<group id="4" name="Logo" kind="logo" x="60" y="80" w="906" h="180">)"},
                   {R"(<shape id="5" name="Logo mark" kind="logo" x="60" y="80" w="120" h="120"/>)",
                    R"(<shape id="5" name="Logo mark" kind="logo" x="60" y="80" w="180" h="180"/>)"},
                   {R"(<shape id="6" name="Logo star" kind="logo" x="85" y="105" w="70" h="70"/>)",
                    R"(<shape id="6" name="Logo star" kind="logo" x="98" y="118" w="105" h="105"/>)"},
                   {R"(<text id="7" name="Logo name" kind="logo" x="204" y="112" w="460" h="60" size="36"/>)",
                    R"(<text id="7" name="Logo name" kind="logo" x="276" y="128" w="690" h="90" size="54"/>)"}});
}

// Takes a leaf block out of a scene (what a model's answer without it describes).
void remove_block(Scene& s, BlockId id) {
  auto& siblings = s.find(s.find(id)->parent)->children;
  siblings.erase(std::find(siblings.begin(), siblings.end(), id));
  s.blocks.erase(id);
}

PropertyChange mod(BlockId id, const char* property, double from, double to) {
  return {id, property, PropertyValue(from), PropertyValue(to)};
}

ChangeSet logo_changes() {
  ChangeSet c;
  c.modified = {mod(4, "height", 120, 180), mod(4, "width", 604, 906),  mod(5, "height", 120, 180),
                mod(5, "width", 120, 180),  mod(6, "height", 70, 105),  mod(6, "width", 70, 105),
                mod(6, "x", 85, 98),        mod(6, "y", 105, 118),      mod(7, "font_size", 36, 54),
                mod(7, "height", 60, 90),   mod(7, "width", 460, 690),  mod(7, "x", 204, 276),
                mod(7, "y", 112, 128)};
  return c;
}

const std::vector<std::string> kLogoLines = {
    "modified 4 height: 120 -> 180", "modified 4 width: 604 -> 906", "modified 5 height: 120 -> 180",
    "modified 5 width: 120 -> 180",  "modified 6 height: 70 -> 105", "modified 6 width: 70 -> 105",
    "modified 6 x: 85 -> 98",        "modified 6 y: 105 -> 118",     "modified 7 font_size: 36 -> 54",
    "modified 7 height: 60 -> 90",   "modified 7 width: 460 -> 690", "modified 7 x: 204 -> 276",
    "modified 7 y: 112 -> 128"};

// Streamed answers without the default pause between pieces (the test stays fast; the
// pieces still arrive one by one).
FakeResponse fast(FakeResponse r) {
  r.chunk_delay = milliseconds(0);
  return r;
}
FakeResponse sse(const std::string& text, const std::string& finish_reason = "stop", testing::FakeUsage usage = {}) {
  return fast(testing::openai_sse(text, finish_reason, usage));
}

// The fixed repair text (prompts/repair-v1.user.txt) for these problems.
std::string repair_text(const std::vector<std::string>& problems) {
  std::string list;
  for (const auto& p : problems) list += "- " + p + "\n";
  return "Your answer could not be applied. These problems were found:\n" + list +
         "Answer again with the complete corrected <design> document, following the rules.\n";
}

// The repair round's prompt: the first prompt (ending "Answer:\n"), the model's answer, a
// blank line, the problems.
std::string repair_prompt(const std::string& first, const std::string& answer, const std::vector<std::string>& problems) {
  return first + answer + (answer.ends_with('\n') ? "" : "\n") + "\n" + repair_text(problems);
}

// Axis-aligned bounds after rotation about the centre.
// The first page has the given size, and every block respects it (support/scene_checks.h).
void expect_all_inside(const Scene& before, const Scene& s, double w, double h) {
  ASSERT_FALSE(s.pages.empty());
  const design::Block* page = s.find(s.pages.front());
  EXPECT_EQ(page->width, w);
  EXPECT_EQ(page->height, h);
  EXPECT_FALSE(s.descendants(page->id).empty());
  EXPECT_THAT(testing::page_bound_problems(before, s), ::testing::IsEmpty());
}

class EditorTest : public ::testing::Test {
 protected:
  std::unique_ptr<LlmProvider> provider(const std::string& kind, milliseconds timeout = milliseconds(5000)) const {
    LlmConfig c;
    c.provider = kind;
    c.model = "test-model";
    c.base_url = server_.base_url() + (kind == "openai" ? "/v1" : "");
    c.timeout = timeout;
    c.max_retries = 2;
    c.backoff = milliseconds(10);
    auto p = make_provider(c);
    if (!p.ok()) {
      ADD_FAILURE() << p.status().message();
      std::abort();
    }
    return std::move(p).value();
  }

  json body(std::size_t i) const {
    auto reqs = server_.requests();
    if (i >= reqs.size()) {
      ADD_FAILURE() << "no request " << i;
      return json::object();
    }
    return json::parse(reqs[i].body);
  }
  // The user message of an openai / ollama request.
  std::string user_prompt(std::size_t i) const {
    json b = body(i);
    return b.contains("messages") ? b["messages"][1]["content"].get<std::string>() : std::string();
  }

  // Runs one edit with the openai provider on the story.
  Result<EditResult> edit(std::string_view request, const EditOptions& options = {}) {
    auto p = provider("openai");
    return edit_design(engine_, request, p.get(), options);
  }

  // Two bad answers: the repair round fails too; the exact error, two requests, the
  // problems sent back, and the design untouched.
  void expect_rejected(std::string_view request, const std::string& answer, const std::string& problem) {
    server_.enqueue(sse(answer));
    server_.enqueue(sse(answer));
    auto result = edit(request);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(result.status().message(), "the model's answer is still invalid after 1 repair round: " + problem);
    ASSERT_EQ(server_.request_count(), 2u);
    EXPECT_THAT(user_prompt(0), ::testing::EndsWith("\nAnswer:\n"));
    EXPECT_EQ(user_prompt(1), repair_prompt(user_prompt(0), answer, {problem}));
    EXPECT_EQ(engine_.scene(), story_);
    EXPECT_FALSE(engine_.can_undo());
  }

  ScopedEnv no_proxy_{"no_proxy", "127.0.0.1,localhost"};
  FakeLlmServer server_;
  const Scene story_ = load_example("instagram-story");
  design::Engine engine_{story_};
};

// ---------------------------------------------------------------------------------------
// Good answers

TEST_F(EditorTest, AGoodAnswerIsAppliedExactlyAsOneUndoStep) {
  server_.enqueue(sse(logo_answer(story_), "stop", {812, 240}));
  auto result = edit(kLogoRequest);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->profile, Profile::kLayout);
  EXPECT_EQ(result->changes, logo_changes());
  EXPECT_EQ(describe(result->changes, story_), kLogoLines);
  EXPECT_EQ(result->rounds, 1);
  EXPECT_FALSE(result->used_baseline);
  EXPECT_TRUE(result->validation_errors.empty());
  EXPECT_EQ(result->prompt_tokens, 812);
  EXPECT_EQ(result->completion_tokens, 240);
  EXPECT_GT(result->seconds, 0);
  EXPECT_EQ(result->report.applied, 13);
  EXPECT_TRUE(result->report.skipped_removals.empty());
  EXPECT_THAT(result->report.notes, ElementsAre());

  const Scene& s = engine_.scene();
  EXPECT_EQ(s.find(4)->width, 906);
  EXPECT_EQ(s.find(4)->height, 180);
  EXPECT_EQ(s.find(6)->x, 98);
  EXPECT_EQ(s.find(7)->text.font_size, 54);
  EXPECT_EQ(s.find(8)->y, story_.find(8)->y);  // untouched
  // One undo step restores the design.
  ASSERT_TRUE(engine_.undo().ok());
  EXPECT_EQ(engine_.scene(), story_);
  EXPECT_FALSE(engine_.can_undo());

  // What was sent: the prompt of build_prompt, fixed system part first.
  ASSERT_EQ(server_.request_count(), 1u);
  EXPECT_EQ(server_.requests()[0].path, "/v1/chat/completions");
  const LlmRequest expected = build_prompt(story_, kLogoRequest, Profile::kLayout, std::nullopt);
  json b = body(0);
  EXPECT_EQ(b["model"], "test-model");
  EXPECT_EQ(b["messages"][0]["role"], "system");
  EXPECT_EQ(b["messages"][0]["content"], expected.system);
  EXPECT_EQ(b["messages"][1]["content"], expected.user);
  EXPECT_THAT(expected.user, HasSubstr("Design:\n" + serialize(story_, Profile::kLayout) +
                                       "\nRequest: \"Make the logo bigger\"\nAnswer:"));
}

TEST_F(EditorTest, AnAnswerInCodeFencesWithProseAroundIsAccepted) {
  server_.enqueue(sse("Sure! Here is the updated design:\n\n```xml\n" + logo_answer(story_) +
                                      "```\n\nI scaled the logo and its parts by 1.5 and kept its corner.\n"));
  auto result = edit(kLogoRequest);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->changes, logo_changes());
  EXPECT_EQ(result->rounds, 1);
  EXPECT_EQ(engine_.scene().find(4)->width, 906);
}

TEST_F(EditorTest, AnInvalidAnswerRepairedInTheSecondRoundIsApplied) {
  const std::string bad = replaced(logo_answer(story_), {{R"(<shape id="12" )", R"(<shape id="99" )"}});
  server_.enqueue(sse(bad, "stop", {100, 10}));
  server_.enqueue(sse(logo_answer(story_), "stop", {150, 20}));
  auto result = edit(kLogoRequest);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->rounds, 2);
  EXPECT_EQ(result->changes, logo_changes());
  EXPECT_TRUE(result->validation_errors.empty());
  EXPECT_EQ(result->prompt_tokens, 250);
  EXPECT_EQ(result->completion_tokens, 30);
  EXPECT_EQ(engine_.scene().find(7)->text.font_size, 54);
  ASSERT_EQ(server_.request_count(), 2u);
  EXPECT_EQ(user_prompt(1), repair_prompt(user_prompt(0), bad, {"<shape id=\"99\">: unknown id 99"}));
  // The system part stays the same (the cached prefix).
  EXPECT_EQ(body(1)["messages"][0], body(0)["messages"][0]);
}

TEST_F(EditorTest, A429IsRetriedThenTheAnswerApplied) {
  server_.enqueue(FakeResponse::text(429, R"({"error":{"message":"slow down"}})"));
  server_.enqueue(sse(logo_answer(story_)));
  auto result = edit(kLogoRequest);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->changes, logo_changes());
  EXPECT_EQ(result->rounds, 1);  // one model call (retried inside the provider)
  ASSERT_EQ(server_.request_count(), 2u);
  EXPECT_EQ(server_.requests()[1].body, server_.requests()[0].body);
  EXPECT_EQ(engine_.scene().find(4)->width, 906);
}

// ---------------------------------------------------------------------------------------
// Bad answers: the exact error, one repair round, nothing applied

TEST_F(EditorTest, TwoDocumentsAreRejectedAfterTheRepairRound) {
  const std::string answer = logo_answer(story_) + "\nOr, alternatively:\n" + serialize(story_, Profile::kLayout);
  expect_rejected(kLogoRequest, answer, "the answer contains 2 <design> documents");
}

TEST_F(EditorTest, InvalidXmlIsRejected) {
  const std::string answer =
      replaced(logo_answer(story_), {{R"(<text id="8" name="Headline")", R"(<text id="8" name="Headline)"}});
  expect_rejected(kLogoRequest, answer, "invalid XML: Error parsing element attribute at offset 743");
}

TEST_F(EditorTest, AnAnswerWithoutADocumentIsRejected) {
  expect_rejected(kLogoRequest, "I'm sorry, I cannot help with that.", "the answer contains no <design> document");
}

TEST_F(EditorTest, ANewAttributeIsRejected) {
  const std::string answer = replaced(serialize(story_, Profile::kStyle),
                                      {{R"(kind="headline" size="112")", R"(kind="headline" colour="#E63946" size="112")"}});
  expect_rejected("Make the headline red", answer, "<text id=\"8\">: unknown attribute 'colour'");
  EXPECT_THAT(user_prompt(0), HasSubstr(serialize(story_, Profile::kStyle)));  // style profile sent
}

TEST_F(EditorTest, AnUnknownIdIsRejected) {
  const std::string answer = replaced(logo_answer(story_), {{R"(<shape id="12" )", R"(<shape id="99" )"}});
  expect_rejected(kLogoRequest, answer, "<shape id=\"99\">: unknown id 99");
}

TEST_F(EditorTest, ABlockMovedOffThePageIsRejected) {
  const std::string answer = answer_with(story_, Profile::kLayout, [](Scene& s) { s.find(3)->x = 2000; });
  expect_rejected("Move the photo", answer, "<image id=\"3\">: x=2000 puts it outside the page (0..1080)");
}

TEST_F(EditorTest, ATruncatedAnswerIsNeverApplied) {
  const std::string full = logo_answer(story_);
  server_.enqueue(sse(full.substr(0, full.size() / 2), "length"));
  auto result = edit(kLogoRequest);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(result.status().message(), "openai: the answer was cut off by the length limit (finish reason: length)");
  EXPECT_EQ(server_.request_count(), 1u);
  EXPECT_EQ(engine_.scene(), story_);
}

TEST_F(EditorTest, AHangingServerTimesOut) {
  server_.enqueue(FakeResponse::hang_forever());
  auto p = provider("openai", milliseconds(1000));
  const auto start = std::chrono::steady_clock::now();
  auto result = edit_design(engine_, kLogoRequest, p.get(), {});
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(result.status().message(), "openai: no complete answer within 1 s");
  EXPECT_LT(took, 5.0);
  EXPECT_EQ(server_.request_count(), 1u);
  EXPECT_EQ(engine_.scene(), story_);
}

TEST_F(EditorTest, WithoutAProviderOnlyFormatChangesWork) {
  auto result = edit_design(engine_, kLogoRequest, nullptr, {});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(result.status().message(),
            "no language model configured: set ATELIER_LLM (e.g. openai:gpt-4o, ollama:llama3.1) or give --provider "
            "and --model");
  EXPECT_EQ(engine_.scene(), story_);
}

// ---------------------------------------------------------------------------------------
// Removals, dry runs

TEST_F(EditorTest, ARemovalIsSkippedUnlessAllowed) {
  ASSERT_EQ(guess_profile("Remove the accent star"), Profile::kFull);
  const std::string answer = answer_with(story_, Profile::kFull, [](Scene& s) { remove_block(s, 12); });
  server_.enqueue(sse(answer));
  auto kept = edit("Remove the accent star");
  ASSERT_TRUE(kept.ok()) << kept.status().message();
  EXPECT_THAT(kept->changes.removed, ElementsAre(12));
  EXPECT_TRUE(kept->changes.modified.empty());
  EXPECT_THAT(kept->report.skipped_removals, ElementsAre(12));
  EXPECT_EQ(kept->report.applied, 0);
  EXPECT_EQ(engine_.scene(), story_);
  EXPECT_THAT(describe(kept->changes, story_), ElementsAre("removed 12 (Accent star)"));

  server_.enqueue(sse(answer));
  EditOptions allow;
  allow.allow_delete = true;
  auto removed = edit("Remove the accent star", allow);
  ASSERT_TRUE(removed.ok()) << removed.status().message();
  EXPECT_THAT(removed->changes.removed, ElementsAre(12));
  EXPECT_TRUE(removed->report.skipped_removals.empty());
  EXPECT_EQ(removed->report.applied, 1);
  EXPECT_EQ(engine_.block(12), nullptr);
  EXPECT_EQ(engine_.scene().find(1)->children, (std::vector<BlockId>{2, 3, 4, 8, 9, 10, 11}));
}

TEST_F(EditorTest, ADryRunComputesTheChangesAndAppliesNothing) {
  server_.enqueue(sse(logo_answer(story_)));
  EditOptions opt;
  opt.dry_run = true;
  auto result = edit(kLogoRequest, opt);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->changes, logo_changes());
  EXPECT_EQ(result->report.applied, 0);
  EXPECT_EQ(engine_.scene(), story_);
  EXPECT_FALSE(engine_.can_undo());
}

// ---------------------------------------------------------------------------------------
// Wire protocols end to end

TEST_F(EditorTest, OllamaNdjsonEndToEnd) {
  server_.enqueue(fast(testing::ollama_ndjson(logo_answer(story_), "stop", {700, 200})));
  auto p = provider("ollama");
  auto result = edit_design(engine_, kLogoRequest, p.get(), {});
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->changes, logo_changes());
  EXPECT_EQ(result->prompt_tokens, 700);
  EXPECT_EQ(result->completion_tokens, 200);
  EXPECT_EQ(engine_.scene().find(4)->width, 906);
  ASSERT_EQ(server_.request_count(), 1u);
  EXPECT_EQ(server_.requests()[0].path, "/api/chat");
  const LlmRequest expected = build_prompt(story_, kLogoRequest, Profile::kLayout, std::nullopt);
  json b = body(0);
  EXPECT_EQ(b["messages"][0]["content"], expected.system);
  EXPECT_EQ(b["messages"][1]["content"], expected.user);
  EXPECT_EQ(b["options"]["num_ctx"], ollama_context_size(expected, 4096));
  EXPECT_FALSE(b.contains("grammar"));
}

TEST_F(EditorTest, LlamaCppSseEndToEndWithTheDesignsGrammar) {
  server_.enqueue(fast(testing::llamacpp_sse(logo_answer(story_), false, {650, 190})));
  auto p = provider("llamacpp");
  auto result = edit_design(engine_, kLogoRequest, p.get(), {});
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(result->changes, logo_changes());
  EXPECT_EQ(result->prompt_tokens, 650);
  EXPECT_EQ(result->completion_tokens, 190);
  EXPECT_EQ(engine_.scene().find(7)->text.font_size, 54);
  ASSERT_EQ(server_.request_count(), 1u);
  EXPECT_EQ(server_.requests()[0].path, "/completion");
  LlmRequest expected = build_prompt(story_, kLogoRequest, Profile::kLayout, std::nullopt);
  json b = body(0);
  EXPECT_EQ(b["prompt"], llamacpp_prompt(expected));
  ASSERT_TRUE(b.contains("grammar"));
  EXPECT_EQ(b["grammar"], design_grammar(story_, Profile::kLayout));
  EXPECT_THAT(b["grammar"].get<std::string>(), HasSubstr("root"));
}

TEST_F(EditorTest, ALlamaCppAnswerStoppedByTheLimitIsRejected) {
  server_.enqueue(fast(testing::llamacpp_sse(logo_answer(story_).substr(0, 300), true)));
  auto p = provider("llamacpp");
  auto result = edit_design(engine_, kLogoRequest, p.get(), {});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(), "llamacpp: the answer was cut off by the length limit (finish reason: length)");
  EXPECT_EQ(engine_.scene(), story_);
}

// ---------------------------------------------------------------------------------------
// Format changes

TEST_F(EditorTest, AFormatChangeWithoutAModelUsesTheBaseline) {
  EditOptions opt;
  opt.to_size = std::pair<double, double>{1280, 720};
  auto result = edit_design(engine_, "", nullptr, opt);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_TRUE(result->used_baseline);
  EXPECT_EQ(result->rounds, 0);
  EXPECT_EQ(result->profile, Profile::kLayout);
  EXPECT_THAT(result->report.notes,
              ElementsAre("format changed by the deterministic relayout (no language model configured)"));
  expect_all_inside(story_, engine_.scene(), 1280, 720);
  const std::vector<std::string> lines = describe(result->changes, story_);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[0], "modified 1 width: 1080 -> 1280");
  EXPECT_EQ(lines[1], "modified 1 height: 1920 -> 720");
  EXPECT_EQ(result->report.applied, int(result->changes.modified.size()));
  // The baseline is one undo step too.
  ASSERT_TRUE(engine_.undo().ok());
  EXPECT_EQ(engine_.scene(), story_);

  // A dry run reports the same changes and leaves the design alone.
  opt.dry_run = true;
  auto dry = edit_design(engine_, "", nullptr, opt);
  ASSERT_TRUE(dry.ok()) << dry.status().message();
  EXPECT_EQ(dry->changes, result->changes);
  EXPECT_EQ(dry->report.applied, 0);
  EXPECT_EQ(engine_.scene(), story_);
}

TEST_F(EditorTest, AFormatChangeFallsBackToTheBaselineWhenTheAnswerStaysInvalid) {
  design::Engine baseline(story_);
  EditOptions opt;
  opt.to_size = std::pair<double, double>{1280, 720};
  ASSERT_TRUE(edit_design(baseline, "", nullptr, opt).ok());

  server_.enqueue(sse("<design w=\"1280\" h=\"720\"><page id=\"1\""));
  server_.enqueue(sse("<design w=\"1280\" h=\"720\"><page id=\"1\""));
  auto result = edit("Keep the logo prominent", opt);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_TRUE(result->used_baseline);
  EXPECT_EQ(result->rounds, 2);
  EXPECT_THAT(result->validation_errors, ElementsAre(StartsWith("invalid XML: ")));
  EXPECT_THAT(result->report.notes,
              ElementsAre("format changed by the deterministic relayout (the model's answer stayed invalid)"));
  EXPECT_EQ(engine_.scene(), baseline.scene());
  expect_all_inside(story_, engine_.scene(), 1280, 720);

  // The model saw the page at its new size and the format instructions.
  ASSERT_EQ(server_.request_count(), 2u);
  const std::string prompt = user_prompt(0);
  EXPECT_THAT(prompt, HasSubstr("Change the page format to 1280 x 720 pixels: the page below already has its new\n"
                                "size, but its blocks are still where they were on the old 1080 x 1920 page."));
  EXPECT_THAT(prompt, ::testing::EndsWith("keep every block inside it. Keep the logo prominent\"\nAnswer:\n"));
  EXPECT_THAT(prompt, HasSubstr(R"(<page id="1" name="Story" kind="instagram-story" w="1280" h="720">)"));
}

// The model's own layout for the new format, every block inside the 1280x720 page.
void landscape(Scene& s) {
  auto set = [&](BlockId id, double x, double y, double w, double h) {
    design::Block* b = s.find(id);
    b->x = x, b->y = y, b->width = w, b->height = h;
  };
  set(1, 0, 0, 1280, 720);
  set(2, 1000, 0, 280, 280);
  set(3, 660, 40, 580, 640);
  set(4, 40, 40, 453, 90);
  set(5, 40, 40, 90, 90);
  set(6, 59, 59, 52, 52);
  set(7, 148, 62, 345, 45);
  s.find(7)->text.font_size = 27;
  set(8, 40, 200, 580, 220);
  s.find(8)->text.font_size = 72;
  set(9, 40, 440, 580, 100);
  s.find(9)->text.font_size = 28;
  set(10, 40, 580, 330, 72);
  set(11, 40, 598, 330, 38);
  s.find(11)->text.font_size = 28;
  set(12, 520, 580, 90, 90);
}

TEST_F(EditorTest, AFormatChangeAppliesTheModelsLayoutWithThePageSize) {
  const std::string answer = answer_with(story_, Profile::kLayout, landscape);
  server_.enqueue(sse(answer));
  EditOptions opt;
  opt.to_size = std::pair<double, double>{1280, 720};
  auto result = edit("", opt);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_FALSE(result->used_baseline);
  EXPECT_EQ(result->rounds, 1);
  // The page's new size is part of the change set, like the baseline's.
  const std::vector<std::string> lines = describe(result->changes, story_);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[0], "modified 1 height: 1920 -> 720");
  EXPECT_EQ(lines[1], "modified 1 width: 1080 -> 1280");
  EXPECT_EQ(lines.size(), 2u + 4 * 11 + 4);  // x, y, w, h of 11 blocks; 4 font sizes
  EXPECT_THAT(result->report.notes, ElementsAre());
  // The design is exactly the model's layout.
  Scene want = story_;
  landscape(want);
  EXPECT_EQ(engine_.scene(), want);
  expect_all_inside(story_, engine_.scene(), 1280, 720);
  ASSERT_TRUE(engine_.undo().ok());
  EXPECT_EQ(engine_.scene(), story_);
}

TEST_F(EditorTest, ABlockAFormatAnswerLeavesPartlyOffTheNewPageIsClampedIntoIt) {
  // Valid (the photo still overlaps the new page), but the photo was left where it was on
  // the 1920 high page: 340..1320 on a 720 high one.
  const std::string answer = answer_with(story_, Profile::kLayout, [](Scene& s) {
    landscape(s);
    s.find(3)->x = 60, s.find(3)->y = 340, s.find(3)->width = 960, s.find(3)->height = 980;
  });
  server_.enqueue(sse(answer));
  EditOptions opt;
  opt.to_size = std::pair<double, double>{1280, 720};
  auto result = edit("", opt);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_FALSE(result->used_baseline);
  ASSERT_FALSE(result->report.notes.empty());
  EXPECT_EQ(result->report.notes[0], "clamped 3 into the page");
  const design::Block& photo = *engine_.block(3);
  EXPECT_EQ(photo.x, 60);
  EXPECT_EQ(photo.y, 0);
  EXPECT_EQ(photo.width, 960);
  EXPECT_EQ(photo.height, 720);
  expect_all_inside(story_, engine_.scene(), 1280, 720);
  // Only real changes are listed and counted.
  for (const PropertyChange& c : result->changes.modified) EXPECT_NE(c.id, 3) << c.property;
  EXPECT_EQ(result->report.applied, int(result->changes.modified.size()));
}

TEST_F(EditorTest, AFormatAnswerThatLeavesBlocksOffTheNewPageIsNotApplied) {
  // The model moved only the photo and the texts; the CTA button and its label are still
  // where they were on the 1920 high page.
  const std::string answer = answer_with(story_, Profile::kLayout, [](Scene& s) {
    landscape(s);
    s.find(10)->y = 1790;
    s.find(11)->y = 1814;
  });
  server_.enqueue(sse(answer));
  server_.enqueue(sse(answer));
  EditOptions opt;
  opt.to_size = std::pair<double, double>{1280, 720};
  auto result = edit("", opt);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_TRUE(result->used_baseline);
  EXPECT_EQ(result->rounds, 2);
  EXPECT_THAT(result->validation_errors, ElementsAre("<shape id=\"10\">: y=1790 puts it outside the page (0..720)",
                                                     "<text id=\"11\">: y=1814 puts it outside the page (0..720)"));
  expect_all_inside(story_, engine_.scene(), 1280, 720);
  EXPECT_THAT(user_prompt(1), HasSubstr(repair_text(result->validation_errors)));
}

TEST_F(EditorTest, AFormatAnswerMustKeepTheNewPageSize) {
  // The model put the page back to its old size.
  const std::string answer = serialize(story_, Profile::kLayout);
  server_.enqueue(sse(answer));
  server_.enqueue(sse(answer));
  EditOptions opt;
  opt.to_size = std::pair<double, double>{1280, 720};
  auto result = edit("", opt);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_TRUE(result->used_baseline);
  EXPECT_THAT(result->validation_errors,
              ElementsAre("<page id=\"1\">: the page must be 1280 x 720 (the new format), got 1080 x 1920"));
  expect_all_inside(story_, engine_.scene(), 1280, 720);
}

// ---------------------------------------------------------------------------------------
// Prompt, brand kit

TEST_F(EditorTest, TheSystemPromptIsTheSameForEveryDesignAndRequest) {
  const Scene card = load_example("business-card");
  auto kit = load_brand_kit(fs::path(ATELIER_SOURCE_DIR) / "examples" / "brands" / "nordlicht.json");
  ASSERT_TRUE(kit.ok()) << kit.status().message();
  const LlmRequest a = build_prompt(story_, kLogoRequest, Profile::kLayout, std::nullopt);
  const LlmRequest b = build_prompt(card, "Translate to German", Profile::kText, *kit);
  EXPECT_EQ(a.system, b.system);
  EXPECT_THAT(a.system, StartsWith("You are a senior graphic designer editing a design through its XML description."));
  // The user part starts with the fixed example (the rest of the cacheable prefix).
  const std::string example = "Example. Request: \"Make the title red.\"\nDesign:\n<design w=\"800\" h=\"600\">";
  EXPECT_THAT(a.user, StartsWith(example));
  EXPECT_THAT(b.user, StartsWith(example));
  const auto fixed = a.user.find("\nNow the real task.");
  ASSERT_NE(fixed, std::string::npos);
  EXPECT_EQ(b.user.substr(0, fixed), a.user.substr(0, fixed));
  EXPECT_TRUE(a.grammar.empty());
}

TEST_F(EditorTest, ABrandKitGoesIntoThePromptAfterTheFixedParts) {
  auto kit = load_brand_kit(fs::path(ATELIER_SOURCE_DIR) / "examples" / "brands" / "nordlicht.json");
  ASSERT_TRUE(kit.ok()) << kit.status().message();
  EXPECT_EQ(kit->name, "Nordlicht");
  // In the file's order (primary colour first).
  std::vector<std::string> colors;
  for (const auto& c : kit->colors) colors.push_back(design::color_to_hex(c));
  EXPECT_THAT(colors, ElementsAre("#1D3557", "#457B9D", "#A8DADC", "#F1FAEE", "#E63946"));
  EXPECT_THAT(kit->fonts, ElementsAre("DejaVu Sans", "DejaVu Sans"));
  EXPECT_EQ(kit->logo, "a white star on a navy circle");

  const LlmRequest plain = build_prompt(story_, "Use the brand colours", Profile::kStyle, std::nullopt);
  const LlmRequest branded = build_prompt(story_, "Use the brand colours", Profile::kStyle, *kit);
  EXPECT_EQ(branded.system, plain.system);
  const std::string brand =
      "\nBrand kit \"Nordlicht\": use only these colours for fills, strokes and text: #1D3557, #457B9D, #A8DADC, "
      "#F1FAEE, #E63946.\nFonts: DejaVu Sans.\nLogo: a white star on a navy circle.\n";
  const auto at = branded.user.find(brand);
  ASSERT_NE(at, std::string::npos) << branded.user;
  // After the fixed example, before the design.
  EXPECT_EQ(branded.user.substr(0, at), plain.user.substr(0, at));
  EXPECT_LT(at, branded.user.find("Now the real task."));
  EXPECT_EQ(branded.user.substr(0, at) + branded.user.substr(at + brand.size()), plain.user);

  // Through edit_design: the brand reaches the model.
  server_.enqueue(sse(serialize(story_, Profile::kStyle)));
  EditOptions opt;
  opt.brand = *kit;
  auto result = edit("Use the brand colours", opt);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_TRUE(result->changes.empty());
  EXPECT_EQ(user_prompt(0), branded.user);
}

TEST(BrandKit, ErrorsNameTheFile) {
  TempDir dir = testing::temp_dir();
  auto write = [&](const std::string& name, const std::string& text) {
    const fs::path p = dir.path() / name;
    testing::write_bytes(p, std::vector<std::uint8_t>(text.begin(), text.end()));
    return p;
  };
  const fs::path missing = dir.path() / "missing.json";
  auto r = load_brand_kit(missing);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr(missing.string()));

  const fs::path array = write("array.json", "[1, 2]");
  r = load_brand_kit(array);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), array.string() + ": not a JSON object");

  const fs::path none = write("none.json", R"({"name": "Plain", "fonts": ["DejaVu Sans"]})");
  r = load_brand_kit(none);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), none.string() + ": a brand kit needs at least one colour");

  const fs::path bad = write("bad.json", R"({"colors": ["#12345G"]})");
  r = load_brand_kit(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), StartsWith(bad.string() + ": "));
  EXPECT_THAT(r.status().message(), HasSubstr("#12345G"));

  const fs::path list = write("list.json", R"({"name": "Duo", "colors": ["#112233", "#ABCDEF"], "fonts": ["Serif"]})");
  r = load_brand_kit(list);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->name, "Duo");
  ASSERT_EQ(r->colors.size(), 2u);
  EXPECT_EQ(design::color_to_hex(r->colors[1]), "#ABCDEF");
  EXPECT_THAT(r->fonts, ElementsAre("Serif"));
  EXPECT_EQ(r->logo, "");
}

// ---------------------------------------------------------------------------------------
// parse_format

TEST(ParseFormat, PresetsAndSizes) {
  auto f = parse_format("1280x720");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, (std::pair<double, double>{1280, 720}));
  f = parse_format("1080X1350");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, (std::pair<double, double>{1080, 1350}));
  f = parse_format("youtube-thumbnail");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, (std::pair<double, double>{1280, 720}));
  f = parse_format("instagram-story");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, (std::pair<double, double>{1080, 1920}));
  f = parse_format("x-post");  // a preset with an 'x' in its name
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, (std::pair<double, double>{1600, 900}));
}

TEST(ParseFormat, BadFormatsNameTheText) {
  for (const char* text : {"0x5", "abc", "1280x", "-3x2", "x720", "12.5x10", "1280x720x2", "", "20001x10"}) {
    auto f = parse_format(text);
    ASSERT_FALSE(f.ok()) << text;
    EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(f.status().message(), "bad format '" + std::string(text) +
                                        "' (expected WxH such as 1280x720, or a preset: atelier crop --list-presets)");
  }
}

}  // namespace
}  // namespace atelier::genai
