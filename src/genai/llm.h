// Language-model providers behind one interface:
//   openai    OpenAI Chat Completions, any compatible server (OpenAI, vLLM, llama.cpp's
//             server, LM Studio) through a configurable base URL; SSE streaming
//   ollama    Ollama /api/chat, NDJSON streaming, options.num_ctx sized to the prompt
//             (Ollama otherwise truncates long prompts silently)
//   llamacpp  llama.cpp's /completion with a GBNF grammar (grammar.h), SSE streaming
// Each call streams with progress, has a timeout, retries 429 and 5xx with exponential
// backoff, and rejects an answer cut off by the length limit. API keys come from the
// environment and never appear in messages or logs.
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
  std::chrono::milliseconds timeout{120000};  // whole request, including streaming
  int max_retries = 3;              // for 429 / 5xx / connection failures
  std::chrono::milliseconds backoff{500};     // first retry delay, doubled each time
  int max_tokens = 4096;            // answer length limit
  double temperature = 0.2;
};

// From the environment: ATELIER_LLM ("provider:model", e.g. openai:gpt-4o),
// ATELIER_LLM_BASE_URL, OPENAI_API_KEY (or ATELIER_LLM_API_KEY), ATELIER_LLM_TIMEOUT
// (seconds). Flags override it afterwards. Errors: a malformed ATELIER_LLM.
Result<LlmConfig> config_from_environment();

struct LlmRequest {
  std::string system;   // role and rules (the fixed, cacheable part first)
  std::string user;     // example, current design, request
  std::string grammar;  // llamacpp only: GBNF constraining the answer (empty: none)
};

struct LlmAnswer {
  std::string text;
  std::string finish_reason;  // "stop", "length", ...
  int prompt_tokens = 0;      // as the provider reports them (0: unknown)
  int completion_tokens = 0;
  double seconds = 0;
  int attempts = 1;
};

// Called while streaming with the number of characters received so far.
using LlmProgress = std::function<void(std::size_t characters)>;

class LlmProvider {
 public:
  virtual ~LlmProvider() = default;
  virtual std::string name() const = 0;
  // Errors: kDeadlineExceeded (timeout), kUnavailable (no connection, 5xx/429 after the
  // retries), kPermissionDenied (401/403: "the API key was refused"), kInvalidArgument
  // ("the answer was cut off by the length limit (finish reason: length)"), kInternal
  // (unparsable response).
  virtual Result<LlmAnswer> complete(const LlmRequest& request, const LlmProgress& progress) = 0;
};

// Errors: unknown provider, missing model, openai without an API key on the default URL.
Result<std::unique_ptr<LlmProvider>> make_provider(const LlmConfig& config);

}  // namespace atelier::genai
