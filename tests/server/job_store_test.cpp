#include "server/job_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <thread>
#include <vector>

#include "core/files.h"

namespace atelier::server {
namespace {
namespace fs = std::filesystem;

TempDir temp() { return std::move(TempDir::create()).value(); }

std::unique_ptr<JobStore> open_store(const fs::path& dir) {
  auto r = JobStore::open(dir);
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

TEST(JobStore, CreateAndGetRoundTrip) {
  TempDir dir = temp();
  auto store = open_store(dir.path() / "data");
  ASSERT_NE(store, nullptr);
  auto c = store->create("cutout", R"({"format":"png"})", "", "https://example.com/hook");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->created);
  const JobRecord& job = c->job;
  ASSERT_EQ(job.id.size(), 32u);
  EXPECT_EQ(job.id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_TRUE(fs::is_directory(store->job_dir(job.id)));
  EXPECT_EQ(store->job_dir(job.id), dir.path() / "data" / "jobs" / job.id);

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
  EXPECT_NE(add(*store).id, job.id);
  EXPECT_EQ(job_state_name(JobState::kCancelled), "cancelled");
}

TEST(JobStore, IdempotencyKeyGivesTheSameJob) {
  TempDir dir = temp();
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  auto first = store->create("cutout", "{\"a\":1}", "key-1", "");
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->created);
  auto again = store->create("cutout", "{\"a\":2}", "key-1", "");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->job.id, first->job.id);
  EXPECT_EQ(again->job.options_json, "{\"a\":1}");
  EXPECT_EQ(again->job.idempotency_key, "key-1");
  EXPECT_NE(add(*store, "key-2").id, first->job.id);
  EXPECT_NE(add(*store).id, add(*store).id);  // no key: always new
  EXPECT_EQ(store->counts()[JobState::kQueued], 4);
}

TEST(JobStore, ClaimsOldestFirst) {
  TempDir dir = temp();
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  std::string a = add(*store).id, b = add(*store).id, c = add(*store).id;
  auto r = store->claim_next();
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->id, a);
  EXPECT_EQ((*r)->state, JobState::kRunning);
  EXPECT_EQ((*r)->attempts, 1);
  EXPECT_EQ(store->get(a)->state, JobState::kRunning);
  EXPECT_EQ(claim(*store), b);
  EXPECT_EQ(claim(*store), c);
  auto none = store->claim_next();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST(JobStore, TwoThreadsNeverClaimTheSameJob) {
  TempDir dir = temp();
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  std::set<std::string> created;
  for (int i = 0; i < 50; ++i) created.insert(add(*store).id);
  std::vector<std::string> got[2];
  auto worker = [&](int t) {
    for (;;) {
      auto r = store->claim_next();
      if (!r.ok() || !r->has_value()) return;
      got[t].push_back((*r)->id);
    }
  };
  std::thread t0(worker, 0), t1(worker, 1);
  t0.join();
  t1.join();
  std::multiset<std::string> all(got[0].begin(), got[0].end());
  all.insert(got[1].begin(), got[1].end());
  EXPECT_EQ(all.size(), 50u);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()), created);
  EXPECT_EQ(store->counts()[JobState::kRunning], 50);
}

TEST(JobStore, ReopenRequeuesTheRunningJob) {
  TempDir dir = temp();
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  std::string running = add(*store).id, queued = add(*store).id;
  ASSERT_EQ(claim(*store), running);
  ASSERT_TRUE(store->set_progress(running, 0.5).ok());
  store.reset();

  store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  auto n = store->requeue_interrupted();
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 1);
  auto job = store->get(running);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state, JobState::kQueued);
  EXPECT_EQ(job->attempts, 1);
  EXPECT_EQ(job->progress, 0);
  EXPECT_EQ(claim(*store), running);  // keeps its place in the queue
  EXPECT_EQ(store->get(running)->attempts, 2);
  EXPECT_EQ(claim(*store), queued);
  EXPECT_EQ(*store->requeue_interrupted(), 2);
}

TEST(JobStore, KillNineLosesNoJob) {
  TempDir dir = temp();
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {  // the server: accepts two jobs, starts one, dies
    auto r = JobStore::open(dir.path());
    if (!r.ok()) ::_exit(2);
    auto& store = *r.value();
    if (!store.create("cutout", "{}", "k1", "").ok() || !store.create("cutout", "{}", "k2", "").ok()) ::_exit(3);
    if (!store.claim_next().ok()) ::_exit(4);
    ::kill(::getpid(), SIGKILL);
    ::_exit(5);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);

  auto store = open_store(dir.path());  // the lock died with the process
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->counts()[JobState::kRunning], 1);
  EXPECT_EQ(store->counts()[JobState::kQueued], 1);
  EXPECT_EQ(*store->requeue_interrupted(), 1);
  auto first = store->create("cutout", "{}", "k1", "");
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->created);
  EXPECT_EQ(first->job.state, JobState::kQueued);
  EXPECT_EQ(first->job.attempts, 1);
  EXPECT_EQ(store->counts()[JobState::kQueued], 2);
}

