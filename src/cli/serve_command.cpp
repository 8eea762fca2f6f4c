#include "cli/serve_command.h"

#include <cctype>
#include <cstdlib>
#include <memory>

#include "cli/common.h"
#include "core/files.h"
#include "core/parse.h"
#include "core/text.h"
#include "server/http_server.h"
#include "server/redis_client.h"
#include "server/service.h"

namespace atelier::cli {
namespace {

struct ServeArgs {
  server::ServeConfig config;
  std::string api_keys_file, webhook_secret_file, max_pixels = "100M", log_format = "text", data_dir;
  RuntimeFlags runtime;
};

std::string default_data_dir() {
  if (const char* s = std::getenv("XDG_STATE_HOME"); s && *s) return std::string(s) + "/atelier/serve";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.local/state/atelier/serve";
  return "atelier-serve";
}

// Non-empty lines of a file, '#' comments left out (keys, secrets: never printed).
Result<std::vector<std::string>> secret_lines(const std::string& flag, const std::string& path) {
  auto bytes = read_file(path, 1 << 20);
  if (!bytes.ok()) return bytes.status().with_context(flag);
  std::vector<std::string> out;
  std::string text(bytes->begin(), bytes->end());
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string line = trim(std::string_view(text).substr(pos, eol - pos));
    pos = eol + 1;
    if (!line.empty() && line[0] != '#') out.push_back(line);
  }
  if (out.empty()) return invalid_argument(flag + " " + path + ": no keys in the file");
  return out;
}

int run_serve(ServeArgs& a) {
  if (Status s = check_runtime(a.runtime); !s.ok()) return print_error(s.message()), kExitUsage;
  server::ServeConfig& c = a.config;
  c.backend = *backend_options(a.runtime);
  auto limits = limits_from_flag(a.max_pixels);
  if (!limits.ok()) return print_error(limits.status().message()), kExitUsage;
  c.limits = *limits;
  c.limits.max_input_bytes = c.max_body;
  c.data_dir = a.data_dir.empty() ? default_data_dir() : a.data_dir;
  c.log_json = a.log_format == "json";
  if (c.worker_only && c.queue_url.empty()) {
    return print_error("--worker-only needs --queue-url (workers take their jobs from a shared Redis)"), kExitUsage;
  }
  if (!c.queue_url.empty()) {
    if (auto url = server::parse_redis_url(c.queue_url); !url.ok()) {
      return print_error("--queue-url: " + url.status().message()), kExitUsage;
    }
  }
  if (!a.api_keys_file.empty()) {
    auto keys = secret_lines("--api-keys", a.api_keys_file);
    if (!keys.ok()) return print_error(keys.status().message()), kExitUsage;
    c.api_keys = *keys;
  }
  if (!a.webhook_secret_file.empty()) {
    auto lines = secret_lines("--webhook-secret-file", a.webhook_secret_file);
    if (!lines.ok()) return print_error(lines.status().message()), kExitUsage;
    c.webhook_secret = lines->front();
  } else if (const char* s = std::getenv("ATELIER_WEBHOOK_SECRET"); s && *s) {
    c.webhook_secret = s;
  }
  auto service = server::Service::create(c);
  if (!service.ok()) return print_error(service.status().message()), kExitFailed;
  Status s = server::run_http_server(**service);
  if (!s.ok()) return print_error(s.message()), kExitFailed;
  return kExitOk;
}

}  // namespace

