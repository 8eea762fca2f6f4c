// The language-model providers against a scripted local HTTP server (FakeLlmServer): wire
// format of each provider, streaming, retries, timeouts, errors, configuration.
#include "genai/llm.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/fake_llm_server.h"
#include "support/test_support.h"

namespace atelier::genai {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::FakeLlmServer;
using testing::FakeResponse;
using testing::ScopedEnv;

constexpr const char* kKey = "sk-test-not-a-real-key-0123456789";
const std::string kAnswer =
    "<design>\n  <text id=\"8\" content=\"Grand opening — café «Lumière» ✓\"/>\n</design>\n";

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Requests to 127.0.0.1 never go through a proxy from the environment.
class LlmTest : public ::testing::Test {
 protected:
  LlmConfig config(const std::string& provider) const {
    LlmConfig c;
    c.provider = provider;
    c.model = "test-model";
    c.base_url = server_.base_url() + (provider == "openai" ? "/v1" : "");
    if (provider == "openai") c.api_key = kKey;
    c.timeout = milliseconds(5000);
    c.max_retries = 2;
    c.backoff = milliseconds(10);
    c.max_tokens = 1000;
    c.temperature = 0.2;
    return c;
  }

  static std::unique_ptr<LlmProvider> make(const LlmConfig& c) {
    auto p = make_provider(c);
    if (!p.ok()) {
      ADD_FAILURE() << p.status().message();
      std::abort();
    }
    return std::move(p).value();
  }

  static LlmRequest request() {
    LlmRequest r;
    r.system = "You edit designs. Answer with one <design> document.";
    r.user = "Design:\n<design><text id=\"8\" content=\"Opening\"/></design>\nRequest: make it French.";
    return r;
  }

  json body(std::size_t i = 0) const {
    auto reqs = server_.requests();
    if (i >= reqs.size()) {
      ADD_FAILURE() << "no request " << i;
      return {};
    }
    return json::parse(reqs[i].body);
  }

  ScopedEnv no_proxy_{"no_proxy", "127.0.0.1,localhost"};
  FakeLlmServer server_;
};

// ---------------------------------------------------------------------------------------
// openai

TEST_F(LlmTest, OpenAiStreamsTheAnswerExactly) {
  server_.enqueue(testing::openai_sse(kAnswer, "stop", {321, 45}));
  auto provider = make(config("openai"));
  EXPECT_EQ(provider->name(), "openai");
  std::vector<std::size_t> progress;
  std::string streamed;  // the deltas add up to the answer
  auto answer = provider->complete(request(), [&](std::size_t n, std::string_view delta) {
    progress.push_back(n);
    streamed += delta;
  });
  ASSERT_TRUE(answer.ok()) << answer.status().message();
  EXPECT_EQ(answer->text, kAnswer);
  EXPECT_EQ(streamed, kAnswer);
  EXPECT_EQ(answer->finish_reason, "stop");
  EXPECT_EQ(answer->prompt_tokens, 321);
  EXPECT_EQ(answer->completion_tokens, 45);
  EXPECT_EQ(answer->attempts, 1);
  EXPECT_GT(answer->seconds, 0);

  ASSERT_GT(progress.size(), 5u);
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
  std::size_t code_points = 0;
  for (unsigned char c : kAnswer) code_points += (c & 0xC0) != 0x80;
  EXPECT_EQ(progress.back(), code_points);

  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].path, "/v1/chat/completions");
  EXPECT_EQ(reqs[0].header("Authorization"), std::string("Bearer ") + kKey);
  EXPECT_THAT(reqs[0].header("Content-Type"), HasSubstr("application/json"));
  json b = body();
  EXPECT_EQ(b["model"], "test-model");
  EXPECT_EQ(b["stream"], true);
  EXPECT_EQ(b["max_tokens"], 1000);
  EXPECT_DOUBLE_EQ(b["temperature"].get<double>(), 0.2);
  EXPECT_EQ(b["stream_options"]["include_usage"], true);
  ASSERT_EQ(b["messages"].size(), 2u);
  EXPECT_EQ(b["messages"][0]["role"], "system");
  EXPECT_EQ(b["messages"][0]["content"], request().system);
  EXPECT_EQ(b["messages"][1]["role"], "user");
  EXPECT_EQ(b["messages"][1]["content"], request().user);
}

