// Jobs of `atelier serve` as a black box (issue 10): queued work whose result is what the
// synchronous route returns, idempotency keys, no job lost to kill -9, signed webhooks
// (verified here) and the refusal of webhooks to private addresses.
#include <signal.h>

#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/webhook.h"
#include "support/fake_llm_server.h"
#include "support/serve_process.h"
#include "support/test_support.h"

namespace atelier::testing {
namespace {

const std::string kPng = "Content-Type: image/png";
std::string photo() { return read_all(sample("astronaut.png")); }
nlohmann::json body_json(const HttpReply& r) { return nlohmann::json::parse(r.body, nullptr, false); }

// Polls GET /v1/jobs/ID until the job is final (or 60 s pass); returns its last state.
nlohmann::json wait_final(const ServeProcess& server, const std::string& id) {
  nlohmann::json j;
  for (int i = 0; i < 600; ++i) {
    j = body_json(http_call("GET", server.url("/v1/jobs/" + id)));
    const std::string s = j.value("status", "");
    if (s == "succeeded" || s == "failed" || s == "cancelled") return j;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return j;
}

TEST(ServeJobs, AJobGivesWhatTheSynchronousRouteGivesAndKeysAreIdempotent) {
  ServeProcess server;
  HttpReply sync = http_call("POST", server.url("/v1/cutout?mask=true"), photo(), {kPng});
  ASSERT_EQ(sync.status, 200);
  HttpReply a = http_call("POST", server.url("/v1/jobs?op=cutout&mask=true"), photo(), {kPng, "Idempotency-Key: k-1"});
  ASSERT_EQ(a.status, 202) << a.body;
  HttpReply b = http_call("POST", server.url("/v1/jobs?op=cutout&mask=true"), photo(), {kPng, "Idempotency-Key: k-1"});
  ASSERT_EQ(b.status, 202);
  const std::string id = body_json(a)["id"];
  EXPECT_EQ(body_json(b)["id"], id);
  const auto done = wait_final(server, id);
  EXPECT_EQ(done["status"], "succeeded") << done;
  EXPECT_EQ(done["progress"], 1.0);
  HttpReply result = http_call("GET", server.url("/v1/jobs/" + id + "/result"));
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.header("content-type"), "image/png");
  EXPECT_TRUE(result.body == sync.body) << "the job's result differs from the synchronous answer";
  EXPECT_EQ(http_call("GET", server.url("/v1/jobs/0123456789abcdef0123456789abcdef")).status, 404);
  EXPECT_EQ(body_json(http_call("POST", server.url("/v1/jobs?op=cutout&margin=3"), photo(), {kPng}))["error"]["message"],
            "margin needs trim");  // checked before it is queued
  EXPECT_EQ(body_json(http_call("POST", server.url("/v1/jobs?op=blur"), photo(), {kPng}))["error"]["code"],
            "invalid_argument");
  // A failed job says why, and its result route answers with that error.
  HttpReply bad = http_call("POST", server.url("/v1/jobs?op=cutout&model=missing"), photo(), {kPng});
  ASSERT_EQ(bad.status, 202);
  const auto failed = wait_final(server, body_json(bad)["id"]);
  EXPECT_EQ(failed["status"], "failed");
  EXPECT_EQ(failed["error"]["code"], "not_found") << failed;
}

TEST(ServeJobs, KillNineLosesNoJob) {
  auto t = temp_dir();
  const auto data = t.path() / "data";
  std::vector<std::string> ids;
  {
    ServeProcess first({"--workers", "1"}, data);
    for (int i = 0; i < 3; ++i) {
      HttpReply r = http_call("POST", first.url("/v1/jobs?op=cutout"), photo(), {kPng});
      ASSERT_EQ(r.status, 202);
      ids.push_back(body_json(r)["id"]);
    }
    EXPECT_EQ(first.stop(SIGKILL), 128 + SIGKILL);
  }
  ServeProcess second({"--workers", "1"}, data);
  for (const auto& id : ids) EXPECT_EQ(wait_final(second, id)["status"], "succeeded") << id;
}

TEST(ServeJobs, WebhooksAreSignedAndPrivateTargetsRefused) {
  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  FakeLlmServer receiver;
  receiver.enqueue(FakeResponse::text(200, "{}"));
  {
    ServeProcess closed({}, {}, {"ATELIER_WEBHOOK_SECRET=" + secret});
    HttpReply r = http_call("POST", closed.url("/v1/jobs?op=saliency&saliency=fast&webhook=" + receiver.base_url() + "/hook"),
                            photo(), {kPng});
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(body_json(r)["error"]["message"].get<std::string>().find("loopback"), std::string::npos) << r.body;
  }
  ServeProcess server({"--allow-private-webhooks"}, {}, {"ATELIER_WEBHOOK_SECRET=" + secret});
  HttpReply r = http_call("POST", server.url("/v1/jobs?op=saliency&saliency=fast&webhook=" + receiver.base_url() + "/hook"),
                          photo(), {kPng});
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string id = body_json(r)["id"];
  EXPECT_EQ(wait_final(server, id)["status"], "succeeded");
  for (int i = 0; i < 100 && receiver.request_count() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_EQ(receiver.request_count(), 1u);
  const RecordedRequest hook = receiver.requests()[0];
  EXPECT_EQ(hook.path, "/hook");
  EXPECT_EQ(hook.header("webhook-id"), "msg_" + id);
  auto key = server::parse_webhook_secret(secret);
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(server::verify_webhook_signature(*key, hook.header("webhook-id"), std::stoll(hook.header("webhook-timestamp")),
                                               hook.body, hook.header("webhook-signature")));
  const auto payload = nlohmann::json::parse(hook.body);
  EXPECT_EQ(payload["type"], "job.succeeded");
  EXPECT_EQ(payload["data"]["id"], id);
  EXPECT_EQ(server.stderr_text().find(secret.substr(6)), std::string::npos) << "the secret reached the log";
}

}  // namespace
}  // namespace atelier::testing
