#include "server/v2_routes.h"

#include <chrono>
#include <vector>

#include "core/status_table.h"
#include "ml/model_store.h"

namespace atelier::server {
namespace {
using nlohmann::json;

// /v2/models/{name}[/versions/1][/{action}] → name and action ("" for metadata); false
// for other shapes. Only version "1" exists.
bool model_path(const std::vector<std::string>& p, std::string& name, std::string& action, bool& bad_version) {
  if (p.size() < 3 || p[0] != "v2" || p[1] != "models" || p[2].empty()) return false;
  name = p[2];
  std::size_t next = 3;
  if (p.size() >= 5 && p[3] == "versions") {
    bad_version = p[4] != "1";
    next = 5;
  }
  if (p.size() == next) return action.clear(), true;
  if (p.size() == next + 1 && (p[next] == "ready" || p[next] == "infer")) return action = p[next], true;
  return false;
}

Response v2_json(int status, const json& body) { return json_response(status, body); }

Response method_not_allowed(const std::string& allow) {
  Response r = json_response(405, {{"error", "method not allowed (use " + allow + ")"}});
  r.headers.emplace_back("Allow", allow);
  return r;
}

json tensor_meta(const std::string& name, std::vector<std::int64_t> shape) {
  return {{"name", name}, {"datatype", "FP32"}, {"shape", shape}};
}

json model_metadata(const ml::ModelManifest& m) {
  const std::int64_t h = m.preprocess.height, w = m.preprocess.width;
  return {{"name", m.name},
          {"versions", {"1"}},
          {"platform", "atelier_onnx"},
          {"inputs", {tensor_meta(m.input, {1, 3, h, w})}},
          // The output's spatial size is the model's; -1 where the manifest does not say.
          {"outputs", {tensor_meta(m.postprocess.output, {1, 1, -1, -1})}}};
}

Result<ml::InstalledModel> find_model(const std::string& name) {
  ATELIER_TRY(ml::validate_model_name(name).with_context("model"));
  ATELIER_ASSIGN_OR_RETURN(ml::ModelStore store, ml::ModelStore::open_default());
  return store.find(name);
}

Status check_request(const ml::ModelManifest& m, const ml::V2Request& r) {
  const std::string model = "model '" + m.name + "'";
  if (r.inputs.size() != 1 || r.inputs[0].name != m.input) {
    return invalid_argument(model + " takes one input, '" + m.input + "'");
  }
  const std::vector<std::int64_t> want = {1, 3, m.preprocess.height, m.preprocess.width};
  if (r.inputs[0].shape != want) {
    json got = r.inputs[0].shape;
    return invalid_argument(model + ": input '" + m.input + "' must have shape [1,3," +
                            std::to_string(want[2]) + "," + std::to_string(want[3]) + "], not " + got.dump());
  }
  for (const std::string& o : r.outputs) {
    if (o != m.postprocess.output) return invalid_argument(model + " has one output, '" + m.postprocess.output + "'");
  }
  return {};
}

}  // namespace

bool is_v2_path(const std::string& path) { return path == "/v2" || path.rfind("/v2/", 0) == 0; }

std::string v2_route_label(const std::string& path) {
  const std::vector<std::string> p = path_segments(path);
  if (path == "/v2" || path == "/v2/health/live" || path == "/v2/health/ready") return path;
  std::string name, action;
  bool bad_version = false;
  if (model_path(p, name, action, bad_version)) return action.empty() ? "/v2/models/{name}" : "/v2/models/{name}/" + action;
  return "unmatched";
}

Response v2_error(const Status& status) {
  return v2_json(http_status_for(status.code()), {{"error", status.message()}});
}

std::optional<Response> v2_route(const Request& req, bool ready, std::optional<V2Infer>& infer) {
  const std::string& m = req.method;
  if (req.path == "/v2") {
    if (m != "GET") return method_not_allowed("GET");
    return v2_json(200, {{"name", "atelier"}, {"version", ATELIER_VERSION}, {"extensions", {"binary_tensor_data"}}});
  }
  if (req.path == "/v2/health/live") return m == "GET" ? v2_json(200, {{"live", true}}) : method_not_allowed("GET");
  if (req.path == "/v2/health/ready") {
    if (m != "GET") return method_not_allowed("GET");
    return ready ? v2_json(200, {{"ready", true}}) : v2_error(unavailable("not ready: loading and warming the models"));
  }
  std::string name, action;
  bool bad_version = false;
  if (!model_path(path_segments(req.path), name, action, bad_version)) {
    return v2_error(not_found("no route " + req.path));
  }
  if (bad_version) return v2_error(not_found("model '" + name + "' has only version 1"));
  if (action == "infer" ? m != "POST" : m != "GET") return method_not_allowed(action == "infer" ? "POST" : "GET");
  auto model = find_model(name);
  if (!model.ok()) return v2_error(model.status());
  if (action.empty()) return v2_json(200, model_metadata(model->manifest));
  if (action == "ready") {
    return ready ? v2_json(200, {{"name", name}, {"ready", true}})
                 : v2_error(unavailable("not ready: loading and warming the models"));
  }
  if (!ready) return v2_error(unavailable("not ready: loading and warming the models"));
  auto header_size = ml::parse_header_size(req.header("inference-header-content-length"), req.body.size());
  if (!header_size.ok()) return v2_error(header_size.status());
  auto decoded = ml::decode_v2_request(req.body, *header_size, std::max<std::size_t>(req.body.size(), 16));
  if (!decoded.ok()) return v2_error(decoded.status());
  if (Status s = check_request(model->manifest, *decoded); !s.ok()) return v2_error(s);
  infer = V2Infer{std::move(model).value(), std::move(decoded).value()};
  return std::nullopt;
}

Response run_v2_infer(V2Infer& infer, const ml::BackendOptions& backend, double& seconds) {
  auto session = ml::get_session(infer.model, backend);
  if (!session.ok()) return v2_error(session.status());
  ml::V2Tensor& in = infer.request.inputs[0];
  ml::Tensor input;
  input.shape.assign(in.shape.begin(), in.shape.end());
  input.data = std::move(in.data);  // 12 MiB for ISNet: not copied
  const auto start = std::chrono::steady_clock::now();
  auto output = (*session)->run(input);
  seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!output.ok()) return v2_error(output.status());
  ml::V2Tensor out;
  out.name = infer.model.manifest.postprocess.output;
  out.shape.assign(output->shape.begin(), output->shape.end());
  out.data = std::move(output->data);
  ml::V2Message msg = ml::encode_v2_response(infer.model.manifest.name, infer.request.id, {out},
                                             infer.request.binary_output);
  Response r;
  r.body = std::move(msg.body);
  if (msg.header_size > 0) {
    r.content_type = "application/octet-stream";
    r.headers.emplace_back("Inference-Header-Content-Length", std::to_string(msg.header_size));
  }
  return r;
}

}  // namespace atelier::server
