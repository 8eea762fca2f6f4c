#include "server/webhook.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "core/text.h"

namespace atelier::server {

namespace {

constexpr std::string_view kSecretPrefix = "whsec_";
constexpr std::string_view kPrivateHint = " (start the server with --allow-private-webhooks to allow it)";

// `url` for messages: no user:password, query or fragment, no control bytes, capped.
std::string display_url(std::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  std::string out(url);
  if (const auto scheme_end = out.find("://"); scheme_end != std::string::npos) {
    const std::size_t start = scheme_end + 3;
    const std::size_t end = std::min(out.find('/', start), out.size());
    const std::size_t at = out.rfind('@', end == 0 ? 0 : end - 1);
    if (at != std::string::npos && at >= start && at < end) out.erase(start, at + 1 - start);
  }
  std::erase_if(out, [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
  return utf8_prefix(out, 200);
}

Status refused_url(std::string_view url, const std::string& reason) {
  return permission_denied("webhook " + display_url(url) + ": refused: " + reason);
}

// Why an address may not be a webhook target (null: a public address). `always`: refused
// even with allow_private.
struct Verdict {
  const char* what = nullptr;
  bool always = false;
};

Verdict classify_v4(std::uint32_t a) {
  auto in = [a](std::uint32_t net, int bits) { return (a >> (32 - bits)) == (net >> (32 - bits)); };
  if (a == 0xA9FEA9FEu) return {"a cloud metadata address", true};  // 169.254.169.254
  if (a == 0) return {"an unspecified address"};
  if (a == 0xFFFFFFFFu) return {"a broadcast address"};
  if (in(0x7F000000u, 8)) return {"a loopback address"};
  if (in(0x0A000000u, 8) || in(0xAC100000u, 12) || in(0xC0A80000u, 16)) return {"a private address"};
  if (in(0x64400000u, 10)) return {"a private (CGNAT) address"};
  if (in(0xA9FE0000u, 16)) return {"a link-local address"};
  if (in(0xE0000000u, 4)) return {"a multicast address"};
  if (in(0x00000000u, 8) || in(0xC0000000u, 24) || in(0xC6120000u, 15) || in(0xF0000000u, 4)) {
    return {"a reserved address"};
  }
  return {};
}

std::uint32_t v4_at(const unsigned char* p) {
  return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}

Verdict classify_v6(const unsigned char* b) {
  static constexpr unsigned char kMetadata[16] = {0xfd, 0, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54};
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static constexpr unsigned char kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  static constexpr unsigned char kNat64Local[6] = {0, 0x64, 0xff, 0x9b, 0, 1};
  static constexpr unsigned char kDiscard[8] = {0x01, 0, 0, 0, 0, 0, 0, 0};
  if (std::memcmp(b, kMetadata, 16) == 0) return {"a cloud metadata address", true};
  // IPv4 inside IPv6 (mapped, NAT64, 6to4): judged by the IPv4 address it reaches.
  if (std::memcmp(b, kMapped, 12) == 0 || std::memcmp(b, kNat64, 12) == 0) return classify_v4(v4_at(b + 12));
  if (b[0] == 0x20 && b[1] == 0x02) return classify_v4(v4_at(b + 2));
  if (std::memcmp(b, kNat64Local, 6) == 0) return {"a private address"};
  if (std::all_of(b, b + 15, [](unsigned char c) { return c == 0; })) {
    if (b[15] == 0) return {"an unspecified address"};
    if (b[15] == 1) return {"a loopback address"};
  }
  if (b[0] == 0 || std::memcmp(b, kDiscard, 8) == 0) return {"a reserved address"};
  if ((b[0] & 0xfe) == 0xfc) return {"a private (unique local) address"};
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return {"a link-local address"};
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return {"a private (site-local) address"};
  if (b[0] == 0xff) return {"a multicast address"};
  return {};
}

struct Address {
  int family = 0;
  unsigned char bytes[16] = {};
  std::string text;
};

Address address_of(const sockaddr* sa) {
  Address a;
  a.family = sa->sa_family;
  char buf[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    std::memcpy(a.bytes, &in->sin_addr, 4);
    inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
  } else if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    std::memcpy(a.bytes, &in6->sin6_addr, 16);
    inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
  }
  a.text = buf;
  return a;
}

Verdict classify(const Address& a) {
  if (a.family == AF_INET) return classify_v4(v4_at(a.bytes));
  if (a.family == AF_INET6) return classify_v6(a.bytes);
  return {"not an IP address", true};
}

void curl_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

using UrlHandle = std::unique_ptr<CURLU, void (*)(CURLU*)>;

// A part of a parsed URL, or nothing when absent.
std::optional<std::string> url_part(CURLU* u, CURLUPart part, unsigned flags = 0) {
  char* p = nullptr;
  if (curl_url_get(u, part, &p, flags) != CURLUE_OK || p == nullptr) return std::nullopt;
  std::string s(p);
  curl_free(p);
  return s;
}

bool valid_msg_id(std::string_view id) {
  return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// One POST attempt.
struct Attempt {
  std::vector<Address> pinned;
  int port = 0;
  bool wrong_address = false;  // curl tried to connect elsewhere (refused)
  const std::function<bool()>* stop = nullptr;
  bool stopped = false;
};

curl_socket_t open_socket(void* user, curlsocktype, curl_sockaddr* sa) {
  auto* t = static_cast<Attempt*>(user);
  const auto* addr = reinterpret_cast<const sockaddr*>(&sa->addr);
  const Address a = address_of(addr);
  const int port = a.family == AF_INET    ? ntohs(reinterpret_cast<const sockaddr_in*>(addr)->sin_port)
                   : a.family == AF_INET6 ? ntohs(reinterpret_cast<const sockaddr_in6*>(addr)->sin6_port)
                                          : -1;
  const std::size_t n = a.family == AF_INET ? 4 : 16;
  const bool checked = std::any_of(t->pinned.begin(), t->pinned.end(), [&](const Address& p) {
    return p.family == a.family && std::memcmp(p.bytes, a.bytes, n) == 0;
  });
  if (!checked || port != t->port) {
    t->wrong_address = true;
    return CURL_SOCKET_BAD;
  }
  return ::socket(sa->family, sa->socktype | SOCK_CLOEXEC, sa->protocol);
}

std::size_t discard_body(char*, std::size_t size, std::size_t count, void*) { return size * count; }

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Attempt*>(user);
  if (t->stop && *t->stop) {
    try {
      t->stopped = (*t->stop)();
    } catch (...) {
      t->stopped = true;
    }
  }
  return t->stopped ? 1 : 0;
}

Status post_once(const WebhookTarget& target, std::string_view body, const std::vector<std::string>& headers,
                 const DeliveryOptions& options) {
  const std::string where = "webhook " + display_url(target.url);
  Attempt t;
  t.port = target.port;
  t.stop = &options.stop;
  std::string addresses;  // for CURLOPT_RESOLVE: "1.2.3.4,[2001:db8::1]"
  for (const std::string& text : target.addresses) {
    Address a;
    a.family = inet_pton(AF_INET, text.c_str(), a.bytes) == 1    ? AF_INET
               : inet_pton(AF_INET6, text.c_str(), a.bytes) == 1 ? AF_INET6
                                                                 : 0;
    if (a.family == 0) return internal_error(where + ": a checked address is not an IP address");
    addresses += (addresses.empty() ? "" : ",") + (a.family == AF_INET6 ? "[" + text + "]" : text);
    t.pinned.push_back(a);
  }
  if (t.pinned.empty()) return internal_error(where + ": no checked address");

  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return internal_error("cannot start an HTTP client (curl_easy_init)");
  curl_slist* list = nullptr;
  for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> header_list(list, curl_slist_free_all);
  // Pin the host name (with and without a trailing dot) to the checked address.
  std::string host = target.host;
  std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  unsigned char literal[16];
  const bool is_literal = inet_pton(AF_INET, host.c_str(), literal) == 1 || inet_pton(AF_INET6, host.c_str(), literal) == 1;
  curl_slist* pins = nullptr;
  for (const std::string& name : {host, host.ends_with('.') ? host.substr(0, host.size() - 1) : host + "."}) {
    if (!is_literal) pins = curl_slist_append(pins, (name + ":" + std::to_string(target.port) + ":" + addresses).c_str());
  }
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> pin_list(pins, curl_slist_free_all);

  const long timeout_ms = long(std::max<std::int64_t>(1, options.timeout.count()));
  char error_buffer[CURL_ERROR_SIZE] = {};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, target.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_PROXY, "");  // never a proxy from the environment: it would resolve the host itself
  curl_easy_setopt(c, CURLOPT_RESOLVE, pin_list.get());
  curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &t);
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.empty() ? "" : body.data());  // null would read stdin
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, header_list.get());
  curl_easy_setopt(c, CURLOPT_USERAGENT, "atelier/0.1");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_body);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_buffer);

  const CURLcode rc = curl_easy_perform(c);
  if (t.wrong_address) return permission_denied(where + ": refused: the connection went to another address than the checked one");
  if (t.stopped) return Status(StatusCode::kCancelled, where + ": delivery cancelled");
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%g", double(timeout_ms) / 1000);
    return Status(StatusCode::kDeadlineExceeded, where + ": no answer within " + seconds + " s");
  }
  if (rc != CURLE_OK) {
    std::string detail = trim(error_buffer);
    if (detail.empty()) detail = curl_easy_strerror(rc);
    return unavailable(where + ": cannot deliver (" + detail + ")");
  }
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  if (code >= 200 && code < 300) return Status::ok_status();
  return unavailable(where + ": answered HTTP " + std::to_string(code) +
                     (code >= 300 && code < 400 ? " (redirects are not followed)" : ""));
}

