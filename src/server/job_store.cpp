#include "server/job_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include "core/files.h"
#include "core/text.h"

namespace atelier::server {
namespace fs = std::filesystem;
namespace {

constexpr int kApplicationId = 0x41544c4a;  // "ATLJ" in the database header
constexpr int kSchemaVersion = 1;
constexpr int kBusyTimeoutMs = 5000;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  op TEXT NOT NULL,
  options_json TEXT NOT NULL,
  idempotency_key TEXT UNIQUE,
  webhook TEXT NOT NULL,
  state TEXT NOT NULL,
  progress REAL NOT NULL DEFAULT 0,
  error_code TEXT NOT NULL DEFAULT '',
  error_message TEXT NOT NULL DEFAULT '',
  result_json TEXT NOT NULL DEFAULT '',
  attempts INTEGER NOT NULL DEFAULT 0,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  finished_ms INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs(state, seq);
CREATE INDEX IF NOT EXISTS jobs_by_finish ON jobs(finished_ms, seq) WHERE finished_ms > 0;
)sql";

// The columns read_record() reads, in its order.
#define JOB_COLUMNS                                                                          \
  "id, op, options_json, COALESCE(idempotency_key, ''), webhook, state, progress, error_code, " \
  "error_message, result_json, attempts, cancel_requested, created_ms, updated_ms, finished_ms"

}  // namespace

namespace detail {

bool valid_job_id(std::string_view id) {
  if (id.size() != 32) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Status check_job_id(std::string_view id) {
  if (valid_job_id(id)) return {};
  return invalid_argument("malformed job id " + atelier::quoted(utf8_prefix(id, 64)) +
                          " (32 lowercase hex characters expected)");
}

Result<std::string> new_job_id() {
  unsigned char bytes[16];
  std::size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return internal_error("cannot read random bytes for a job id: " + errno_text(errno));
    }
    got += std::size_t(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  return id;
}

std::optional<JobState> job_state_from_name(std::string_view name) {
  for (JobState st : kJobStates) {
    if (job_state_name(st) == name) return st;
  }
  return std::nullopt;
}

std::uint64_t folder_bytes(const fs::path& dir) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code e;
    if (it->is_regular_file(e)) {
      std::uint64_t n = it->file_size(e);
      if (!e) total += n;
    }
  }
  return total;
}

}  // namespace detail

