#include "ml/onnx_view.h"

#include <climits>
#include <cstring>

#include <google/protobuf/io/coded_stream.h>

namespace atelier::ml {
namespace {

// Field numbers of onnx.proto that the split needs.
constexpr std::uint32_t kModelGraph = 7;         // ModelProto.graph
constexpr std::uint32_t kGraphInitializer = 5;   // GraphProto.initializer
constexpr std::uint32_t kTensorRawData = 9;      // TensorProto.raw_data
constexpr int kLengthDelimited = 2;

struct Field {
  std::uint32_t number = 0;
  int wire = 0;
  const std::uint8_t* begin = nullptr;  // the tag's first byte
  const std::uint8_t* end = nullptr;    // one past the field
  const std::uint8_t* payload = nullptr;  // length-delimited fields: the bytes
  std::size_t length = 0;
};

bool read_varint(const std::uint8_t*& p, const std::uint8_t* end, std::uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p == end) return false;
    const std::uint8_t b = *p++;
    v |= std::uint64_t(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

// The field at p (advanced past it); false on malformed bytes.
bool next_field(const std::uint8_t*& p, const std::uint8_t* end, Field& f) {
  f.begin = p;
  std::uint64_t tag = 0;
  if (!read_varint(p, end, tag) || (tag >> 3) == 0 || (tag >> 3) > 0x1fffffff) return false;
  f.number = std::uint32_t(tag >> 3);
  f.wire = int(tag & 7);
  switch (f.wire) {
    case 0: {
      std::uint64_t ignored = 0;
      if (!read_varint(p, end, ignored)) return false;
      break;
    }
    case 1:
      if (end - p < 8) return false;
      p += 8;
      break;
    case 5:
      if (end - p < 4) return false;
      p += 4;
      break;
    case kLengthDelimited: {
      std::uint64_t n = 0;
      if (!read_varint(p, end, n) || n > std::uint64_t(end - p)) return false;
      f.payload = p;
      f.length = std::size_t(n);
      p += n;
      break;
    }
    default: return false;  // groups (3, 4) are not in ONNX
  }
  f.end = p;
  return true;
}

bool merge(google::protobuf::MessageLite& m, const std::uint8_t* begin, const std::uint8_t* end) {
  if (begin == end) return true;
  google::protobuf::io::CodedInputStream in(begin, int(end - begin));
  in.SetTotalBytesLimit(INT_MAX);
  return m.MergePartialFromCodedStream(&in) && in.ConsumedEntireMessage();
}

// Merges the serialized fields in [begin, end) into m, except the length-delimited fields
// numbered `special`, which go to on_special in order. Protobuf's merge of concatenated
// pieces equals parsing them whole, so m ends as a full parse would leave it, less those.
template <typename OnSpecial>
bool merge_except(google::protobuf::MessageLite& m, const std::uint8_t* begin, const std::uint8_t* end,
                  std::uint32_t special, OnSpecial on_special) {
  const std::uint8_t* p = begin;
  const std::uint8_t* run = begin;  // start of the fields not yet merged
  Field f;
  while (p < end) {
    if (!next_field(p, end, f)) return false;
    if (f.number != special || f.wire != kLengthDelimited) continue;
    if (!merge(m, run, f.begin) || !on_special(f)) return false;
    run = f.end;
  }
  return merge(m, run, end);
}

// The raw bytes moved back by up to 3 bytes, over their own field's tag and length (parsed
// already), so that they start on a 4-byte boundary and can be read as floats in place.
// Left where they are when the field's header is too short for the move.
std::span<const std::uint8_t> aligned_in_place(LargeBuffer& bytes, const Field& raw) {
  const std::size_t offset = std::size_t(raw.payload - bytes.data());
  const std::size_t shift = reinterpret_cast<std::uintptr_t>(raw.payload) % 4;
  if (shift == 0 || std::size_t(raw.payload - raw.begin) < shift) return {raw.payload, raw.length};
  std::uint8_t* to = bytes.data() + offset - shift;
  std::memmove(to, bytes.data() + offset, raw.length);
  return {to, raw.length};
}

}  // namespace

std::span<const std::uint8_t> OnnxView::raw_data(const onnx::TensorProto& t) const {
  if (auto it = raw.find(&t); it != raw.end()) return it->second;
  return {reinterpret_cast<const std::uint8_t*>(t.raw_data().data()), t.raw_data().size()};
}

Result<OnnxView> parse_onnx_view(LargeBuffer bytes) {
  if (bytes.size() > std::size_t(INT_MAX)) {
    return resource_exhausted("ONNX model of " + format_bytes(bytes.size()) + " is too large (protobuf limit: 2 GiB)");
  }
  OnnxView view;
  view.bytes = std::move(bytes);
  const std::uint8_t* begin = view.bytes.data();
  const std::uint8_t* end = begin + view.bytes.size();
  onnx::ModelProto& model = view.model;
  const bool ok = merge_except(model, begin, end, kModelGraph, [&](const Field& graph_field) {
    onnx::GraphProto& graph = *model.mutable_graph();
    return merge_except(graph, graph_field.payload, graph_field.payload + graph_field.length, kGraphInitializer,
                        [&](const Field& tensor_field) {
                          onnx::TensorProto* t = graph.add_initializer();
                          return merge_except(*t, tensor_field.payload, tensor_field.payload + tensor_field.length,
                                              kTensorRawData, [&](const Field& raw) {
                                                view.raw[t] = aligned_in_place(view.bytes, raw);  // the last wins
                                                return true;
                                              });
                        });
  });
  if (!ok) return invalid_argument("not an ONNX model (protobuf parse failed)");
  if (!model.has_graph()) return invalid_argument("not an ONNX model (no graph)");
  return view;
}

Result<OnnxView> load_onnx_view(const std::filesystem::path& path) {
  ATELIER_ASSIGN_OR_RETURN(LargeBuffer bytes, read_large_file(path, std::uint64_t(2) << 30));
  Result<OnnxView> view = parse_onnx_view(std::move(bytes));
  if (!view.ok()) return view.status().with_context(path.string());
  return view;
}

}  // namespace atelier::ml
