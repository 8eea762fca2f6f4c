#include "genai/llm.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string_view>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/text.h"
#include "core/http_client.h"

namespace atelier::genai {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kMaxRetryWait{60000};
constexpr milliseconds kConnectTimeout{10000};
constexpr std::size_t kMaxBuffered = 64u << 20;
constexpr std::string_view kOpenAiDefault = "https://api.openai.com/v1";
constexpr std::string_view kOllamaDefault = "http://127.0.0.1:11434";
constexpr std::string_view kLlamaCppDefault = "http://127.0.0.1:8080";

// ---------------------------------------------------------------------------------------
// Small helpers

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? trim(v) : std::string();
}

bool known_provider(std::string_view p) { return p == "openai" || p == "ollama" || p == "llamacpp"; }

// Replaces every occurrence of `secret` in `text` (keys must never reach a message).
std::string redact(std::string text, const std::string& secret) {
  if (secret.empty()) return text;
  for (std::size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3)) {
    text.replace(at, secret.size(), "***");
  }
  return text;
}

// One line of at most `limit` bytes, for quoting server text in messages.
std::string one_line(std::string_view s, std::size_t limit = 200) {
  std::string out;
  for (char c : s) {
    if (out.size() >= limit) {
      out += "...";
      break;
    }
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  }
  return trim(out);
}

