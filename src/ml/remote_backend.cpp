#include "ml/remote_backend.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/http_client.h"
#include "ml/v2_protocol.h"

namespace atelier::ml {
namespace {
using nlohmann::json;

constexpr std::size_t kMaxValues = std::size_t(1) << 28;  // 1 GiB of FP32 in one answer

std::vector<std::string> auth_headers() {
  std::vector<std::string> h;
  const char* token = std::getenv("ATELIER_INFERENCE_TOKEN");
  if (token && *token) h.push_back(std::string("Authorization: Bearer ") + token);
  return h;
}

// The remote's own words for a non-200 answer: v2's {"error": "..."} or Atelier's
// {"error": {"message": "..."}}, else the start of the body.
std::string error_text(const HttpResponse& r) {
  const json j = json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("error")) {
    const json& e = j["error"];
    if (e.is_string()) return e.get<std::string>();
    if (e.is_object() && e.contains("message") && e["message"].is_string()) return e["message"].get<std::string>();
  }
  std::string s = r.body.substr(0, 200);
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s.empty() ? "no message" : s;
}

Status remote_status(long http, const std::string& where, const std::string& text) {
  const std::string msg = where + ": the remote answered " + std::to_string(http) + " (" + text + ")";
  if (http == 400 || http == 422) return invalid_argument(msg);
  if (http == 404) return not_found(msg);
  if (http == 401 || http == 403) return Status(StatusCode::kUnauthenticated, msg);
  if (http == 413) return resource_exhausted(msg);
  if (http == 429) return Status(StatusCode::kOverloaded, msg);
  if (http == 504) return Status(StatusCode::kDeadlineExceeded, msg);
  return unavailable(msg);
}

class RemoteBackend final : public InferenceBackend {
 public:
  RemoteBackend(RemoteModel remote, double timeout_seconds) : remote_(std::move(remote)), timeout_(timeout_seconds) {}

  std::string name() const override { return "remote-v2 " + url_for_display(remote_.base); }

  Result<Tensor> run(const std::string& input_name, const Tensor& input, const std::string& output_name) override {
    V2Request req;
    V2Tensor t;
    t.name = input_name;
    t.shape.assign(input.shape.begin(), input.shape.end());
    t.data = input.data;
    req.inputs.push_back(std::move(t));
    req.outputs.push_back(output_name);
    req.binary_output = true;
    V2Message msg = encode_v2_request(req, true);

    HttpRequest http;
    http.url = remote_.model_url() + "/infer";
    http.body = std::move(msg.body);
    http.headers = auth_headers();
    http.headers.push_back("Content-Type: application/octet-stream");
    http.headers.push_back("Inference-Header-Content-Length: " + std::to_string(msg.header_size));
    http.timeout = std::chrono::milliseconds(std::int64_t(timeout_ * 1000));
    http.max_body = kMaxValues * sizeof(float) + (1 << 20);
    const std::string where = url_for_display(remote_.model_url());
    HttpOutcome out = http_send(http);
    if (!out.status.ok()) return out.status;
    if (out.response.status != 200) return remote_status(out.response.status, where, error_text(out.response));
    const std::string& body = out.response.body;
    auto h = out.response.headers.find("inference-header-content-length");
    ATELIER_ASSIGN_OR_RETURN(std::optional<std::size_t> header_size,
                             parse_header_size(h == out.response.headers.end() ? "" : h->second, body.size()));
    auto outputs = decode_v2_response(body, header_size, kMaxValues);
    if (!outputs.ok()) return unavailable(where + ": " + outputs.status().message());
    for (V2Tensor& o : *outputs) {
      if (o.name != output_name) continue;
      Tensor result;
      for (std::int64_t d : o.shape) {
        if (d > std::numeric_limits<int>::max()) return unavailable(where + ": output dimension too large");
        result.shape.push_back(int(d));
      }
      result.data = std::move(o.data);
      return result;
    }
    return unavailable(where + ": the answer has no output '" + output_name + "'");
  }

