// Inference on another machine: an InferenceBackend whose run() is one POST to a KServe v2
// (Open Inference Protocol) server — Triton on a GPU, or another `atelier serve` — with
// the binary tensor extension (v2_protocol.h). Pre- and post-processing stay local; only
// the model's input tensor goes out and its output tensor comes back.
//
// URL: http(s)://HOST[:PORT][/PREFIX], the server's base (the model is addressed as
// BASE/v2/models/NAME, NAME the local model's name), or the model's own address
// http(s)://HOST[:PORT][/PREFIX]/v2/models/REMOTE_NAME when the remote calls it otherwise.
// A bearer token for the remote (an `atelier serve --api-keys` key) comes from the
// environment, ATELIER_INFERENCE_TOKEN, never from a flag; it is never logged.
// Redirects are not followed. Errors name the URL (without credentials) and the reason:
// "http://gpu:8000/v2/models/isnet: cannot connect (connection refused)", the remote's
// own error message for a non-200 answer, or a mismatch between the local manifest and
// the remote model's metadata.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "ml/inference.h"
#include "ml/manifest.h"

namespace atelier::ml {

struct RemoteModel {
  std::string base;   // "http://127.0.0.1:8080" (no trailing slash)
  std::string model;  // the name on the remote
  std::string model_url() const { return base + "/v2/models/" + model; }
};

// Splits an --inference-url for a local model named `local_model`. kInvalidArgument for
// what is not an http(s) URL with a host, or carries a query or fragment.
Result<RemoteModel> parse_inference_url(std::string_view url, const std::string& local_model);

// Checks the remote model's metadata (GET .../v2/models/NAME: reachable, and one input
// and one output named as the manifest names them; an FP32 input shape, when the remote
// gives one, of 1×3×H×W as the manifest's pre-processing makes) and returns a backend
// that sends each run there. Thread-safe: runs from several threads go out concurrently.
// `timeout_seconds` bounds each call.
Result<std::unique_ptr<InferenceBackend>> make_remote_backend(std::string_view url, const ModelManifest& manifest,
                                                              double timeout_seconds = 120);

}  // namespace atelier::ml
