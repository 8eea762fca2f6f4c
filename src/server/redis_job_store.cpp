#include "server/redis_job_store.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "core/files.h"
#include "core/text.h"

namespace atelier::server {
namespace fs = std::filesystem;
namespace {

constexpr const char* kGroup = "workers";
constexpr int kBatch = 500;                                   // ids per script call or pipeline
constexpr auto kOrphanGrace = std::chrono::minutes(1);        // create() makes the folder first
constexpr std::int64_t kConsumerIdleMs = 3600 * 1000;         // stopped processes' consumers

// Functions every script starts with. A job goes from `from` to a final state in
// to_final(); drop() acknowledges and deletes its stream entry.
constexpr const char* kPrelude = R"lua(
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function int(n) return string.format('%d', n) end
local function job_key(prefix, id) return prefix .. ':job:' .. id end
local function to_final(prefix, job, id, from, state, now, ttl)
  redis.call('HSET', job, 'state', state, 'updated_ms', int(now), 'finished_ms', int(now), 'owner', '',
    'finish_seq', redis.call('INCR', prefix .. ':finish_seq'))
  redis.call('HINCRBY', prefix .. ':counts', from, -1)
  redis.call('ZADD', prefix .. ':done:' .. state, int(now), id)
  redis.call('PEXPIRE', job, ttl)
  local key = redis.call('HGET', job, 'idempotency_key')
  if key and key ~= '' then
    local idem = prefix .. ':idem:' .. key
    if redis.call('GET', idem) == id then redis.call('PEXPIRE', idem, ttl) end
  end
end
local function drop(prefix, group, entry)
  if entry and entry ~= '' then
    redis.call('XACK', prefix .. ':jobs', group, entry)
    redis.call('XDEL', prefix .. ':jobs', entry)
  end
end
local function delete_final(prefix, id)
  local job = job_key(prefix, id)
  local state = redis.call('HGET', job, 'state')
  if state ~= 'succeeded' and state ~= 'failed' and state ~= 'cancelled' then return false end
  local key = redis.call('HGET', job, 'idempotency_key')
  if key and key ~= '' then
    local idem = prefix .. ':idem:' .. key
    if redis.call('GET', idem) == id then redis.call('DEL', idem) end
  end
  redis.call('DEL', job)
  redis.call('ZREM', prefix .. ':done:' .. state, id)
  return true
end
)lua";

// ARGV: prefix, id, op, options_json, idempotency_key, webhook.
// {1, fields} created; {0, fields} the idempotency key's job. An id is 128 random bits:
// a hash that has it already is this very call, sent again on a new connection.
constexpr const char* kCreate = R"lua(
local prefix, id, key = ARGV[1], ARGV[2], ARGV[5]
local job = job_key(prefix, id)
if redis.call('EXISTS', job) == 1 then return {1, redis.call('HGETALL', job)} end
if key ~= '' then
  local idem = prefix .. ':idem:' .. key
  local old = redis.call('GET', idem)
  if old and redis.call('EXISTS', job_key(prefix, old)) == 1 then
    return {0, redis.call('HGETALL', job_key(prefix, old))}
  end
  redis.call('SET', idem, id)
end
local now = int(now_ms())
local entry = redis.call('XADD', prefix .. ':jobs', '*', 'id', id)
redis.call('HSET', job, 'id', id, 'op', ARGV[3], 'options_json', ARGV[4], 'idempotency_key', key,
  'webhook', ARGV[6], 'state', 'queued', 'progress', '0', 'error_code', '', 'error_message', '',
  'result_json', '', 'attempts', '0', 'cancel_requested', '0', 'created_ms', now, 'updated_ms', now,
  'finished_ms', '0', 'entry', entry, 'owner', '')
redis.call('HINCRBY', prefix .. ':counts', 'queued', 1)
return {1, redis.call('HGETALL', job)}
)lua";

