// The Open Inference Protocol (KServe v2) routes of `atelier serve`: every installed model
// is served as a v2 model, so Triton clients — and another Atelier's --inference-url
// (ml/remote_backend.h) — can run it here.
//
//   GET  /v2                          server metadata (name, version, extensions)
//   GET  /v2/health/live | ready      200 while running | once the models are warm (else 503)
//   GET  /v2/models/{name}[/versions/1]        metadata: platform, inputs, outputs (FP32)
//   GET  /v2/models/{name}[/versions/1]/ready  200 when installed and the server is ready
//   POST /v2/models/{name}[/versions/1]/infer  JSON tensors, or the binary tensor extension
//
// Errors on these routes use v2's body, {"error": "message"}, with the status the status
// table gives. An infer request is decoded and checked against the model's manifest (one
// FP32 input of shape 1×3×H×W named as the manifest names it; the one output) before it is
// queued; prepare_v2_infer does that, run_v2_infer runs it on a worker.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "ml/inference.h"
#include "ml/v2_protocol.h"
#include "server/http_message.h"

namespace atelier::server {

bool is_v2_path(const std::string& path);
// "/v2/models/{name}/infer" and the like, for logs and metrics (names are not labels).
std::string v2_route_label(const std::string& path);

// A checked inference request, ready for a worker.
struct V2Infer {
  ml::InstalledModel model;
  ml::V2Request request;
};

// Answers every /v2 route but infer. For a POST .../infer it returns nullopt and fills
// `infer` with the checked request, or returns the error response.
std::optional<Response> v2_route(const Request& request, bool ready, std::optional<V2Infer>& infer);

// Runs the model (ml::get_session with `backend`) and encodes the answer; `seconds` gets
// the inference time. The request's input tensor is moved out (run it once).
Response run_v2_infer(V2Infer& infer, const ml::BackendOptions& backend, double& seconds);

// {"error": message} with the status table's HTTP status for `status`.
Response v2_error(const Status& status);

}  // namespace atelier::server
