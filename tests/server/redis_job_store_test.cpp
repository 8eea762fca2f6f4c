// The Redis client (RESP2 parsing, URLs, connections) and the Redis Streams job store,
// against a redis-server this process starts on 127.0.0.1 (scripts/install-deps installs
// it; the test fails rather than skips without it). Each test keeps its keys under its own
// prefix, so the tests share one server per process.
#include "server/redis_job_store.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <set>
#include <thread>
#include <vector>

#include "core/files.h"
#include "core/subprocess.h"
#include "server/redis_client.h"
#include "support/fake_llm_server.h"
#include "support/redis_process.h"

namespace atelier::server {
namespace {
using testing::RedisServer;
using testing::unused_port;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Type = RedisReply::Type;

constexpr int kClaimIdleMs = 300;

TempDir temp() { return std::move(TempDir::create()).value(); }

// The server the tests of this process share.
RedisServer& server() {
  static RedisServer s;
  return s;
}

// This test's key prefix.
std::string prefix() { return std::string("test:") + ::testing::UnitTest::GetInstance()->current_test_info()->name(); }

// The shared server is up and has no key of this test (--gtest_repeat runs it again).
Status clean_server() {
  if (!server().error().empty()) return unavailable(server().error());
  ATELIER_ASSIGN_OR_RETURN(auto client, RedisClient::connect(server().url()));
  return client
      ->call({"EVAL", "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end", "0",
              prefix() + ":*"})
      .status();
}

#define REQUIRE_SERVER()                       \
  do {                                         \
    Status clean = clean_server();             \
    ASSERT_TRUE(clean.ok()) << clean.message(); \
  } while (0)

// Options for a store of this test: its own key prefix, a short claim time.
RedisStoreOptions options() {
  RedisStoreOptions o;
  o.prefix = prefix();
  o.claim_idle_ms = kClaimIdleMs;
  return o;
}

std::unique_ptr<JobStore> open_store(const fs::path& dir, RedisStoreOptions o = options()) {
  auto r = open_redis_job_store(server().url(), dir, std::move(o));
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? std::move(r).value() : nullptr;
}

JobRecord add(JobStore& store, const std::string& key = "") {
  auto r = store.create("cutout", R"({"margin":4})", key, "");
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? r->job : JobRecord{};
}

std::string claim(JobStore& store) {
  auto r = store.claim_next();
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() && r->has_value() ? (*r)->id : "";
}

void write_bytes(const fs::path& path, std::size_t n) { std::ofstream(path) << std::string(n, 'x'); }

RedisReply parse(std::string_view bytes) {
  RedisReply r;
  auto n = parse_redis_reply(bytes, r);
  EXPECT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(n.ok() ? *n : 0, bytes.size());
  return r;
}

std::string parse_error(std::string_view bytes) {
  RedisReply r;
  auto n = parse_redis_reply(bytes, r);
  EXPECT_FALSE(n.ok()) << "parsed " << ::testing::PrintToString(std::string(bytes));
  if (!n.ok()) {
    EXPECT_EQ(n.status().code(), StatusCode::kDataLoss);
  }
  return n.ok() ? "" : n.status().message();
}

TEST(RedisReplyParser, EveryTypeNestedAndNull) {
  RedisReply s = parse("+OK\r\n");
  EXPECT_EQ(s.type, Type::kStatus);
  EXPECT_EQ(s.str, "OK");
  RedisReply e = parse("-WRONGTYPE Operation against a key\r\n");
  EXPECT_EQ(e.type, Type::kError);
  EXPECT_EQ(e.str, "WRONGTYPE Operation against a key");
  EXPECT_EQ(parse(":-42\r\n").integer, -42);
  EXPECT_EQ(parse("$0\r\n\r\n").str, "");
  EXPECT_EQ(parse("$-1\r\n").type, Type::kNil);
  EXPECT_EQ(parse("*-1\r\n").type, Type::kNil);
  EXPECT_EQ(parse("*0\r\n").type, Type::kArray);
  RedisReply bin = parse(std::string("$6\r\na\r\n\0b\n\r\n", 12));
  EXPECT_EQ(bin.str, std::string("a\r\n\0b\n", 6));

  const std::string nested = "*3\r\n:1\r\n*2\r\n$3\r\nfoo\r\n*2\r\n$-1\r\n-ERR inner\r\n+done\r\n";
  RedisReply n = parse(nested);
  ASSERT_EQ(n.type, Type::kArray);
  ASSERT_EQ(n.elements.size(), 3u);
  EXPECT_EQ(n.elements[0].integer, 1);
  ASSERT_EQ(n.elements[1].elements.size(), 2u);
  EXPECT_EQ(n.elements[1].elements[0].str, "foo");
  ASSERT_EQ(n.elements[1].elements[1].elements.size(), 2u);
  EXPECT_TRUE(n.elements[1].elements[1].elements[0].is_nil());
  EXPECT_TRUE(n.elements[1].elements[1].elements[1].is_error());
  EXPECT_EQ(n.elements[2].str, "done");

  // Every strict prefix is incomplete (0 bytes taken); two replies: the first one's length.
  for (std::size_t len = 0; len < nested.size(); ++len) {
    RedisReply r;
    auto used = parse_redis_reply(std::string_view(nested).substr(0, len), r);
    ASSERT_TRUE(used.ok()) << len << ": " << used.status().message();
    EXPECT_EQ(*used, 0u) << len;
  }
  RedisReply first;
  auto used = parse_redis_reply(":7\r\n+next\r\n", first);
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(*used, 4u);
  EXPECT_EQ(first.integer, 7);
}

TEST(RedisReplyParser, MalformedBytesAreDataLoss) {
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "*1\r\n";
  const std::pair<std::string, std::string> cases[] = {
      {"?what\r\n", "unexpected type byte 0x3f"},
      {"$3\r\nabcXY", "bulk string of 3 bytes without CRLF after it"},
      {":12a\r\n", "bad number \"12a\""},
      {"$-2\r\n", "bulk string length -2"},
      {"+OK\rX", "CR without LF"},
      {"$999999999999\r\n", "bulk string length 999999999999"},
      {deep + ":1\r\n", "arrays nested deeper than 32"},
  };
  for (const auto& [bytes, why] : cases) EXPECT_EQ(parse_error(bytes), "malformed Redis reply: " + why);
}

TEST(RedisCommand, EncodesBulkStrings) {
  EXPECT_EQ(encode_redis_command({"SET", "k", std::string("a\r\n\0", 4)}),
            std::string("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\n\0\r\n", 30));
  EXPECT_EQ(encode_redis_command({"PING", ""}), "*2\r\n$4\r\nPING\r\n$0\r\n\r\n");
}

TEST(RedisUrl, GoodOnes) {
  auto a = parse_redis_url("redis://127.0.0.1:6390");
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 6390);
  EXPECT_EQ(a->password, "");
  EXPECT_EQ(a->db, 0);
  EXPECT_EQ(a->name(), "redis://127.0.0.1:6390");
  auto b = parse_redis_url("redis://:p%40ss%2Fw@cache.internal:1/3");
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->password, "p@ss/w");
  EXPECT_EQ(b->username, "");
  EXPECT_EQ(b->host, "cache.internal");
  EXPECT_EQ(b->db, 3);
  EXPECT_EQ(b->name(), "redis://cache.internal:1");
  auto c = parse_redis_url("redis://worker:pw@[::1]:7000/");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->username, "worker");
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->name(), "redis://[::1]:7000");
  EXPECT_EQ(parse_redis_url("redis://localhost")->port, 6379);
}

