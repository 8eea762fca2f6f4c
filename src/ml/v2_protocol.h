// The Open Inference Protocol (KServe v2) on the wire: inference requests and responses as
// JSON, with or without the binary tensor extension (a JSON header of
// Inference-Header-Content-Length bytes followed by the tensors' raw little-endian bytes,
// each tensor's size in its "parameters": {"binary_data_size": N}). One encoder and one
// decoder serve both sides: `atelier serve`'s /v2 routes decode requests and encode
// responses, the remote backend (remote_backend.h) encodes requests and decodes responses.
// Only FP32 tensors are read and written (every model here takes and gives float); JSON
// data may be flat or nested row-major arrays. Decoding never trusts a size: shapes,
// value counts and binary sizes are checked against each other and against `max_values`,
// and errors (kInvalidArgument) name the tensor and what is wrong.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace atelier::ml {

struct V2Tensor {
  std::string name;
  std::vector<std::int64_t> shape;
  std::vector<float> data;  // row-major, product(shape) values
};

struct V2Request {
  std::string id;                    // echoed in the response; may be empty
  std::vector<V2Tensor> inputs;
  std::vector<std::string> outputs;  // requested by name; empty: every output
  bool binary_output = false;        // answer with the binary extension
};

struct V2Message {
  std::string body;
  std::size_t header_size = 0;  // bytes of JSON at the start; 0: the body is JSON only
};

// Encodes tensors as "data" arrays (binary=false) or as binary sections (binary=true).
V2Message encode_v2_request(const V2Request& request, bool binary);
V2Message encode_v2_response(const std::string& model_name, const std::string& id,
                             const std::vector<V2Tensor>& outputs, bool binary);

// `header_size`: the Inference-Header-Content-Length header's value, nullopt when absent
// (then the body is JSON only). Errors: "inference request: ..." / "inference response: ...".
Result<V2Request> decode_v2_request(std::string_view body, std::optional<std::size_t> header_size,
                                    std::size_t max_values);
Result<std::vector<V2Tensor>> decode_v2_response(std::string_view body, std::optional<std::size_t> header_size,
                                                 std::size_t max_values);

// Reads an Inference-Header-Content-Length value ("" → nullopt); kInvalidArgument for text
// that is not a size within the body.
Result<std::optional<std::size_t>> parse_header_size(std::string_view value, std::size_t body_size);

}  // namespace atelier::ml