TEST_F(LlmTest, OpenAiAcceptsANonStreamingResponse) {
  server_.enqueue(testing::openai_json(kAnswer, "stop", {10, 20}));
  std::size_t last = 0;
  auto answer = make(config("openai"))->complete(request(), [&](std::size_t n, std::string_view) { last = n; });
  ASSERT_TRUE(answer.ok()) << answer.status().message();
  EXPECT_EQ(answer->text, kAnswer);
  EXPECT_EQ(answer->finish_reason, "stop");
  EXPECT_EQ(answer->prompt_tokens, 10);
  EXPECT_EQ(answer->completion_tokens, 20);
  EXPECT_GT(last, 0u);
}

TEST_F(LlmTest, OpenAiParsesEventsSplitAnywhere) {
  FakeResponse r = testing::openai_sse(kAnswer, "stop", {1, 2});
  r.split_bytes = 37;  // lines, events and UTF-8 sequences cut across reads
  r.chunk_delay = milliseconds(1);
  server_.enqueue(r);
  auto answer = make(config("openai"))->complete(request(), nullptr);
  ASSERT_TRUE(answer.ok()) << answer.status().message();
  EXPECT_EQ(answer->text, kAnswer);
  EXPECT_EQ(answer->completion_tokens, 2);
}

TEST_F(LlmTest, OpenAiRejectsAnAnswerCutOffByTheLengthLimit) {
  server_.enqueue(testing::openai_sse("<design><text id=\"8\"", "length"));
  auto answer = make(config("openai"))->complete(request(), nullptr);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(answer.status().message(), "openai: the answer was cut off by the length limit (finish reason: length)");
  EXPECT_EQ(server_.request_count(), 1u);
}

TEST_F(LlmTest, RetriesA429AndHonoursRetryAfter) {
  server_.enqueue(FakeResponse::text(429, R"({"error":{"message":"slow down"}})").with_header("Retry-After", "1"));
  server_.enqueue(testing::openai_sse(kAnswer));
  const auto start = std::chrono::steady_clock::now();
  auto answer = make(config("openai"))->complete(request(), nullptr);
  const double took = seconds_since(start);
  ASSERT_TRUE(answer.ok()) << answer.status().message();
  EXPECT_EQ(answer->text, kAnswer);
  EXPECT_EQ(answer->attempts, 2);
  EXPECT_EQ(server_.request_count(), 2u);
  EXPECT_GE(took, 0.95);  // Retry-After: 1 s, not the 10 ms backoff
  EXPECT_LT(took, 3.0);
  EXPECT_EQ(server_.requests()[1].body, server_.requests()[0].body);
}

TEST_F(LlmTest, ARetryAfterPastTheTimeoutFailsAtOnce) {
  server_.enqueue(FakeResponse::text(429, "{}").with_header("Retry-After", "3600"));
  LlmConfig c = config("openai");
  c.timeout = milliseconds(3000);
  const auto start = std::chrono::steady_clock::now();
  auto answer = make(c)->complete(request(), nullptr);
  EXPECT_LT(seconds_since(start), 1.0);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(answer.status().message(), HasSubstr("rate limited (HTTP 429)"));
  EXPECT_EQ(server_.request_count(), 1u);
}

TEST_F(LlmTest, ServerErrorsAreRetriedThenReported) {
  for (int i = 0; i < 3; ++i) server_.enqueue(FakeResponse::text(500, R"({"error":{"message":"overloaded"}})"));
  server_.enqueue(testing::openai_sse("never reached"));
  LlmConfig c = config("openai");
  c.max_retries = 2;
  auto answer = make(c)->complete(request(), nullptr);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(answer.status().message(), "openai: server error (HTTP 500: overloaded) (after 3 attempts)");
  EXPECT_EQ(server_.request_count(), 3u);
}

