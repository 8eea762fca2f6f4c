#include "core/status.h"
#include "core/status_table.h"

#include <set>

#include <gtest/gtest.h>

#include "core/subprocess.h"
#include "core/threads.h"

namespace atelier {
namespace {

Result<int> half(int v) {
  if (v % 2) return invalid_argument(std::to_string(v) + " is odd");
  return v / 2;
}

Result<int> quarter(int v) {
  ATELIER_ASSIGN_OR_RETURN(int h, half(v));
  ATELIER_ASSIGN_OR_RETURN(int q, half(h));
  return q;
}

TEST(Result, PropagatesTheFirstError) {
  EXPECT_EQ(*quarter(12), 3);
  auto r = quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "3 is odd");
  EXPECT_EQ(r.status().with_context("photo.jpg").message(), "photo.jpg: 3 is odd");
}

TEST(Result, OkStatusIsNeverAValue) {
  Result<int> r{Status()};
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

TEST(Threads, ExplicitThenEnvironmentThenCores) {
  ::setenv("ATELIER_THREADS", "3", 1);
  EXPECT_EQ(*resolve_thread_count(5), 5);
  EXPECT_EQ(*resolve_thread_count(0), 3);
  ::setenv("ATELIER_THREADS", "zero", 1);
  EXPECT_EQ(resolve_thread_count(0).status().message(), "ATELIER_THREADS: expected an integer from 1 to 256, got 'zero'");
  ::unsetenv("ATELIER_THREADS");
  EXPECT_GE(*resolve_thread_count(0), 1);
  EXPECT_FALSE(resolve_thread_count(-2).ok());
}

TEST(Subprocess, CapturesOutputAndExitCode) {
  auto r = run_process({"sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
  auto missing = run_process({"no-such-program-atelier"});
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  ProcessOptions opt;
  opt.timeout = std::chrono::milliseconds(200);
  auto slow = run_process({"sleep", "10"}, opt);
  EXPECT_EQ(slow.status().code(), StatusCode::kDeadlineExceeded);
}

}  // namespace
}  // namespace atelier


namespace atelier {

// One row per code, each word distinct and read back to its code; the statuses the HTTP
// service promises (issue 10) come from this table.
TEST(StatusTable, EveryCodeHasOneDistinctRow) {
  std::set<std::string_view> words;
  for (int c = 0; c <= int(StatusCode::kOverloaded); ++c) {
    const StatusMapping& m = status_mapping(StatusCode(c));
    EXPECT_EQ(m.code, StatusCode(c)) << c;
    EXPECT_TRUE(words.insert(m.word).second) << m.word;
    EXPECT_EQ(status_code_from_word(m.word), StatusCode(c));
  }
  EXPECT_EQ(http_status_for(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(http_status_for(StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(http_status_for(StatusCode::kNotFound), 404);
  EXPECT_EQ(http_status_for(StatusCode::kResourceExhausted), 413);
  EXPECT_EQ(http_status_for(StatusCode::kUnsupported), 415);
  EXPECT_EQ(http_status_for(StatusCode::kDataLoss), 422);
  EXPECT_EQ(http_status_for(StatusCode::kOverloaded), 429);
  EXPECT_EQ(http_status_for(StatusCode::kUnavailable), 503);
  EXPECT_EQ(http_status_for(StatusCode::kDeadlineExceeded), 504);
  EXPECT_EQ(exit_code_for(StatusCode::kOk), 0);
  EXPECT_EQ(exit_code_for(StatusCode::kInvalidArgument), 2);
  EXPECT_EQ(exit_code_for(StatusCode::kDataLoss), 1);
  EXPECT_EQ(status_code_from_word("no such word"), StatusCode::kInternal);
}

}  // namespace atelier
