// `atelier edit` end to end: the built binary against a scripted LLM server in this test
// process (FakeLlmServer on 127.0.0.1). Every case checks the exact change set or the exact
// error, and on error that nothing was written: the input file byte for byte, the output
// folder empty (no partial or temporary files).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <optional>

#include <nlohmann/json.hpp>

#include "design/scene_json.h"
#include "genai/editor.h"
#include "genai/grammar.h"
#include "genai/serializer.h"
#include "image/codec.h"
#include "support/fake_llm_server.h"
#include "support/scene_checks.h"
#include "support/test_support.h"

namespace atelier {
namespace {

namespace fs = std::filesystem;
using design::BlockId;
using design::Scene;
using genai::Profile;
using json = nlohmann::json;
using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using testing::FakeLlmServer;
using testing::FakeResponse;
using testing::run_atelier;
using testing::ScopedEnv;

constexpr const char* kLogoRequest = "Make the logo bigger";
constexpr const char* kKey = "sk-edit-cli-SECRET-4f9a8b7c6d5e";

fs::path source(const std::string& relative) { return fs::path(ATELIER_SOURCE_DIR) / relative; }

std::string read_text(const fs::path& path) {
  auto bytes = read_file(path, 64 << 20);
  if (!bytes.ok()) {
    ADD_FAILURE() << bytes.status().message();
    return {};
  }
  return std::string(bytes->begin(), bytes->end());
}

Scene load(const fs::path& path) {
  auto loaded = design::load_scene(path);
  if (!loaded.ok()) {
    ADD_FAILURE() << loaded.status().message();
    return {};
  }
  return std::move(loaded->scene);
}

// Removes environment variables for the scope of a test (the child inherits the rest).
class ScopedUnset {
 public:
  explicit ScopedUnset(std::vector<std::string> names) {
    for (auto& n : names) {
      const char* v = std::getenv(n.c_str());
      saved_.emplace_back(n, v ? std::optional<std::string>(v) : std::nullopt);
      ::unsetenv(n.c_str());
    }
  }
  ~ScopedUnset() {
    for (const auto& [n, v] : saved_) {
      if (v) ::setenv(n.c_str(), v->c_str(), 1);
    }
  }
  ScopedUnset(const ScopedUnset&) = delete;
  ScopedUnset& operator=(const ScopedUnset&) = delete;

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

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

std::string answer_with(const Scene& scene, Profile profile, const std::function<void(Scene&)>& change) {
  Scene s = scene;
  change(s);
  return genai::serialize(s, profile);
}

// "Make the logo bigger" done right: the logo group and its parts 1.5x, top left kept.
std::string logo_answer(const Scene& scene) {
  return replaced(genai::serialize(scene, Profile::kLayout),
                  {{R"(<group id="4" name="Logo" kind="logo" x="60" y="80" w="604" h="120">)",
                    R"(<group id="4" name="Logo" kind="logo" x="60" y="80" w="906" h="180">)"},
                   {R"(<shape id="5" name="Logo mark" kind="logo" x="60" y="80" w="120" h="120"/>)",
                    R"(<shape id="5" name="Logo mark" kind="logo" x="60" y="80" w="180" h="180"/>)"},
                   {R"(<shape id="6" name="Logo star" kind="logo" x="85" y="105" w="70" h="70"/>)",
                    R"(<shape id="6" name="Logo star" kind="logo" x="98" y="118" w="105" h="105"/>)"},
                   {R"(<text id="7" name="Logo name" kind="logo" x="204" y="112" w="460" h="60" size="36"/>)",
                    R"(<text id="7" name="Logo name" kind="logo" x="276" y="128" w="690" h="90" size="54"/>)"}});
}

const std::vector<std::string> kLogoLines = {
    "modified 4 height: 120 -> 180", "modified 4 width: 604 -> 906", "modified 5 height: 120 -> 180",
    "modified 5 width: 120 -> 180",  "modified 6 height: 70 -> 105", "modified 6 width: 70 -> 105",
    "modified 6 x: 85 -> 98",        "modified 6 y: 105 -> 118",     "modified 7 font_size: 36 -> 54",
    "modified 7 height: 60 -> 90",   "modified 7 width: 460 -> 690", "modified 7 x: 204 -> 276",
    "modified 7 y: 112 -> 128"};

// The story with the logo edit applied.
Scene logo_applied(Scene s) {
  auto set = [&](BlockId id, double x, double y, double w, double h) {
    design::Block* b = s.find(id);
    b->x = x, b->y = y, b->width = w, b->height = h;
  };
  set(4, 60, 80, 906, 180);
  set(5, 60, 80, 180, 180);
  set(6, 98, 118, 105, 105);
  set(7, 276, 128, 690, 90);
  s.find(7)->text.font_size = 54;
  return s;
}

FakeResponse fast(FakeResponse r) {
  r.chunk_delay = milliseconds(0);
  return r;
}
FakeResponse sse(const std::string& text, const std::string& finish_reason = "stop", testing::FakeUsage usage = {}) {
  return fast(testing::openai_sse(text, finish_reason, usage));
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  if (start < text.size()) out.push_back(text.substr(start));
  return out;
}

json parse_json(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) ADD_FAILURE() << "not JSON: " << text;
  return j;
}

class EditCli : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ensure_directory(in_dir_).ok());
    ASSERT_TRUE(ensure_directory(out_dir_).ok());
    fs::copy_file(source("examples/designs/instagram-story.json"), design_);
    original_ = read_text(design_);
  }

  // Model flags for the fake server.
  std::vector<std::string> model_flags(const std::string& provider = "openai", const std::string& timeout = "5") const {
    std::vector<std::string> f{"--provider", provider};
    if (provider != "llamacpp") f.insert(f.end(), {"--model", "test-model"});
    f.insert(f.end(), {"--base-url", server_.base_url() + (provider == "openai" ? "/v1" : ""), "--timeout", timeout});
    return f;
  }

  ProcessResult edit(const std::string& request, std::vector<std::string> extra,
                     const std::vector<std::string>& flags) const {
    std::vector<std::string> args{"edit", design_.string(), request};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), flags.begin(), flags.end());
    return run_atelier(args);
  }
  // The usual edit: to out.json, with the fake openai server.
  ProcessResult edit(const std::string& request, std::vector<std::string> extra = {}) const {
    extra.insert(extra.begin(), {"-o", out_.string()});
    return edit(request, extra, model_flags());
  }

  std::string user_prompt(std::size_t i) const {
    auto reqs = server_.requests();
    if (i >= reqs.size()) {
      ADD_FAILURE() << "no request " << i;
      return {};
    }
    json b = json::parse(reqs[i].body);
    return b["messages"][1]["content"].get<std::string>();
  }

  // Nothing was written: the input as it was, the output folder empty.
  void expect_untouched() const {
    EXPECT_EQ(read_text(design_), original_);
    EXPECT_THAT(testing::listing(out_dir_), ElementsAre());
    EXPECT_THAT(testing::listing(in_dir_), ElementsAre("story.json"));
  }

  // Both answers bad: the exact error after the repair round, two requests, nothing written.
  void expect_rejected(const std::string& request, const std::string& answer, const std::string& problem) {
    server_.enqueue(sse(answer));
    server_.enqueue(sse(answer));
    ProcessResult r = edit(request);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "atelier: " + design_.string() +
                         ": the model's answer is still invalid after 1 repair round: " + problem + "\n");
    EXPECT_EQ(r.out, "");
    ASSERT_EQ(server_.request_count(), 2u);
    EXPECT_THAT(user_prompt(1), HasSubstr("Your answer could not be applied. These problems were found:\n- " + problem +
                                          "\nAnswer again with the complete corrected <design> document, following "
                                          "the rules.\n"));
    expect_untouched();
  }

  ScopedUnset env_{{"ATELIER_LLM", "ATELIER_LLM_BASE_URL", "ATELIER_LLM_API_KEY", "OPENAI_API_KEY",
                    "ATELIER_LLM_TIMEOUT", "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                    "ALL_PROXY"}};
  ScopedEnv no_proxy_{"no_proxy", "127.0.0.1,localhost"};
  FakeLlmServer server_;
  TempDir dir_ = testing::temp_dir();
  const fs::path in_dir_ = dir_.path() / "in";
  const fs::path out_dir_ = dir_.path() / "out";
  const fs::path design_ = in_dir_ / "story.json";
  const fs::path out_ = out_dir_ / "out.json";
  const Scene story_ = load(source("examples/designs/instagram-story.json"));
  std::string original_;
};

// ---------------------------------------------------------------------------------------
// Applied edits

TEST_F(EditCli, AGoodAnswerIsSavedAndRendered) {
  server_.enqueue(sse(logo_answer(story_), "stop", {812, 240}));
  const fs::path png = out_dir_ / "out.png";
  ProcessResult r = edit(kLogoRequest, {"--render", png.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  std::vector<std::string> lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), kLogoLines.size() + 1) << r.out;
  EXPECT_EQ(std::vector<std::string>(lines.begin(), lines.end() - 1), kLogoLines);
  EXPECT_THAT(lines.back(), StartsWith(design_.string() + ": 13 changes applied (profile layout, 1 model call, 812 + "
                                                          "240 tokens, "));
  EXPECT_THAT(lines.back(), ::testing::EndsWith(" -> " + out_.string()));

  EXPECT_EQ(load(out_), logo_applied(story_));
  EXPECT_EQ(read_text(design_), original_);
  EXPECT_THAT(testing::listing(out_dir_), ElementsAre("out.json", "out.png"));
  auto img = image::read_image(png);
  ASSERT_TRUE(img.ok()) << img.status().message();
  EXPECT_EQ(img->width(), 1080);
  EXPECT_EQ(img->height(), 1920);
  ASSERT_EQ(server_.request_count(), 1u);
  EXPECT_EQ(server_.requests()[0].path, "/v1/chat/completions");
  EXPECT_EQ(server_.requests()[0].header("Authorization"), "");  // no key configured, none sent
}

TEST_F(EditCli, AFencedAnswerWithProseGivesTheSameChanges) {
  server_.enqueue(sse("Here you go:\n```xml\n" + logo_answer(story_) + "```\nThe logo is now 50% larger.\n"));
  ProcessResult r = edit(kLogoRequest, {"--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = parse_json(r.out);
  EXPECT_EQ(j["changes"], json(kLogoLines));
  EXPECT_EQ(j["rounds"], 1);
  EXPECT_EQ(j["baseline"], false);
  EXPECT_EQ(j["profile"], "layout");
  EXPECT_EQ(j["output"], out_.string());
  EXPECT_EQ(load(out_), logo_applied(story_));
}

TEST_F(EditCli, ARepairedAnswerIsApplied) {
  const std::string bad = replaced(logo_answer(story_), {{R"(<shape id="12" )", R"(<shape id="99" )"}});
  server_.enqueue(sse(bad));
  server_.enqueue(sse(logo_answer(story_)));
  ProcessResult r = edit(kLogoRequest, {"--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = parse_json(r.out);
  EXPECT_EQ(j["rounds"], 2);
  EXPECT_EQ(j["changes"], json(kLogoLines));
  EXPECT_EQ(load(out_), logo_applied(story_));
  ASSERT_EQ(server_.request_count(), 2u);
  EXPECT_THAT(user_prompt(1), HasSubstr("These problems were found:\n- <shape id=\"99\">: unknown id 99\nAnswer again"));
}

TEST_F(EditCli, A429IsRetriedThenApplied) {
  server_.enqueue(FakeResponse::text(429, R"({"error":{"message":"rate limit reached"}})"));
  server_.enqueue(sse(logo_answer(story_)));
  ProcessResult r = edit(kLogoRequest, {"--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(parse_json(r.out)["changes"], json(kLogoLines));
  EXPECT_EQ(server_.request_count(), 2u);
  EXPECT_EQ(load(out_), logo_applied(story_));
}

TEST_F(EditCli, ADryRunPrintsTheChangesAndWritesNothing) {
  server_.enqueue(sse(logo_answer(story_)));
  ProcessResult r = edit(kLogoRequest, {"--dry-run", "--json", "-o", out_.string(), "--render",
                                        (out_dir_ / "out.png").string()},
                         model_flags());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = parse_json(r.out);
  EXPECT_EQ(j["changes"], json(kLogoLines));
  EXPECT_FALSE(j.contains("output"));
  expect_untouched();

  server_.enqueue(sse(logo_answer(story_)));
  r = edit(kLogoRequest, {"--dry-run"}, model_flags());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), kLogoLines.size() + 1) << r.out;
  EXPECT_THAT(lines.back(), StartsWith(design_.string() + ": 13 changes proposed, nothing applied (profile layout"));
  expect_untouched();
}

// ---------------------------------------------------------------------------------------
// Wire protocols through edit

TEST_F(EditCli, OllamaEndToEnd) {
  server_.enqueue(fast(testing::ollama_ndjson(logo_answer(story_), "stop", {600, 150})));
  ProcessResult r = edit(kLogoRequest, {"-o", out_.string(), "--json"}, model_flags("ollama"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = parse_json(r.out);
  EXPECT_EQ(j["changes"], json(kLogoLines));
  EXPECT_EQ(j["prompt_tokens"], 600);
  EXPECT_EQ(j["completion_tokens"], 150);
  EXPECT_EQ(load(out_), logo_applied(story_));
  ASSERT_EQ(server_.request_count(), 1u);
  EXPECT_EQ(server_.requests()[0].path, "/api/chat");
  EXPECT_EQ(json::parse(server_.requests()[0].body)["model"], "test-model");
}

TEST_F(EditCli, LlamaCppEndToEndSendsTheDesignsGrammar) {
  server_.enqueue(fast(testing::llamacpp_sse(logo_answer(story_), false, {640, 160})));
  ProcessResult r = edit(kLogoRequest, {"-o", out_.string(), "--json"}, model_flags("llamacpp"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = parse_json(r.out);
  EXPECT_EQ(j["changes"], json(kLogoLines));
  EXPECT_EQ(j["prompt_tokens"], 640);
  EXPECT_EQ(load(out_), logo_applied(story_));
  ASSERT_EQ(server_.request_count(), 1u);
  EXPECT_EQ(server_.requests()[0].path, "/completion");
  json b = json::parse(server_.requests()[0].body);
  ASSERT_TRUE(b.contains("grammar"));
  EXPECT_EQ(b["grammar"], genai::design_grammar(story_, Profile::kLayout));
  EXPECT_THAT(b["prompt"].get<std::string>(), HasSubstr(genai::serialize(story_, Profile::kLayout)));
}

TEST_F(EditCli, ShowPromptPrintsThePromptAndItsEstimatedSizeWithoutAModel) {
  genai::EditOptions opt;
  const genai::EditPrompt p = genai::prepare_edit(story_, kLogoRequest, opt, false);
  EXPECT_EQ(p.profile, Profile::kLayout);
  ProcessResult r = edit(kLogoRequest, {"--show-prompt"}, {});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "=== system\n" + p.request.system + "\n=== user\n" + p.request.user + "\n=== " + design_.string() +
                       ": profile layout, prompt " +
                       std::to_string(genai::estimate_tokens(p.request.system + p.request.user)) +
                       " tokens (estimated)\n");
  expect_untouched();
}

TEST_F(EditCli, ShowPromptCountsTokensWithLlamaCppsTokenizer) {
  server_.enqueue(FakeResponse::text(200, R"({"tokens": [1, 2, 3, 4, 5, 6, 7]})"));
  ProcessResult r = edit(kLogoRequest, {"--show-prompt", "--json"}, model_flags("llamacpp"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = parse_json(r.out);
  EXPECT_EQ(j["tokens"], 7);
  EXPECT_EQ(j["tokens_exact"], true);
  EXPECT_EQ(j["profile"], "layout");
  EXPECT_EQ(j["grammar"], genai::design_grammar(story_, Profile::kLayout));
  ASSERT_EQ(server_.request_count(), 1u);  // the tokenizer only: no completion
  EXPECT_EQ(server_.requests()[0].path, "/tokenize");
  EXPECT_EQ(json::parse(server_.requests()[0].body)["content"], genai::llamacpp_prompt(genai::LlmRequest{
                                                                     j["system"], j["user"], {}, {}}));
  expect_untouched();
}

// ---------------------------------------------------------------------------------------
// Rejected answers and provider failures: exact errors, nothing written

TEST_F(EditCli, TwoDocumentsAreRejectedAfterTheRepairRound) {
  expect_rejected(kLogoRequest, logo_answer(story_) + "\nor:\n" + genai::serialize(story_, Profile::kLayout),
                  "the answer contains 2 <design> documents");
}

TEST_F(EditCli, InvalidXmlIsRejected) {
  expect_rejected(kLogoRequest,
                  replaced(logo_answer(story_), {{R"(<text id="8" name="Headline")", R"(<text id="8" name="Headline)"}}),
                  "invalid XML: Error parsing element attribute at offset 743");
}

TEST_F(EditCli, ANewAttributeIsRejected) {
  expect_rejected("Make the headline red",
                  replaced(genai::serialize(story_, Profile::kStyle),
                           {{R"(kind="headline" size="112")", R"(kind="headline" colour="#E63946" size="112")"}}),
                  "<text id=\"8\">: unknown attribute 'colour'");
}

TEST_F(EditCli, AnUnknownIdIsRejected) {
  expect_rejected(kLogoRequest, replaced(logo_answer(story_), {{R"(<shape id="12" )", R"(<shape id="99" )"}}),
                  "<shape id=\"99\">: unknown id 99");
}

TEST_F(EditCli, ABlockMovedOffThePageIsRejected) {
  expect_rejected("Move the photo", answer_with(story_, Profile::kLayout, [](Scene& s) { s.find(3)->y = 1950; }),
                  "<image id=\"3\">: y=1950 puts it outside the page (0..1920)");
}

TEST_F(EditCli, ATruncatedAnswerIsNeverApplied) {
  const std::string full = logo_answer(story_);
  server_.enqueue(sse(full.substr(0, full.size() - 40), "length"));
  ProcessResult r = edit(kLogoRequest);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "atelier: " + design_.string() +
                       ": openai: the answer was cut off by the length limit (finish reason: length)\n");
  EXPECT_EQ(server_.request_count(), 1u);
  expect_untouched();
}

TEST_F(EditCli, AHangingServerTimesOut) {
  server_.enqueue(FakeResponse::hang_forever());
  const auto start = std::chrono::steady_clock::now();
  ProcessResult r = edit(kLogoRequest, {"-o", out_.string()}, model_flags("openai", "1"));
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "atelier: " + design_.string() + ": openai: no complete answer within 1 s\n");
  EXPECT_LT(took, 6.0);
  EXPECT_EQ(server_.request_count(), 1u);
  expect_untouched();
}

// ---------------------------------------------------------------------------------------
// Removals

TEST_F(EditCli, ARemovalIsKeptWithoutAllowDeleteAndAppliedWithIt) {
  const std::string request = "Remove the accent star";
  ASSERT_EQ(genai::guess_profile(request), Profile::kFull);
  const std::string answer = answer_with(story_, Profile::kFull, [](Scene& s) {
    auto& siblings = s.find(1)->children;
    siblings.erase(std::find(siblings.begin(), siblings.end(), BlockId(12)));
    s.blocks.erase(12);
  });

  server_.enqueue(sse(answer));
  ProcessResult r = edit(request);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_EQ(lines[0], "removed 12 (Accent star)");
  EXPECT_EQ(lines[1], "note: the model removed block 12; kept (use --allow-delete to allow removals)");
  EXPECT_THAT(lines[2], StartsWith(design_.string() + ": 0 changes applied (profile full, 1 model call, "));
  EXPECT_EQ(load(out_), story_);  // saved, with the block

  server_.enqueue(sse(answer));
  r = edit(request, {"--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = parse_json(r.out);
  EXPECT_EQ(j["changes"], json({"removed 12 (Accent star)"}));
  EXPECT_EQ(j["skipped_removals"], json({12}));
  EXPECT_NE(load(out_).find(12), nullptr);

  server_.enqueue(sse(answer));
  r = edit(request, {"--allow-delete"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(lines[0], "removed 12 (Accent star)");
  EXPECT_THAT(lines[1], StartsWith(design_.string() + ": 1 change applied (profile full, 1 model call, "));
  Scene saved = load(out_);
  EXPECT_EQ(saved.find(12), nullptr);
  EXPECT_EQ(saved.find(1)->children, (std::vector<BlockId>{2, 3, 4, 8, 9, 10, 11}));
  EXPECT_EQ(read_text(design_), original_);
  EXPECT_THAT(testing::listing(out_dir_), ElementsAre("out.json"));
}

// ---------------------------------------------------------------------------------------
// Format changes

// The first page has the given size, and every block respects it (support/scene_checks.h).
void expect_inside(const Scene& before, const Scene& s, double w, double h) {
  const design::Block* page = s.find(s.pages.front());
  ASSERT_NE(page, nullptr);
  EXPECT_EQ(page->width, w);
  EXPECT_EQ(page->height, h);
  EXPECT_THAT(testing::page_bound_problems(before, s), ::testing::IsEmpty());
}

TEST_F(EditCli, AFormatChangeWithoutAModelUsesTheBaseline) {
  ProcessResult r = edit("", {"--to", "1280x720", "-o", out_.string()}, {});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = lines_of(r.out);
  ASSERT_GE(lines.size(), 4u) << r.out;
  EXPECT_EQ(lines[0], "modified 1 width: 1080 -> 1280");
  EXPECT_EQ(lines[1], "modified 1 height: 1920 -> 720");
  EXPECT_EQ(lines[lines.size() - 2], "note: format changed by the deterministic relayout (no language model configured)");
  EXPECT_THAT(lines.back(), StartsWith(design_.string() + ": " + std::to_string(lines.size() - 2) +
                                       " changes applied (profile layout, 0 model calls, 0 + 0 tokens, "));
  expect_inside(story_, load(out_), 1280, 720);
  EXPECT_EQ(read_text(design_), original_);

  // A preset name works the same; an empty ATELIER_LLM is no configuration either.
  ScopedEnv empty("ATELIER_LLM", "");
  const fs::path preset = out_dir_ / "preset.json";
  r = edit("", {"--to", "youtube-thumbnail", "-o", preset.string(), "-q"}, {});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(read_text(preset), read_text(out_));
}

TEST_F(EditCli, AFormatChangeFallsBackToTheBaselineWhenTheAnswerStaysInvalid) {
  const fs::path baseline = out_dir_ / "baseline.json";
  ProcessResult r = edit("", {"--to", "1280x720", "-o", baseline.string(), "-q"}, {});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  // The model keeps the old layout: the CTA is off the new page.
  const std::string answer = answer_with(story_, Profile::kLayout, [](Scene& s) {
    s.find(1)->width = 1280;
    s.find(1)->height = 720;
  });
  server_.enqueue(sse(answer));
  server_.enqueue(sse(answer));
  r = edit("Keep it bold", {"--to", "1280x720", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = parse_json(r.out);
  EXPECT_EQ(j["baseline"], true);
  EXPECT_EQ(j["rounds"], 2);
  EXPECT_EQ(j["notes"], json({"format changed by the deterministic relayout (the model's answer stayed invalid)"}));
  EXPECT_EQ(read_text(out_), read_text(baseline));
  expect_inside(story_, load(out_), 1280, 720);
  ASSERT_EQ(server_.request_count(), 2u);
  EXPECT_THAT(user_prompt(0), HasSubstr("Change the page format to 1280 x 720 pixels"));
  EXPECT_THAT(user_prompt(0), HasSubstr(R"(<page id="1" name="Story" kind="instagram-story" w="1280" h="720">)"));
  EXPECT_THAT(user_prompt(1), HasSubstr("- <text id=\"8\">: y=1370 puts it outside the page (0..720)"));
}

// ---------------------------------------------------------------------------------------
// Brand kit, API key

TEST_F(EditCli, ABrandKitReachesThePrompt) {
  server_.enqueue(sse(genai::serialize(story_, Profile::kStyle)));
  ProcessResult r = edit("Use the brand colours", {"--brand", source("examples/brands/nordlicht.json").string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(parse_json(r.out)["changes"], json::array());
  const std::string prompt = user_prompt(0);
  const auto brand = prompt.find(
      "Brand kit \"Nordlicht\": use only these colours for fills, strokes and text: #1D3557, #457B9D, #A8DADC, "
      "#F1FAEE, #E63946.\nFonts: DejaVu Sans.\nLogo: a white star on a navy circle.\n");
  ASSERT_NE(brand, std::string::npos) << prompt;
  EXPECT_GT(brand, prompt.find("Example. Request:"));
  EXPECT_LT(brand, prompt.find("Now the real task."));
}

TEST_F(EditCli, TheApiKeyNeverAppearsInOutputOrErrors) {
  ScopedEnv key("OPENAI_API_KEY", kKey);
  ScopedEnv llm("ATELIER_LLM", "openai:gpt-4o");
  ScopedEnv url("ATELIER_LLM_BASE_URL", server_.base_url() + "/v1");
  const std::vector<std::string> no_flags;

  // Used: sent as the bearer token (configuration from the environment only).
  server_.enqueue(sse(logo_answer(story_)));
  ProcessResult r = edit(kLogoRequest, {"-o", out_.string(), "--json"}, no_flags);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out + r.err, Not(HasSubstr(kKey)));
  ASSERT_EQ(server_.request_count(), 1u);
  EXPECT_EQ(server_.requests()[0].header("Authorization"), std::string("Bearer ") + kKey);
  EXPECT_EQ(json::parse(server_.requests()[0].body)["model"], "gpt-4o");

  // Refused: the server's body (which echoes the key) is not quoted.
  const fs::path other = out_dir_ / "other.json";
  server_.enqueue(FakeResponse::text(
      401, std::string(R"({"error":{"message":"Incorrect API key provided: )") + kKey + R"("}})"));
  r = edit(kLogoRequest, {"-o", other.string()}, no_flags);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "atelier: " + design_.string() + ": openai: the API key was refused (HTTP 401)\n");
  EXPECT_THAT(r.out + r.err, Not(HasSubstr(kKey)));

  // Any other error that quotes it: redacted.
  server_.enqueue(FakeResponse::text(400, std::string(R"({"error":{"message":"bad header Bearer )") + kKey + R"("}})"));
  r = edit(kLogoRequest, {"-o", other.string()}, no_flags);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "atelier: " + design_.string() +
                       ": openai: the server rejected the request (HTTP 400: bad header Bearer ***)\n");
  EXPECT_THAT(r.out + r.err, Not(HasSubstr(kKey)));
  EXPECT_FALSE(fs::exists(other));
}

// ---------------------------------------------------------------------------------------
// Bad inputs: one line naming the input, nothing written

TEST_F(EditCli, BadInputsGetOneLineErrors) {
  struct Case {
    std::vector<std::string> args;  // after "edit"
    int code;
    std::string err;
  };
  const std::string d = design_.string(), o = out_.string();
  const std::string missing = (in_dir_ / "missing.json").string();
  const fs::path broken = dir_.path() / "broken.json";
  testing::write_bytes(broken, {'{', '"', 'v', '"', ':', ' ', '1', ',', '}'});
  const std::string no_brand = (in_dir_ / "brand.json").string();
  const std::vector<Case> cases = {
      {{missing, kLogoRequest, "-o", o, "--dry-run"}, 1, "atelier: " + missing + ": no such file\n"},
      {{broken.string(), kLogoRequest, "-o", o}, 1, "atelier: " + broken.string() + ":1:9: trailing comma before '}'\n"},
      {{d, "x", "--to", "0x5", "-o", o}, 2,
       "atelier: --to: bad format '0x5' (expected WxH such as 1280x720, or a preset: atelier crop --list-presets)\n"},
      {{d, "x", "--to", "1280x", "-o", o}, 2,
       "atelier: --to: bad format '1280x' (expected WxH such as 1280x720, or a preset: atelier crop --list-presets)\n"},
      {{d, "x", "--profile", "colour", "-o", o}, 2,
       "atelier: --profile: expected layout, text, style or full, got 'colour'\n"},
      {{d, "x", "--brand", no_brand, "-o", o}, 2, "atelier: " + no_brand + ": no such file\n"},
      {{d, kLogoRequest}, 2, "atelier: edit: give -o OUT.json (or --dry-run)\n"},
      {{d, kLogoRequest, "-o", o}, 1,
       "atelier: " + d +
           ": no language model configured: set ATELIER_LLM (e.g. openai:gpt-4o, ollama:llama3.1) or give --provider "
           "and --model\n"},
      {{d, kLogoRequest, "-o", o, "--provider", "openai", "--model", "gpt-4o"}, 2,
       "atelier: openai: no API key (set OPENAI_API_KEY or ATELIER_LLM_API_KEY)\n"},
      {{d, kLogoRequest, "-o", o, "--provider", "gemini", "--model", "x"}, 2,
       "atelier: unknown LLM provider \"gemini\" (expected openai, ollama or llamacpp)\n"},
      {{d, kLogoRequest, "-o", o, "--provider", "ollama", "--model", "x", "--timeout", "0"}, 2,
       "atelier: --timeout: expected a positive number of seconds (at most 604800), got 0\n"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args{"edit"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    ProcessResult r = run_atelier(args);
    SCOPED_TRACE(::testing::PrintToString(c.args));
    EXPECT_EQ(r.exit_code, c.code);
    EXPECT_EQ(r.err, c.err);
    EXPECT_EQ(r.out, "");
    expect_untouched();
  }
  // An empty ATELIER_LLM is no configuration; a malformed one is an error.
  {
    ScopedEnv empty("ATELIER_LLM", "");
    ProcessResult r = run_atelier({"edit", d, kLogoRequest, "-o", o});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, StartsWith("atelier: " + d + ": no language model configured: "));
  }
  {
    ScopedEnv bad("ATELIER_LLM", "gpt-4o");
    ProcessResult r = run_atelier({"edit", d, kLogoRequest, "-o", o});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "atelier: ATELIER_LLM must be provider:model with provider openai, ollama or llamacpp (e.g. "
                     "openai:gpt-4o, ollama:llama3.1), got \"gpt-4o\"\n");
  }
  EXPECT_EQ(server_.request_count(), 0u);
  expect_untouched();
}

// The example asset library (examples/assets: an index of Debian's sample images by path):
// a changed alt text gets the best match as the image's source.
TEST(EditCliAssets, TheExampleLibraryFindsAnImageForANewAltText) {
  ScopedUnset env{{"ATELIER_LLM", "ATELIER_LLM_BASE_URL", "ATELIER_LLM_API_KEY", "OPENAI_API_KEY", "http_proxy",
                   "HTTP_PROXY", "all_proxy", "ALL_PROXY"}};
  TempDir dir = testing::temp_dir();
  const fs::path lib = source("examples/assets");
  const fs::path moon = testing::sample("moon.png");
  const fs::path design = source("examples/designs/youtube-thumbnail.json");
  ProcessResult xml = run_atelier({"design", "xml", design.string(), "--profile", "full", "-q"});
  ASSERT_EQ(xml.exit_code, 0) << xml.err;
  const std::string old_alt = "alt=\"A tabby cat looking straight at the camera\"";
  const std::string new_alt = "alt=\"The surface of the moon with its craters\"";
  std::string answer = xml.out;
  const std::size_t at = answer.find(old_alt);
  ASSERT_NE(at, std::string::npos) << answer;
  answer.replace(at, old_alt.size(), new_alt);

  FakeLlmServer server;
  server.enqueue(testing::openai_sse("Here is the design with the moon:\n" + answer, "stop", {1350, 420}));
  const fs::path out = dir.path() / "moon.json";
  ProcessResult r = run_atelier({"edit", design.string(), "Show the moon instead of the cat.", "-o", out.string(),
                                 "--assets", lib.string(), "--provider", "openai", "--model", "test", "--base-url",
                                 server.base_url() + "/v1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["profile"], "full");
  EXPECT_EQ(j["rounds"], 1);
  const std::string note =
      "2: new image for 'The surface of the moon with its craters': " + moon.string();
  EXPECT_NE(std::find(j["notes"].begin(), j["notes"].end(), note), j["notes"].end()) << j["notes"];
  auto edited = design::load_scene(out);
  ASSERT_TRUE(edited.ok()) << edited.status().message();
  const design::Block* photo = edited->scene.find(2);
  ASSERT_NE(photo, nullptr);
  EXPECT_EQ(photo->image.source, moon.string());
  EXPECT_EQ(photo->image.alt, "The surface of the moon with its craters");
}

}  // namespace
}  // namespace atelier