TEST(RedisUrl, BadOnesAreOneLineWithoutThePassword) {
  auto msg = [](std::string_view url) {
    auto r = parse_redis_url(url);
    EXPECT_FALSE(r.ok()) << url;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    }
    return r.ok() ? "" : r.status().message();
  };
  EXPECT_EQ(msg("http://h:1"),
            "bad Redis URL \"http://h:1\": it does not start with redis:// (expected redis://[:password@]host:port[/db])");
  EXPECT_EQ(msg("redis://:secret@h:0"),
            "bad Redis URL \"redis://:***@h:0\": port 0 is not in 1..65535 (expected redis://[:password@]host:port[/db])");
  for (std::string_view url : {"redis://", "redis://:6379", "redis://h:", "redis://h:99999", "redis://h:x1",
                               "redis://h/db1", "redis://h:1?timeout=3", "rediss://h:1", "redis://::1:6379",
                               "redis://[::1", "redis://h :1", "redis://:@h:1", "redis://:%zz@h:1"}) {
    std::string m = msg(url);
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    EXPECT_NE(m.find("(expected redis://[:password@]host:port[/db])"), std::string::npos) << m;
  }
  std::string m = msg("redis://admin:hunter2@h:1/x");
  EXPECT_EQ(m.find("hunter2"), std::string::npos) << m;
  EXPECT_NE(m.find("redis://admin:***@h:1/x"), std::string::npos) << m;
  EXPECT_EQ(msg("redis://hunter2@h:1").find("hunter2"), std::string::npos);
}

