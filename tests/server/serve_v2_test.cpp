// KServe v2 on `atelier serve` (issue 10), black-box: health, metadata, inference in JSON
// and with the binary tensor extension (the same numbers both ways), v2 error bodies; and
// remote inference: the CLI with --inference-url against a local `atelier serve` gives the
// same mask as local inference, with the token from the environment, and clear errors.
#include <cstring>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ml/v2_protocol.h"
#include "support/serve_process.h"
#include "support/test_support.h"

namespace atelier::testing {
namespace {

nlohmann::json body_json(const HttpReply& r) { return nlohmann::json::parse(r.body, nullptr, false); }

void expect_v2_error(const HttpReply& r, long status, const std::string& part) {
  EXPECT_EQ(r.status, status) << r.body;
  const auto j = body_json(r);
  ASSERT_TRUE(j.is_object() && j.contains("error") && j["error"].is_string()) << r.body;
  EXPECT_NE(j["error"].get<std::string>().find(part), std::string::npos) << r.body;
}

// isnet's input: 1x3x1024x1024, a smooth pattern (not a constant: the output must vary).
ml::V2Tensor isnet_input() {
  ml::V2Tensor t;
  t.name = "input";
  t.shape = {1, 3, 1024, 1024};
  t.data.resize(3u * 1024 * 1024);
  for (std::size_t i = 0; i < t.data.size(); ++i) {
    const std::size_t y = (i / 1024) % 1024, x = i % 1024;
    t.data[i] = float((x + y) % 256) / 256.0f - 0.5f;
  }
  return t;
}

ml::V2Request infer_request(bool binary_output) {
  ml::V2Request r;
  r.id = "t1";
  r.inputs.push_back(isnet_input());
  r.binary_output = binary_output;
  return r;
}

HttpReply post_infer(const ServeProcess& server, const ml::V2Message& m, const std::string& model = "isnet") {
  std::vector<std::string> headers = {"Content-Type: application/octet-stream"};
  if (m.header_size > 0) headers.push_back("Inference-Header-Content-Length: " + std::to_string(m.header_size));
  return http_call("POST", server.url("/v2/models/" + model + "/infer"), m.body, headers, 120);
}

std::vector<float> output_of(const HttpReply& r) {
  auto header = ml::parse_header_size(r.header("inference-header-content-length"), r.body.size());
  EXPECT_TRUE(header.ok());
  auto outs = ml::decode_v2_response(r.body, header.ok() ? *header : std::nullopt, 1 << 24);
  EXPECT_TRUE(outs.ok()) << outs.status().message();
  if (!outs.ok() || outs->size() != 1) return {};
  EXPECT_EQ((*outs)[0].shape, (std::vector<std::int64_t>{1, 1, 1024, 1024}));
  return (*outs)[0].data;
}

TEST(ServeV2, HealthMetadataAndInferenceInJsonAndBinary) {
  ServeProcess server({"--max-body", "67108864"});
  EXPECT_EQ(http_call("GET", server.url("/v2/health/live")).status, 200);
  EXPECT_EQ(http_call("GET", server.url("/v2/health/ready")).status, 200);
  const auto meta = body_json(http_call("GET", server.url("/v2")));
  EXPECT_EQ(meta["name"], "atelier");
  EXPECT_EQ(meta["extensions"], nlohmann::json::array({"binary_tensor_data"}));
  HttpReply model = http_call("GET", server.url("/v2/models/isnet"));
  ASSERT_EQ(model.status, 200) << model.body;
  const auto m = body_json(model);
  EXPECT_EQ(m["name"], "isnet");
  EXPECT_EQ(m["inputs"][0]["name"], "input");
  EXPECT_EQ(m["inputs"][0]["datatype"], "FP32");
  EXPECT_EQ(m["inputs"][0]["shape"], nlohmann::json::array({1, 3, 1024, 1024}));
  EXPECT_EQ(m["outputs"].size(), 1u);
  EXPECT_EQ(http_call("GET", server.url("/v2/models/isnet/versions/1")).body, model.body);
  EXPECT_EQ(http_call("GET", server.url("/v2/models/isnet/ready")).status, 200);

  // Binary in, binary out.
  HttpReply bin = post_infer(server, ml::encode_v2_request(infer_request(true), true));
  ASSERT_EQ(bin.status, 200) << bin.body.substr(0, 300);
  EXPECT_EQ(bin.header("content-type"), "application/octet-stream");
  EXPECT_EQ(bin.body.size(), std::stoul(bin.header("inference-header-content-length")) + 1024u * 1024 * 4);
  const std::vector<float> a = output_of(bin);
  ASSERT_EQ(a.size(), 1024u * 1024);
  float lo = 1, hi = 0;
  for (float v : a) lo = std::min(lo, v), hi = std::max(hi, v);
  EXPECT_GE(lo, 0.0f);
  EXPECT_LE(hi, 1.0f);
  EXPECT_LT(lo, hi);  // a real map, not a constant
  // JSON in, JSON out: exactly the same numbers (JSON carries floats exactly).
  HttpReply json = post_infer(server, ml::encode_v2_request(infer_request(false), false));
  ASSERT_EQ(json.status, 200) << json.body.substr(0, 300);
  EXPECT_EQ(json.header("content-type"), "application/json");
  const auto jb = body_json(json);
  EXPECT_EQ(jb["model_name"], "isnet");
  EXPECT_EQ(jb["id"], "t1");
  const std::vector<float> b = output_of(json);
  ASSERT_EQ(b.size(), a.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * 4), 0) << "JSON and binary inference differ";
  const std::string metrics = http_call("GET", server.url("/metrics")).body;
  EXPECT_NE(metrics.find("atelier_inference_duration_seconds_count{model=\"isnet\"} 2"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("route=\"/v2/models/{name}/infer\""), std::string::npos);
}

TEST(ServeV2, BadRequestsGetV2ErrorBodies) {
  ServeProcess server;
  expect_v2_error(http_call("GET", server.url("/v2/models/nosuch")), 404, "nosuch");
  expect_v2_error(http_call("GET", server.url("/v2/models/isnet/versions/2")), 404, "only version 1");
  expect_v2_error(http_call("GET", server.url("/v2/models/isnet/infer")), 405, "use POST");
  expect_v2_error(http_call("GET", server.url("/v2/models/isnet/explain")), 404, "no route");
  expect_v2_error(http_call("POST", server.url("/v2/models/isnet/infer"), "{", {"Content-Type: application/json"}), 400,
                  "inference request: not a JSON object");
  const std::string small = R"({"inputs":[{"name":"input","datatype":"FP32","shape":[1,3,2,2],"data":[0,0,0,0,0,0,0,0,0,0,0,0]}]})";
  expect_v2_error(http_call("POST", server.url("/v2/models/isnet/infer"), small, {"Content-Type: application/json"}), 400,
                  "model 'isnet': input 'input' must have shape [1,3,1024,1024], not [1,3,2,2]");
  const std::string renamed = R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[0]}]})";
  expect_v2_error(http_call("POST", server.url("/v2/models/isnet/infer"), renamed, {"Content-Type: application/json"}), 400,
                  "model 'isnet' takes one input, 'input'");
  expect_v2_error(http_call("POST", server.url("/v2/models/isnet/infer"), small,
                            {"Content-Type: application/json", "Inference-Header-Content-Length: 99999"}),
                  400, "Inference-Header-Content-Length");
}

