// A small HTTP client over libcurl, for the language-model providers (genai/llm.h) and
// remote inference (ml/remote_backend.h): one GET or POST, the response body streamed to a
// callback while it arrives or kept, response headers, an overall timeout, a connect
// timeout and cancellation. TLS peers are always verified; proxies come
// from the environment exactly as curl reads them (http_proxy, https_proxy, no_proxy);
// redirects are not followed; only http and https URLs are accepted.
//
// Secrets (an API key) travel only in `headers`; error messages never quote headers.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace atelier {

struct HttpRequest {
  std::string method = "POST";  // "GET" or "POST"
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // sent as is (POST; GET sends none)
  std::chrono::milliseconds timeout{60000};          // the whole exchange
  std::chrono::milliseconds connect_timeout{10000};  // capped by timeout
  // Called with each piece of a 2xx response body as it arrives. An error status stops
  // the transfer and becomes the result. Without it the body is kept in HttpResponse::body.
  std::function<Status(std::string_view chunk)> on_data;
  // Polled while waiting (at least about once a second); true stops with kCancelled.
  std::function<bool()> cancelled;
  std::size_t max_error_body = 64 << 10;  // bytes kept of a non-2xx body
  std::size_t max_body = 64u << 20;       // bytes kept of a 2xx body without on_data
};

struct HttpResponse {
  long status = 0;
  std::string content_type;
  std::map<std::string, std::string> headers;  // of the final response, lower-case names
  std::string body;  // non-2xx: the (capped) error body; 2xx: the body unless on_data
  // Retry-After in seconds (delay or date), -1 when absent.
  std::int64_t retry_after_seconds = -1;
};

// Why a request failed before a complete response arrived.
enum class HttpFailure {
  kNone,
  kConnect,      // could not connect / resolve, connection dropped mid-way: transient
  kTimeout,      // the overall timeout passed
  kCancelled,    // `cancelled` returned true
  kCallback,     // on_data returned an error (the Status is that error)
  kTls,          // certificate or handshake failure: not transient
  kBadUrl,
  kOther,
};

struct HttpOutcome {
  Status status;  // ok when a complete response (any HTTP status) arrived
  HttpFailure failure = HttpFailure::kNone;
  HttpResponse response;
};

// Performs one request. Never throws. A non-2xx HTTP status is not an error here: check
// response.status. Error messages name the URL (without any user:password part) and the
// reason in words ("connection refused", "timed out after 2.5 s").
HttpOutcome http_send(const HttpRequest& request);

// `url` without a "user:password@" part, for messages.
std::string url_for_display(std::string_view url);

// A duration in seconds for messages: "120", "2.5", "0.25".
std::string format_seconds(std::chrono::milliseconds duration);

}  // namespace atelier