// Sleeps `d`, polling `stop`; false when it asked to stop.
bool wait_unless_stopped(std::chrono::milliseconds d, const std::function<bool()>& stop) {
  const auto until = std::chrono::steady_clock::now() + d;
  for (;;) {
    if (stop && stop()) return false;
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) return true;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(until - now, std::chrono::milliseconds(50)));
  }
}

}  // namespace

Result<std::vector<std::uint8_t>> parse_webhook_secret(std::string_view secret) {
  const Status bad = invalid_argument("webhook secret: expected whsec_ followed by base64");
  if (!secret.starts_with(kSecretPrefix)) return bad;
  const std::string_view b64 = secret.substr(kSecretPrefix.size());
  if (b64.empty() || b64.size() % 4 != 0 || b64.size() > 4096) return bad;
  const std::size_t data_end = b64.find_last_not_of('=') + 1;
  const std::size_t padding = b64.size() - data_end;
  if (data_end == 0 || padding > 2) return bad;
  for (std::size_t i = 0; i < data_end; ++i) {
    const char ch = b64[i];
    if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '+' || ch == '/')) return bad;
  }
  std::vector<std::uint8_t> key(b64.size() / 4 * 3);
  const int n = EVP_DecodeBlock(key.data(), reinterpret_cast<const unsigned char*>(b64.data()), int(b64.size()));
  if (n < 0 || std::size_t(n) < padding) return bad;
  key.resize(std::size_t(n) - padding);  // EVP_DecodeBlock counts the padding as zero bytes
  return key;
}

