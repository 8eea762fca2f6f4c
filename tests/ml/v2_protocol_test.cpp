// The KServe v2 wire format (ml/v2_protocol.h) and --inference-url parsing
// (ml/remote_backend.h): exact round trips in JSON and binary, and a clear error for every
// malformed message.
#include "ml/v2_protocol.h"

#include <cstring>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ml/remote_backend.h"

namespace atelier::ml {
namespace {

V2Tensor tensor(std::string name, std::vector<std::int64_t> shape, std::vector<float> data) {
  V2Tensor t;
  t.name = std::move(name);
  t.shape = std::move(shape);
  t.data = std::move(data);
  return t;
}

V2Request request_of(std::vector<V2Tensor> inputs) {
  V2Request r;
  r.id = "req-1";
  r.inputs = std::move(inputs);
  r.outputs = {"out"};
  return r;
}

// Values JSON must carry exactly: ones with no short decimal form, tiny and huge ones.
const std::vector<float> kValues = {0.1f, -1.0f / 3.0f, 1e-38f, 3.4e38f, 0.0f, -0.0f};

TEST(V2Protocol, RequestsRoundTripExactlyInJsonAndBinary) {
  for (bool binary : {false, true}) {
    V2Request r = request_of({tensor("input", {1, 2, 3}, kValues)});
    r.binary_output = binary;
    V2Message m = encode_v2_request(r, binary);
    EXPECT_EQ(m.header_size > 0, binary);
    if (binary) {
      EXPECT_EQ(m.body.size(), m.header_size + kValues.size() * 4);
    }
    auto d = decode_v2_request(m.body, binary ? std::optional<std::size_t>(m.header_size) : std::nullopt, 1000);
    ASSERT_TRUE(d.ok()) << d.status().message();
    EXPECT_EQ(d->id, "req-1");
    ASSERT_EQ(d->inputs.size(), 1u);
    EXPECT_EQ(d->inputs[0].name, "input");
    EXPECT_EQ(d->inputs[0].shape, (std::vector<std::int64_t>{1, 2, 3}));
    ASSERT_EQ(d->inputs[0].data.size(), kValues.size());
    EXPECT_EQ(std::memcmp(d->inputs[0].data.data(), kValues.data(), kValues.size() * 4), 0);
    EXPECT_EQ(d->outputs, std::vector<std::string>{"out"});
    EXPECT_EQ(d->binary_output, binary);
  }
}

TEST(V2Protocol, ResponsesRoundTripWithSeveralBinaryTensors) {
  std::vector<V2Tensor> outs = {tensor("a", {2}, {1.5f, 2.5f}), tensor("b", {1, 3}, {7, 8, 9})};
  V2Message m = encode_v2_response("isnet", "x", outs, true);
  const auto header = nlohmann::json::parse(m.body.substr(0, m.header_size));
  EXPECT_EQ(header["model_name"], "isnet");
  EXPECT_EQ(header["outputs"][1]["parameters"]["binary_data_size"], 12);
  auto d = decode_v2_response(m.body, m.header_size, 100);
  ASSERT_TRUE(d.ok()) << d.status().message();
  ASSERT_EQ(d->size(), 2u);
  EXPECT_EQ((*d)[1].data, (std::vector<float>{7, 8, 9}));
  EXPECT_EQ((*d)[0].data, (std::vector<float>{1.5f, 2.5f}));
}

TEST(V2Protocol, NestedJsonDataIsReadRowMajor) {
  const std::string body =
      R"({"inputs":[{"name":"x","datatype":"FP32","shape":[2,2],"data":[[1,2],[3,4]]}],)"
      R"("parameters":{"binary_data_output":true}})";
  auto d = decode_v2_request(body, std::nullopt, 100);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->inputs[0].data, (std::vector<float>{1, 2, 3, 4}));
  EXPECT_TRUE(d->binary_output);
  EXPECT_TRUE(d->outputs.empty());
}

void expect_request_error(const std::string& body, std::optional<std::size_t> header, const std::string& part,
                          std::size_t max_values = 100) {
  auto d = decode_v2_request(body, header, max_values);
  ASSERT_FALSE(d.ok()) << body;
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find(part), std::string::npos) << d.status().message();
}