TEST(JobStore, RequeueGivesUpAndHonoursCancel) {
  TempDir dir = temp();
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  std::string poison = add(*store).id, cancelled = add(*store).id;
  ASSERT_EQ(claim(*store), poison);
  ASSERT_EQ(claim(*store), cancelled);
  ASSERT_TRUE(store->cancel(cancelled).ok());
  EXPECT_EQ(*store->requeue_interrupted(1), 0);
  auto p = store->get(poison);
  EXPECT_EQ(p->state, JobState::kFailed);
  EXPECT_EQ(p->error_code, "interrupted");
  EXPECT_EQ(p->error_message, "the server stopped while running this job, 1 times");
  EXPECT_GT(p->finished_ms, 0);
  EXPECT_EQ(store->get(cancelled)->state, JobState::kCancelled);
}

TEST(JobStore, CancelQueuedRunningAndFinal) {
  TempDir dir = temp();
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  std::string running = add(*store).id, queued = add(*store).id;
  ASSERT_EQ(claim(*store), running);

  auto q = store->cancel(queued);
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_EQ(q->state, JobState::kCancelled);
  EXPECT_GT(q->finished_ms, 0);
  EXPECT_FALSE(store->claim_next()->has_value());

  auto r = store->cancel(running);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->state, JobState::kRunning);
  EXPECT_TRUE(r->cancel_requested);
  ASSERT_TRUE(store->finish(running, JobState::kCancelled, "", "", "").ok());
  EXPECT_EQ(store->get(running)->state, JobState::kCancelled);

  auto again = store->cancel(queued);  // final: unchanged
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->state, JobState::kCancelled);
  EXPECT_EQ(again->finished_ms, q->finished_ms);
  EXPECT_EQ(store->cancel("0123456789abcdef0123456789abcdef").status().code(), StatusCode::kNotFound);
}

TEST(JobStore, ProgressAndFinish) {
  TempDir dir = temp();
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
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

  ASSERT_TRUE(store->set_progress(ok, 0.5).ok());
  ASSERT_TRUE(store->finish(ok, JobState::kSucceeded, "", "", R"({"file":"result.png"})").ok());
  auto done = store->get(ok);
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
  EXPECT_EQ(counts.size(), 5u);
}

TEST(JobStore, ExpireByTtlRemovesRowAndFolder) {
  TempDir dir = temp();
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  std::string old = add(*store).id, live = add(*store).id;
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
  EXPECT_TRUE(store->get(live).ok());  // queued jobs never expire
  EXPECT_TRUE(fs::is_directory(store->job_dir(live)));
}

TEST(JobStore, ExpireByQuotaRemovesOldestFinished) {
  TempDir dir = temp();
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
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
}

TEST(JobStore, ExpireSweepsOrphanFolders) {
  TempDir dir = temp();
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  std::string job = add(*store).id;
  fs::path orphan = dir.path() / "jobs" / "00000000000000000000000000000000";
  fs::create_directories(orphan);
  write_bytes(orphan / "result.png", 10);
  fs::create_directories(dir.path() / "jobs" / "notes");
  EXPECT_EQ(*store->expire(0, 0, UINT64_MAX), 0);
  EXPECT_FALSE(fs::exists(orphan));
  EXPECT_TRUE(fs::exists(dir.path() / "jobs" / "notes"));
  EXPECT_TRUE(fs::exists(store->job_dir(job)));
}

TEST(JobStore, UnknownAndMalformedIds) {
  TempDir dir = temp();
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
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
  EXPECT_EQ(store->get("' OR 1=1 --").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->cancel("../x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->set_progress("../x", 0).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->finish("../x", JobState::kFailed, "", "", "").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(store->job_dir("../x").empty());
}

TEST(JobStore, GarbageDatabaseIsAOneLineError) {
  TempDir dir = temp();
  fs::path db = dir.path() / "jobs.sqlite3";
  std::string garbage;
  for (int i = 0; i < 200; ++i) garbage += "this is not a database, just garbage bytes\n";
  std::ofstream(db) << garbage;
  auto r = JobStore::open(dir.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), db.string() + ": not a job database (file is not a database)");
  EXPECT_EQ(fs::file_size(db), garbage.size());  // left as it was
}

TEST(JobStore, ForeignSqliteDatabaseIsRefused) {
  TempDir dir = temp();
  fs::path db = dir.path() / "jobs.sqlite3";
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(h, "CREATE TABLE photos (name TEXT)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(h);
  auto r = JobStore::open(dir.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), db.string() + ": not a job database (another program's SQLite database)");
}

TEST(JobStore, UnusableFolderErrors) {
  TempDir dir = temp();
  write_bytes(dir.path() / "file", 3);
  fs::path under_file = dir.path() / "file" / "data";
  auto r = JobStore::open(under_file);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), under_file.string() + ": cannot create directory: a parent is not a directory");
  if (::geteuid() != 0) {  // root writes anywhere
    fs::path locked = dir.path() / "locked";
    fs::create_directories(locked);
    fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
    auto w = JobStore::open(locked / "data");
    EXPECT_FALSE(w.ok());
    EXPECT_EQ(w.status().message().rfind((locked / "data").string() + ": ", 0), 0u) << w.status().message();
    fs::permissions(locked, fs::perms::owner_all);
  }
}

TEST(JobStore, OneProcessOwnsTheFolder) {
  TempDir dir = temp();
  auto store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  std::string id = add(*store).id;
  auto second = JobStore::open(dir.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(second.status().message(),
            dir.path().string() + ": in use by another process (" + (dir.path() / "jobs.lock").string() + " is locked)");
  store.reset();
  store = open_store(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->get(id)->state, JobState::kQueued);
}

}  // namespace
}  // namespace atelier::server