std::string new_webhook_secret() {
  unsigned char bytes[24];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    std::fputs("atelier: the random number generator failed (RAND_bytes)\n", stderr);
    std::abort();
  }
  return std::string(kSecretPrefix) + base64_encode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

std::string webhook_signature(std::span<const std::uint8_t> key, std::string_view msg_id, std::int64_t timestamp,
                              std::string_view body) {
  std::string content;
  content.reserve(msg_id.size() + body.size() + 24);
  content.append(msg_id).append(".").append(std::to_string(timestamp)).append(".").append(body);
  static const unsigned char kEmpty = 0;  // HMAC() reads a null key as "no key given"
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  if (HMAC(EVP_sha256(), key.empty() ? &kEmpty : key.data(), int(key.size()),
           reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac, &mac_size) == nullptr) {
    std::fputs("atelier: HMAC-SHA256 failed\n", stderr);
    std::abort();
  }
  return "v1," + base64_encode(std::string_view(reinterpret_cast<const char*>(mac), mac_size));
}

bool verify_webhook_signature(std::span<const std::uint8_t> key, std::string_view msg_id, std::int64_t timestamp,
                              std::string_view body, std::string_view header) {
  const std::string expected = webhook_signature(key, msg_id, timestamp, body);
  bool match = false;
  while (!header.empty()) {
    const std::size_t space = header.find(' ');
    const std::string_view candidate = header.substr(0, space);
    header = space == std::string_view::npos ? std::string_view() : header.substr(space + 1);
    if (candidate.size() == expected.size() && CRYPTO_memcmp(candidate.data(), expected.data(), expected.size()) == 0) {
      match = true;
    }
  }
  return match;
}