// ARGV: prefix, group, consumer, owner token, claim idle ms, max attempts, ttl ms, entry,
// then the ids this store runs. The fields of the job this consumer starts now, or nil.
// First the entries idle longer than the claim time (their worker stopped: an interrupted
// start; those of jobs this store runs are only late for their heartbeat), then new
// entries; with an entry given, only that one (just read by XREADGROUP … BLOCK).
constexpr const char* kClaim = R"lua(
local prefix, group, me, token = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local min_idle, max_attempts, ttl, given = ARGV[5], tonumber(ARGV[6]), ARGV[7], ARGV[8]
local stream, counts = prefix .. ':jobs', prefix .. ':counts'
local mine = {}
for i = 9, #ARGV do mine[ARGV[i]] = true end
local now = now_ms()
local function id_of(fields)
  if type(fields) ~= 'table' then return nil end
  for i = 1, #fields - 1, 2 do
    if fields[i] == 'id' then return fields[i + 1] end
  end
  return nil
end
local function start(job, entry)
  redis.call('HSET', job, 'state', 'running', 'progress', '0', 'updated_ms', int(now), 'owner', token,
    'entry', entry)
  redis.call('HINCRBY', job, 'attempts', 1)
  return redis.call('HGETALL', job)
end
local function take(entry, fields, stale)
  local id = id_of(fields)
  local job = id and job_key(prefix, id)
  local state = job and redis.call('HGET', job, 'state')
  if state == 'queued' then
    redis.call('HINCRBY', counts, 'queued', -1)
    redis.call('HINCRBY', counts, 'running', 1)
    return start(job, entry)
  end
  if state == 'running' and stale then
    if mine[id] and redis.call('HGET', job, 'owner') == token then return nil end
    local attempts = tonumber(redis.call('HGET', job, 'attempts'))
    if redis.call('HGET', job, 'cancel_requested') == '1' then
      to_final(prefix, job, id, 'running', 'cancelled', now, ttl)
    elseif attempts >= max_attempts then
      redis.call('HSET', job, 'error_code', 'interrupted',
        'error_message', 'the server stopped while running this job, ' .. int(attempts) .. ' times')
      to_final(prefix, job, id, 'running', 'failed', now, ttl)
    else
      return start(job, entry)
    end
  end
  drop(prefix, group, entry)
  return nil
end
if given ~= '' then
  local p = redis.call('XPENDING', stream, group, given, given, 1)
  if #p == 0 or p[1][2] ~= me then return false end
  local r = redis.call('XRANGE', stream, given, given)
  if #r == 0 then
    drop(prefix, group, given)
    return false
  end
  return take(given, r[1][2], false) or false
end
local cursor = '0-0'
for _ = 1, 1000 do
  local r = redis.call('XAUTOCLAIM', stream, group, me, min_idle, cursor, 'COUNT', 1)
  cursor = r[1]
  for _, e in ipairs(r[2]) do
    if type(e) == 'table' then
      local got = take(e[1], e[2], true)
      if got then return got end
    end
  end
  if cursor == '0-0' then break end
end
for _ = 1, 100 do
  local r = redis.call('XREADGROUP', 'GROUP', group, me, 'COUNT', 1, 'STREAMS', stream, '>')
  if not r then return false end
  local e = r[1][2][1]
  if not e then return false end
  local got = take(e[1], e[2], false)
  if got then return got end
end
return false
)lua";

// ARGV: prefix, group, consumer, owner token, then (id, entry) pairs. Re-claims the entries
// this consumer still holds for jobs this store runs; returns the ids it no longer runs.
constexpr const char* kHeartbeat = R"lua(
local prefix, group, me, token = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local stream = prefix .. ':jobs'
local lost = {}
for i = 5, #ARGV - 1, 2 do
  local id, entry = ARGV[i], ARGV[i + 1]
  local p = redis.call('XPENDING', stream, group, entry, entry, 1)
  if #p == 1 and p[1][2] == me and redis.call('HGET', job_key(prefix, id), 'owner') == token then
    redis.call('XCLAIM', stream, group, me, 0, entry, 'JUSTID')
  else
    lost[#lost + 1] = id
  end
end
return lost
)lua";

// Checks shared by set_progress and finish: {'missing'}, {'state', STATE}, {'owner', OWNER}.
constexpr const char* kRunningCheck = R"lua(
local function check_running(job, token)
  local state = redis.call('HGET', job, 'state')
  if not state then return {'missing'} end
  if state ~= 'running' then return {'state', state} end
  local owner = redis.call('HGET', job, 'owner')
  if owner ~= token then return {'owner', owner} end
  return nil