TEST_F(LlmTest, BackoffDoublesBetweenRetries) {
  server_.enqueue(FakeResponse::text(503, "busy", "text/plain"));
  server_.enqueue(FakeResponse::text(502, "", "text/plain"));
  server_.enqueue(testing::ollama_ndjson("ok"));
  LlmConfig c = config("ollama");
  c.backoff = milliseconds(100);
  const auto start = std::chrono::steady_clock::now();
  auto answer = make(c)->complete(request(), nullptr);
  const double took = seconds_since(start);
  ASSERT_TRUE(answer.ok()) << answer.status().message();
  EXPECT_EQ(answer->attempts, 3);
  EXPECT_GE(took, 0.29);  // 100 ms + 200 ms
  EXPECT_LT(took, 2.0);
}

TEST_F(LlmTest, ARefusedKeyIsNotRetriedAndNeverQuoted) {
  server_.enqueue(FakeResponse::text(
      401, std::string(R"({"error":{"message":"Incorrect API key provided: )") + kKey + R"(","code":"invalid_api_key"}})"));
  auto answer = make(config("openai"))->complete(request(), nullptr);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(answer.status().message(), "openai: the API key was refused (HTTP 401)");
  EXPECT_THAT(answer.status().message(), Not(HasSubstr(kKey)));
  EXPECT_THAT(answer.status().message(), Not(HasSubstr("sk-")));
  EXPECT_EQ(server_.request_count(), 1u);

  server_.enqueue(FakeResponse::text(403, "forbidden", "text/plain"));
  answer = make(config("openai"))->complete(request(), nullptr);
  EXPECT_EQ(answer.status().code(), StatusCode::kPermissionDenied);
  EXPECT_THAT(answer.status().message(), HasSubstr("(HTTP 403)"));
}

TEST_F(LlmTest, TheKeyIsRedactedFromAnyMessage) {
  server_.enqueue(FakeResponse::text(400, std::string(R"({"error":{"message":"bad request from )") + kKey + R"("}})"));
  auto answer = make(config("openai"))->complete(request(), nullptr);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(answer.status().message(), Not(HasSubstr(kKey)));
  EXPECT_THAT(answer.status().message(), HasSubstr("bad request from ***"));
}

TEST_F(LlmTest, OtherClientErrorsAreNotRetried) {
  server_.enqueue(FakeResponse::text(400, R"({"error":{"message":"max_tokens is too large"}})"));
  auto answer = make(config("openai"))->complete(request(), nullptr);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(answer.status().message(), "openai: the server rejected the request (HTTP 400: max_tokens is too large)");
  EXPECT_EQ(server_.request_count(), 1u);
}

TEST_F(LlmTest, AServerThatNeverAnswersTimesOut) {
  server_.enqueue(FakeResponse::hang_forever());
  LlmConfig c = config("openai");
  c.timeout = milliseconds(300);
  const auto start = std::chrono::steady_clock::now();
  auto answer = make(c)->complete(request(), nullptr);
  const double took = seconds_since(start);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(answer.status().message(), "openai: no complete answer within 0.3 s");
  EXPECT_GE(took, 0.28);
  EXPECT_LT(took, 0.8);
  EXPECT_EQ(server_.request_count(), 1u);  // a timeout is not retried
}

TEST_F(LlmTest, AStreamThatStallsTimesOut) {
  FakeResponse r = testing::llamacpp_sse(kAnswer);
  r.chunks.resize(3);
  r.hang = true;  // a few events, then silence
  server_.enqueue(r);
  LlmConfig c = config("llamacpp");
  c.timeout = milliseconds(300);
  std::size_t last = 0;
  const auto start = std::chrono::steady_clock::now();
  auto answer = make(c)->complete(request(), [&](std::size_t n, std::string_view) { last = n; });
  const double took = seconds_since(start);
  EXPECT_EQ(answer.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(answer.status().message(), "llamacpp: no complete answer within 0.3 s");
  EXPECT_GT(last, 0u);
  EXPECT_LT(took, 0.8);
}

TEST_F(LlmTest, ARefusedConnectionIsUnavailableAndNamesTheUrl) {
  LlmConfig c = config("ollama");
  c.base_url = "http://127.0.0.1:" + std::to_string(testing::unused_port());
  c.max_retries = 1;
  const auto start = std::chrono::steady_clock::now();
  auto answer = make(c)->complete(request(), nullptr);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(answer.status().message(), HasSubstr("ollama: cannot connect to " + c.base_url));
  EXPECT_THAT(answer.status().message(), HasSubstr("connection refused"));
  EXPECT_THAT(answer.status().message(), HasSubstr("after 2 attempts"));
  EXPECT_LT(seconds_since(start), 1.0);
}

TEST_F(LlmTest, ADroppedStreamIsRetriedFromTheStart) {
  FakeResponse dropped = testing::openai_sse(kAnswer);
  dropped.drop_after = 3;
  server_.enqueue(dropped);
  server_.enqueue(testing::openai_sse(kAnswer, "stop", {5, 6}));
  std::vector<std::size_t> progress;
  auto answer = make(config("openai"))->complete(request(), [&](std::size_t n, std::string_view) { progress.push_back(n); });
  ASSERT_TRUE(answer.ok()) << answer.status().message();
  EXPECT_EQ(answer->text, kAnswer);
  EXPECT_EQ(answer->attempts, 2);
  EXPECT_FALSE(std::is_sorted(progress.begin(), progress.end()));  // restarted from 0
}

TEST_F(LlmTest, AStreamEndingWithoutItsEndIsIncomplete) {
  for (int i = 0; i < 2; ++i) {
    FakeResponse r = testing::openai_sse(kAnswer);
    r.chunks.resize(4);  // no finish_reason, no [DONE], but a proper end of body
    server_.enqueue(r);
  }
  LlmConfig c = config("openai");
  c.max_retries = 1;
  auto answer = make(c)->complete(request(), nullptr);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(answer.status().message(),
            "openai: the response ended before the answer was complete (after 2 attempts)");
}

TEST_F(LlmTest, AnErrorEventInTheStreamIsReported) {
  server_.enqueue(FakeResponse::stream({"data: {\"choices\":[{\"delta\":{\"content\":\"<des\"}}]}\n\n",
                                        "data: {\"error\":{\"message\":\"the model crashed\"}}\n\n"},
                                       "text/event-stream"));
  LlmConfig c = config("openai");
  c.max_retries = 0;
  auto answer = make(c)->complete(request(), nullptr);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(answer.status().message(), "openai: the server reported an error: the model crashed");
}

TEST_F(LlmTest, AnUnparsableResponseIsInternal) {
  server_.enqueue(FakeResponse::stream({"data: {\"choices\": [\n\n"}, "text/event-stream"));
  auto answer = make(config("openai"))->complete(request(), nullptr);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), StatusCode::kInternal);
  EXPECT_THAT(answer.status().message(), HasSubstr("openai: unparsable response"));
  EXPECT_EQ(server_.request_count(), 1u);
}

TEST_F(LlmTest, AnHtmlPageIsNotAnAnswer) {
  server_.enqueue(FakeResponse::text(200, "<html><body>Please log in</body></html>\n", "text/html"));
  auto answer = make(config("openai"))->complete(request(), nullptr);
  EXPECT_EQ(answer.status().code(), StatusCode::kInternal);
  EXPECT_THAT(answer.status().message(), HasSubstr("neither JSON nor an event stream: <html>"));
  EXPECT_EQ(server_.request_count(), 1u);
}

TEST_F(LlmTest, CancellingStopsTheCall) {
  // From the progress callback: stops at the next chunk.
  FakeResponse slow = testing::openai_sse(kAnswer);
  slow.chunk_delay = milliseconds(50);
  server_.enqueue(slow);
  std::atomic<bool> cancel{false};
  LlmRequest req = request();
  req.cancelled = [&] { return cancel.load(); };
  const auto start = std::chrono::steady_clock::now();
  auto answer = make(config("openai"))->complete(req, [&](std::size_t, std::string_view) { cancel = true; });
  EXPECT_EQ(answer.status().code(), StatusCode::kCancelled);
  EXPECT_LT(seconds_since(start), 1.0);

  // From another thread while the server is silent.
  server_.enqueue(FakeResponse::hang_forever());
  cancel = false;
  std::thread canceller([&] {
    std::this_thread::sleep_for(milliseconds(100));
    cancel = true;
  });
  const auto start2 = std::chrono::steady_clock::now();
  answer = make(config("openai"))->complete(req, nullptr);
  canceller.join();
  EXPECT_EQ(answer.status().code(), StatusCode::kCancelled);
  EXPECT_LT(seconds_since(start2), 1.6);
}

// ---------------------------------------------------------------------------------------
// ollama

TEST_F(LlmTest, OllamaStreamsNdjson) {
  server_.enqueue(testing::ollama_ndjson(kAnswer, "stop", {123, 45}));
  auto provider = make(config("ollama"));
  EXPECT_EQ(provider->name(), "ollama");
  std::size_t calls = 0;
  auto answer = provider->complete(request(), [&](std::size_t, std::string_view) { ++calls; });
  ASSERT_TRUE(answer.ok()) << answer.status().message();
  EXPECT_EQ(answer->text, kAnswer);
  EXPECT_EQ(answer->finish_reason, "stop");
  EXPECT_EQ(answer->prompt_tokens, 123);
  EXPECT_EQ(answer->completion_tokens, 45);
  EXPECT_GT(calls, 5u);

  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].path, "/api/chat");
  EXPECT_EQ(reqs[0].header("Authorization"), "");  // no key configured, none sent
  json b = body();
  EXPECT_EQ(b["model"], "test-model");
  EXPECT_EQ(b["stream"], true);
  ASSERT_EQ(b["messages"].size(), 2u);
  EXPECT_EQ(b["messages"][0]["content"], request().system);
  EXPECT_EQ(b["messages"][1]["content"], request().user);
  EXPECT_EQ(b["options"]["num_ctx"], 4096);
  EXPECT_EQ(b["options"]["num_predict"], 1000);
  EXPECT_DOUBLE_EQ(b["options"]["temperature"].get<double>(), 0.2);
}