namespace {

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// "WHERE: sqlite's message", with a code by the kind of failure.
Status sql_status(int rc, sqlite3* db, const std::string& where) {
  std::string msg = where + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_FULL: return resource_exhausted(msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return unavailable(msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return data_loss(msg);
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
    case SQLITE_AUTH: return permission_denied(msg);
    default: return internal_error(msg);
  }
}

// A prepared statement, finalized on destruction. A prepare or bind error is reported by
// the first step().
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& where, std::string_view sql) : db_(db), where_(where) {
    rc_ = sqlite3_prepare_v2(db, sql.data(), int(sql.size()), &s_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& text(int i, std::string_view v) {
    return check(rc_ == SQLITE_OK ? sqlite3_bind_text(s_, i, v.data(), int(v.size()), SQLITE_TRANSIENT) : rc_);
  }
  Stmt& integer(int i, std::int64_t v) { return check(rc_ == SQLITE_OK ? sqlite3_bind_int64(s_, i, v) : rc_); }
  Stmt& real(int i, double v) { return check(rc_ == SQLITE_OK ? sqlite3_bind_double(s_, i, v) : rc_); }
  Stmt& null(int i) { return check(rc_ == SQLITE_OK ? sqlite3_bind_null(s_, i) : rc_); }

  // true: a row is ready; false: done.
  Result<bool> step() {
    if (rc_ != SQLITE_OK) return sql_status(rc_, db_, where_);
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return sql_status(rc, db_, where_);
  }
  // Steps to the end, ignoring rows.
  Status run() {
    for (;;) {
      ATELIER_ASSIGN_OR_RETURN(bool row, step());
      if (!row) return {};
    }
  }
  std::string col_text(int c) const {
    const unsigned char* p = sqlite3_column_text(s_, c);
    return p ? std::string(reinterpret_cast<const char*>(p), std::size_t(sqlite3_column_bytes(s_, c))) : "";
  }
  std::int64_t col_int(int c) const { return sqlite3_column_int64(s_, c); }
  double col_real(int c) const { return sqlite3_column_double(s_, c); }

 private:
  Stmt& check(int rc) {
    rc_ = rc;
    return *this;
  }
  sqlite3* db_;
  const std::string& where_;
  sqlite3_stmt* s_ = nullptr;
  int rc_ = SQLITE_OK;
};

Result<JobRecord> read_record(const Stmt& s, const std::string& where) {
  JobRecord r;
  r.id = s.col_text(0);
  r.op = s.col_text(1);
  r.options_json = s.col_text(2);
  r.idempotency_key = s.col_text(3);
  r.webhook = s.col_text(4);
  std::string state = s.col_text(5);
  std::optional<JobState> known = detail::job_state_from_name(state);
  if (!known) return data_loss(where + ": job '" + r.id + "' has an unknown state " + atelier::quoted(state));
  r.state = *known;
  r.progress = s.col_real(6);
  r.error_code = s.col_text(7);
  r.error_message = s.col_text(8);
  r.result_json = s.col_text(9);
  r.attempts = int(s.col_int(10));
  r.cancel_requested = s.col_int(11) != 0;
  r.created_ms = s.col_int(12);
  r.updated_ms = s.col_int(13);
  r.finished_ms = s.col_int(14);
  return r;
}

}  // namespace

std::string_view job_state_name(JobState state) {
  switch (state) {
    case JobState::kQueued: return "queued";
    case JobState::kRunning: return "running";
    case JobState::kSucceeded: return "succeeded";
    case JobState::kFailed: return "failed";
    case JobState::kCancelled: return "cancelled";
  }
  return "unknown";
}

bool is_final(JobState state) {
  return state == JobState::kSucceeded || state == JobState::kFailed || state == JobState::kCancelled;
}

struct SqliteJobStore::Impl {
  fs::path data_dir, jobs_dir;
  std::string db_path;
  sqlite3* db = nullptr;
  int lock_fd = -1;
  std::mutex mu;

  ~Impl() {
    if (db) sqlite3_close(db);
    if (lock_fd >= 0) ::close(lock_fd);
  }
  Stmt q(std::string_view sql) { return Stmt(db, db_path, sql); }
  Status exec(const char* sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
    sqlite3_free(err);  // sqlite3_errmsg() still has it
    if (rc == SQLITE_OK) return {};
    return sql_status(rc, db, db_path);
  }
  int changes() { return sqlite3_changes(db); }

  // Caller holds mu; `id` is valid.
  Result<JobRecord> load(std::string_view id) {
    Stmt s = q("SELECT " JOB_COLUMNS " FROM jobs WHERE id = ?");
    s.text(1, id);
    ATELIER_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) return not_found("job '" + std::string(id) + "' not found");
    return read_record(s, db_path);
  }
  // Why a job did not take an update meant for a running one.
  Status not_running(std::string_view id) {
    ATELIER_ASSIGN_OR_RETURN(JobRecord r, load(id));
    return failed_precondition("job '" + r.id + "' is " + std::string(job_state_name(r.state)) + ", not running");
  }
};

// BEGIN IMMEDIATE … COMMIT; rolled back unless committed.
class Txn {
 public:
  explicit Txn(SqliteJobStore::Impl& impl) : impl_(impl) {}
  ~Txn() {
    if (open_) (void)impl_.exec("ROLLBACK");
  }
  Status begin() {
    ATELIER_TRY(impl_.exec("BEGIN IMMEDIATE"));
    open_ = true;
    return {};
  }
  Status commit() {
    ATELIER_TRY(impl_.exec("COMMIT"));
    open_ = false;
    return {};
  }

 private:
  SqliteJobStore::Impl& impl_;
  bool open_ = false;
};

SqliteJobStore::SqliteJobStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteJobStore::~SqliteJobStore() = default;

