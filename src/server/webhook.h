// Webhooks of the HTTP service (`atelier serve`): when a job finishes, the server POSTs the
// job's final state (JSON) to the job's webhook URL, signed as Standard Webhooks are
// (https://www.standardwebhooks.com): the headers webhook-id (the message id, the same for
// every attempt), webhook-timestamp (unix seconds of the attempt) and webhook-signature
// ("v1,<base64 of HMAC-SHA256(key, "<id>.<timestamp>.<body>")>"). The secret is
// "whsec_<base64 of the key bytes>".
//
// A webhook URL is a request the server makes on a client's behalf, so it is checked
// before every attempt: http or https only, no user:password, and the host is resolved and
// refused when any of its addresses is loopback, private (RFC 1918, CGNAT 100.64/10, IPv6
// ULA fc00::/7), link-local, unspecified, multicast, broadcast or reserved, including the
// IPv4-mapped, NAT64 and 6to4 forms of those, unless allow_private is set (local
// development). Cloud metadata addresses (169.254.169.254, fd00:ec2::254) are refused even
// then. The connection is pinned to the addresses that were checked (CURLOPT_RESOLVE, and a
// socket callback that refuses any other address), so DNS rebinding cannot bypass the
// check; proxies from the environment are not used; redirects are not followed.
//
// Secrets never appear in error messages; URLs in messages lose any user:password part,
// query and fragment (webhook URLs often carry tokens there).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace atelier::server {

// The key bytes of a "whsec_<base64>" secret. Error (kInvalidArgument, the secret is not
// quoted): "webhook secret: expected whsec_ followed by base64".
Result<std::vector<std::uint8_t>> parse_webhook_secret(std::string_view secret);

// A fresh secret: "whsec_" and the base64 of 24 random bytes (OpenSSL RAND_bytes).
std::string new_webhook_secret();

// The webhook-signature value of one message: "v1,<base64 of HMAC-SHA256>".
std::string webhook_signature(std::span<const std::uint8_t> key, std::string_view msg_id,
                              std::int64_t timestamp, std::string_view body);

// Whether `header` (one or more space-separated "v1,<base64>" signatures; other versions
// are ignored) holds the signature of the message. Compares in constant time. The caller
// checks that `timestamp` is recent (Standard Webhooks suggests 5 minutes).
bool verify_webhook_signature(std::span<const std::uint8_t> key, std::string_view msg_id,
                              std::int64_t timestamp, std::string_view body, std::string_view header);

// A checked webhook URL.
struct WebhookTarget {
  std::string url;   // as libcurl normalizes it ("http://example.com/hook")
  std::string host;  // the host name, or the IP literal without brackets
  int port = 0;      // explicit or the scheme's default
  // Every address of the host, all checked: the only ones a delivery may connect to, in
  // the resolver's order ("93.184.216.34", "::1"). `address` is the first.
  std::vector<std::string> addresses;
  std::string address;
};

// Parses `url` and resolves its host (IP literals need no network). Errors name the URL
// and the reason: kInvalidArgument for a malformed URL, another scheme, user:password, a
// zone id or a non-ASCII host; kPermissionDenied for a refused address ("webhook
// http://127.0.0.1:9/x: refused: 127.0.0.1 is a loopback address (start the server with
// --allow-private-webhooks to allow it)"); kUnavailable when the name does not resolve.
Result<WebhookTarget> check_webhook_url(std::string_view url, bool allow_private);

struct DeliveryOptions {
  int attempts = 5;                              // at least 1
  std::chrono::milliseconds first_backoff{500};  // the wait before the second attempt
  double backoff_factor = 2;                     // each later wait this much longer (capped at 1 h)
  std::chrono::milliseconds timeout{10000};      // one attempt, connection included
  bool allow_private = false;                    // see check_webhook_url
  std::function<bool()> stop;                    // polled while waiting and sending; true: kCancelled
};

// POSTs `body` (Content-Type: application/json) to `url` with the three Standard Webhooks
// headers, re-checking the URL and re-signing with the current time at each attempt. OK on
// a 2xx answer. A connection error, a timeout or any other answer (a 3xx too: redirects are
// not followed) is retried after a backoff; a refused or malformed URL and an unusable
// msg_id (1 to 128 of A-Z a-z 0-9 _ -) are not. Otherwise the last error, e.g.
// "webhook http://example.com/hook: answered HTTP 500 (attempt 5 of 5)" (kUnavailable).
Status deliver_webhook(std::string_view url, std::string_view body, std::span<const std::uint8_t> key,
                       std::string_view msg_id, const DeliveryOptions& options);

}  // namespace atelier::server