TEST_F(LlmTest, OllamaSizesTheContextToThePrompt) {
  LlmRequest big = request();
  big.system = std::string(8000, 's');
  big.user = std::string(32000, 'u');  // 40000 bytes ≈ 10000 tokens, + 4096 = 14096 -> 14336
  server_.enqueue(testing::ollama_ndjson("ok"));
  LlmConfig c = config("ollama");
  c.max_tokens = 4096;
  auto answer = make(c)->complete(big, nullptr);
  ASSERT_TRUE(answer.ok()) << answer.status().message();
  EXPECT_EQ(body()["options"]["num_ctx"], 14336);
  EXPECT_EQ(body()["options"]["num_predict"], 4096);

  LlmRequest r;
  EXPECT_EQ(ollama_context_size(r, 100), 4096);
  r.user = std::string(4096 * 4, 'x');
  EXPECT_EQ(ollama_context_size(r, 4096), 8192);
  r.user += 'x';
  EXPECT_EQ(ollama_context_size(r, 4096), 9216);
}

TEST_F(LlmTest, OllamaParsesLinesSplitAnywhere) {
  FakeResponse r = testing::ollama_ndjson(kAnswer, "stop", {7, 8});
  r.split_bytes = 29;
  r.chunk_delay = milliseconds(1);
  server_.enqueue(r);
  auto answer = make(config("ollama"))->complete(request(), nullptr);
  ASSERT_TRUE(answer.ok()) << answer.status().message();
  EXPECT_EQ(answer->text, kAnswer);
  EXPECT_EQ(answer->completion_tokens, 8);
}