TEST(RedisClient, ConnectionRefusedNamesTheAddress) {
  const int port = unused_port();
  const std::string url = "redis://127.0.0.1:" + std::to_string(port);
  auto c = RedisClient::connect(url);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(c.status().message(), url + ": connection refused");
  TempDir dir = temp();
  auto store = open_redis_job_store(url, dir.path());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().message(), url + ": connection refused");
  auto bad = open_redis_job_store("localhost:6379", dir.path());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST(RedisClient, CommandsRepliesAndErrorReplies) {
  REQUIRE_SERVER();
  auto client = RedisClient::connect(server().url());
  ASSERT_TRUE(client.ok()) << client.status().message();
  RedisClient& c = **client;
  const std::string key = prefix() + ":bytes", value("\0\r\n$5\r\n*1\xff", 11);
  ASSERT_TRUE(c.call({"SET", key, value}).ok());
  auto got = c.call({"GET", key});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->type, Type::kBulk);
  EXPECT_EQ(got->str, value);
  EXPECT_TRUE(c.call({"GET", prefix() + ":none"})->is_nil());
  EXPECT_EQ(c.call({"INCRBY", prefix() + ":n", "5"})->integer, 5);

  auto nested = c.call({"EVAL", "return {1, {'two', {false, 3}}, redis.error_reply('no')}", "0"});
  ASSERT_TRUE(nested.ok()) << nested.status().message();
  ASSERT_EQ(nested->elements.size(), 3u);
  EXPECT_EQ(nested->elements[1].elements[0].str, "two");
  EXPECT_TRUE(nested->elements[1].elements[1].elements[0].is_nil());
  EXPECT_EQ(nested->elements[1].elements[1].elements[1].integer, 3);
  EXPECT_TRUE(nested->elements[2].is_error());
  EXPECT_TRUE(nested->elements[2].str.ends_with("no")) << nested->elements[2].str;

  auto error = c.command({"NOSUCHCOMMAND", "x"});
  ASSERT_TRUE(error.ok());
  EXPECT_TRUE(error->is_error());
  Status s = c.call({"NOSUCHCOMMAND", "x"}).status();
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_EQ(s.message().rfind(server().url() + ": ERR unknown command", 0), 0u) << s.message();

  auto replies = c.pipeline({{"SET", prefix() + ":p", "1"}, {"INCR", prefix() + ":p"}, {"LPUSH", prefix() + ":p", "x"}});
  ASSERT_TRUE(replies.ok()) << replies.status().message();
  ASSERT_EQ(replies->size(), 3u);
  EXPECT_EQ((*replies)[1].integer, 2);
  EXPECT_TRUE((*replies)[2].is_error());  // WRONGTYPE
}