const json* member(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

std::string string_member(const json& j, const char* key) {
  const json* m = member(j, key);
  return m && m->is_string() ? m->get<std::string>() : std::string();
}

int int_member(const json& j, const char* key) {
  const json* m = member(j, key);
  if (!m || !m->is_number()) return 0;
  const double v = m->get<double>();
  return v > 0 && v < 2e9 ? int(v) : 0;
}

bool bool_member(const json& j, const char* key) {
  const json* m = member(j, key);
  return m && m->is_boolean() && m->get<bool>();
}

// The human-readable error in a server's error body: {"error":{"message":…}} (OpenAI,
// llama.cpp), {"error":"…"} (Ollama), {"message":"…"}, else the body itself.
std::string error_text(std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (!j.is_discarded() && j.is_object()) {
    if (const json* e = member(j, "error")) {
      if (e->is_string()) return one_line(e->get<std::string>());
      std::string m = string_member(*e, "message");
      if (!m.empty()) return one_line(m);
    }
    std::string m = string_member(j, "message");
    if (!m.empty()) return one_line(m);
    return {};
  }
  return one_line(body);
}

// ---------------------------------------------------------------------------------------
// Response bodies: SSE ("data: {…}" events, "data: [DONE]"), NDJSON (one object a line)
// or a single JSON document (a server that ignored "stream": true).

struct StreamState {
  std::string text;
  std::string finish_reason;
  int prompt_tokens = 0;
  int completion_tokens = 0;
  bool done = false;  // the end marker arrived
};

class BodyParser {
 public:
  using EventFn = std::function<Status(const json&)>;
  BodyParser(bool ndjson, EventFn on_event, StreamState& state)
      : ndjson_(ndjson), on_event_(std::move(on_event)), state_(state) {}

  Status feed(std::string_view bytes) {
    if (mode_ == Mode::kUnknown) {
      const auto first = bytes.find_first_not_of(" \t\r\n");
      if (first == std::string_view::npos) return {};
      bytes.remove_prefix(first);
      mode_ = ndjson_ ? Mode::kLines : (bytes[0] == '{' || bytes[0] == '[') ? Mode::kDocument : Mode::kSse;
    }
    if (pending_.size() + bytes.size() > kMaxBuffered) {
      return resource_exhausted("the response is larger than " + std::to_string(kMaxBuffered >> 20) + " MiB");
    }
    if (head_.size() < 80) head_.append(bytes.substr(0, 80 - head_.size()));
    pending_.append(bytes);
    if (mode_ == Mode::kDocument) return {};
    std::size_t start = 0;
    for (std::size_t nl = pending_.find('\n'); nl != std::string::npos; nl = pending_.find('\n', start)) {
      std::string_view line(pending_.data() + start, nl - start);
      start = nl + 1;
      ATELIER_TRY(line_(line));
    }
    pending_.erase(0, start);
    return {};
  }

  // End of the body: whatever is left is handled as if terminated.
  Status finish() {
    switch (mode_) {
      case Mode::kUnknown: return {};
      case Mode::kDocument: {
        json j = json::parse(pending_, nullptr, false);
        if (j.is_discarded()) return internal_error("unparsable response: " + one_line(pending_, 80));
        ATELIER_TRY(event(j));
        state_.done = true;
        return {};
      }
      case Mode::kLines:
      case Mode::kSse:
        if (!pending_.empty()) {
          std::string rest = std::move(pending_);
          pending_.clear();
          ATELIER_TRY(line_(rest));
        }
        if (mode_ == Mode::kSse) {
          if (!saw_field_) return internal_error("the response is neither JSON nor an event stream: " + one_line(head_, 80));
          return dispatch();
        }
        return {};
    }
    return {};
  }

 private:
  enum class Mode { kUnknown, kSse, kLines, kDocument };

  Status line_(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (mode_ == Mode::kLines) {
      if (trim(line).empty()) return {};
      return parse_and_handle(line);
    }
    // SSE
    if (line.empty()) return dispatch();
    if (line[0] == ':') return {};  // comment / keep-alive
    const auto colon = line.find(':');
    std::string_view field = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
    if (field == "data" || field == "event" || field == "id" || field == "retry") saw_field_ = true;
    if (field == "data") {
      if (has_data_) data_ += '\n';
      data_.append(value);
      has_data_ = true;
    } else if (field == "error") {  // llama.cpp's server reports failures this way
      std::string text = error_text(value);
      return unavailable("the server reported an error: " + (text.empty() ? one_line(value) : text));
    }
    return {};  // event:, id:, retry: and unknown fields are ignored
  }

  Status dispatch() {
    if (!has_data_) return {};
    std::string data = std::move(data_);
    data_.clear();
    has_data_ = false;
    if (trim(data) == "[DONE]") {
      state_.done = true;
      return {};
    }
    return parse_and_handle(data);
  }

  Status parse_and_handle(std::string_view text) {
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) return internal_error("unparsable response: " + one_line(text, 80));
    return event(j);
  }

  Status event(const json& j) {
    if (const json* e = member(j, "error")) {
      std::string text = e->is_string() ? one_line(e->get<std::string>()) : one_line(string_member(*e, "message"));
      if (text.empty()) text = one_line(e->dump(), 120);
      return unavailable("the server reported an error: " + text);
    }
    try {
      return on_event_(j);
    } catch (const json::exception& ex) {
      return internal_error(std::string("unexpected response: ") + ex.what());
    }
  }

  bool ndjson_;
  EventFn on_event_;
  StreamState& state_;
  Mode mode_ = Mode::kUnknown;
  std::string pending_;
  std::string data_;
  bool has_data_ = false;
  bool saw_field_ = false;  // SSE: a data:/event:/id:/retry: line arrived
  std::string head_;        // the first bytes, for messages
};

// ---------------------------------------------------------------------------------------
// The retrying HTTP provider; subclasses supply the wire format.

bool is_cancelled(const LlmRequest& request) {
  if (!request.cancelled) return false;
  try {
    return request.cancelled();
  } catch (...) {
    return true;
  }
}

struct Attempt {
  Status status;
  bool retryable = false;
  std::int64_t retry_after = -1;  // seconds
};

class HttpProvider : public LlmProvider {
 public:
  explicit HttpProvider(LlmConfig config) : config_(std::move(config)) {}