TEST_F(LlmTest, OllamaRejectsAnAnswerCutOffByTheLengthLimit) {
  server_.enqueue(testing::ollama_ndjson("<design>", "length"));
  auto answer = make(config("ollama"))->complete(request(), nullptr);
  EXPECT_EQ(answer.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(answer.status().message(), "ollama: the answer was cut off by the length limit (finish reason: length)");
}

TEST_F(LlmTest, OllamaReportsAMissingModel) {
  server_.enqueue(FakeResponse::text(404, R"({"error":"model \"test-model\" not found, try pulling it first"})"));
  auto answer = make(config("ollama"))->complete(request(), nullptr);
  EXPECT_EQ(answer.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(answer.status().message(), HasSubstr("model \"test-model\" not found, try pulling it first"));
  EXPECT_EQ(server_.request_count(), 1u);
}

// ---------------------------------------------------------------------------------------
// llamacpp

TEST_F(LlmTest, LlamaCppStreamsWithAGrammar) {
  server_.enqueue(testing::llamacpp_sse(kAnswer, false, {222, 33}));
  LlmConfig c = config("llamacpp");
  c.api_key = "local-server-key";
  auto provider = make(c);
  EXPECT_EQ(provider->name(), "llamacpp");
  LlmRequest req = request();
  req.grammar = "root ::= \"<design>\" [^<]* \"</design>\"\n";
  std::size_t last = 0;
  auto answer = provider->complete(req, [&](std::size_t n, std::string_view) { last = n; });
  ASSERT_TRUE(answer.ok()) << answer.status().message();
  EXPECT_EQ(answer->text, kAnswer);
  EXPECT_EQ(answer->finish_reason, "stop");
  EXPECT_EQ(answer->prompt_tokens, 222);
  EXPECT_EQ(answer->completion_tokens, 33);
  EXPECT_GT(last, 0u);

  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].path, "/completion");
  EXPECT_EQ(reqs[0].header("authorization"), "Bearer local-server-key");
  json b = body();
  EXPECT_EQ(b["prompt"], llamacpp_prompt(req));
  EXPECT_EQ(b["grammar"], req.grammar);
  EXPECT_EQ(b["n_predict"], 1000);
  EXPECT_EQ(b["stream"], true);
  EXPECT_EQ(b["cache_prompt"], true);
  EXPECT_DOUBLE_EQ(b["temperature"].get<double>(), 0.2);
}