TEST(RedisClient, TimeoutsAndReconnects) {
  REQUIRE_SERVER();
  RedisClientOptions o;
  o.command_timeout_ms = 200;
  auto client = RedisClient::connect(server().url(), o);
  ASSERT_TRUE(client.ok()) << client.status().message();
  RedisClient& c = **client;
  auto start = std::chrono::steady_clock::now();
  Status s = c.call({"BLPOP", prefix() + ":empty", "2"}).status();
  EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(s.message(), server().url() + ": no reply within 200 ms");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
  EXPECT_TRUE(c.call({"BLPOP", prefix() + ":empty", "0.3"}, 3000)->is_nil());  // its own timeout

  // The server drops every other client: the idle pooled connection is replaced.
  ASSERT_TRUE(c.call({"PING"}).ok());
  auto killer = RedisClient::connect(server().url());
  ASSERT_TRUE(killer.ok());
  auto killed = (*killer)->call({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"});
  ASSERT_TRUE(killed.ok()) << killed.status().message();
  EXPECT_GE(killed->integer, 1);
  std::this_thread::sleep_for(50ms);
  auto pong = c.call({"PING"});
  ASSERT_TRUE(pong.ok()) << pong.status().message();
  EXPECT_EQ(pong->str, "PONG");

  // A blocking command holds one connection: the others go on.
  std::thread blocked([&] { (void)c.call({"BLPOP", prefix() + ":empty", "1"}, 3000); });
  std::this_thread::sleep_for(50ms);
  start = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.call({"PING"}).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 700ms);
  blocked.join();
}

TEST(RedisClient, PasswordAndDatabase) {
  RedisServer locked({"--requirepass", "s3cr3t"});
  ASSERT_TRUE(locked.error().empty()) << locked.error();
  auto none = RedisClient::connect(locked.url());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(none.status().message().rfind(locked.url() + ": NOAUTH", 0), 0u) << none.status().message();
  auto wrong = RedisClient::connect(locked.url(":wrong-pass@"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(wrong.status().message().find("wrong-pass"), std::string::npos) << wrong.status().message();
  EXPECT_EQ(wrong.status().message().rfind(locked.url() + ": WRONGPASS", 0), 0u) << wrong.status().message();

  auto db2 = RedisClient::connect(locked.url(":s3cr3t@", "/2"));
  ASSERT_TRUE(db2.ok()) << db2.status().message();
  ASSERT_TRUE((*db2)->call({"SET", "k", "in db 2"}).ok());
  auto db0 = RedisClient::connect(locked.url(":s3cr3t@"));
  ASSERT_TRUE(db0.ok()) << db0.status().message();
  EXPECT_TRUE((*db0)->call({"GET", "k"})->is_nil());
  EXPECT_EQ((*db2)->call({"GET", "k"})->str, "in db 2");

  TempDir dir = temp();
  auto store = open_redis_job_store(locked.url(":s3cr3t@", "/2"), dir.path(), options());
  ASSERT_TRUE(store.ok()) << store.status().message();
  EXPECT_TRUE(add(**store).id.size() == 32);
}

// Two stores ("processes") on one data folder, with this test's key prefix.
class RedisJobStore : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_SERVER();
    store = open_store(dir.path());
    other = open_store(dir.path());
    ASSERT_NE(store, nullptr);
    ASSERT_NE(other, nullptr);
  }
  TempDir dir = temp();
  std::unique_ptr<JobStore> store, other;
};

TEST_F(RedisJobStore, CreateAndGetRoundTrip) {
  auto c = store->create("cutout", R"({"format":"png"})", "", "https://example.com/hook");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->created);
  const JobRecord& job = c->job;
  ASSERT_EQ(job.id.size(), 32u);
  EXPECT_EQ(job.id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_TRUE(fs::is_directory(store->job_dir(job.id)));
  EXPECT_EQ(store->job_dir(job.id), dir.path() / "jobs" / job.id);

  auto g = store->get(job.id);
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->id, job.id);
  EXPECT_EQ(g->op, "cutout");
  EXPECT_EQ(g->options_json, R"({"format":"png"})");
  EXPECT_EQ(g->idempotency_key, "");
  EXPECT_EQ(g->webhook, "https://example.com/hook");
  EXPECT_EQ(g->state, JobState::kQueued);
  EXPECT_EQ(g->progress, 0);
  EXPECT_EQ(g->attempts, 0);
  EXPECT_FALSE(g->cancel_requested);
  EXPECT_GT(g->created_ms, 1600000000000);
  EXPECT_EQ(g->updated_ms, g->created_ms);
  EXPECT_EQ(g->finished_ms, 0);
  EXPECT_EQ(g->created_ms, job.created_ms);
  EXPECT_NE(add(*store).id, job.id);
  EXPECT_EQ(store->counts()[JobState::kQueued], 2);
  EXPECT_EQ(*store->requeue_interrupted(), 0);
}

TEST_F(RedisJobStore, IdempotencyKeyAcrossTwoProcesses) {
  JobStore &a = *store, &b = *other;
  auto first = a.create("cutout", "{\"a\":1}", "key-1", "");
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_TRUE(first->created);
  auto again = b.create("cutout", "{\"a\":2}", "key-1", "");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->job.id, first->job.id);
  EXPECT_EQ(again->job.options_json, "{\"a\":1}");
  EXPECT_EQ(again->job.idempotency_key, "key-1");
  EXPECT_NE(add(b, "key-2").id, first->job.id);
  EXPECT_NE(add(a).id, add(b).id);  // no key: always new

  // Both front ends race on one key: one job, created once, no stray folder.
  std::vector<std::string> ids(8);
  std::atomic<int> created{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto r = (t % 2 ? a : b).create("cutout", "{}", "race-key", "");
      if (!r.ok()) return;
      ids[t] = r->job.id;
      if (r->created) ++created;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 1u);
  EXPECT_EQ(ids[0].size(), 32u);
  EXPECT_EQ(a.counts()[JobState::kQueued], 5);
  int folders = 0;
  for (const auto& e : fs::directory_iterator(dir.path() / "jobs")) folders += e.is_directory();
  EXPECT_EQ(folders, 5);
}