end
)lua";

// ARGV: prefix, owner token, id, progress.
constexpr const char* kProgress = R"lua(
local job = job_key(ARGV[1], ARGV[3])
local bad = check_running(job, ARGV[2])
if bad then return bad end
redis.call('HSET', job, 'progress', ARGV[4], 'updated_ms', int(now_ms()))
return {'ok'}
)lua";

// ARGV: prefix, group, owner token, id, final state, error code, error message, result, ttl.
constexpr const char* kFinish = R"lua(
local prefix, id, state = ARGV[1], ARGV[4], ARGV[5]
local job = job_key(prefix, id)
local bad = check_running(job, ARGV[3])
if bad then return bad end
redis.call('HSET', job, 'error_code', ARGV[6], 'error_message', ARGV[7], 'result_json', ARGV[8])
if state == 'succeeded' then redis.call('HSET', job, 'progress', '1') end
local entry = redis.call('HGET', job, 'entry')
to_final(prefix, job, id, 'running', state, now_ms(), ARGV[9])
drop(prefix, ARGV[2], entry)
return {'ok'}
)lua";

// ARGV: prefix, group, id, ttl. The job's fields after the cancel, or nil when unknown.
constexpr const char* kCancel = R"lua(
local prefix, id = ARGV[1], ARGV[3]
local job = job_key(prefix, id)
local state = redis.call('HGET', job, 'state')
if not state then return false end
local now = now_ms()
if state == 'queued' then
  local entry = redis.call('HGET', job, 'entry')
  to_final(prefix, job, id, 'queued', 'cancelled', now, ARGV[4])
  drop(prefix, ARGV[2], entry)
elseif state == 'running' and redis.call('HGET', job, 'cancel_requested') ~= '1' then
  redis.call('HSET', job, 'cancel_requested', '1', 'updated_ms', int(now))
end
return redis.call('HGETALL', job)
)lua";

// ARGV: prefix, ttl. {queued, running, succeeded, failed, cancelled}; final jobs whose
// records have expired leave the sorted sets first.
constexpr const char* kCounts = R"lua(
local prefix = ARGV[1]
local cut = now_ms() - tonumber(ARGV[2])
local out = {tonumber(redis.call('HGET', prefix .. ':counts', 'queued') or '0'),
             tonumber(redis.call('HGET', prefix .. ':counts', 'running') or '0')}
for _, st in ipairs({'succeeded', 'failed', 'cancelled'}) do
  local set = prefix .. ':done:' .. st
  redis.call('ZREMRANGEBYSCORE', set, '-inf', '(' .. int(cut))
  out[#out + 1] = redis.call('ZCARD', set)
end
return out
)lua";

// ARGV: prefix, cut ms, limit. Final jobs finished before the cut: {deleted records, ids}
// (ids also lists those whose records had expired already).
constexpr const char* kExpireBefore = R"lua(
local prefix, cut, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
local deleted, ids = 0, {}
for _, st in ipairs({'succeeded', 'failed', 'cancelled'}) do
  local set = prefix .. ':done:' .. st
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', set, '-inf', '(' .. cut, 'LIMIT', 0, limit)) do
    if delete_final(prefix, id) then deleted = deleted + 1 end
    redis.call('ZREM', set, id)
    ids[#ids + 1] = id
  end
end
return {deleted, ids}
)lua";

// ARGV: prefix, ids. Deletes those that are final; returns their ids.
constexpr const char* kDelete = R"lua(
local out = {}
for i = 2, #ARGV do
  if delete_final(ARGV[1], ARGV[i]) then out[#out + 1] = ARGV[i] end
end
return out
)lua";

// ARGV: prefix, group, idle ms. Drops consumers without pending entries idle that long.
constexpr const char* kReapConsumers = R"lua(
local stream, group = ARGV[1] .. ':jobs', ARGV[2]
local n = 0
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', stream, group)) do
  local f = {}
  for i = 1, #c - 1, 2 do f[c[i]] = c[i + 1] end
  if f['pending'] == 0 and tonumber(f['idle']) > tonumber(ARGV[3]) then
    redis.call('XGROUP', 'DELCONSUMER', stream, group, f['name'])
    n = n + 1
  end
end
return n
)lua";