TEST_F(LlmTest, LlamaCppCountsThePromptsTokensWithItsTokenizer) {
  server_.enqueue(FakeResponse::text(200, R"({"tokens": [1, 15043, 29892, 3186, 2]})"));
  LlmConfig c = config("llamacpp");
  c.api_key = "local-server-key";
  auto tokens = make(c)->count_tokens(request());
  ASSERT_TRUE(tokens.ok()) << tokens.status().message();
  EXPECT_EQ(*tokens, 5);
  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].path, "/tokenize");
  EXPECT_EQ(reqs[0].header("authorization"), "Bearer local-server-key");
  EXPECT_EQ(body(), json({{"content", llamacpp_prompt(request())}}));

  server_.enqueue(FakeResponse::text(500, R"({"error": {"message": "boom"}})"));
  auto failed = make(config("llamacpp"))->count_tokens(request());
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(failed.status().message(), "llamacpp: counting tokens: HTTP 500");

  server_.enqueue(FakeResponse::text(200, R"({"count": 5})"));
  auto odd = make(config("llamacpp"))->count_tokens(request());
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.status().message(), R"(llamacpp: counting tokens: unexpected response: {"count": 5})");
}

TEST_F(LlmTest, OtherProvidersHaveNoTokenizer) {
  for (const char* p : {"openai", "ollama"}) {
    auto tokens = make(config(p))->count_tokens(request());
    ASSERT_FALSE(tokens.ok()) << p;
    EXPECT_EQ(tokens.status().code(), StatusCode::kUnimplemented) << p;
    EXPECT_EQ(tokens.status().message(), std::string(p) + ": no tokenizer endpoint");
  }
  EXPECT_EQ(server_.request_count(), 0u);
}

TEST_F(LlmTest, LlamaCppPromptLayout) {
  LlmRequest r;
  r.system = "RULES";
  r.user = "REQUEST";
  EXPECT_EQ(llamacpp_prompt(r), "### System\nRULES\n\n### User\nREQUEST\n\n### Assistant\n");
  r.system.clear();
  EXPECT_EQ(llamacpp_prompt(r), "### User\nREQUEST\n\n### Assistant\n");

  server_.enqueue(testing::llamacpp_sse("x"));
  ASSERT_TRUE(make(config("llamacpp"))->complete(request(), nullptr).ok());
  EXPECT_FALSE(body().contains("grammar"));  // no grammar: no field
}

