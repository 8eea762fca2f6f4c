#include "core/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <mutex>

#include "core/files.h"

namespace atelier {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  const HttpRequest* request = nullptr;
  HttpResponse* response = nullptr;
  CURL* curl = nullptr;
  bool decided = false;  // whether the status of the final response is known
  bool success = false;  // 2xx
  Status callback_error;
  bool cancelled = false;
};

std::size_t on_write(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  if (!t->decided) {
    long code = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
    t->success = code >= 200 && code < 300;
    t->decided = true;
  }
  std::string_view chunk(data, n);
  if (!t->success) {
    std::string& body = t->response->body;
    const std::size_t room = t->request->max_error_body - std::min(body.size(), t->request->max_error_body);
    body.append(chunk.substr(0, room));
    return n;
  }
  if (t->request->on_data) {
    Status st;
    try {
      st = t->request->on_data(chunk);
    } catch (const std::exception& e) {
      st = internal_error(std::string("a response handler failed: ") + e.what());
    } catch (...) {
      st = internal_error("a response handler failed");
    }
    if (!st.ok()) {
      t->callback_error = std::move(st);
      return 0;  // any count other than n stops the transfer (CURLE_WRITE_ERROR)
    }
    return n;
  }
  if (t->response->body.size() + n > t->request->max_body) {
    t->callback_error = resource_exhausted("the response is larger than " + format_bytes(t->request->max_body));
    return 0;
  }
  t->response->body.append(chunk);
  return n;
}

// Keeps the headers of the last response (a 100 Continue's come first and are dropped).
std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  std::string_view line(data, n);
  if (line.rfind("HTTP/", 0) == 0) {
    t->response->headers.clear();
    return n;
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || t->response->headers.size() >= 100) return n;
  std::string name(line.substr(0, colon));
  for (char& ch : name) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
  t->response->headers[name] = std::string(value.substr(0, 8192));
  return n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (!t->request->cancelled) return 0;
  bool stop = false;
  try {
    stop = t->request->cancelled();
  } catch (...) {
    stop = true;
  }
  if (stop) {
    t->cancelled = true;
    return 1;  // CURLE_ABORTED_BY_CALLBACK
  }
  return 0;
}

HttpOutcome failure(HttpFailure kind, Status status) {
  HttpOutcome out;
  out.failure = kind;
  out.status = std::move(status);
  return out;
}

std::string trim_error_buffer(const char* buffer) {
  std::string s(buffer);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

std::string url_for_display(std::string_view url) {
  const std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const std::size_t host_start = scheme + 3;
  const std::size_t host_end = std::min(url.find_first_of("/?#", host_start), url.size());
  const std::size_t at = url.substr(0, host_end).rfind('@');
  if (at == std::string_view::npos || at < host_start) return std::string(url);
  return std::string(url.substr(0, host_start)) + std::string(url.substr(at + 1));
}

std::string format_seconds(std::chrono::milliseconds duration) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", double(duration.count()) / 1000.0);
  std::string s(buf);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

HttpOutcome http_send(const HttpRequest& request) {
  global_init();
  const std::string where = url_for_display(request.url);
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return failure(HttpFailure::kOther, internal_error("cannot start an HTTP client (curl_easy_init)"));

  curl_slist* list = nullptr;
  for (const std::string& h : request.headers) list = curl_slist_append(list, h.c_str());
  list = curl_slist_append(list, "Expect:");  // no 100-continue round trip for large prompts
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers(list, curl_slist_free_all);

  HttpOutcome out;
  Transfer t;
  t.request = &request;
  t.response = &out.response;
  t.curl = curl.get();
  char error_buffer[CURL_ERROR_SIZE] = {0};

  const long timeout_ms = std::max<long>(1, long(request.timeout.count()));
  const long connect_ms = std::max<long>(1, std::min<long>(timeout_ms, long(request.connect_timeout.count())));

  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  if (request.method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "POST") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.size()));
  } else {
    return failure(HttpFailure::kBadUrl, invalid_argument("HTTP method '" + request.method + "' is not supported"));
  }
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_USERAGENT, "atelier/0.1");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);

  const auto start = std::chrono::steady_clock::now();
  const CURLcode rc = curl_easy_perform(c);
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);

  std::string detail = trim_error_buffer(error_buffer);
  if (detail.empty()) detail = curl_easy_strerror(rc);

  switch (rc) {
    case CURLE_OK: {
      curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.response.status);
      const char* type = nullptr;
      if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type) out.response.content_type = type;
      curl_off_t retry_after = 0;
      if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after > 0) {
        out.response.retry_after_seconds = std::int64_t(retry_after);
      }
      // CURLINFO_RETRY_AFTER reports 0 both for "Retry-After: 0" and for no header; both
      // mean "no particular wait", which the caller treats the same way.
      return out;
    }
    case CURLE_WRITE_ERROR:
      if (!t.callback_error.ok()) return failure(HttpFailure::kCallback, t.callback_error);
      return failure(HttpFailure::kOther, unavailable(where + ": " + detail));
    case CURLE_ABORTED_BY_CALLBACK:
      if (t.cancelled) return failure(HttpFailure::kCancelled, Status(StatusCode::kCancelled, "the request was cancelled"));
      return failure(HttpFailure::kOther, unavailable(where + ": " + detail));
    case CURLE_OPERATION_TIMEDOUT: {
      curl_off_t connected_us = 0;
      curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &connected_us);
      if (connected_us == 0 && elapsed.count() + 20 < timeout_ms) {
        return failure(HttpFailure::kConnect, unavailable(where + ": could not connect within " +
                                                          format_seconds(std::chrono::milliseconds(connect_ms)) + " s"));
      }
      return failure(HttpFailure::kTimeout,
                     Status(StatusCode::kDeadlineExceeded,
                            where + ": no complete response within " + format_seconds(std::chrono::milliseconds(timeout_ms)) + " s"));
    }
    case CURLE_COULDNT_CONNECT: {
      long os_errno = 0;
      curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
      std::string reason = os_errno == ECONNREFUSED ? "connection refused"
                           : os_errno != 0          ? errno_text(int(os_errno))
                                                    : detail;
      return failure(HttpFailure::kConnect, unavailable("cannot connect to " + where + " (" + reason + ")"));
    }
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return failure(HttpFailure::kConnect, unavailable("cannot connect to " + where + " (" + detail + ")"));
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return failure(HttpFailure::kConnect,
                     unavailable(where + ": the connection closed before the response was complete (" + detail + ")"));
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
      return failure(HttpFailure::kTls, unavailable(where + ": secure connection failed (" + detail + ")"));
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return failure(HttpFailure::kBadUrl, invalid_argument(where + ": not a usable http(s) URL (" + detail + ")"));
    default:
      return failure(HttpFailure::kOther, unavailable(where + ": " + detail));
  }
}

}  // namespace atelier