TEST(V2Protocol, MalformedRequestsAreRefusedWithTheReason) {
  const std::string t = R"({"name":"x","datatype":"FP32","shape":[2])";
  expect_request_error("[1]", std::nullopt, "inference request: not a JSON object");
  expect_request_error("{", std::nullopt, "not a JSON object");
  expect_request_error("{}", std::nullopt, "no 'inputs'");
  expect_request_error(R"({"inputs":[{"datatype":"FP32"}]})", std::nullopt, "inputs[0]: a tensor needs a string 'name'");
  expect_request_error(R"({"inputs":[{"name":"x","datatype":"FP16","shape":[1],"data":[1]}]})", std::nullopt,
                       "tensor 'x': datatype 'FP16' is not supported (FP32 expected)");
  expect_request_error(R"({"inputs":[)" + t + R"(,"data":[1,2,3]}]})", std::nullopt, "must hold 2 numbers");
  expect_request_error(R"({"inputs":[)" + t + R"(,"data":[1]}]})", std::nullopt, "'data' holds 1 numbers, the shape 2");
  expect_request_error(R"({"inputs":[)" + t + R"(,"data":[1,"a"]}]})", std::nullopt, "must hold 2 numbers");
  expect_request_error(R"({"inputs":[{"name":"x","datatype":"FP32","shape":[-1],"data":[]}]})", std::nullopt,
                       "shape dimensions must be integers >= 0");
  expect_request_error(R"({"inputs":[{"name":"x","datatype":"FP32","shape":[100000,100000,100000],"data":[]}]})",
                       std::nullopt, "shape holds more than 100 values");
  expect_request_error(R"({"inputs":[)" + t + R"(}]})", std::nullopt, "needs 'data'");
  // Binary: the size must be the shape's, the bytes must be there, and nothing may follow.
  const std::string header = R"({"inputs":[)" + t + R"(,"parameters":{"binary_data_size":8}}]})";
  expect_request_error(header + std::string(4, '\0'), header.size(), "the body ends inside its binary data");
  expect_request_error(header + std::string(12, '\0'), header.size(), "4 bytes after the last binary tensor");
  const std::string wrong = R"({"inputs":[)" + t + R"(,"parameters":{"binary_data_size":7}}]})";
  expect_request_error(wrong + std::string(7, '\0'), wrong.size(), "binary_data_size must be 8");
  EXPECT_TRUE(decode_v2_request(header + std::string(8, '\0'), header.size(), 100).ok());
}

TEST(V2Protocol, HeaderSizeMustBeANumberWithinTheBody) {
  EXPECT_FALSE(parse_header_size("", 10)->has_value());
  EXPECT_EQ(**parse_header_size("7", 10), 7u);
  for (const char* bad : {"11", "-1", "7x", " 7", "99999999999999999999999"}) {
    auto r = parse_header_size(bad, 10);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("Inference-Header-Content-Length"), std::string::npos);
  }
}

TEST(V2Protocol, ErrorResponsesCarryTheRemotesMessage) {
  auto d = decode_v2_response(R"({"error":"model 'x' is not ready"})", std::nullopt, 10);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("model 'x' is not ready"), std::string::npos);
}

TEST(InferenceUrl, BaseAndModelAddresses) {
  auto a = parse_inference_url("http://gpu:8000", "isnet");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->model_url(), "http://gpu:8000/v2/models/isnet");
  auto b = parse_inference_url("https://u:secret@gpu/triton/v2/models/isnet_fp32/", "isnet");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->base, "https://u:secret@gpu/triton");
  EXPECT_EQ(b->model, "isnet_fp32");
  for (const char* bad : {"gpu:8000", "ftp://gpu", "http://", "http://gpu/v2/models/", "http://gpu?x=1"}) {
    auto r = parse_inference_url(bad, "isnet");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().message().rfind("--inference-url: ", 0), 0u) << r.status().message();
  }
  // Credentials never appear in messages.
  auto c = parse_inference_url("ftp://u:secret@gpu", "isnet");
  EXPECT_EQ(c.status().message().find("secret"), std::string::npos) << c.status().message();
}

}  // namespace
}  // namespace atelier::ml