  Result<LlmAnswer> complete(const LlmRequest& request, const LlmProgress& progress) override {
    const auto start = Clock::now();
    const auto deadline = start + config_.timeout;
    HttpRequest http;
    http.url = config_.base_url + endpoint();
    http.headers = {"Content-Type: application/json", "Accept: text/event-stream, application/x-ndjson, application/json"};
    if (!config_.api_key.empty()) http.headers.push_back("Authorization: Bearer " + config_.api_key);
    try {
      http.body = body(request).dump(-1, ' ', false, json::error_handler_t::replace);
    } catch (const std::exception& e) {
      return fail(internal_error(std::string("cannot build the request: ") + e.what()), 1);
    }
    http.cancelled = request.cancelled;

    const int max_attempts = config_.max_retries + 1;
    for (int attempt = 1;; ++attempt) {
      if (is_cancelled(request)) return fail(Status(StatusCode::kCancelled, "cancelled"), attempt - 1);
      const auto remaining = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (remaining.count() <= 0) return fail(timeout_status(), attempt - 1);
      http.timeout = remaining;
      http.connect_timeout = std::min(kConnectTimeout, remaining);

      LlmAnswer answer;
      Attempt a = once(http, progress, answer);
      if (a.status.ok()) {
        answer.attempts = attempt;
        answer.seconds = std::chrono::duration<double>(Clock::now() - start).count();
        return answer;
      }
      if (!a.retryable || attempt >= max_attempts) return fail(a.status, attempt);

      milliseconds wait = config_.backoff * (std::int64_t(1) << std::min(attempt - 1, 20));
      if (a.retry_after >= 0) wait = milliseconds(std::min<std::int64_t>(a.retry_after, 1000000) * 1000);
      wait = std::min(wait, kMaxRetryWait);
      if (Clock::now() + wait >= deadline) {
        return fail(Status(a.status.code(), a.status.message() + "; no time left to retry within the " +
                                                format_seconds(config_.timeout) + " s limit"),
                    attempt);
      }
      const auto until = Clock::now() + wait;
      while (Clock::now() < until) {
        if (is_cancelled(request)) return fail(Status(StatusCode::kCancelled, "cancelled"), attempt);
        std::this_thread::sleep_for(std::min<Clock::duration>(until - Clock::now(), milliseconds(20)));
      }
    }
  }

 protected:
  virtual std::string endpoint() const = 0;
  virtual json body(const LlmRequest& request) const = 0;
  virtual bool ndjson() const { return false; }
  // Applies one JSON event (a streamed chunk, or a whole non-streamed response) to `state`.
  virtual Status apply(const json& event, StreamState& state) const = 0;

  const LlmConfig& config() const { return config_; }

 private:
  Status timeout_status() const {
    return Status(StatusCode::kDeadlineExceeded, "no complete answer within " + format_seconds(config_.timeout) + " s");
  }

  // "<provider>: <message>[ after N attempts]", with the key redacted.
  Status fail(const Status& s, int attempts) const {
    std::string m = name() + ": " + s.message();
    if (attempts > 1 && s.code() != StatusCode::kCancelled) m += " (after " + std::to_string(attempts) + " attempts)";
    return Status(s.code(), redact(std::move(m), config_.api_key));
  }