 private:
  RemoteModel remote_;
  double timeout_;
};

// The remote's metadata against what the manifest feeds and reads.
Status check_metadata(const RemoteModel& remote, const ModelManifest& manifest, double timeout_seconds) {
  HttpRequest http;
  http.method = "GET";
  http.url = remote.model_url();
  http.headers = auth_headers();
  http.timeout = std::chrono::milliseconds(std::int64_t(std::min(timeout_seconds, 30.0) * 1000));
  const std::string where = url_for_display(remote.model_url());
  HttpOutcome out = http_send(http);
  if (!out.status.ok()) return out.status;
  if (out.response.status != 200) return remote_status(out.response.status, where, error_text(out.response));
  const json meta = json::parse(out.response.body, nullptr, false);
  if (!meta.is_object()) return unavailable(where + ": the model's metadata is not JSON");
  auto named = [&](const char* list, const std::string& name) -> const json* {
    if (!meta.contains(list) || !meta[list].is_array()) return nullptr;
    for (const json& t : meta[list]) {
      if (t.is_object() && t.value("name", "") == name) return &t;
    }
    return nullptr;
  };
  const json* in = named("inputs", manifest.input);
  if (!in) return failed_precondition(where + ": the remote model has no input '" + manifest.input + "' (the manifest of '" + manifest.name + "' feeds that one)");
  if (!named("outputs", manifest.postprocess.output)) {
    return failed_precondition(where + ": the remote model has no output '" + manifest.postprocess.output + "'");
  }
  if (in->value("datatype", "FP32") != "FP32") {
    return failed_precondition(where + ": input '" + manifest.input + "' takes " + in->value("datatype", "") +
                               ", not FP32");
  }
  if (in->contains("shape") && (*in)["shape"].is_array() && (*in)["shape"].size() == 4) {
    const json& s = (*in)["shape"];
    const std::int64_t want[4] = {1, 3, manifest.preprocess.height, manifest.preprocess.width};
    for (int i = 0; i < 4; ++i) {
      const std::int64_t d = s[i].is_number_integer() ? s[i].get<std::int64_t>() : -1;
      if (d >= 0 && d != want[i] && !(i == 0 && d > 1)) {
        return failed_precondition(where + ": input shape " + s.dump() + " does not take the manifest's 1x3x" +
                                   std::to_string(want[2]) + "x" + std::to_string(want[3]));
      }
    }
  }
  return {};
}

}  // namespace

Result<RemoteModel> parse_inference_url(std::string_view url, const std::string& local_model) {
  const std::string shown = url_for_display(url);
  auto bad = [&](const std::string& why) {
    return invalid_argument("--inference-url: '" + shown + "' " + why);
  };
  std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return bad("is not an http(s) URL");
  const std::string_view scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return bad("is not an http(s) URL");
  if (url.find_first_of("?#") != std::string_view::npos) return bad("has a query or fragment");
  const std::size_t host_start = scheme_end + 3;
  const std::size_t path_start = std::min(url.find('/', host_start), url.size());
  if (path_start == host_start) return bad("has no host");
  std::string path(url.substr(path_start));
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (path.ends_with("/v2/models") || path.ends_with("/v2")) return bad("names no model after /v2/models/");
  RemoteModel r;
  r.model = local_model;
  const std::size_t models = path.rfind("/v2/models/");
  if (models != std::string::npos) {
    r.model = path.substr(models + 11);
    path.erase(models);
    if (r.model.empty() || r.model.find('/') != std::string::npos) return bad("names no model after /v2/models/");
  }
  r.base = std::string(url.substr(0, path_start)) + path;
  return r;
}

Result<std::unique_ptr<InferenceBackend>> make_remote_backend(std::string_view url, const ModelManifest& manifest,
                                                              double timeout_seconds) {
  ATELIER_ASSIGN_OR_RETURN(RemoteModel remote, parse_inference_url(url, manifest.name));
  ATELIER_TRY(check_metadata(remote, manifest, timeout_seconds));
  return std::unique_ptr<InferenceBackend>(new RemoteBackend(std::move(remote), timeout_seconds));
}

}  // namespace atelier::ml
