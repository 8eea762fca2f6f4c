// `atelier serve --queue-url redis://` (issue 10), black-box: a front end and two
// --worker-only processes on a redis-server the test starts on 127.0.0.1 share one job
// queue and one data folder; every job runs once and its result, fetched from the front
// end, is the CLI's; both workers take jobs; a worker killed with SIGKILL in the middle of
// a job loses it to another process, which runs it again (attempt 2).
#include <signal.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/redis_process.h"
#include "support/serve_process.h"
#include "support/test_support.h"

namespace atelier::testing {
namespace {
using nlohmann::json;
using namespace std::chrono_literals;

json job_of(const ServeProcess& front, const std::string& id) {
  return json::parse(http_call("GET", front.url("/v1/jobs/" + id)).body, nullptr, false);
}

// Waits until every job is final (at most `seconds`); returns their last states.
std::vector<json> wait_final(const ServeProcess& front, const std::vector<std::string>& ids, int seconds) {
  std::vector<json> out(ids.size());
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < until) {
    bool all = true;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      out[i] = job_of(front, ids[i]);
      const std::string s = out[i].value("status", "");
      all = all && (s == "succeeded" || s == "failed" || s == "cancelled");
    }
    if (all) break;
    std::this_thread::sleep_for(100ms);
  }
  return out;
}

std::string submit(const ServeProcess& front, const std::string& photo) {
  HttpReply r = http_call("POST", front.url("/v1/jobs?op=cutout"), photo, {"Content-Type: image/png"});
  EXPECT_EQ(r.status, 202) << r.body;
  return json::parse(r.body, nullptr, false).value("id", "");
}

TEST(ServeRedis, TwoWorkersShareTheJobsAndADeadWorkersJobRunsAgain) {
  RedisServer redis;
  ASSERT_TRUE(redis.error().empty()) << redis.error();
  auto t = temp_dir();
  const auto data = t.path() / "shared";
  const std::vector<std::string> common = {"--queue-url", redis.url(), "--claim-idle", "1", "--threads", "1"};
  auto with = [&](std::vector<std::string> more) {
    more.insert(more.begin(), common.begin(), common.end());
    return more;
  };
  auto front = std::make_unique<ServeProcess>(with({}), data);
  ServeProcess w1(with({"--worker-only"}), data), w2(with({"--worker-only"}), data);
  // Workers answer health and readiness, nothing else.
  EXPECT_EQ(http_call("GET", w1.url("/readyz")).status, 200);
  HttpReply refused = http_call("POST", w1.url("/v1/cutout"), "x", {"Content-Type: image/png"});
  EXPECT_EQ(refused.status, 404);
  EXPECT_NE(refused.body.find("--worker-only"), std::string::npos) << refused.body;

  const std::string photo = read_all(sample("astronaut.png"));
  const auto golden = t.path() / "golden.png";
  ASSERT_EQ(run_atelier({"cutout", sample("astronaut.png").string(), "-o", golden.string(), "-q", "--threads", "1"})
                .exit_code,
            0);
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(submit(*front, photo));
  const std::vector<json> done = wait_final(*front, ids, 400);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(done[i].value("status", ""), "succeeded") << done[i].dump();
    EXPECT_EQ(done[i].value("attempts", 0), 1) << done[i].dump();
  }
  HttpReply result = http_call("GET", front->url("/v1/jobs/" + ids[0] + "/result"));
  ASSERT_EQ(result.status, 200) << result.body.substr(0, 200);
  EXPECT_TRUE(result.body == read_all(golden)) << "a job's result differs from the CLI's cutout";
  // Both workers took some of the jobs.
  EXPECT_NE(w1.stderr_text().find(" started"), std::string::npos) << w1.stderr_text();
  EXPECT_NE(w2.stderr_text().find(" started"), std::string::npos) << w2.stderr_text();

  // A process killed in the middle of a job: another one runs it again.
  const std::string id = submit(*front, photo);
  ServeProcess* runner = nullptr;
  for (auto until = std::chrono::steady_clock::now() + 60s; !runner && std::chrono::steady_clock::now() < until;) {
    for (ServeProcess* p : {front.get(), &w1, &w2}) {
      if (p->stderr_text().find("job " + id + " (cutout) started") != std::string::npos) runner = p;
    }
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_NE(runner, nullptr) << "no process started the job";
  EXPECT_EQ(runner->stop(SIGKILL), 128 + SIGKILL);
  if (runner == front.get()) front = std::make_unique<ServeProcess>(with({}), data);  // a new front end
  const json again = wait_final(*front, {id}, 300)[0];
  EXPECT_EQ(again.value("status", ""), "succeeded") << again.dump();
  EXPECT_EQ(again.value("attempts", 0), 2) << again.dump();
}

TEST(ServeRedis, ClearErrorsForABadQueue) {
  auto bad = run_atelier({"serve", "--port", "0", "--queue-url", "http://127.0.0.1:1"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("--queue-url"), std::string::npos) << bad.err;
  auto lonely = run_atelier({"serve", "--port", "0", "--worker-only"});
  EXPECT_EQ(lonely.exit_code, 2) << lonely.err;
  EXPECT_NE(lonely.err.find("--worker-only needs --queue-url"), std::string::npos) << lonely.err;
  auto t = temp_dir();
  auto down = run_atelier({"serve", "--port", "0", "--data-dir", (t.path() / "d").string(), "--queue-url",
                           "redis://127.0.0.1:1"});
  EXPECT_EQ(down.exit_code, 1) << down.err;
  EXPECT_NE(down.err.find("redis://127.0.0.1:1: connection refused"), std::string::npos) << down.err;
}

}  // namespace
}  // namespace atelier::testing