  Attempt once(HttpRequest& http, const LlmProgress& progress, LlmAnswer& answer) const {
    StreamState state;
    std::size_t reported = 0;
    BodyParser parser(
        ndjson(),
        [&](const json& event) -> Status {
          const std::size_t before = state.text.size();
          ATELIER_TRY(apply(event, state));
          if (progress && state.text.size() != before) {
            const std::string_view delta = std::string_view(state.text).substr(before);
            reported += utf8_length(delta);
            progress(reported, delta);
          }
          return {};
        },
        state);
    http.on_data = [&](std::string_view chunk) { return parser.feed(chunk); };

    HttpOutcome out = http_send(http);
    http.on_data = nullptr;
    Attempt a;
    switch (out.failure) {
      case HttpFailure::kNone: break;
      case HttpFailure::kTimeout: a.status = timeout_status(); return a;
      case HttpFailure::kConnect:
        a.status = out.status;
        a.retryable = true;
        return a;
      case HttpFailure::kCallback:
        a.status = out.status;
        a.retryable = out.status.code() == StatusCode::kUnavailable;  // an error event mid-stream
        return a;
      default: a.status = out.status; return a;
    }

    const long code = out.response.status;
    if (code >= 200 && code < 300) {
      Status st = parser.finish();
      if (!st.ok()) {
        a.status = st;
        a.retryable = st.code() == StatusCode::kUnavailable;
        return a;
      }
      if (!state.done && state.finish_reason.empty()) {
        a.status = unavailable("the response ended before the answer was complete");
        a.retryable = true;
        return a;
      }
      if (state.finish_reason == "length") {
        a.status = invalid_argument("the answer was cut off by the length limit (finish reason: length)");
        return a;
      }
      answer.text = std::move(state.text);
      answer.finish_reason = std::move(state.finish_reason);
      answer.prompt_tokens = state.prompt_tokens;
      answer.completion_tokens = state.completion_tokens;
      return a;
    }

    const std::string http_code = "HTTP " + std::to_string(code);
    const std::string detail = error_text(out.response.body);
    const std::string with_detail = detail.empty() ? http_code : http_code + ": " + detail;
    if (code == 401 || code == 403) {
      // The body is never quoted here: OpenAI's echoes part of the refused key.
      a.status = config_.api_key.empty()
                     ? permission_denied("the server requires an API key (" + http_code +
                                         "); set ATELIER_LLM_API_KEY (or OPENAI_API_KEY for openai)")
                     : permission_denied("the API key was refused (" + http_code + ")");
    } else if (code == 429) {
      a.status = unavailable("rate limited (" + with_detail + ")");
      a.retryable = true;
      a.retry_after = out.response.retry_after_seconds;
    } else if (code >= 500 && code < 600) {
      a.status = unavailable("server error (" + with_detail + ")");
      a.retryable = true;
      a.retry_after = out.response.retry_after_seconds;
    } else if (code == 404) {
      a.status = not_found("not found at " + url_for_display(http.url) + " (" + with_detail + ")");
    } else if (code >= 400 && code < 500) {
      a.status = invalid_argument("the server rejected the request (" + with_detail + ")");
    } else {
      a.status = unavailable("unexpected response from " + url_for_display(http.url) + " (" + http_code + ")");
    }
    return a;
  }

  LlmConfig config_;
};

json chat_messages(const LlmRequest& request) {
  json messages = json::array();
  if (!request.system.empty()) messages.push_back({{"role", "system"}, {"content", request.system}});
  messages.push_back({{"role", "user"}, {"content", request.user}});
  return messages;
}

class OpenAiProvider final : public HttpProvider {
 public:
  using HttpProvider::HttpProvider;
  std::string name() const override { return "openai"; }

 protected:
  std::string endpoint() const override { return "/chat/completions"; }

  json body(const LlmRequest& request) const override {
    return {{"model", config().model},
            {"messages", chat_messages(request)},
            {"stream", true},
            {"max_tokens", config().max_tokens},
            {"temperature", config().temperature},
            {"stream_options", {{"include_usage", true}}}};
  }

  Status apply(const json& event, StreamState& state) const override {
    if (const json* choices = member(event, "choices"); choices && choices->is_array() && !choices->empty()) {
      const json& choice = (*choices)[0];
      if (const json* delta = member(choice, "delta")) {
        state.text += string_member(*delta, "content");
      } else if (const json* message = member(choice, "message")) {  // non-streamed
        state.text += string_member(*message, "content");
      } else {
        state.text += string_member(choice, "text");  // legacy completions shape
      }
      std::string reason = string_member(choice, "finish_reason");
      if (!reason.empty()) state.finish_reason = std::move(reason);
    }
    if (const json* usage = member(event, "usage")) {
      state.prompt_tokens = int_member(*usage, "prompt_tokens");
      state.completion_tokens = int_member(*usage, "completion_tokens");
    }
    return {};
  }
};

class OllamaProvider final : public HttpProvider {
 public:
  using HttpProvider::HttpProvider;
  std::string name() const override { return "ollama"; }

 protected:
  std::string endpoint() const override { return "/api/chat"; }
  bool ndjson() const override { return true; }

  json body(const LlmRequest& request) const override {
    return {{"model", config().model},
            {"messages", chat_messages(request)},
            {"stream", true},
            {"options",
             {{"num_ctx", ollama_context_size(request, config().max_tokens)},
              {"temperature", config().temperature},
              {"num_predict", config().max_tokens}}}};
  }