TEST(ServeV2, TheCliWithInferenceUrlGivesTheSameMaskAsLocalInference) {
  auto t = temp_dir();
  write_bytes(t.path() / "keys", {'k', 'e', 'y', '1', '\n'});
  ServeProcess server({"--threads", "2", "--api-keys", (t.path() / "keys").string()});
  const std::string photo = sample("astronaut.png").string();
  const auto local = t.path() / "local.png", remote = t.path() / "remote.png";
  ASSERT_EQ(run_atelier({"cutout", photo, "--mask", "--threads", "2", "-q", "-o", local.string()}).exit_code, 0);
  {
    // Without the token the remote refuses, before any photo is worked on.
    auto r = run_atelier({"cutout", photo, "--mask", "-q", "-o", remote.string(), "--inference-url", server.url("")});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("/v2/models/isnet: the remote answered 401"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(remote));
  }
  ScopedEnv token("ATELIER_INFERENCE_TOKEN", "key1");
  auto r = run_atelier({"cutout", photo, "--mask", "-q", "-o", remote.string(), "--inference-url", server.url(""),
                        "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(read_all(remote) == read_all(local)) << "the remote mask differs from the local one";
  EXPECT_NE(r.out.find("remote-v2"), std::string::npos) << r.out;  // --json names the backend
  // A remote that is not there, and a URL that is not one.
  auto down = run_atelier({"cutout", photo, "-q", "-o", (t.path() / "x.png").string(), "--inference-url",
                           "http://127.0.0.1:1"});
  EXPECT_NE(down.exit_code, 0);
  EXPECT_NE(down.err.find("cannot connect to http://127.0.0.1:1/v2/models/isnet (connection refused)"), std::string::npos)
      << down.err;
  auto bad = run_atelier({"cutout", photo, "-q", "-o", (t.path() / "x.png").string(), "--inference-url", "gpu:8000"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("--inference-url: 'gpu:8000' is not an http(s) URL"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace atelier::testing
