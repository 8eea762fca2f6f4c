// The job store of `atelier serve` on Redis Streams, for several processes (front ends and
// --worker-only workers, on one machine or several) that share one Redis server and one
// data folder (DATA_DIR, e.g. an NFS mount). Same contract as JobStore (job_store.h), with
// the differences below; every method is thread-safe, and safe between processes: each
// state change is one Lua script, which Redis runs atomically.
//
// Keys (PREFIX is RedisStoreOptions::prefix):
//   PREFIX:job:ID          hash: the JobRecord fields by name, plus `entry` (its stream
//                          entry), `owner` (the store instance running it, "" otherwise)
//                          and, once final, `finish_seq`
//   PREFIX:idem:KEY        string: the id of the job created with idempotency key KEY
//   PREFIX:jobs            stream of queued job ids (field `id`), consumer group `workers`;
//                          one consumer per store instance (RedisStoreOptions::consumer)
//   PREFIX:counts          hash: the number of queued and running jobs (HINCRBY in the
//                          scripts that change a state)
//   PREFIX:done:STATE      sorted sets (succeeded, failed, cancelled): final job ids by
//                          finished_ms, for counts() and expire()
//   PREFIX:finish_seq      counter: a final job's `finish_seq` (the quota's order within a ms)
// A job's folder is DATA_DIR/jobs/ID, as with SQLite.
//
// Differences from the SQLite store:
// - Timestamps (created_ms, updated_ms, finished_ms) come from the Redis server's clock
//   (TIME), so every process agrees on them.
// - A final job's hash and idempotency key expire by themselves result_ttl_ms after it
//   finished (PEXPIRE); counts() stops counting it then.
// - requeue_interrupted() does nothing and returns 0: a job left running by a process that
//   died (its heartbeat stopped) is taken by the next claim_next() of any store once its
//   stream entry has been idle for claim_idle_ms. That counts as an interrupted start: it
//   runs again (attempts + 1), unless its cancel was requested (it becomes cancelled) or
//   it has started max_attempts times (it fails with error_code "interrupted"), as
//   requeue_interrupted() does for SQLite.
// - While a store runs jobs, a heartbeat thread re-claims their stream entries every
//   claim_idle_ms / 3, so a live worker's jobs are never taken. set_progress() and finish()
//   are for the store instance that claimed the job: from another one they fail with
//   kFailedPrecondition "job 'ID' is running on another worker (CONSUMER#INSTANCE)", and so
//   do they after a stalled worker's job was taken over. A job claimed and never finished
//   keeps its heartbeat until the store is destroyed; then another store takes it.
// - claim_next() takes the jobs of stopped workers first, then queued ones in creation
//   order. With claim_block_ms it waits for one (on a connection of its own).
// - expire(): records are deleted from the sorted sets (final jobs finished before
//   now_ms - ttl_ms, then the oldest finished while their folders exceed the quota); a
//   folder under jobs/ named like an id whose hash no longer exists (expired, deleted, or
//   left by a crash) is removed once it is more than a minute old (a create() makes the
//   folder just before the record). It also drops the group's consumers that have no
//   pending entry and have been idle for an hour (stopped processes).
// - Durability is Redis's: a job the server acknowledged survives a Redis restart only
//   with persistence on (appendonly yes). Not for Redis Cluster (the scripts name keys
//   they compute).
// Errors name the server ("redis://127.0.0.1:6390: connection refused"); the password is
// never in a message.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "server/job_store.h"
#include "server/redis_client.h"

namespace atelier::server {

struct RedisStoreOptions {
  std::string prefix = "atelier";        // key prefix: stores with the same prefix share jobs
  int claim_idle_ms = 30000;             // a running job without heartbeat this long is taken over
  std::string consumer;                  // this store's consumer name; "": HOSTNAME-PID-RANDOM
  std::int64_t result_ttl_ms = 3600000;  // a final job's record lives this long (the server's TTL)
  int max_attempts = 3;                  // starts before an interrupted job fails "interrupted"
  // claim_next() waits up to this long (XREADGROUP … BLOCK) for a job when none is queued;
  // 0: it answers at once (the service polls, and calls it under a lock create() takes).
  int claim_block_ms = 0;
  RedisClientOptions client;             // timeouts and connection pool
};

// Connects to `url` (redis://[:password@]host:port[/db]), creates DATA_DIR/jobs/ and the
// consumer group (XGROUP CREATE PREFIX:jobs workers 0 MKSTREAM; an existing one is kept;
// created again, the same way, when a command finds it gone), and starts the heartbeat
// thread. Errors: a bad URL or option (kInvalidArgument), the server cannot be
// reached (kUnavailable "redis://HOST:PORT: connection refused") or refuses the password
// (kUnauthenticated), PREFIX:jobs is not a stream (kFailedPrecondition), the folder cannot
// be created.
Result<std::unique_ptr<JobStore>> open_redis_job_store(const std::string& url, const std::filesystem::path& data_dir,
                                                       RedisStoreOptions options = {});

}  // namespace atelier::server