  Status apply(const json& event, StreamState& state) const override {
    if (const json* message = member(event, "message")) state.text += string_member(*message, "content");
    if (bool_member(event, "done")) {
      state.done = true;
      state.finish_reason = string_member(event, "done_reason");
      if (state.finish_reason.empty()) state.finish_reason = "stop";
      state.prompt_tokens = int_member(event, "prompt_eval_count");
      state.completion_tokens = int_member(event, "eval_count");
    }
    return {};
  }
};

class LlamaCppProvider final : public HttpProvider {
 public:
  using HttpProvider::HttpProvider;
  std::string name() const override { return "llamacpp"; }

  // POST /tokenize {"content": prompt} -> {"tokens": [...]}.
  Result<int> count_tokens(const LlmRequest& request) override {
    HttpRequest http;
    http.url = config().base_url + "/tokenize";
    http.headers = {"Content-Type: application/json"};
    if (!config().api_key.empty()) http.headers.push_back("Authorization: Bearer " + config().api_key);
    http.body = json{{"content", llamacpp_prompt(request)}}.dump(-1, ' ', false, json::error_handler_t::replace);
    http.timeout = std::min(config().timeout, milliseconds(10000));
    http.connect_timeout = std::min(kConnectTimeout, http.timeout);
    http.cancelled = request.cancelled;
    HttpOutcome out = http_send(http);
    auto fail = [&](const std::string& why) {
      return Status(out.status.ok() ? StatusCode::kUnavailable : out.status.code(),
                    redact(name() + ": counting tokens: " + why, config().api_key));
    };
    if (!out.status.ok()) return fail(out.status.message());
    if (out.response.status < 200 || out.response.status >= 300) {
      return fail("HTTP " + std::to_string(out.response.status));
    }
    json j = json::parse(out.response.body, nullptr, false);
    const json* tokens = j.is_discarded() ? nullptr : member(j, "tokens");
    if (!tokens || !tokens->is_array()) return fail("unexpected response: " + one_line(out.response.body, 80));
    return int(tokens->size());
  }

 protected:
  std::string endpoint() const override { return "/completion"; }

  json body(const LlmRequest& request) const override {
    json b = {{"prompt", llamacpp_prompt(request)},
              {"n_predict", config().max_tokens},
              {"temperature", config().temperature},
              {"stream", true},
              {"cache_prompt", true},
              {"stop", json::array({"\n### User"})}};
    if (!request.grammar.empty()) b["grammar"] = request.grammar;
    return b;
  }

  Status apply(const json& event, StreamState& state) const override {
    state.text += string_member(event, "content");
    if (bool_member(event, "stop")) {
      state.done = true;
      const std::string type = string_member(event, "stop_type");
      const bool limit = type == "limit" || (type.empty() && bool_member(event, "stopped_limit"));
      state.finish_reason = limit ? "length" : "stop";
      state.prompt_tokens = int_member(event, "tokens_evaluated");
      state.completion_tokens = int_member(event, "tokens_predicted");
      if (const json* timings = member(event, "timings")) {
        if (state.prompt_tokens == 0) state.prompt_tokens = int_member(*timings, "prompt_n");
        if (state.completion_tokens == 0) state.completion_tokens = int_member(*timings, "predicted_n");
      }
    }
    return {};
  }
};

}  // namespace

// -----------------------------------------------------------------------------------------

Result<int> LlmProvider::count_tokens(const LlmRequest&) {
  return Status(StatusCode::kUnimplemented, name() + ": no tokenizer endpoint");
}

int ollama_context_size(const LlmRequest& request, int max_tokens) {
  const std::int64_t bytes = std::int64_t(request.system.size()) + std::int64_t(request.user.size());
  const std::int64_t tokens = (bytes + 3) / 4 + std::max(0, max_tokens);
  const std::int64_t rounded = (tokens + 1023) / 1024 * 1024;
  return int(std::clamp<std::int64_t>(rounded, 4096, std::int64_t(1) << 30));
}

std::string llamacpp_prompt(const LlmRequest& request) {
  std::string p;
  if (!request.system.empty()) p += "### System\n" + request.system + "\n\n";
  p += "### User\n" + request.user + "\n\n### Assistant\n";
  return p;
}