Result<WebhookTarget> check_webhook_url(std::string_view url, bool allow_private) {
  const std::string where = "webhook " + display_url(url);
  if (url.size() > 8192 || url.find('\0') != std::string_view::npos) return invalid_argument(where + ": not a valid URL");
  curl_init_once();
  UrlHandle u(curl_url(), curl_url_cleanup);
  if (!u) return internal_error("cannot parse a URL (curl_url)");
  const CURLUcode rc = curl_url_set(u.get(), CURLUPART_URL, std::string(url).c_str(), 0);
  const std::optional<std::string> scheme = rc == CURLUE_OK ? url_part(u.get(), CURLUPART_SCHEME) : std::nullopt;
  if (rc == CURLUE_UNSUPPORTED_SCHEME || (scheme && *scheme != "http" && *scheme != "https")) {
    return invalid_argument(where + ": only http and https URLs are accepted");
  }
  if (rc != CURLUE_OK) return invalid_argument(where + ": not a valid URL (" + curl_url_strerror(rc) + ")");
  if (url_part(u.get(), CURLUPART_USER) || url_part(u.get(), CURLUPART_PASSWORD) || url_part(u.get(), CURLUPART_OPTIONS)) {
    return invalid_argument(where + ": a user name or password in the URL is not accepted");
  }
  if (url_part(u.get(), CURLUPART_ZONEID)) return invalid_argument(where + ": an IPv6 zone id is not accepted");
  std::optional<std::string> host = url_part(u.get(), CURLUPART_HOST);
  const std::optional<std::string> port = url_part(u.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  std::optional<std::string> normalized = url_part(u.get(), CURLUPART_URL);
  if (!host || host->empty() || !port || !normalized) return invalid_argument(where + ": not a valid URL");

  WebhookTarget target;
  target.url = std::move(*normalized);
  target.port = std::atoi(port->c_str());
  if (target.port <= 0 || target.port > 65535) return invalid_argument(where + ": not a valid port");
  target.host = host->size() > 2 && host->front() == '[' ? host->substr(1, host->size() - 2) : *host;
  if (!std::all_of(target.host.begin(), target.host.end(), [](char c) { return c > 0x20 && c < 0x7f; })) {
    return invalid_argument(where + ": a host name must be ASCII (use the xn-- form)");
  }

  std::string lower = target.host;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (lower.ends_with('.')) lower.pop_back();
  unsigned char literal[16];
  const bool is_literal = inet_pton(AF_INET, target.host.c_str(), literal) == 1 ||
                          inet_pton(AF_INET6, target.host.c_str(), literal) == 1;
  if (!is_literal && (lower == "localhost" || lower.ends_with(".localhost"))) {
    if (!allow_private) return refused_url(url, target.host + " is a loopback name" + std::string(kPrivateHint));
  }

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = is_literal ? AI_NUMERICHOST : 0;
  addrinfo* found = nullptr;
  const int gai = getaddrinfo(target.host.c_str(), nullptr, &hints, &found);
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> results(found, freeaddrinfo);
  if (gai != 0 || found == nullptr) {
    return unavailable(where + ": cannot resolve " + target.host + " (" + gai_strerror(gai) + ")");
  }
  // Every address must pass: the resolver (and a rebinding attacker) chooses the order.
  for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    const Address a = address_of(ai->ai_addr);
    const Verdict v = classify(a);
    if (v.what != nullptr && (v.always || !allow_private)) {
      const std::string subject = is_literal ? a.text + " is " : target.host + " resolves to " + a.text + ", ";
      return refused_url(url, subject + v.what + (v.always ? "" : std::string(kPrivateHint)));
    }
    if (std::find(target.addresses.begin(), target.addresses.end(), a.text) == target.addresses.end()) {
      target.addresses.push_back(a.text);
    }
  }
  if (target.addresses.empty()) return unavailable(where + ": " + target.host + " has no IP address");
  target.address = target.addresses.front();
  return target;
}

Status deliver_webhook(std::string_view url, std::string_view body, std::span<const std::uint8_t> key,
                       std::string_view msg_id, const DeliveryOptions& options) {
  if (!valid_msg_id(msg_id)) return invalid_argument("webhook message id: expected 1 to 128 of A-Z a-z 0-9 _ -");
  curl_init_once();
  const int attempts = std::max(1, options.attempts);
  double backoff_ms = double(std::max<std::int64_t>(0, options.first_backoff.count()));
  Status last;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    if (attempt > 1) {
      if (!wait_unless_stopped(std::chrono::milliseconds(std::int64_t(backoff_ms)), options.stop)) {
        return Status(StatusCode::kCancelled, "webhook " + display_url(url) + ": delivery cancelled");
      }
      backoff_ms = std::min(backoff_ms * std::max(1.0, options.backoff_factor), 3600e3);
    }
    if (options.stop && options.stop()) {
      return Status(StatusCode::kCancelled, "webhook " + display_url(url) + ": delivery cancelled");
    }
    Result<WebhookTarget> target = check_webhook_url(url, options.allow_private);
    if (!target.ok()) {
      last = target.status();
    } else {
      const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch()).count();
      const std::vector<std::string> headers = {
          "Content-Type: application/json",
          "webhook-id: " + std::string(msg_id),
          "webhook-timestamp: " + std::to_string(now),
          "webhook-signature: " + webhook_signature(key, msg_id, now, body),
          "Expect:",
      };
      last = post_once(*target, body, headers, options);
      if (last.ok()) return last;
    }
    const StatusCode code = last.code();
    if (code == StatusCode::kInvalidArgument || code == StatusCode::kPermissionDenied ||
        code == StatusCode::kCancelled || code == StatusCode::kInternal) {
      return last;  // retrying cannot help
    }
  }
  return Status(last.code(), last.message() + " (attempt " + std::to_string(attempts) + " of " + std::to_string(attempts) + ")");
}

}  // namespace atelier::server