TEST_F(RedisJobStore, ClaimsOldestFirst) {
  std::string a = add(*store).id, b = add(*store).id, c = add(*store).id;
  auto r = store->claim_next();
  ASSERT_TRUE(r.ok() && r->has_value()) << r.status().message();
  EXPECT_EQ((*r)->id, a);
  EXPECT_EQ((*r)->state, JobState::kRunning);
  EXPECT_EQ((*r)->attempts, 1);
  EXPECT_EQ(store->get(a)->state, JobState::kRunning);
  EXPECT_EQ(claim(*store), b);
  EXPECT_EQ(claim(*store), c);
  auto none = store->claim_next();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(store->counts()[JobState::kRunning], 3);
  EXPECT_EQ(store->counts()[JobState::kQueued], 0);
}

TEST_F(RedisJobStore, TwoProcessesTimesTwoThreadsNeverClaimTheSameJob) {
  JobStore &a = *store, &b = *other;
  std::set<std::string> created;
  for (int i = 0; i < 50; ++i) created.insert(add(i % 2 ? a : b).id);
  std::vector<std::string> got[4];
  std::atomic<int> errors{0};
  auto worker = [&](int t) {
    JobStore& mine = t < 2 ? a : b;
    for (;;) {
      auto r = mine.claim_next();
      if (!r.ok()) ++errors;
      if (!r.ok() || !r->has_value()) return;
      got[t].push_back((*r)->id);
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back(worker, t);
  for (auto& t : threads) t.join();
  std::multiset<std::string> all;
  for (const auto& g : got) all.insert(g.begin(), g.end());
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(all.size(), 50u);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()), created);
  EXPECT_EQ(b.counts()[JobState::kRunning], 50);
  EXPECT_EQ(b.counts()[JobState::kQueued], 0);
}

TEST_F(RedisJobStore, CancelQueuedRunningAndFinal) {
  std::string running = add(*store).id, queued = add(*store).id;
  ASSERT_EQ(claim(*store), running);

  auto q = other->cancel(queued);  // from another process
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_EQ(q->state, JobState::kCancelled);
  EXPECT_GT(q->finished_ms, 0);
  EXPECT_FALSE(store->claim_next()->has_value());
  EXPECT_FALSE(other->claim_next()->has_value());

  auto r = other->cancel(running);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, JobState::kRunning);
  EXPECT_TRUE(r->cancel_requested);
  EXPECT_TRUE(store->get(running)->cancel_requested);
  ASSERT_TRUE(store->finish(running, JobState::kCancelled, "", "", "").ok());
  EXPECT_EQ(store->get(running)->state, JobState::kCancelled);

  auto again = store->cancel(queued);  // final: unchanged
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->state, JobState::kCancelled);
  EXPECT_EQ(again->finished_ms, q->finished_ms);
  EXPECT_EQ(store->cancel("0123456789abcdef0123456789abcdef").status().code(), StatusCode::kNotFound);
  auto counts = store->counts();
  EXPECT_EQ(counts[JobState::kCancelled], 2);
  EXPECT_EQ(counts[JobState::kRunning], 0);
  EXPECT_EQ(counts[JobState::kQueued], 0);
}