struct Script {
  const char* name;
  std::string source;
  std::string sha;  // SCRIPT LOAD's answer
};

std::string format_double(double v) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, p) : "0";
}

template <typename T>
bool parse_number(std::string_view s, T& v) {
  if (s.empty()) {
    v = T();
    return true;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

// A job hash as read: the record and the store's own fields.
struct StoredJob {
  JobRecord job;
  std::string entry, owner;
};

std::string hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "host";
  return buf;
}

class RedisJobStore final : public JobStore {
 public:
  RedisJobStore(std::unique_ptr<RedisClient> redis, RedisStoreOptions options, fs::path jobs_dir, std::string token)
      : redis_(std::move(redis)), opt_(std::move(options)), jobs_dir_(std::move(jobs_dir)), token_(std::move(token)),
        stream_(opt_.prefix + ":jobs") {}

  ~RedisJobStore() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (heartbeat_.joinable()) heartbeat_.join();
  }

  Status start() {
    ATELIER_TRY(create_group());
    for (Script* s : scripts()) {
      ATELIER_ASSIGN_OR_RETURN(RedisReply r, redis_->call({"SCRIPT", "LOAD", s->source}));
      s->sha = r.str;
    }
    heartbeat_ = std::thread([this] { heartbeat_loop(); });
    return {};
  }

  Result<Created> create(std::string op, std::string options_json, std::string idempotency_key,
                         std::string webhook) override {
    ATELIER_ASSIGN_OR_RETURN(std::string id, detail::new_job_id());
    const fs::path dir = jobs_dir_ / id;
    ATELIER_TRY(ensure_directory(dir));  // before the record: workers never see a job without it
    auto discard = [&] {
      std::error_code ec;
      fs::remove_all(dir, ec);
    };
    Result<RedisReply> r = eval(create_, {opt_.prefix, id, std::move(op), std::move(options_json),
                                          std::move(idempotency_key), std::move(webhook)});
    if (!r.ok()) {
      // Sent but unanswered, the job may exist: its folder stays (swept later if it does not).
      const StatusCode code = r.status().code();
      if (code != StatusCode::kUnavailable && code != StatusCode::kDeadlineExceeded) discard();
      return r.status();
    }
    if (!r->is_array() || r->elements.empty() || r->elements[0].type != RedisReply::Type::kInteger) {
      discard();
      return unexpected("create");
    }
    const std::int64_t outcome = r->elements[0].integer;
    if (outcome != 1 || r->elements.size() < 2) discard();
    if (r->elements.size() < 2) return unexpected("create");
    ATELIER_ASSIGN_OR_RETURN(StoredJob stored, parse_job(r->elements[1]));
    return Created{std::move(stored.job), outcome == 1};
  }

  Result<JobRecord> get(std::string_view id) override {
    ATELIER_TRY(detail::check_job_id(id));
    ATELIER_ASSIGN_OR_RETURN(RedisReply r, redis_->call({"HGETALL", job_key(id)}));
    if (r.is_array() && r.elements.empty()) return not_found("job '" + std::string(id) + "' not found");
    ATELIER_ASSIGN_OR_RETURN(StoredJob stored, parse_job(r));
    return std::move(stored.job);
  }

  Result<std::optional<JobRecord>> claim_next() override {
    ATELIER_ASSIGN_OR_RETURN(RedisReply r, claim(""));
    if (r.is_nil() && opt_.claim_block_ms > 0) {
      ATELIER_ASSIGN_OR_RETURN(std::string entry, wait_for_entry());
      if (entry.empty()) return std::optional<JobRecord>();
      ATELIER_ASSIGN_OR_RETURN(r, claim(entry));
    }
    if (r.is_nil()) return std::optional<JobRecord>();
    ATELIER_ASSIGN_OR_RETURN(StoredJob stored, parse_job(r));
    {
      std::lock_guard lock(mu_);
      running_[stored.job.id] = stored.entry;
    }
    return std::optional<JobRecord>(std::move(stored.job));
  }

  Status set_progress(std::string_view id, double progress) override {
    ATELIER_TRY(detail::check_job_id(id));
    if (std::isnan(progress)) return invalid_argument("job '" + std::string(id) + "': progress is not a number");
    progress = std::clamp(progress, 0.0, 1.0);
    ATELIER_ASSIGN_OR_RETURN(RedisReply r, eval(progress_, {opt_.prefix, token_, std::string(id), format_double(progress)}));
    return running_outcome(id, r);
  }

  Status finish(std::string_view id, JobState final_state, std::string error_code, std::string error_message,
                std::string result_json) override {
    ATELIER_TRY(detail::check_job_id(id));
    if (!is_final(final_state)) {
      return invalid_argument("job '" + std::string(id) + "' cannot finish as " + std::string(job_state_name(final_state)));
    }
    ATELIER_ASSIGN_OR_RETURN(RedisReply r,
                             eval(finish_, {opt_.prefix, kGroup, token_, std::string(id), std::string(job_state_name(final_state)),
                                            std::move(error_code), std::move(error_message), std::move(result_json),
                                            std::to_string(opt_.result_ttl_ms)}));
    Status s = running_outcome(id, r);
    if (s.ok() || s.code() == StatusCode::kFailedPrecondition || s.code() == StatusCode::kNotFound) {
      std::lock_guard lock(mu_);
      running_.erase(std::string(id));
    }
    return s;
  }

  Result<JobRecord> cancel(std::string_view id) override {
    ATELIER_TRY(detail::check_job_id(id));
    ATELIER_ASSIGN_OR_RETURN(RedisReply r, eval(cancel_, {opt_.prefix, kGroup, std::string(id),
                                                          std::to_string(opt_.result_ttl_ms)}));
    if (r.is_nil()) return not_found("job '" + std::string(id) + "' not found");
    ATELIER_ASSIGN_OR_RETURN(StoredJob stored, parse_job(r));
    return std::move(stored.job);
  }

  Result<int> requeue_interrupted(int /*max_attempts*/) override { return 0; }

  Result<int> expire(std::int64_t now_ms, std::int64_t ttl_ms, std::uint64_t quota_bytes) override {
    int deleted = 0;
    // Final jobs finished before the cut.
    for (;;) {
      ATELIER_ASSIGN_OR_RETURN(RedisReply r, eval(expire_before_, {opt_.prefix, std::to_string(now_ms - ttl_ms),
                                                                   std::to_string(kBatch)}));
      if (!r.is_array() || r.elements.size() != 2 || !r.elements[1].is_array()) return unexpected("expire");
      deleted += int(r.elements[0].integer);
      for (const RedisReply& id : r.elements[1].elements) remove_folder(id.str);
      if (r.elements[1].elements.empty()) break;
    }

    // The folders: those without a record go, final ones count against the quota.
    std::vector<std::string> ids;
    std::error_code ec;
    for (fs::directory_iterator it(jobs_dir_, ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (detail::valid_job_id(name)) ids.push_back(std::move(name));
    }
    struct Final {
      std::int64_t finished_ms, seq;  // seq: finish order, for jobs finished in the same ms
      std::string id;
      bool operator<(const Final& o) const { return std::tie(finished_ms, seq) < std::tie(o.finished_ms, o.seq); }
    };
    std::vector<Final> finals;
    const auto grace_cut = fs::file_time_type::clock::now() - kOrphanGrace;
    for (std::size_t i = 0; i < ids.size(); i += kBatch) {
      std::vector<std::vector<std::string>> cmds;
      for (std::size_t j = i; j < std::min(ids.size(), i + kBatch); ++j) {
        cmds.push_back({"HMGET", job_key(ids[j]), "state", "finished_ms", "finish_seq"});
      }
      ATELIER_ASSIGN_OR_RETURN(std::vector<RedisReply> replies, redis_->pipeline(cmds));
      for (std::size_t k = 0; k < replies.size(); ++k) {
        const RedisReply& r = replies[k];
        const std::string& id = ids[i + k];
        if (r.is_error()) return redis_->error_status(r);
        if (!r.is_array() || r.elements.size() != 3) return unexpected("HMGET");
        if (r.elements[0].is_nil()) {
          std::error_code e;
          const auto written = fs::last_write_time(jobs_dir_ / id, e);
          if (!e && written < grace_cut) remove_folder(id);
          continue;
        }
        std::optional<JobState> state = detail::job_state_from_name(r.elements[0].str);
        std::int64_t finished = 0, seq = 0;
        if (state && is_final(*state) && parse_number(r.elements[1].str, finished) &&
            parse_number(r.elements[2].str, seq)) {
          finals.push_back({finished, seq, id});
        }
      }
    }
    std::sort(finals.begin(), finals.end());
    std::vector<std::uint64_t> sizes;
    std::uint64_t total = 0;
    for (const Final& f : finals) total += sizes.emplace_back(detail::folder_bytes(jobs_dir_ / f.id));
    std::size_t victims = 0;
    while (victims < finals.size() && total > quota_bytes) total -= sizes[victims++];
    for (std::size_t i = 0; i < victims; i += kBatch) {
      std::vector<std::string> args = {opt_.prefix};
      for (std::size_t j = i; j < std::min(victims, i + kBatch); ++j) args.push_back(finals[j].id);
      ATELIER_ASSIGN_OR_RETURN(RedisReply r, eval(delete_, std::move(args)));
      if (!r.is_array()) return unexpected("delete");
      for (const RedisReply& id : r.elements) {
        remove_folder(id.str);
        ++deleted;
      }
    }
    (void)eval(reap_, {opt_.prefix, kGroup, std::to_string(std::max<std::int64_t>(kConsumerIdleMs, 10LL * opt_.claim_idle_ms))});
    return deleted;
  }

  std::map<JobState, int> counts() override {
    std::map<JobState, int> out;
    for (JobState st : detail::kJobStates) out[st] = 0;
    Result<RedisReply> r = eval(counts_, {opt_.prefix, std::to_string(opt_.result_ttl_ms)});
    if (!r.ok() || !r->is_array() || r->elements.size() != 5) return out;
    for (std::size_t i = 0; i < 5; ++i) out[detail::kJobStates[i]] = int(r->elements[i].integer);
    return out;
  }

  fs::path job_dir(std::string_view id) const override {
    if (!detail::valid_job_id(id)) return {};
    return jobs_dir_ / std::string(id);
  }

 private:
  std::vector<Script*> scripts() {
    return {&create_, &claim_, &heartbeat_script_, &progress_, &finish_, &cancel_, &counts_, &expire_before_, &delete_, &reap_};
  }

  std::string job_key(std::string_view id) const { return opt_.prefix + ":job:" + std::string(id); }

  Status unexpected(const char* what) const {
    return internal_error(redis_->name() + ": unexpected reply to " + what);
  }

  // From the start ("0", not "$"): the stream only holds the entries of jobs not yet
  // finished, and after Redis lost its data a create() may have made the stream anew.
  Status create_group() {
    ATELIER_ASSIGN_OR_RETURN(RedisReply r, redis_->command({"XGROUP", "CREATE", stream_, kGroup, "0", "MKSTREAM"}));
    if (!r.is_error() || r.str.starts_with("BUSYGROUP")) return {};
    if (r.str.starts_with("WRONGTYPE")) {
      return failed_precondition(redis_->name() + ": key '" + stream_ + "' is not a stream (" + r.str + ")");
    }
    return redis_->error_status(r);
  }

  // EVALSHA, loading the script again after a server restart (NOSCRIPT) and creating the
  // group again when it is gone (NOGROUP), once each.
  Result<RedisReply> eval(Script& s, std::vector<std::string> args, int timeout_ms = -1) {
    std::vector<std::string> cmd = {"EVALSHA", s.sha, "0"};
    cmd.insert(cmd.end(), std::make_move_iterator(args.begin()), std::make_move_iterator(args.end()));
    bool reloaded = false, regrouped = false;
    for (;;) {
      ATELIER_ASSIGN_OR_RETURN(RedisReply r, redis_->command(cmd, timeout_ms));
      if (!r.is_error()) return r;
      if (!reloaded && r.str.starts_with("NOSCRIPT")) {
        reloaded = true;
        ATELIER_ASSIGN_OR_RETURN(RedisReply loaded, redis_->call({"SCRIPT", "LOAD", s.source}));
        cmd[1] = loaded.str;
        continue;
      }
      if (!regrouped && r.str.find("NOGROUP") != std::string::npos) {
        regrouped = true;
        ATELIER_TRY(create_group());
        continue;
      }
      return redis_->error_status(r).with_context(s.name);
    }
  }

  Result<RedisReply> claim(const std::string& entry) {
    std::vector<std::string> args = {opt_.prefix, kGroup, opt_.consumer, token_, std::to_string(opt_.claim_idle_ms),
                                     std::to_string(opt_.max_attempts), std::to_string(opt_.result_ttl_ms), entry};
    {
      std::lock_guard lock(mu_);
      for (const auto& running : running_) args.push_back(running.first);
    }
    return eval(claim_, std::move(args));
  }

  // XREADGROUP … BLOCK: the entry it gave this consumer, or "" when none came.
  Result<std::string> wait_for_entry() {
    ATELIER_ASSIGN_OR_RETURN(
        RedisReply r,
        redis_->command({"XREADGROUP", "GROUP", kGroup, opt_.consumer, "COUNT", "1", "BLOCK",
                         std::to_string(opt_.claim_block_ms), "STREAMS", stream_, ">"},
                        opt_.claim_block_ms + std::max(1, opt_.client.command_timeout_ms)));
    if (r.is_error()) {
      if (r.str.find("NOGROUP") != std::string::npos) {
        ATELIER_TRY(create_group());
        return std::string();
      }
      return redis_->error_status(r);
    }
    // [[stream, [[entry, [field, value…]]]]]
    if (!r.is_array() || r.elements.empty() || r.elements[0].elements.size() != 2) return std::string();
    const std::vector<RedisReply>& entries = r.elements[0].elements[1].elements;
    if (entries.empty() || entries[0].elements.empty()) return std::string();
    return entries[0].elements[0].str;
  }

  // The answer of the progress and finish scripts as a Status.
  Status running_outcome(std::string_view id, const RedisReply& r) const {
    if (!r.is_array() || r.elements.empty()) return unexpected("a running job's update");
    const std::string& what = r.elements[0].str;
    if (what == "ok") return {};
    const std::string job = "job '" + std::string(id) + "'";
    if (what == "missing") return not_found(job + " not found");
    const std::string arg = r.elements.size() > 1 ? r.elements[1].str : "";
    if (what == "state") return failed_precondition(job + " is " + arg + ", not running");
    return failed_precondition(job + " is running on another worker (" + arg + ")");
  }

  Result<StoredJob> parse_job(const RedisReply& r) const {
    if (!r.is_array() || r.elements.size() % 2 != 0) return unexpected("HGETALL");
    std::map<std::string, std::string> f;
    for (std::size_t i = 0; i + 1 < r.elements.size(); i += 2) f[r.elements[i].str] = r.elements[i + 1].str;
    StoredJob s;
    JobRecord& j = s.job;
    j.id = f["id"];
    auto bad = [&](const std::string& field) {
      return data_loss(redis_->name() + ": job '" + j.id + "' has a bad " + field + " " +
                       atelier::quoted(utf8_prefix(f[field], 40)));
    };
    if (!detail::valid_job_id(j.id)) return data_loss(redis_->name() + ": a job hash without a valid id");
    j.op = f["op"];
    j.options_json = f["options_json"];
    j.idempotency_key = f["idempotency_key"];
    j.webhook = f["webhook"];
    std::optional<JobState> state = detail::job_state_from_name(f["state"]);
    if (!state) {
      return data_loss(redis_->name() + ": job '" + j.id + "' has an unknown state " + atelier::quoted(f["state"]));
    }
    j.state = *state;
    if (!parse_number(f["progress"], j.progress)) return bad("progress");
    j.error_code = f["error_code"];
    j.error_message = f["error_message"];
    j.result_json = f["result_json"];
    if (!parse_number(f["attempts"], j.attempts)) return bad("attempts");
    j.cancel_requested = f["cancel_requested"] == "1";
    if (!parse_number(f["created_ms"], j.created_ms)) return bad("created_ms");
    if (!parse_number(f["updated_ms"], j.updated_ms)) return bad("updated_ms");
    if (!parse_number(f["finished_ms"], j.finished_ms)) return bad("finished_ms");
    s.entry = f["entry"];
    s.owner = f["owner"];
    return s;
  }

  void remove_folder(const std::string& id) {
    if (!detail::valid_job_id(id)) return;
    std::error_code ec;
    fs::remove_all(jobs_dir_ / id, ec);
  }

  // Every claim_idle_ms / 3: re-claims the entries of the jobs this store runs.
  void heartbeat_loop() {
    const auto period = std::chrono::milliseconds(std::max(1, opt_.claim_idle_ms / 3));
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, period, [this] { return stop_; })) {
      if (running_.empty()) continue;
      std::vector<std::string> args = {opt_.prefix, kGroup, opt_.consumer, token_};
      for (const auto& [id, entry] : running_) {
        args.push_back(id);
        args.push_back(entry);
      }
      lock.unlock();
      Result<RedisReply> r = eval(heartbeat_script_, std::move(args));
      lock.lock();
      if (r.ok() && r->is_array()) {
        for (const RedisReply& id : r->elements) running_.erase(id.str);  // taken over, or finished
      }
    }
  }

  std::unique_ptr<RedisClient> redis_;
  RedisStoreOptions opt_;
  fs::path jobs_dir_;
  std::string token_;   // "CONSUMER#RANDOM": this instance, in a running job's `owner`
  std::string stream_;  // PREFIX:jobs

  Script create_{"create", std::string(kPrelude) + kCreate, {}};
  Script claim_{"claim", std::string(kPrelude) + kClaim, {}};
  Script heartbeat_script_{"heartbeat", std::string(kPrelude) + kHeartbeat, {}};
  Script progress_{"set_progress", std::string(kPrelude) + kRunningCheck + kProgress, {}};
  Script finish_{"finish", std::string(kPrelude) + kRunningCheck + kFinish, {}};
  Script cancel_{"cancel", std::string(kPrelude) + kCancel, {}};
  Script counts_{"counts", std::string(kPrelude) + kCounts, {}};
  Script expire_before_{"expire", std::string(kPrelude) + kExpireBefore, {}};
  Script delete_{"expire", std::string(kPrelude) + kDelete, {}};
  Script reap_{"expire", std::string(kPrelude) + kReapConsumers, {}};

  std::mutex mu_;  // running_, stop_
  std::condition_variable cv_;
  std::map<std::string, std::string> running_;  // id -> stream entry, the jobs this store runs
  bool stop_ = false;
  std::thread heartbeat_;
};

}  // namespace