TEST_F(LlmTest, LlamaCppRejectsAnAnswerStoppedByTheLimit) {
  server_.enqueue(testing::llamacpp_sse("<design><text", true));
  auto answer = make(config("llamacpp"))->complete(request(), nullptr);
  EXPECT_EQ(answer.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(answer.status().message(),
            "llamacpp: the answer was cut off by the length limit (finish reason: length)");
}

TEST_F(LlmTest, LlamaCppAcceptsAnOlderStopReport) {
  // Servers before stop_type: stopped_limit / stopped_eos only, and a whole JSON body.
  server_.enqueue(FakeResponse::text(
      200, R"({"content":"done","stop":true,"stopped_limit":true,"tokens_evaluated":3,"tokens_predicted":4})"));
  auto answer = make(config("llamacpp"))->complete(request(), nullptr);
  EXPECT_EQ(answer.status().code(), StatusCode::kInvalidArgument);

  server_.enqueue(FakeResponse::text(
      200, R"({"content":"done","stop":true,"stopped_eos":true,"tokens_evaluated":3,"tokens_predicted":4})"));
  answer = make(config("llamacpp"))->complete(request(), nullptr);
  ASSERT_TRUE(answer.ok()) << answer.status().message();
  EXPECT_EQ(answer->text, "done");
  EXPECT_EQ(answer->prompt_tokens, 3);
}

// ---------------------------------------------------------------------------------------
// configuration

// Clears the variables config_from_environment reads, restoring them afterwards.
class LlmEnvironmentTest : public ::testing::Test {
 protected:
  static constexpr const char* kNames[] = {"ATELIER_LLM", "ATELIER_LLM_BASE_URL", "OPENAI_API_KEY",
                                           "ATELIER_LLM_API_KEY", "ATELIER_LLM_TIMEOUT"};
  void SetUp() override {
    for (const char* n : kNames) {
      const char* v = std::getenv(n);
      saved_.emplace_back(v ? std::optional<std::string>(v) : std::nullopt);
      ::unsetenv(n);
    }
  }
  void TearDown() override {
    for (std::size_t i = 0; i < saved_.size(); ++i) {
      if (saved_[i]) ::setenv(kNames[i], saved_[i]->c_str(), 1);
      else ::unsetenv(kNames[i]);
    }
  }
  std::vector<std::optional<std::string>> saved_;
};

TEST_F(LlmEnvironmentTest, DefaultsWhenNothingIsSet) {
  auto c = config_from_environment();
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->provider, "openai");
  EXPECT_EQ(c->model, "");
  EXPECT_EQ(c->base_url, "");
  EXPECT_EQ(c->api_key, "");
  EXPECT_EQ(c->timeout, milliseconds(120000));
}

TEST_F(LlmEnvironmentTest, ReadsEveryVariable) {
  ScopedEnv llm("ATELIER_LLM", "ollama:llama3.1:8b");
  ScopedEnv url("ATELIER_LLM_BASE_URL", "http://127.0.0.1:9999");
  ScopedEnv timeout("ATELIER_LLM_TIMEOUT", "2.5");
  auto c = config_from_environment();
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->provider, "ollama");
  EXPECT_EQ(c->model, "llama3.1:8b");
  EXPECT_EQ(c->base_url, "http://127.0.0.1:9999");
  EXPECT_EQ(c->timeout, milliseconds(2500));
}