TEST_F(RedisJobStore, ProgressAndFinish) {
  std::string ok = add(*store).id, bad = add(*store).id;
  Status early = store->set_progress(ok, 0.1);
  EXPECT_EQ(early.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(early.message(), "job '" + ok + "' is queued, not running");
  ASSERT_EQ(claim(*store), ok);
  ASSERT_TRUE(store->set_progress(ok, 0.25).ok());
  EXPECT_EQ(store->get(ok)->progress, 0.25);
  ASSERT_TRUE(store->set_progress(ok, 7).ok());
  EXPECT_EQ(store->get(ok)->progress, 1);
  EXPECT_EQ(store->set_progress(ok, std::nan("")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->finish(ok, JobState::kRunning, "", "", "").code(), StatusCode::kInvalidArgument);
  Status foreign = other->finish(ok, JobState::kFailed, "x", "y", "");  // not the worker running it
  EXPECT_EQ(foreign.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(foreign.message().rfind("job '" + ok + "' is running on another worker (", 0), 0u) << foreign.message();

  ASSERT_TRUE(store->set_progress(ok, 0.5).ok());
  ASSERT_TRUE(store->finish(ok, JobState::kSucceeded, "", "", R"({"file":"result.png"})").ok());
  auto done = other->get(ok);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, JobState::kSucceeded);
  EXPECT_EQ(done->progress, 1);
  EXPECT_EQ(done->result_json, R"({"file":"result.png"})");
  EXPECT_GT(done->finished_ms, 0);
  EXPECT_EQ(done->updated_ms, done->finished_ms);
  Status twice = store->finish(ok, JobState::kFailed, "x", "y", "");
  EXPECT_EQ(twice.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(twice.message(), "job '" + ok + "' is succeeded, not running");
  EXPECT_EQ(store->set_progress(ok, 0.5).code(), StatusCode::kFailedPrecondition);

  ASSERT_EQ(claim(*store), bad);
  ASSERT_TRUE(store->set_progress(bad, 0.3).ok());
  ASSERT_TRUE(store->finish(bad, JobState::kFailed, "invalid_image", "corrupt or truncated PNG image", "").ok());
  auto failed = store->get(bad);
  EXPECT_EQ(failed->state, JobState::kFailed);
  EXPECT_EQ(failed->error_code, "invalid_image");
  EXPECT_EQ(failed->error_message, "corrupt or truncated PNG image");
  EXPECT_EQ(failed->progress, 0.3);
  auto counts = store->counts();
  EXPECT_EQ(counts[JobState::kSucceeded], 1);
  EXPECT_EQ(counts[JobState::kFailed], 1);
  EXPECT_EQ(counts[JobState::kQueued], 0);
  EXPECT_EQ(counts[JobState::kRunning], 0);
  EXPECT_EQ(counts.size(), 5u);
}

TEST_F(RedisJobStore, DeadWorkersJobIsTakenOverAfterClaimIdle) {
  std::unique_ptr<JobStore>& a = store;
  JobStore& b = *other;
  std::string job = add(*a).id;
  ASSERT_EQ(claim(*a), job);
  ASSERT_TRUE(a->set_progress(job, 0.5).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(2 * kClaimIdleMs));
  EXPECT_EQ(claim(b), "");  // a is alive: its heartbeat keeps the job

  a.reset();  // dies without finishing: no more heartbeats
  EXPECT_EQ(claim(b), "");
  std::this_thread::sleep_for(std::chrono::milliseconds(kClaimIdleMs + 100));
  auto taken = b.claim_next();
  ASSERT_TRUE(taken.ok()) << taken.status().message();
  ASSERT_TRUE(taken->has_value());
  EXPECT_EQ((*taken)->id, job);
  EXPECT_EQ((*taken)->state, JobState::kRunning);
  EXPECT_EQ((*taken)->attempts, 2);
  EXPECT_EQ((*taken)->progress, 0);
  EXPECT_EQ(b.counts()[JobState::kRunning], 1);
  ASSERT_TRUE(b.finish(job, JobState::kSucceeded, "", "", "{}").ok());
  EXPECT_EQ(b.get(job)->state, JobState::kSucceeded);
  EXPECT_EQ(claim(b), "");
}

TEST_F(RedisJobStore, JobInterruptedThreeTimesFails) {
  std::string job = add(*store).id, cancelled = add(*store).id;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto worker = open_store(dir.path());
    ASSERT_NE(worker, nullptr);
    auto r = worker->claim_next();
    ASSERT_TRUE(r.ok() && r->has_value()) << attempt << ": " << r.status().message();
    EXPECT_EQ((*r)->id, job);
    EXPECT_EQ((*r)->attempts, attempt);
    if (attempt == 1) {
      EXPECT_EQ(claim(*worker), cancelled);
      ASSERT_TRUE(worker->cancel(cancelled).ok());
    }
    worker.reset();  // dies with the job running
    std::this_thread::sleep_for(std::chrono::milliseconds(kClaimIdleMs + 50));
  }
  JobStore& last = *other;
  EXPECT_EQ(claim(last), "");
  auto p = last.get(job);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->state, JobState::kFailed);
  EXPECT_EQ(p->error_code, "interrupted");
  EXPECT_EQ(p->error_message, "the server stopped while running this job, 3 times");
  EXPECT_EQ(p->attempts, 3);
  EXPECT_GT(p->finished_ms, 0);
  EXPECT_EQ(last.get(cancelled)->state, JobState::kCancelled);  // its cancel was requested
  auto counts = last.counts();
  EXPECT_EQ(counts[JobState::kFailed], 1);
  EXPECT_EQ(counts[JobState::kCancelled], 1);
  EXPECT_EQ(counts[JobState::kRunning], 0);
}

TEST_F(RedisJobStore, BlockingClaimWaitsWithoutHoldingUpOtherCalls) {
  RedisStoreOptions o = options();
  o.claim_block_ms = 3000;
  auto worker = open_store(dir.path(), o);
  ASSERT_NE(worker, nullptr);
  JobStore& front = *store;
  std::string known = add(front).id;
  ASSERT_EQ(claim(*worker), known);
  std::string id;
  auto start = std::chrono::steady_clock::now();
  std::thread waiter([&] { id = claim(*worker); });
  std::this_thread::sleep_for(200ms);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(worker->get(known).ok());  // the same store answers while its claim waits
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1000ms);
  std::string created = add(front).id;
  waiter.join();
  EXPECT_EQ(id, created);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms);  // woken by the job, not the timeout
  EXPECT_EQ(worker->get(created)->attempts, 1);
}

