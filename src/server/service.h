// The HTTP service's routes over the operations of src/ops (no feature logic here): every
// request is parsed and checked up front exactly as the CLI checks its flags (options,
// uploads, limits), and only then queued for a worker; a full queue answers 429 at once,
// a request whose deadline passes while it waits answers 504. Jobs persist in the job
// store (job_store.h) and finish with a signed webhook (webhook.h) when asked.
//
//   GET  /healthz /readyz /metrics /openapi.json
//   POST /v1/{op}                        the result file, or JSON with result URLs
//   GET  /v1/results/{id}/{name}
//   POST /v1/jobs?op={op}&webhook=URL    202 {"id", "status": "queued"}
//   GET  /v1/jobs/{id}  /v1/jobs/{id}/result  /v1/jobs/{id}/files/{name};  DELETE /v1/jobs/{id}
//   GET  /v1/events                      WebSocket of job events (event_session.h)
//   /v2/...                              KServe v2 (v2_routes.h)
//
// Thread-safety: handle() may be called from any thread; `done` runs exactly once, on a
// network thread (errors found up front) or a worker thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "server/config.h"
#include "server/http_message.h"
#include "server/metrics.h"

namespace atelier::server {

class Service {
 public:
  // Opens the job store under config.data_dir (re-queueing jobs a dead process left
  // running) and starts the workers, the job dispatcher and the warm-up of the models.
  static Result<std::unique_ptr<Service>> create(ServeConfig config);
  ~Service();

  void handle(Request request, std::function<void(Response)> done);
  bool ready() const;
  // Stops taking work, lets queued and running requests finish for up to `seconds`; jobs
  // still running then stay running in the store and run again at the next start.
  void shutdown(double seconds);
  // One log line (stderr) and the request metrics for an answered request.
  void log_request(const Request& request, const Response& response, std::size_t bytes_sent, double seconds);
  Metrics& metrics();
  const ServeConfig& config() const;
  // For the WebSocket (event_session.h): the 401 answer for a request without a valid key
  // (nullopt when it may pass); a job as GET /v1/jobs/{id} shows it; and the text its
  // operation streamed (an edit's model answer) from character `from` on ("" when none).
  std::optional<Response> authorize(const Request& request) const;
  Result<nlohmann::json> job_event(std::string_view id);
  std::string job_text(std::string_view id, std::size_t from);

  struct Impl;

 private:
  explicit Service(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The OpenAPI 3.1 document of every route, generated from the operations' declarations.
nlohmann::json openapi_document();

}  // namespace atelier::server