Result<LlmConfig> config_from_environment() {
  LlmConfig c;
  if (std::string spec = env("ATELIER_LLM"); !spec.empty()) {
    const auto colon = spec.find(':');
    std::string provider = trim(spec.substr(0, colon));
    std::string model = colon == std::string::npos ? std::string() : trim(spec.substr(colon + 1));
    const std::string usage = "ATELIER_LLM must be provider:model with provider openai, ollama or llamacpp "
                              "(e.g. openai:gpt-4o, ollama:llama3.1), got \"" + spec + "\"";
    if (!known_provider(provider)) return invalid_argument(usage);
    if (model.empty() && provider != "llamacpp") return invalid_argument(usage);
    c.provider = std::move(provider);
    c.model = std::move(model);
  }
  if (std::string url = env("ATELIER_LLM_BASE_URL"); !url.empty()) c.base_url = url;
  if (std::string key = env("ATELIER_LLM_API_KEY"); !key.empty()) {
    c.api_key = key;
  } else if (c.provider == "openai") {
    c.api_key = env("OPENAI_API_KEY");
  }
  if (std::string t = env("ATELIER_LLM_TIMEOUT"); !t.empty()) {
    char* end = nullptr;
    const double seconds = std::strtod(t.c_str(), &end);
    if (end == t.c_str() || *end != '\0' || !std::isfinite(seconds) || seconds <= 0 || seconds > 86400 * 7) {
      return invalid_argument("ATELIER_LLM_TIMEOUT must be a positive number of seconds, got \"" + t + "\"");
    }
    c.timeout = milliseconds(std::max<std::int64_t>(1, std::llround(seconds * 1000)));
  }
  return c;
}

Result<std::unique_ptr<LlmProvider>> make_provider(const LlmConfig& config) {
  LlmConfig c = config;
  if (!known_provider(c.provider)) {
    return invalid_argument("unknown LLM provider \"" + c.provider + "\" (expected openai, ollama or llamacpp)");
  }
  const std::string& p = c.provider;
  if (c.model.empty() && p != "llamacpp") return invalid_argument(p + ": no model given (e.g. " + p + ":" +
                                                                      (p == "openai" ? "gpt-4o" : "llama3.1") + ")");
  if (c.base_url.empty()) {
    c.base_url = std::string(p == "openai" ? kOpenAiDefault : p == "ollama" ? kOllamaDefault : kLlamaCppDefault);
  }
  while (!c.base_url.empty() && c.base_url.back() == '/') c.base_url.pop_back();
  if (!c.base_url.starts_with("http://") && !c.base_url.starts_with("https://")) {
    return invalid_argument(p + ": the base URL must start with http:// or https://, got \"" +
                            url_for_display(c.base_url) + "\"");
  }
  if (p == "openai" && c.api_key.empty() && c.base_url == kOpenAiDefault) {
    return failed_precondition("openai: no API key (set OPENAI_API_KEY or ATELIER_LLM_API_KEY)");
  }
  if (c.api_key.find_first_of("\r\n") != std::string::npos) {
    return invalid_argument(p + ": the API key contains a line break");
  }
  if (c.timeout.count() <= 0) return invalid_argument(p + ": the timeout must be positive");
  if (c.max_retries < 0) return invalid_argument(p + ": max_retries must not be negative");
  if (c.backoff.count() < 0) return invalid_argument(p + ": the retry backoff must not be negative");
  if (c.max_tokens <= 0) return invalid_argument(p + ": max_tokens must be positive");
  if (!std::isfinite(c.temperature) || c.temperature < 0) {
    return invalid_argument(p + ": the temperature must be a number >= 0");
  }
  std::unique_ptr<LlmProvider> provider;
  if (p == "openai") provider = std::make_unique<OpenAiProvider>(std::move(c));
  else if (p == "ollama") provider = std::make_unique<OllamaProvider>(std::move(c));
  else provider = std::make_unique<LlamaCppProvider>(std::move(c));
  return provider;
}

}  // namespace atelier::genai
