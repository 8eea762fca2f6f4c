// The OpenAPI 3.1 document of `atelier serve`, generated from the operations'
// declarations (ops/operation.h) so that it cannot drift from what the routes accept.
#include "ops/operation.h"
#include "server/service.h"

namespace atelier::server {
namespace {

nlohmann::json error_ref(const std::string& what) {
  return {{"description", what},
          {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
}

nlohmann::json errors() {
  return {{"400", error_ref("bad option or request")},
          {"401", error_ref("missing or wrong API key")},
          {"413", error_ref("body, file or pixels over the limit")},
          {"415", error_ref("unsupported media type or image format")},
          {"422", error_ref("undecodable or truncated input")},
          {"429", error_ref("queue full: retry after Retry-After seconds")},
          {"503", error_ref("not ready")},
          {"504", error_ref("deadline passed")}};
}

nlohmann::json request_body(const ops::Operation& op) {
  nlohmann::json content;
  if (op.input == ops::InputKind::kImage) {
    for (const char* t : {"image/jpeg", "image/png", "image/webp", "image/tiff", "image/bmp"}) {
      content[t] = {{"schema", {{"type", "string"}, {"contentMediaType", t}}}};
    }
  } else {
    content["application/json"] = {{"schema", {{"type", "object"}, {"description", "a design (docs/scene-format.md)"}}}};
  }
  nlohmann::json props = {{op.input_field, {{"type", "string"}, {"contentMediaType", "application/octet-stream"}}}};
  for (const auto& f : op.extra_fields) props[f] = {{"type", "string"}, {"contentMediaType", "application/octet-stream"}};
  for (const auto& o : op.spec.options) props[o.name] = {{"type", "string"}, {"description", o.help}};
  nlohmann::json form = {{"type", "object"}, {"properties", props}, {"required", {op.input_field}}};
  if (op.any_extra_field) form["additionalProperties"] = {{"type", "string"}, {"description", "image sources by name"}};
  content["multipart/form-data"] = {{"schema", form}};
  return {{"required", true}, {"content", content}};
}

}  // namespace

nlohmann::json openapi_document() {
  nlohmann::json paths;
  nlohmann::json op_names = nlohmann::json::array();
  for (const ops::Operation& op : ops::operations()) {
    op_names.push_back(op.spec.name);
    nlohmann::json responses = errors();
    responses["200"] = {{"description", "the result file; with Accept: application/json (or several results) the "
                                        "JSON object --json prints, result files as URLs under /v1/results/"},
                        {"content", {{"application/json", {{"schema", {{"type", "object"}}}}},
                                     {"application/octet-stream", {{"schema", {{"type", "string"}}}}}}}};
    paths["/v1/" + op.spec.name] = {{"post",
                                     {{"operationId", op.spec.name},
                                      {"summary", op.spec.summary},
                                      {"parameters", ops::openapi_parameters(op.spec)},
                                      {"requestBody", request_body(op)},
                                      {"responses", responses}}}};
  }
  const nlohmann::json job = {{"$ref", "#/components/schemas/Job"}};
  const nlohmann::json job_content = {{"application/json", {{"schema", job}}}};
  const nlohmann::json id_param = {{"name", "id"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}};
  nlohmann::json create = {{"operationId", "createJob"},
                           {"summary", "Queue an operation as a job (same body and options as /v1/{op})"},
                           {"parameters",
                            {{{"name", "op"}, {"in", "query"}, {"required", true}, {"schema", {{"type", "string"}, {"enum", op_names}}}},
                             {{"name", "webhook"}, {"in", "query"}, {"required", false},
                              {"description", "http(s) URL that receives the final state, signed (Standard Webhooks)"},
                              {"schema", {{"type", "string"}, {"format", "uri"}}}},
                             {{"name", "Idempotency-Key"}, {"in", "header"}, {"required", false}, {"schema", {{"type", "string"}}}}}},
                           {"responses", errors()}};
  create["responses"]["202"] = {{"description", "queued (or the job of the same Idempotency-Key)"}, {"content", job_content}};
  paths["/v1/jobs"] = {{"post", create}};
  nlohmann::json get_job = {{"operationId", "getJob"}, {"parameters", {id_param}},
                            {"responses", {{"200", {{"description", "the job"}, {"content", job_content}}}, {"404", error_ref("no such job")}}}};
  nlohmann::json cancel = {{"operationId", "cancelJob"}, {"parameters", {id_param}},
                           {"responses", {{"200", {{"description", "cancelled, or cancelling"}, {"content", job_content}}}, {"404", error_ref("no such job")}}}};
  paths["/v1/jobs/{id}"] = {{"get", get_job}, {"delete", cancel}};
  paths["/v1/jobs/{id}/result"] = {{"get", {{"operationId", "getJobResult"}, {"parameters", {id_param}},
                                            {"responses", {{"200", {{"description", "what the synchronous route returns"}}},
                                                           {"409", error_ref("not finished")}, {"404", error_ref("no such job")}}}}}};
  paths["/v1/results/{id}/{name}"] = {{"get", {{"operationId", "getResult"},
                                               {"parameters", {id_param, {{"name", "name"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}}}},
                                               {"responses", {{"200", {{"description", "a result file"}}}, {"404", error_ref("expired or unknown")}}}}}};
  paths["/v1/events"] = {
      {"get",
       {{"operationId", "jobEvents"},
        {"summary", "WebSocket of job events: send {\"subscribe\": \"<job id>\"}; receive {\"type\": \"job\", "
                    "\"job\": {...}} on every change and {\"type\": \"text\", \"id\", \"text\"} as an edit's model answers"},
        {"responses", {{"101", {{"description", "switching to the WebSocket protocol"}}},
                       {"401", error_ref("missing or wrong API key")},
                       {"426", error_ref("not a WebSocket upgrade")}}}}}};
  for (const char* p : {"/healthz", "/readyz", "/metrics", "/openapi.json"}) {
    paths[p] = {{"get", {{"responses", {{"200", {{"description", "ok"}}}}}}}};
  }
  paths["/readyz"]["get"]["responses"]["503"] = error_ref("models still loading");
  // KServe v2 (Open Inference Protocol): every installed model; errors as {"error": "..."}.
  const nlohmann::json v2_error = {{"description", "error"},
                                   {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/V2Error"}}}}}}}};
  const nlohmann::json name_param = {{"name", "name"}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}};
  paths["/v2"] = {{"get", {{"operationId", "v2ServerMetadata"}, {"responses", {{"200", {{"description", "name, version, extensions"}}}}}}}};
  paths["/v2/health/live"] = {{"get", {{"operationId", "v2Live"}, {"security", nlohmann::json::array()},
                                       {"responses", {{"200", {{"description", "running"}}}}}}}};
  paths["/v2/health/ready"] = {{"get", {{"operationId", "v2Ready"}, {"security", nlohmann::json::array()},
                                        {"responses", {{"200", {{"description", "models warm"}}}, {"503", v2_error}}}}}};
  paths["/v2/models/{name}"] = {{"get", {{"operationId", "v2ModelMetadata"}, {"parameters", {name_param}},
                                         {"responses", {{"200", {{"description", "inputs and outputs (FP32)"}}}, {"404", v2_error}}}}}};
  paths["/v2/models/{name}/ready"] = {{"get", {{"operationId", "v2ModelReady"}, {"parameters", {name_param}},
                                               {"responses", {{"200", {{"description", "ready"}}}, {"404", v2_error}, {"503", v2_error}}}}}};
  paths["/v2/models/{name}/infer"] = {
      {"post",
       {{"operationId", "v2Infer"},
        {"parameters", {name_param, {{"name", "Inference-Header-Content-Length"}, {"in", "header"}, {"required", false},
                                     {"description", "binary tensor extension: bytes of JSON before the raw tensors"},
                                     {"schema", {{"type", "integer"}}}}}},
        {"requestBody", {{"required", true},
                         {"content", {{"application/json", {{"schema", {{"type", "object"}}}}},
                                      {"application/octet-stream", {{"schema", {{"type", "string"}}}}}}}}},
        {"responses", {{"200", {{"description", "outputs (binary when asked)"}}}, {"400", v2_error}, {"404", v2_error},
                       {"429", v2_error}, {"503", v2_error}, {"504", v2_error}}}}}};
  nlohmann::json doc = {
      {"openapi", "3.1.0"},
      {"info", {{"title", "Atelier"}, {"version", ATELIER_VERSION}, {"description", "AI-assisted photo and design editing"}}},
      {"paths", paths},
      {"components",
       {{"schemas",
         {{"Error", {{"type", "object"}, {"required", {"error"}},
                     {"properties", {{"error", {{"type", "object"}, {"required", {"code", "message"}},
                                                {"properties", {{"code", {{"type", "string"}}}, {"message", {{"type", "string"}}}}}}}}}}},
          {"V2Error", {{"type", "object"}, {"required", {"error"}}, {"properties", {{"error", {{"type", "string"}}}}}}},
          {"Job", {{"type", "object"}, {"required", {"id", "status"}},
                   {"properties", {{"id", {{"type", "string"}}},
                                   {"status", {{"type", "string"}, {"enum", {"queued", "running", "succeeded", "failed", "cancelled"}}}},
                                   {"progress", {{"type", "number"}, {"minimum", 0}, {"maximum", 1}}},
                                   {"error", {{"$ref", "#/components/schemas/Error"}}}}}}}}},
        {"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}}}},
      {"security", {{{"bearer", nlohmann::json::array()}}}},
  };
  return doc;
}

}  // namespace atelier::server
