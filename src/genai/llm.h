// Language-model providers behind one interface:
//   openai    OpenAI Chat Completions, any compatible server (OpenAI, vLLM, llama.cpp's
//             server, LM Studio) through a configurable base URL; SSE streaming
//   ollama    Ollama /api/chat, NDJSON streaming, options.num_ctx sized to the prompt
//             (Ollama otherwise truncates long prompts silently)
//   llamacpp  llama.cpp's /completion with a GBNF grammar (grammar.h), SSE streaming
// Each call streams with progress, has a timeout, retries 429 and 5xx with exponential
// backoff, and rejects an answer cut off by the length limit. API keys come from the
// environment and never appear in messages or logs; a configured key is sent only as
// "Authorization: Bearer …" (every provider: llama.cpp's server --api-key and proxies in
// front of Ollama use the same header).
//
// HTTP goes through libcurl: TLS peers are verified, proxies are taken from the environment
// as curl does (http_proxy, https_proxy, no_proxy), redirects are not followed.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/status.h"

namespace atelier::genai {

struct LlmConfig {
  std::string provider = "openai";  // openai | ollama | llamacpp
  std::string model;                // e.g. gpt-4o, llama3.1
  std::string base_url;             // default per provider: https://api.openai.com/v1, http://127.0.0.1:11434, http://127.0.0.1:8080
  std::string api_key;              // openai: Authorization: Bearer …
  // The whole call: connecting, streaming, every retry and the waits between them. A
  // timeout is not retried.
  std::chrono::milliseconds timeout{120000};
  int max_retries = 3;              // for 429 / 5xx / connection failures
  // First retry delay, doubled each time; a Retry-After header (seconds or date) replaces
  // it. Every wait is capped at 60 s, and no wait runs past the timeout.
  std::chrono::milliseconds backoff{500};
  int max_tokens = 4096;            // answer length limit
  double temperature = 0.2;
};

// From the environment: ATELIER_LLM ("provider:model", e.g. openai:gpt-4o),
// ATELIER_LLM_BASE_URL, OPENAI_API_KEY (or ATELIER_LLM_API_KEY), ATELIER_LLM_TIMEOUT
// (seconds). Flags override it afterwards. Errors: a malformed ATELIER_LLM.
//
// Details: unset or empty variables leave the defaults. ATELIER_LLM splits at the first
// ':' (so "ollama:llama3.1:8b" is model "llama3.1:8b"); the provider must be known and the
// model non-empty, except for llamacpp (the server has one model loaded; "llamacpp" alone
// is accepted). ATELIER_LLM_API_KEY wins over OPENAI_API_KEY; OPENAI_API_KEY is used only
// by the openai provider, so it is never sent to a local server. ATELIER_LLM_TIMEOUT is a
// positive number of seconds ("90", "2.5"); anything else is an error too.
Result<LlmConfig> config_from_environment();

struct LlmRequest {
  std::string system;   // role and rules (the fixed, cacheable part first)
  std::string user;     // example, current design, request
  std::string grammar;  // llamacpp only: GBNF constraining the answer (empty: none)
  // Polled while waiting (about once a second at least, and between retries); returning
  // true stops the call with kCancelled. Empty: never cancelled.
  std::function<bool()> cancelled;
};

struct LlmAnswer {
  std::string text;
  std::string finish_reason;  // "stop", "length", ...
  int prompt_tokens = 0;      // as the provider reports them (0: unknown)
  int completion_tokens = 0;
  double seconds = 0;
  int attempts = 1;
};

// Called while streaming with the number of characters (UTF-8 code points) of the answer
// received so far and the text that arrived since the last call. A retry starts again
// from 0 (and its text from the beginning).
using LlmProgress = std::function<void(std::size_t characters, std::string_view delta)>;

class LlmProvider {
 public:
  virtual ~LlmProvider() = default;
  virtual std::string name() const = 0;
  // Errors: kDeadlineExceeded (timeout), kUnavailable (no connection, 5xx/429 after the
  // retries), kPermissionDenied (401/403: "the API key was refused"), kInvalidArgument
  // ("the answer was cut off by the length limit (finish reason: length)"), kInternal
  // (unparsable response), kNotFound (HTTP 404, e.g. a model Ollama has not pulled),
  // kCancelled (LlmRequest::cancelled). Every message starts with the provider's name and
  // says after how many attempts it gave up when it retried. Safe to call from several
  // threads at once (each call has its own connection).
  virtual Result<LlmAnswer> complete(const LlmRequest& request, const LlmProgress& progress) = 0;
  // The exact number of tokens of the request's prompt, where the provider has a tokenizer
  // endpoint (llamacpp: POST /tokenize, one try, at most 10 s). kUnimplemented for the others
  // (callers then estimate, see serializer.h estimate_tokens); other errors as complete().
  virtual Result<int> count_tokens(const LlmRequest& request);
};

// Errors: unknown provider, missing model, openai without an API key on the default URL.
// Also kInvalidArgument for a base URL that is not http(s)://…, a timeout <= 0, negative
// retries or backoff, max_tokens <= 0, a negative or non-finite temperature. An empty
// base_url takes the provider's default; a trailing '/' is dropped. llamacpp needs no
// model (the name, if any, is only a label). Missing key: kFailedPrecondition.
Result<std::unique_ptr<LlmProvider>> make_provider(const LlmConfig& config);

// Wire details, exposed for tests and documentation.
//
// Ollama's options.num_ctx for a request: the prompt's estimated tokens (bytes of system +
// user / 4, rounded up) plus max_tokens, rounded up to a multiple of 1024, at least 4096.
int ollama_context_size(const LlmRequest& request, int max_tokens);

// The prompt llamacpp sends to /completion, a plain chat layout (the system block is
// left out when `system` is empty); generation also stops at "\n### User":
//   ### System
//   {system}
//
//   ### User
//   {user}
//
//   ### Assistant
//   (the answer follows this line)
std::string llamacpp_prompt(const LlmRequest& request);

}  // namespace atelier::genai
