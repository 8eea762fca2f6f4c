// What `atelier serve` is started with (every flag also from the environment,
// ATELIER_SERVE_<FLAG>; cli/serve_command.cpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/limits.h"
#include "ml/inference.h"

namespace atelier::server {

struct ServeConfig {
  std::string host = "127.0.0.1";
  int port = 8080;                  // 0: any free port
  int workers = 1;                  // inference workers
  int queue = 16;                   // requests that may wait for a worker; more: 429
  int threads = 2;                  // network threads
  int max_connections = 256;
  std::vector<std::string> api_keys;  // empty: no authentication
  std::uint64_t max_body = 32ull << 20;
  std::uint32_t max_header = 16 << 10;
  Limits limits;                    // decoded pixels (--max-pixels), input bytes
  double timeout = 60;              // seconds a request may take, queue included; shutdown grace
  double read_timeout = 30;         // seconds to receive a whole request
  std::filesystem::path data_dir;   // jobs and results
  std::filesystem::path assets_dir; // render's image sources besides uploads (empty: none)
  std::string allow_origin;         // CORS; empty: off
  bool allow_private_webhooks = false;
  std::string webhook_secret;       // whsec_...; empty: jobs with a webhook are refused
  double result_ttl = 3600;         // seconds results and finished jobs are kept
  std::uint64_t disk_quota = 4ull << 30;
  bool log_json = false;
  bool warm = true;                 // load and run each default model before /readyz says 200
  // Jobs on Redis Streams (redis_job_store.h) instead of SQLite: several processes share
  // them, with data_dir a folder they all mount. Empty: SQLite under data_dir.
  std::string queue_url;
  bool worker_only = false;         // run jobs only: no API routes (health, readiness, metrics stay)
  double claim_idle = 30;           // seconds without a worker's heartbeat before its job is taken over
  ml::BackendOptions backend;
};

}  // namespace atelier::server