Result<std::unique_ptr<JobStore>> open_redis_job_store(const std::string& url, const fs::path& data_dir,
                                                       RedisStoreOptions options) {
  if (options.prefix.empty()) return invalid_argument("Redis job store: the key prefix is empty");
  if (options.claim_idle_ms < 1) return invalid_argument("Redis job store: claim_idle_ms must be at least 1");
  if (options.result_ttl_ms < 1) return invalid_argument("Redis job store: result_ttl_ms must be at least 1");
  if (options.max_attempts < 1) return invalid_argument("Redis job store: max_attempts must be at least 1");
  if (options.claim_block_ms < 0) return invalid_argument("Redis job store: claim_block_ms must not be negative");
  ATELIER_ASSIGN_OR_RETURN(std::string random, detail::new_job_id());
  if (options.consumer.empty()) {
    options.consumer = hostname() + "-" + std::to_string(::getpid()) + "-" + random.substr(0, 8);
  }
  std::string token = options.consumer + "#" + random.substr(8, 8);
  ATELIER_ASSIGN_OR_RETURN(std::unique_ptr<RedisClient> redis, RedisClient::connect(url, options.client));
  ATELIER_TRY(ensure_directory(data_dir));
  ATELIER_TRY(ensure_directory(data_dir / "jobs"));
  auto store = std::make_unique<RedisJobStore>(std::move(redis), std::move(options), data_dir / "jobs", std::move(token));
  ATELIER_TRY(store->start());
  return std::unique_ptr<JobStore>(std::move(store));
}

}  // namespace atelier::server