std::function<int()> add_serve_command(CLI::App& app) {
  auto a = std::make_shared<ServeArgs>();
  server::ServeConfig& c = a->config;
  CLI::App* cmd = app.add_subcommand("serve", "Serve every operation over HTTP (jobs, webhooks, metrics, OpenAPI)");
  auto env = [](CLI::Option* o, const char* name) { return o->envname(std::string("ATELIER_SERVE_") + name); };
  env(cmd->add_option("--host", c.host, "Address to bind (default 127.0.0.1: this machine only)"), "HOST");
  env(add_integer_option(*cmd, "--port", c.port, 0, 65535, "Port, 0 for any free one (default 8080)"), "PORT");
  env(add_integer_option(*cmd, "--workers", c.workers, 1, 64, "Inference workers (default 1)"), "WORKERS");
  env(add_integer_option(*cmd, "--queue", c.queue, 0, 100000, "Requests that may wait for a worker; more get 429 (default 16)"),
      "QUEUE");
  env(add_integer_option(*cmd, "--io-threads", c.threads, 1, 64, "Network threads (default 2)"), "IO_THREADS");
  env(add_integer_option(*cmd, "--max-connections", c.max_connections, 1, 100000, "Concurrent connections (default 256)"),
      "MAX_CONNECTIONS");
  env(cmd->add_option("--api-keys", a->api_keys_file, "File of API keys, one per line; requests need Authorization: Bearer KEY"),
      "API_KEYS");
  env(cmd->add_option("--max-body", c.max_body, "Largest request body in bytes (default 33554432)")
          ->check(CLI::Range(std::uint64_t(1), std::uint64_t(1) << 34)),
      "MAX_BODY");
  env(cmd->add_option("--max-pixels", a->max_pixels, "Refuse larger images (default 100M)"), "MAX_PIXELS");
  env(add_number_option(*cmd, "--timeout", c.timeout, 0.1, 86400, "Seconds a request may take, queue included; also the shutdown grace (default 60)"),
      "TIMEOUT");
  env(add_number_option(*cmd, "--read-timeout", c.read_timeout, 0.1, 3600, "Seconds a client has to send its whole request (default 30)"),
      "READ_TIMEOUT");
  env(cmd->add_option("--data-dir", a->data_dir, "Jobs and results (default ~/.local/state/atelier/serve)"), "DATA_DIR");
  env(cmd->add_option("--assets-dir", c.assets_dir, "Folder render may read image sources from (default: uploads only)"),
      "ASSETS_DIR");
  env(cmd->add_option("--allow-origin", c.allow_origin, "Allow browser calls from this origin (CORS; * for any)"),
      "ALLOW_ORIGIN");
  env(cmd->add_flag("--allow-private-webhooks", c.allow_private_webhooks,
                    "Let webhooks reach loopback and private addresses (tests, one trusted network)"),
      "ALLOW_PRIVATE_WEBHOOKS");
  env(cmd->add_option("--webhook-secret-file", a->webhook_secret_file,
                      "File holding the whsec_ secret webhooks are signed with (or ATELIER_WEBHOOK_SECRET)"),
      "WEBHOOK_SECRET_FILE");
  env(add_number_option(*cmd, "--result-ttl", c.result_ttl, 1, 30 * 86400, "Seconds results and finished jobs are kept (default 3600)"),
      "RESULT_TTL");
  env(cmd->add_option("--disk-quota", c.disk_quota, "Bytes finished jobs may keep on disk (default 4 GiB)"), "DISK_QUOTA");
  env(cmd->add_option("--queue-url", c.queue_url,
                      "Jobs on Redis Streams, shared by every process with the same URL and --data-dir: "
                      "redis://[:PASSWORD@]HOST:PORT[/DB] (default: SQLite in --data-dir)"),
      "QUEUE_URL");
  env(cmd->add_flag("--worker-only", c.worker_only, "Only run jobs from --queue-url (no API routes; health, readiness and metrics stay)"),
      "WORKER_ONLY");
  env(add_number_option(*cmd, "--claim-idle", c.claim_idle, 0.1, 3600,
                        "Seconds a Redis job may go without its worker's heartbeat before another process takes it (default 30)"),
      "CLAIM_IDLE");
  env(cmd->add_option("--log-format", a->log_format, "text | json: one line per request on stderr (default text)")
          ->check(CLI::IsMember({"text", "json"})),
      "LOG_FORMAT");
  add_runtime_flags(*cmd, a->runtime);
  for (const char* flag : {"--threads", "--backend", "--precision", "--inference-url"}) {
    std::string name = std::string(flag + 2);
    for (char& ch : name) ch = ch == '-' ? '_' : char(std::toupper(static_cast<unsigned char>(ch)));
    env(cmd->get_option(flag), name.c_str());
  }
  return [a]() { return run_serve(*a); };
}

}  // namespace atelier::cli
