// An ONNX model parsed without copying its weights: the protobuf parser would copy every
// initializer's raw_data (hundreds of MB) into a std::string; here the file's bytes are
// split at the wire-format level, every field except the initializers' raw_data is parsed
// by protobuf as usual, and each raw_data is kept as a span into the file's bytes, moved
// in place (over its own field's header) to start on a 4-byte boundary when it did not, so
// that float weights can be read where they are. For
// loaders that convert the weights anyway (the oneDNN executor): ISNet's 168 MB loads
// without the copy and its page faults.
//
//   ATELIER_ASSIGN_OR_RETURN(OnnxView v, load_onnx_view(path));
//   std::span<const std::uint8_t> w = v.raw_data(v.model.graph().initializer(0));
//
// The spans point into `bytes` and live as long as the view. Errors as parse_onnx's
// (kInvalidArgument "not an ONNX model (...)"), prefixed with the path by load_onnx_view.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <unordered_map>

#include <onnx/onnx_pb.h>

#include "core/files.h"
#include "core/status.h"

namespace atelier::ml {

struct OnnxView {
  LargeBuffer bytes;      // the file's contents
  onnx::ModelProto model; // everything, except that the graph's initializers have no raw_data
  std::unordered_map<const onnx::TensorProto*, std::span<const std::uint8_t>> raw;  // ... which is here

  // The initializer's raw_data: from `raw` when it was split off, else its own field.
  std::span<const std::uint8_t> raw_data(const onnx::TensorProto& t) const;
};

Result<OnnxView> parse_onnx_view(LargeBuffer bytes);
Result<OnnxView> load_onnx_view(const std::filesystem::path& path);

}  // namespace atelier::ml
