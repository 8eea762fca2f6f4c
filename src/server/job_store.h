// The persistent job store of `atelier serve`. JobStore is the interface every store
// implements; JobStore::open() gives the embedded one: every asynchronous job is a row of
// DATA_DIR/jobs.sqlite3 (WAL, synchronous=FULL: a job the server has acknowledged survives
// kill -9 and power loss) plus a folder DATA_DIR/jobs/<id>/ for its input and result files.
// (redis_job_store.h keeps the records on Redis Streams instead, for several processes.)
// A job goes queued -> running -> succeeded | failed | cancelled; after a crash,
// requeue_interrupted() queues the jobs that were left running again. One process owns a
// SQLite data folder at a time (DATA_DIR/jobs.lock, which the kernel releases even on kill -9);
// within it every method is thread-safe and claim_next() never gives one job to two
// workers. Ids are 32 random lowercase hex characters, checked before they reach SQL (always
// bound) or a path. Errors are one line naming the database or folder and the reason.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace atelier::server {

enum class JobState { kQueued, kRunning, kSucceeded, kFailed, kCancelled };

// "queued", "running", "succeeded", "failed", "cancelled" (also the stored text).
std::string_view job_state_name(JobState state);
bool is_final(JobState state);  // succeeded, failed or cancelled

struct JobRecord {
  std::string id;               // 32 lowercase hex characters, random
  std::string op;               // "cutout"
  std::string options_json;     // the request's checked options, opaque text
  std::string idempotency_key;  // "" when none
  std::string webhook;          // "" when none
  JobState state = JobState::kQueued;
  double progress = 0;          // 0..1; 1 once succeeded, 0 again when (re)started
  std::string error_code, error_message;  // failed jobs ("interrupted": see requeue_interrupted)
  std::string result_json;      // succeeded: opaque text the server stores
  int attempts = 0;             // times it started running
  bool cancel_requested = false;
  std::int64_t created_ms = 0, updated_ms = 0, finished_ms = 0;  // unix ms; finished 0 while not final
};

class JobStore {
 public:
  // Opens or creates DATA_DIR (and parents), DATA_DIR/jobs/ and DATA_DIR/jobs.sqlite3.
  // Errors: the folder cannot be created ("DIR: cannot create directory: ..."), another
  // process holds it (kFailedPrecondition "DIR: in use by another process (DIR/jobs.lock
  // is locked)"), "…/jobs.sqlite3: not a job database (file is not a database)" for
  // garbage, "(another program's SQLite database)" for a foreign one.
  static Result<std::unique_ptr<JobStore>> open(const std::filesystem::path& data_dir);
  virtual ~JobStore() = default;

  // A new queued job with an empty folder (created=true). With a non-empty idempotency key
  // that a stored job already has, that job instead, whatever its options (created=false;
  // the caller may compare op and options_json to reject a reused key). A key is free again
  // once its job has expired.
  struct Created {
    JobRecord job;
    bool created = false;
  };
  virtual Result<Created> create(std::string op, std::string options_json, std::string idempotency_key,
                                 std::string webhook) = 0;

  // Malformed ids: kInvalidArgument 'malformed job id "../x" (32 lowercase hex characters
  // expected)', for every method taking an id. Unknown ones: kNotFound "job 'ID' not found".
  virtual Result<JobRecord> get(std::string_view id) = 0;

  // The oldest queued job, now running (attempts+1, progress 0), or nullopt when none.
  // Atomic (one UPDATE … RETURNING): two threads never claim the same job.
  virtual Result<std::optional<JobRecord>> claim_next() = 0;

  // A running job's progress, clamped to 0..1 (NaN: kInvalidArgument). Not running:
  // kFailedPrecondition "job 'ID' is cancelled, not running".
  virtual Status set_progress(std::string_view id, double progress) = 0;

  // running -> final_state (succeeded, failed or cancelled; others: kInvalidArgument).
  // Not running: kFailedPrecondition as set_progress. Write the result files first.
  virtual Status finish(std::string_view id, JobState final_state, std::string error_code,
                        std::string error_message, std::string result_json) = 0;

  // queued -> cancelled at once; running -> cancel_requested set (the worker stops and
  // finishes it as cancelled); final: no change. Returns the job as it is now.
  virtual Result<JobRecord> cancel(std::string_view id) = 0;

  // At start-up: every job left running (the process died) becomes queued again, progress
  // 0, attempts kept; returns how many. Those whose cancel was requested become cancelled,
  // and those that have started max_attempts times fail with error_code "interrupted" (a
  // job that kills the server is not retried forever); neither is counted.
  virtual Result<int> requeue_interrupted(int max_attempts = 3) = 0;

  // Final jobs finished before now_ms - ttl_ms are deleted with their folders; then, while
  // the folders of the final jobs left together exceed quota_bytes (measured now), the
  // oldest finished are deleted. Returns how many jobs were deleted. Also removes folders
  // under jobs/ named like an id that no job has (left by a crash while deleting).
  virtual Result<int> expire(std::int64_t now_ms, std::int64_t ttl_ms, std::uint64_t quota_bytes) = 0;

  // Jobs per state, every state present (0 when none, and all 0 if the query fails).
  virtual std::map<JobState, int> counts() = 0;

  // DATA_DIR/jobs/<id> (input and result files); empty for a malformed id.
  virtual std::filesystem::path job_dir(std::string_view id) const = 0;
};

// The embedded store of JobStore::open (declared here for job_store.cpp).
class SqliteJobStore final : public JobStore {
 public:
  struct Impl;
  explicit SqliteJobStore(std::unique_ptr<Impl> impl);
  ~SqliteJobStore() override;
  Result<Created> create(std::string op, std::string options_json, std::string idempotency_key,
                         std::string webhook) override;
  Result<JobRecord> get(std::string_view id) override;
  Result<std::optional<JobRecord>> claim_next() override;
  Status set_progress(std::string_view id, double progress) override;
  Status finish(std::string_view id, JobState final_state, std::string error_code, std::string error_message,
                std::string result_json) override;
  Result<JobRecord> cancel(std::string_view id) override;
  Result<int> requeue_interrupted(int max_attempts = 3) override;
  Result<int> expire(std::int64_t now_ms, std::int64_t ttl_ms, std::uint64_t quota_bytes) override;
  std::map<JobState, int> counts() override;
  std::filesystem::path job_dir(std::string_view id) const override;

 private:
  std::unique_ptr<Impl> impl_;
};

// Shared by the stores (job_store.cpp, redis_job_store.cpp); not for the stores' callers.
namespace detail {
inline constexpr JobState kJobStates[] = {JobState::kQueued, JobState::kRunning, JobState::kSucceeded,
                                          JobState::kFailed, JobState::kCancelled};
bool valid_job_id(std::string_view id);  // 32 lowercase hex characters
// kInvalidArgument 'malformed job id "../x" (32 lowercase hex characters expected)'.
Status check_job_id(std::string_view id);
Result<std::string> new_job_id();  // 16 bytes of getrandom() in lowercase hex
std::optional<JobState> job_state_from_name(std::string_view name);  // inverse of job_state_name
std::uint64_t folder_bytes(const std::filesystem::path& dir);  // regular files under dir (0: none)
}  // namespace detail

}  // namespace atelier::server
