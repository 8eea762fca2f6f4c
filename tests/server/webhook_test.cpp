#include "server/webhook.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "support/fake_llm_server.h"

namespace atelier::server {
namespace {

using testing::FakeLlmServer;
using testing::FakeResponse;

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

DeliveryOptions fast_local(int attempts = 3) {
  DeliveryOptions o;
  o.attempts = attempts;
  o.first_backoff = std::chrono::milliseconds(10);
  o.timeout = std::chrono::milliseconds(5000);
  o.allow_private = true;
  return o;
}

// The example of the Standard Webhooks specification and its reference libraries.
TEST(WebhookSignature, MatchesTheStandardWebhooksVector) {
  auto key = parse_webhook_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  ASSERT_TRUE(key.ok()) << key.status().message();
  EXPECT_EQ(webhook_signature(*key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, R"({"test": 2432232314})"),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

// Expected value from: printf '%s' 'msg_1.1700000000.{"state":"done"}' |
//   openssl dgst -sha256 -hmac Jefe -binary | base64
TEST(WebhookSignature, MatchesOpensslCommandLine) {
  auto key = parse_webhook_secret("whsec_SmVmZQ==");  // "Jefe", the RFC 4231 case 2 key
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(*key, bytes("Jefe"));
  EXPECT_EQ(webhook_signature(*key, "msg_1", 1700000000, R"({"state":"done"})"),
            "v1,DENU5b9Wfil0dvJJSBdz5YaigZ0AqGaGV/m5x2Ub0aU=");
}

TEST(WebhookSignature, VerifyAcceptsOnlyTheSignedMessage) {
  const auto key = bytes("Jefe");
  const std::string body = R"({"state":"done"})";
  const std::string sig = webhook_signature(key, "msg_1", 1700000000, body);
  EXPECT_TRUE(verify_webhook_signature(key, "msg_1", 1700000000, body, sig));
  EXPECT_TRUE(verify_webhook_signature(key, "msg_1", 1700000000, body, "v1,AAAA " + sig));
  EXPECT_TRUE(verify_webhook_signature(key, "msg_1", 1700000000, body, "v1a,xyz " + sig + " v1,BBBB"));
  EXPECT_FALSE(verify_webhook_signature(key, "msg_1", 1700000000, R"({"state":"failed"})", sig));
  EXPECT_FALSE(verify_webhook_signature(key, "msg_2", 1700000000, body, sig));
  EXPECT_FALSE(verify_webhook_signature(key, "msg_1", 1700000001, body, sig));
  EXPECT_FALSE(verify_webhook_signature(bytes("Jeff"), "msg_1", 1700000000, body, sig));
  EXPECT_FALSE(verify_webhook_signature(key, "msg_1", 1700000000, body, ""));
  EXPECT_FALSE(verify_webhook_signature(key, "msg_1", 1700000000, body, "v2," + sig.substr(3)));
  EXPECT_FALSE(verify_webhook_signature(key, "msg_1", 1700000000, body, sig.substr(0, sig.size() - 1)));
}

TEST(WebhookSecret, RoundTripsAndRejectsGarbage) {
  const std::string a = new_webhook_secret(), b = new_webhook_secret();
  EXPECT_EQ(a.rfind("whsec_", 0), 0u);
  EXPECT_EQ(a.size(), 6u + 32u);
  EXPECT_NE(a, b);
  auto key = parse_webhook_secret(a);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->size(), 24u);
  for (const char* bad : {"abc", "whsec_!!!", "whsec_", "whsec_abc", "whsec_====", "whsec_ab=c", "WHSEC_SmVmZQ==",
                          "whsec_SmVm ZQ=="}) {
    auto r = parse_webhook_secret(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(), "webhook secret: expected whsec_ followed by base64");
  }
}

TEST(WebhookUrl, RefusesPrivateAndSpecialAddresses) {
  for (const char* url :
       {"http://127.0.0.1/", "http://localhost:8080/hook", "http://app.localhost/", "http://10.1.2.3/",
        "http://172.16.0.1/", "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/", "http://169.254.1.1/",
        "http://100.64.0.1/", "http://[::1]/", "http://[fe80::1]/", "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:10.0.0.1]/", "http://[fc00::1]/", "http://[fd00:ec2::254]/", "http://[64:ff9b::7f00:1]/",
        "http://[2002:a00:1::]/", "http://0.0.0.0/", "http://[::]/", "http://224.0.0.1/", "http://255.255.255.255/",
        "http://[ff02::1]/", "https://127.1.2.3:8443/"}) {
    auto r = check_webhook_url(url, false);
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << url << ": " << r.status().message();
  }
  auto r = check_webhook_url("http://127.0.0.1:9/x", false);
  EXPECT_EQ(r.status().message(),
            "webhook http://127.0.0.1:9/x: refused: 127.0.0.1 is a loopback address (start the server with "
            "--allow-private-webhooks to allow it)");
  r = check_webhook_url("http://[::ffff:192.168.0.1]/", false);
  EXPECT_NE(r.status().message().find("a private address"), std::string::npos) << r.status().message();
}

TEST(WebhookUrl, RefusesOtherSchemesAndCredentials) {
  for (const char* url : {"ftp://x/", "file:///etc/passwd", "gopher://x/", "x", "", "http://", "http://user:pw@example.com/",
                          "http://user@example.com/", "http://[fe80::1%25eth0]/", "http://exa mple.com/"}) {
    auto r = check_webhook_url(url, true);
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << url << ": " << r.status().message();
  }
  auto r = check_webhook_url("http://user:s3cr3t@example.com/hook?token=t0k3n", false);
  EXPECT_EQ(r.status().message().find("s3cr3t"), std::string::npos) << r.status().message();
  EXPECT_EQ(r.status().message().find("t0k3n"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("webhook http://example.com/hook:"), std::string::npos) << r.status().message();
}

TEST(WebhookUrl, AllowPrivateAllowsLocalButNeverMetadata) {
  auto r = check_webhook_url("http://127.0.0.1:9/x", true);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->address, "127.0.0.1");
  EXPECT_EQ(r->host, "127.0.0.1");
  EXPECT_EQ(r->port, 9);
  EXPECT_TRUE(check_webhook_url("http://[::1]:8080/", true).ok());
  EXPECT_TRUE(check_webhook_url("http://10.0.0.5/", true).ok());
  for (const char* url : {"http://169.254.169.254/", "http://[fd00:ec2::254]/", "http://[::ffff:169.254.169.254]/"}) {
    auto m = check_webhook_url(url, true);
    ASSERT_FALSE(m.ok()) << url;
    EXPECT_EQ(m.status().code(), StatusCode::kPermissionDenied);
    EXPECT_NE(m.status().message().find("cloud metadata"), std::string::npos) << m.status().message();
    EXPECT_EQ(m.status().message().find("--allow-private-webhooks"), std::string::npos);
  }
}

TEST(WebhookUrl, AcceptsPublicLiterals) {
  auto r = check_webhook_url("http://93.184.216.34/", false);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->address, "93.184.216.34");
  EXPECT_EQ(r->port, 80);
  EXPECT_EQ(r->url, "http://93.184.216.34/");
  r = check_webhook_url("https://[2606:2800:220:1:248:1893:25c8:1946]:8443/h", false);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->host, "2606:2800:220:1:248:1893:25c8:1946");
  EXPECT_EQ(r->address, "2606:2800:220:1:248:1893:25c8:1946");
  EXPECT_EQ(r->port, 8443);
  r = check_webhook_url("https://8.8.8.8/", false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->port, 443);
}

TEST(WebhookDelivery, PostsSignedJson) {
  FakeLlmServer server;
  server.enqueue(FakeResponse::text(204, ""));
  const auto key = bytes("a 24-byte key for tests!");
  const std::string body = R"({"id":"job_7","state":"succeeded","outputs":["a.png"]})";
  const std::int64_t before = unix_now();
  Status st = deliver_webhook(server.base_url() + "/hooks/job", body, key, "msg_job_7", fast_local());
  ASSERT_TRUE(st.ok()) << st.message();
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const auto& req = reqs[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.path, "/hooks/job");
  EXPECT_EQ(req.header("content-type"), "application/json");
  EXPECT_EQ(req.body, body);
  EXPECT_EQ(req.header("webhook-id"), "msg_job_7");
  const std::int64_t ts = std::strtoll(req.header("webhook-timestamp").c_str(), nullptr, 10);
  EXPECT_GE(ts, before);
  EXPECT_LE(ts, unix_now());
  EXPECT_EQ(req.header("webhook-signature").rfind("v1,", 0), 0u);
  EXPECT_TRUE(verify_webhook_signature(key, req.header("webhook-id"), ts, req.body, req.header("webhook-signature")));
  EXPECT_EQ(req.header("expect"), "");
}

TEST(WebhookDelivery, RetriesAfterAServerError) {
  FakeLlmServer server;
  server.enqueue(FakeResponse::text(500, "{}"));
  server.enqueue(FakeResponse::text(200, "{}"));
  const auto key = bytes("k");
  Status st = deliver_webhook(server.base_url() + "/h", "{}", key, "msg_2", fast_local());
  ASSERT_TRUE(st.ok()) << st.message();
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  for (const auto& req : reqs) {
    EXPECT_EQ(req.header("webhook-id"), "msg_2");
    const std::int64_t ts = std::strtoll(req.header("webhook-timestamp").c_str(), nullptr, 10);
    EXPECT_TRUE(verify_webhook_signature(key, "msg_2", ts, req.body, req.header("webhook-signature")));
  }
}

TEST(WebhookDelivery, ReportsTheLastErrorAfterAllAttempts) {
  FakeLlmServer server;
  for (int i = 0; i < 3; ++i) server.enqueue(FakeResponse::text(503, "{}"));
  Status st = deliver_webhook(server.base_url() + "/h?token=t0k3n", "{}", bytes("k"), "msg_3", fast_local(3));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_EQ(st.message(), "webhook " + server.base_url() + "/h: answered HTTP 503 (attempt 3 of 3)");
  EXPECT_EQ(server.request_count(), 3u);
}

TEST(WebhookDelivery, DoesNotFollowRedirects) {
  FakeLlmServer server;
  server.enqueue(FakeResponse::text(302, "").with_header("Location", server.base_url() + "/elsewhere"));
  server.enqueue(FakeResponse::text(200, "{}"));
  Status st = deliver_webhook(server.base_url() + "/h", "{}", bytes("k"), "msg_4", fast_local(1));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("answered HTTP 302 (redirects are not followed)"), std::string::npos) << st.message();
  ASSERT_EQ(server.request_count(), 1u);
  EXPECT_EQ(server.requests()[0].path, "/h");
}