TEST_F(LlmEnvironmentTest, ChoosesTheApiKey) {
  ScopedEnv llm("ATELIER_LLM", "openai:gpt-4o");
  {
    ScopedEnv key("OPENAI_API_KEY", "sk-from-openai-var");
    EXPECT_EQ(config_from_environment()->api_key, "sk-from-openai-var");
    ScopedEnv mine("ATELIER_LLM_API_KEY", "sk-from-atelier-var");
    EXPECT_EQ(config_from_environment()->api_key, "sk-from-atelier-var");
  }
  // OPENAI_API_KEY is never handed to another provider.
  ScopedEnv other("ATELIER_LLM", "ollama:llama3.1");
  ScopedEnv key("OPENAI_API_KEY", "sk-from-openai-var");
  EXPECT_EQ(config_from_environment()->api_key, "");
  ScopedEnv mine("ATELIER_LLM_API_KEY", "proxy-key");
  EXPECT_EQ(config_from_environment()->api_key, "proxy-key");
}

TEST_F(LlmEnvironmentTest, RejectsMalformedValues) {
  for (const char* bad : {"gpt-4o", "openai:", ":gpt-4o", "claude:sonnet", "ollama"}) {
    ScopedEnv llm("ATELIER_LLM", bad);
    auto c = config_from_environment();
    EXPECT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(c.status().message(), HasSubstr("ATELIER_LLM must be provider:model")) << bad;
  }
  {
    ScopedEnv llm("ATELIER_LLM", "llamacpp");  // the server has its model loaded
    auto c = config_from_environment();
    ASSERT_TRUE(c.ok()) << c.status().message();
    EXPECT_EQ(c->provider, "llamacpp");
  }
  for (const char* bad : {"abc", "0", "-5", "10s", "nan"}) {
    ScopedEnv timeout("ATELIER_LLM_TIMEOUT", bad);
    auto c = config_from_environment();
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(c.status().message(), HasSubstr("ATELIER_LLM_TIMEOUT")) << bad;
  }
}

TEST(LlmProviderTest, MakeProviderValidatesTheConfig) {
  auto code = [](const LlmConfig& c) { return make_provider(c).status().code(); };
  LlmConfig c;
  c.model = "gpt-4o";
  c.api_key = kKey;
  EXPECT_TRUE(make_provider(c).ok());

  LlmConfig bad = c;
  bad.provider = "claude";
  EXPECT_EQ(code(bad), StatusCode::kInvalidArgument);
  EXPECT_THAT(make_provider(bad).status().message(), HasSubstr("unknown LLM provider \"claude\""));

  bad = c;
  bad.model.clear();
  EXPECT_EQ(code(bad), StatusCode::kInvalidArgument);
  EXPECT_THAT(make_provider(bad).status().message(), HasSubstr("no model"));

  bad = c;
  bad.api_key.clear();  // the default (public) endpoint needs a key
  EXPECT_EQ(code(bad), StatusCode::kFailedPrecondition);
  EXPECT_THAT(make_provider(bad).status().message(), HasSubstr("OPENAI_API_KEY"));
  bad.base_url = "http://127.0.0.1:8000/v1/";  // a local compatible server may not
  EXPECT_TRUE(make_provider(bad).ok());

  bad = c;
  bad.base_url = "ftp://127.0.0.1/v1";
  EXPECT_EQ(code(bad), StatusCode::kInvalidArgument);
  bad = c;
  bad.max_retries = -1;
  EXPECT_EQ(code(bad), StatusCode::kInvalidArgument);
  bad = c;
  bad.timeout = milliseconds(0);
  EXPECT_EQ(code(bad), StatusCode::kInvalidArgument);
  bad = c;
  bad.max_tokens = 0;
  EXPECT_EQ(code(bad), StatusCode::kInvalidArgument);
  bad = c;
  bad.temperature = -1;
  EXPECT_EQ(code(bad), StatusCode::kInvalidArgument);
  bad = c;
  bad.api_key = "abc\r\nX-Injected: 1";
  EXPECT_EQ(code(bad), StatusCode::kInvalidArgument);
  EXPECT_THAT(make_provider(bad).status().message(), Not(HasSubstr("abc")));

  LlmConfig local;
  local.provider = "llamacpp";  // no model needed
  EXPECT_TRUE(make_provider(local).ok());
  local.provider = "ollama";
  EXPECT_EQ(code(local), StatusCode::kInvalidArgument);
  local.model = "llama3.1";
  EXPECT_TRUE(make_provider(local).ok());
}

}  // namespace
}  // namespace atelier::genai