TEST_F(RedisJobStore, FinishedRecordsExpireAfterTheResultTtl) {
  RedisStoreOptions o = options();
  o.result_ttl_ms = 200;
  store = open_store(dir.path(), o);
  ASSERT_NE(store, nullptr);
  std::string id = add(*store, "ttl-key").id;
  ASSERT_EQ(claim(*store), id);
  ASSERT_TRUE(store->finish(id, JobState::kSucceeded, "", "", "{}").ok());
  EXPECT_EQ(store->counts()[JobState::kSucceeded], 1);
  EXPECT_FALSE(store->create("cutout", "{}", "ttl-key", "")->created);
  std::this_thread::sleep_for(350ms);
  EXPECT_EQ(store->get(id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->counts()[JobState::kSucceeded], 0);
  auto again = store->create("cutout", "{}", "ttl-key", "");  // the key is free again
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->created);
  EXPECT_NE(again->job.id, id);
}

TEST_F(RedisJobStore, ExpireByTtlRemovesRecordAndFolder) {
  std::string old = add(*store, "old-key").id, live = add(*store).id;
  write_bytes(store->job_dir(old) / "input.png", 100);
  ASSERT_EQ(claim(*store), old);
  ASSERT_TRUE(store->finish(old, JobState::kSucceeded, "", "", "{}").ok());
  std::int64_t finished = store->get(old)->finished_ms;

  EXPECT_EQ(*store->expire(finished + 1000, 1000, UINT64_MAX), 0);  // not before the cut
  ASSERT_TRUE(store->get(old).ok());
  auto n = store->expire(finished + 1001, 1000, UINT64_MAX);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(store->get(old).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(dir.path() / "jobs" / old));
  EXPECT_TRUE(store->create("cutout", "{}", "old-key", "")->created);  // its key went with it
  EXPECT_TRUE(store->get(live).ok());  // queued jobs never expire
  EXPECT_TRUE(fs::is_directory(store->job_dir(live)));
  EXPECT_EQ(store->counts()[JobState::kSucceeded], 0);
}

TEST_F(RedisJobStore, ExpireByQuotaRemovesOldestFinished) {
  std::vector<std::string> done;
  for (int i = 0; i < 3; ++i) {
    std::string id = add(*store).id;
    ASSERT_EQ(claim(*store), id);
    write_bytes(store->job_dir(id) / "result.png", 1000);
    ASSERT_TRUE(store->finish(id, JobState::kSucceeded, "", "", "{}").ok());
    done.push_back(id);
  }
  std::string running = add(*store).id;
  ASSERT_EQ(claim(*store), running);
  write_bytes(store->job_dir(running) / "input.png", 5000);  // not counted: not final

  auto n = store->expire(store->get(done[2])->finished_ms, 1000000, 2000);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(store->get(done[0]).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(dir.path() / "jobs" / done[0]));
  EXPECT_TRUE(store->get(done[1]).ok());
  EXPECT_EQ(*store->expire(0, 1000000, 2000), 0);
  EXPECT_EQ(*store->expire(0, 1000000, 0), 2);
  EXPECT_EQ(store->get(running)->state, JobState::kRunning);
  EXPECT_TRUE(fs::exists(store->job_dir(running) / "input.png"));
  EXPECT_EQ(store->counts()[JobState::kSucceeded], 0);
}