Result<std::unique_ptr<JobStore>> JobStore::open(const fs::path& data_dir) {
  auto impl = std::make_unique<SqliteJobStore::Impl>();
  impl->data_dir = data_dir;
  impl->jobs_dir = data_dir / "jobs";
  impl->db_path = (data_dir / "jobs.sqlite3").string();
  ATELIER_TRY(ensure_directory(data_dir));
  ATELIER_TRY(ensure_directory(impl->jobs_dir));

  fs::path lock = data_dir / "jobs.lock";
  impl->lock_fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (impl->lock_fd < 0) {
    int err = errno;
    std::string msg = lock.string() + ": cannot open: " + errno_text(err);
    return (err == EACCES || err == EPERM || err == EROFS) ? permission_denied(msg) : invalid_argument(msg);
  }
  if (::flock(impl->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return failed_precondition(data_dir.string() + ": in use by another process (" + lock.string() + " is locked)");
    }
    return internal_error(lock.string() + ": cannot lock: " + errno_text(errno));
  }

  int rc = sqlite3_open_v2(impl->db_path.c_str(), &impl->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    Status st = sql_status(rc, impl->db, impl->db_path);
    return Status(st.code(), impl->db_path + ": cannot open: " + sqlite3_errmsg(impl->db));
  }
  sqlite3_busy_timeout(impl->db, kBusyTimeoutMs);

  // The first statement reads the header: garbage fails here.
  {
    Stmt s = impl->q("PRAGMA journal_mode = WAL");
    Result<bool> row = s.step();
    if (!row.ok()) {
      int code = sqlite3_errcode(impl->db) & 0xff;
      if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT) {
        return invalid_argument(impl->db_path + ": not a job database (" + sqlite3_errmsg(impl->db) + ")");
      }
      return row.status();
    }
  }
  ATELIER_TRY(impl->exec("PRAGMA synchronous = FULL"));
  std::int64_t app_id = 0, version = 0, objects = 0;
  {
    Stmt s = impl->q("SELECT (SELECT application_id FROM pragma_application_id), "
                     "(SELECT user_version FROM pragma_user_version), (SELECT count(*) FROM sqlite_schema)");
    ATELIER_ASSIGN_OR_RETURN(bool row, s.step());
    if (row) app_id = s.col_int(0), version = s.col_int(1), objects = s.col_int(2);
  }
  if (objects > 0 && app_id != kApplicationId) {
    return invalid_argument(impl->db_path + ": not a job database (another program's SQLite database)");
  }
  if (version > kSchemaVersion) {
    return failed_precondition(impl->db_path + ": written by a newer Atelier (job schema " + std::to_string(version) +
                               ", this one knows " + std::to_string(kSchemaVersion) + ")");
  }
  Txn txn(*impl);
  ATELIER_TRY(txn.begin());
  ATELIER_TRY(impl->exec(kSchema));
  ATELIER_TRY(impl->exec(("PRAGMA application_id = " + std::to_string(kApplicationId) +
                          "; PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str()));
  ATELIER_TRY(txn.commit());
  return std::unique_ptr<JobStore>(new SqliteJobStore(std::move(impl)));
}

Result<JobStore::Created> SqliteJobStore::create(std::string op, std::string options_json,
                                           std::string idempotency_key, std::string webhook) {
  ATELIER_ASSIGN_OR_RETURN(std::string id, detail::new_job_id());
  std::lock_guard lock(impl_->mu);
  std::int64_t now = now_ms();
  {
    Stmt s = impl_->q("INSERT INTO jobs (id, op, options_json, idempotency_key, webhook, state, created_ms, updated_ms) "
                      "VALUES (?, ?, ?, ?, ?, 'queued', ?, ?) ON CONFLICT DO NOTHING");
    s.text(1, id).text(2, op).text(3, options_json).text(5, webhook).integer(6, now).integer(7, now);
    if (idempotency_key.empty()) s.null(4); else s.text(4, idempotency_key);
    ATELIER_TRY(s.run());
  }
  if (impl_->changes() == 0) {
    if (idempotency_key.empty()) return internal_error(impl_->db_path + ": job id " + id + " drawn twice");
    Stmt s = impl_->q("SELECT " JOB_COLUMNS " FROM jobs WHERE idempotency_key = ?");
    s.text(1, idempotency_key);
    ATELIER_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) return internal_error(impl_->db_path + ": idempotency key conflict without a job");
    ATELIER_ASSIGN_OR_RETURN(JobRecord existing, read_record(s, impl_->db_path));
    return Created{std::move(existing), false};
  }
  if (Status st = ensure_directory(impl_->jobs_dir / id); !st.ok()) {
    Stmt s = impl_->q("DELETE FROM jobs WHERE id = ?");
    (void)s.text(1, id).run();
    return st;
  }
  ATELIER_ASSIGN_OR_RETURN(JobRecord job, impl_->load(id));
  return Created{std::move(job), true};
}

Result<JobRecord> SqliteJobStore::get(std::string_view id) {
  ATELIER_TRY(detail::check_job_id(id));
  std::lock_guard lock(impl_->mu);
  return impl_->load(id);
}

Result<std::optional<JobRecord>> SqliteJobStore::claim_next() {
  std::lock_guard lock(impl_->mu);
  Stmt s = impl_->q("UPDATE jobs SET state = 'running', attempts = attempts + 1, progress = 0, updated_ms = ? "
                    "WHERE seq = (SELECT seq FROM jobs WHERE state = 'queued' ORDER BY seq LIMIT 1) "
                    "RETURNING " JOB_COLUMNS);
  s.integer(1, now_ms());
  ATELIER_ASSIGN_OR_RETURN(bool row, s.step());
  if (!row) return std::optional<JobRecord>();
  ATELIER_ASSIGN_OR_RETURN(JobRecord job, read_record(s, impl_->db_path));
  ATELIER_TRY(s.run());
  return std::optional<JobRecord>(std::move(job));
}

Status SqliteJobStore::set_progress(std::string_view id, double progress) {
  ATELIER_TRY(detail::check_job_id(id));
  if (std::isnan(progress)) return invalid_argument("job '" + std::string(id) + "': progress is not a number");
  progress = std::clamp(progress, 0.0, 1.0);
  std::lock_guard lock(impl_->mu);
  Stmt s = impl_->q("UPDATE jobs SET progress = ?, updated_ms = ? WHERE id = ? AND state = 'running'");
  ATELIER_TRY(s.real(1, progress).integer(2, now_ms()).text(3, id).run());
  return impl_->changes() == 0 ? impl_->not_running(id) : Status();
}

Status SqliteJobStore::finish(std::string_view id, JobState final_state, std::string error_code,
                        std::string error_message, std::string result_json) {
  ATELIER_TRY(detail::check_job_id(id));
  if (!is_final(final_state)) {
    return invalid_argument("job '" + std::string(id) + "' cannot finish as " + std::string(job_state_name(final_state)));
  }
  std::lock_guard lock(impl_->mu);
  std::int64_t now = now_ms();
  Stmt s = impl_->q("UPDATE jobs SET state = ?1, error_code = ?2, error_message = ?3, result_json = ?4, "
                    "progress = CASE WHEN ?1 = 'succeeded' THEN 1 ELSE progress END, updated_ms = ?5, finished_ms = ?5 "
                    "WHERE id = ?6 AND state = 'running'");
  s.text(1, job_state_name(final_state)).text(2, error_code).text(3, error_message).text(4, result_json);
  ATELIER_TRY(s.integer(5, now).text(6, id).run());
  return impl_->changes() == 0 ? impl_->not_running(id) : Status();
}

Result<JobRecord> SqliteJobStore::cancel(std::string_view id) {
  ATELIER_TRY(detail::check_job_id(id));
  std::lock_guard lock(impl_->mu);
  std::int64_t now = now_ms();
  {
    Stmt s = impl_->q("UPDATE jobs SET state = 'cancelled', updated_ms = ?1, finished_ms = ?1 WHERE id = ?2 AND state = 'queued'");
    ATELIER_TRY(s.integer(1, now).text(2, id).run());
  }
  if (impl_->changes() == 0) {
    Stmt s = impl_->q("UPDATE jobs SET cancel_requested = 1, updated_ms = ? "
                      "WHERE id = ? AND state = 'running' AND cancel_requested = 0");
    ATELIER_TRY(s.integer(1, now).text(2, id).run());
  }
  return impl_->load(id);
}

Result<int> SqliteJobStore::requeue_interrupted(int max_attempts) {
  std::lock_guard lock(impl_->mu);
  std::int64_t now = now_ms();
  Txn txn(*impl_);
  ATELIER_TRY(txn.begin());
  {
    Stmt s = impl_->q("UPDATE jobs SET state = 'cancelled', updated_ms = ?1, finished_ms = ?1 "
                      "WHERE state = 'running' AND cancel_requested <> 0");
    ATELIER_TRY(s.integer(1, now).run());
  }
  {
    Stmt s = impl_->q("UPDATE jobs SET state = 'failed', error_code = 'interrupted', "
                      "error_message = 'the server stopped while running this job, ' || attempts || ' times', "
                      "updated_ms = ?1, finished_ms = ?1 WHERE state = 'running' AND attempts >= ?2");
    ATELIER_TRY(s.integer(1, now).integer(2, max_attempts).run());
  }
  Stmt s = impl_->q("UPDATE jobs SET state = 'queued', progress = 0, updated_ms = ? WHERE state = 'running'");
  ATELIER_TRY(s.integer(1, now).run());
  int requeued = impl_->changes();
  ATELIER_TRY(txn.commit());
  return requeued;
}

Result<int> SqliteJobStore::expire(std::int64_t now_ms, std::int64_t ttl_ms, std::uint64_t quota_bytes) {
  std::vector<std::string> doomed, finals;
  {
    std::lock_guard lock(impl_->mu);
    Stmt s = impl_->q("DELETE FROM jobs WHERE finished_ms > 0 AND finished_ms < ? RETURNING id");
    s.integer(1, now_ms - ttl_ms);
    for (;;) {
      ATELIER_ASSIGN_OR_RETURN(bool row, s.step());
      if (!row) break;
      doomed.push_back(s.col_text(0));
    }
    Stmt f = impl_->q("SELECT id FROM jobs WHERE finished_ms > 0 ORDER BY finished_ms, seq");
    for (;;) {
      ATELIER_ASSIGN_OR_RETURN(bool row, f.step());
      if (!row) break;
      finals.push_back(f.col_text(0));
    }
  }
  int deleted = int(doomed.size());
  // Sizes outside the lock: final jobs stay final, and their folders are the server's to fill.
  std::vector<std::uint64_t> sizes;
  std::uint64_t total = 0;
  for (const std::string& id : finals) total += sizes.emplace_back(detail::folder_bytes(impl_->jobs_dir / id));
  std::size_t victims = 0;
  while (victims < finals.size() && total > quota_bytes) total -= sizes[victims++];
  if (victims > 0) {
    std::lock_guard lock(impl_->mu);
    Txn txn(*impl_);
    ATELIER_TRY(txn.begin());
    for (std::size_t i = 0; i < victims; ++i) {
      Stmt s = impl_->q("DELETE FROM jobs WHERE id = ? AND finished_ms > 0");
      ATELIER_TRY(s.text(1, finals[i]).run());
      deleted += impl_->changes();
      doomed.push_back(finals[i]);
    }
    ATELIER_TRY(txn.commit());
  }
  std::error_code ec;
  for (const std::string& id : doomed) fs::remove_all(impl_->jobs_dir / id, ec);

  // Folders without a job: a crash between deleting a row and its folder.
  std::lock_guard lock(impl_->mu);
  std::set<std::string> known;
  Stmt s = impl_->q("SELECT id FROM jobs");
  for (;;) {
    ATELIER_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) break;
    known.insert(s.col_text(0));
  }
  std::vector<fs::path> orphans;
  for (fs::directory_iterator it(impl_->jobs_dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (detail::valid_job_id(name) && !known.count(name)) orphans.push_back(it->path());
  }
  for (const fs::path& p : orphans) fs::remove_all(p, ec);
  return deleted;
}

std::map<JobState, int> SqliteJobStore::counts() {
  std::map<JobState, int> out;
  for (JobState st : detail::kJobStates) out[st] = 0;
  std::lock_guard lock(impl_->mu);
  Stmt s = impl_->q("SELECT state, count(*) FROM jobs GROUP BY state");
  for (;;) {
    Result<bool> row = s.step();
    if (!row.ok() || !*row) break;
    std::string state = s.col_text(0);
    for (JobState st : detail::kJobStates) {
      if (job_state_name(st) == state) out[st] = int(s.col_int(1));
    }
  }
  return out;
}

fs::path SqliteJobStore::job_dir(std::string_view id) const {
  if (!detail::valid_job_id(id)) return {};
  return impl_->jobs_dir / std::string(id);
}

}  // namespace atelier::server