TEST(WebhookDelivery, PinsAResolvedNameToItsCheckedAddresses) {
  FakeLlmServer server;
  server.enqueue(FakeResponse::text(200, "{}"));
  const std::string url = "http://localhost:" + std::to_string(server.port()) + "/h";
  auto target = check_webhook_url(url, true);
  ASSERT_TRUE(target.ok()) << target.status().message();
  EXPECT_EQ(target->host, "localhost");
  EXPECT_EQ(target->address, target->addresses.front());
  Status st = deliver_webhook(url, "{}", bytes("k"), "msg_8", fast_local(1));
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_EQ(server.request_count(), 1u);
  EXPECT_EQ(server.requests()[0].header("host"), "localhost:" + std::to_string(server.port()));
}

TEST(WebhookDelivery, RefusedTargetSendsNothing) {
  FakeLlmServer server;
  server.enqueue(FakeResponse::text(200, "{}"));
  DeliveryOptions o = fast_local();
  o.allow_private = false;
  Status st = deliver_webhook(server.base_url() + "/h", "{}", bytes("k"), "msg_5", o);
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied) << st.message();
  EXPECT_EQ(server.request_count(), 0u);
  st = deliver_webhook("http://localhost:" + std::to_string(server.port()) + "/h", "{}", bytes("k"), "msg_5", o);
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied) << st.message();
  EXPECT_EQ(server.request_count(), 0u);
}

TEST(WebhookDelivery, RetriesConnectionErrors) {
  const std::string url = "http://127.0.0.1:" + std::to_string(testing::unused_port()) + "/h";
  Status st = deliver_webhook(url, "{}", bytes("k"), "msg_6", fast_local(2));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_NE(st.message().find("(attempt 2 of 2)"), std::string::npos) << st.message();
}

TEST(WebhookDelivery, StopAndBadIdsSendNothing) {
  FakeLlmServer server;
  server.enqueue(FakeResponse::text(200, "{}"));
  DeliveryOptions o = fast_local();
  o.stop = [] { return true; };
  EXPECT_EQ(deliver_webhook(server.base_url(), "{}", bytes("k"), "msg_7", o).code(), StatusCode::kCancelled);
  for (const char* id : {"", "msg\r\nX-Injected: 1", "msg.1", "msg 1"}) {
    EXPECT_EQ(deliver_webhook(server.base_url(), "{}", bytes("k"), id, fast_local()).code(), StatusCode::kInvalidArgument) << id;
  }
  EXPECT_EQ(server.request_count(), 0u);
}

}  // namespace
}  // namespace atelier::server