TEST_F(RedisJobStore, ExpireSweepsOrphanFoldersOnceTheyAreOld) {
  std::string job = add(*store).id;
  fs::path orphan = dir.path() / "jobs" / "00000000000000000000000000000000";
  fs::path fresh = dir.path() / "jobs" / "11111111111111111111111111111111";
  fs::create_directories(orphan);
  fs::create_directories(fresh);
  write_bytes(orphan / "result.png", 10);
  fs::last_write_time(orphan, fs::file_time_type::clock::now() - std::chrono::minutes(5));
  fs::create_directories(dir.path() / "jobs" / "notes");
  EXPECT_EQ(*store->expire(0, 0, UINT64_MAX), 0);
  EXPECT_FALSE(fs::exists(orphan));
  EXPECT_TRUE(fs::exists(fresh));  // maybe a create() between its folder and its record
  EXPECT_TRUE(fs::exists(dir.path() / "jobs" / "notes"));
  EXPECT_TRUE(fs::exists(store->job_dir(job)));
}

TEST_F(RedisJobStore, UnknownAndMalformedIds) {
  std::string unknown = "0123456789abcdef0123456789abcdef";
  auto g = store->get(unknown);
  EXPECT_EQ(g.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(g.status().message(), "job '0123456789abcdef0123456789abcdef' not found");
  EXPECT_EQ(store->set_progress(unknown, 0.5).code(), StatusCode::kNotFound);
  EXPECT_EQ(store->finish(unknown, JobState::kFailed, "", "", "").code(), StatusCode::kNotFound);

  auto m = store->get("../x");
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(m.status().message(), "malformed job id \"../x\" (32 lowercase hex characters expected)");
  EXPECT_EQ(store->get("0123456789ABCDEF0123456789ABCDEF").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->get("x:job:* ").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->cancel("../x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->set_progress("../x", 0).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->finish("../x", JobState::kFailed, "", "", "").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(store->job_dir("../x").empty());
}

TEST(RedisServerRestart, StoreGoesOnOnTheNewServer) {
  auto first = std::make_unique<RedisServer>();
  ASSERT_TRUE(first->error().empty()) << first->error();
  const int port = first->port();
  TempDir dir = temp();
  auto store = open_redis_job_store(first->url(), dir.path(), options());
  ASSERT_TRUE(store.ok()) << store.status().message();
  add(**store);
  first.reset();  // killed: every pooled connection breaks, scripts and group are gone

  auto down = (*store)->create("cutout", "{}", "", "");
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(down.status().message(), "redis://127.0.0.1:" + std::to_string(port) + ": connection refused");

  RedisServer second({}, port);  // empty, on the same port
  ASSERT_TRUE(second.error().empty()) << second.error();
  std::string id = add(**store).id;  // new connection, scripts loaded again
  ASSERT_EQ(id.size(), 32u);
  EXPECT_EQ(claim(**store), id);  // the consumer group is created again, from the start
  EXPECT_TRUE((*store)->finish(id, JobState::kSucceeded, "", "", "{}").ok());
}

TEST_F(RedisJobStore, BadOptionsAndForeignKeys) {
  RedisStoreOptions o = options();
  o.prefix = "";
  EXPECT_EQ(open_redis_job_store(server().url(), dir.path(), o).status().code(), StatusCode::kInvalidArgument);
  o = options();
  o.claim_idle_ms = 0;
  EXPECT_EQ(open_redis_job_store(server().url(), dir.path(), o).status().code(), StatusCode::kInvalidArgument);

  o = options();
  auto client = RedisClient::connect(server().url());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->call({"SET", o.prefix + ":jobs", "not a stream"}).ok());
  auto r = open_redis_job_store(server().url(), dir.path(), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message().rfind(server().url() + ": key '" + o.prefix + ":jobs' is not a stream (WRONGTYPE", 0),
            0u)
      << r.status().message();
}

}  // namespace
}  // namespace atelier::server
