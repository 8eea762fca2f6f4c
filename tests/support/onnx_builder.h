// Building small ONNX models in tests with the protobuf API (fp16 and fp32 tensors,
// nodes, a graph builder), so tests never depend on model files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "ml/onnx_convert.h"

namespace atelier::testing {

using onnx::GraphProto;
using onnx::ModelProto;
using onnx::NodeProto;
using onnx::TensorProto;

constexpr int kF32 = TensorProto::FLOAT;
constexpr int kF16 = TensorProto::FLOAT16;
constexpr int kI32 = TensorProto::INT32;
constexpr int kI64 = TensorProto::INT64;
constexpr int kBoolType = TensorProto::BOOL;

inline TensorProto f16_tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                       const std::vector<float>& values, bool int32_storage = false) {
  TensorProto t;
  t.set_name(name);
  t.set_data_type(kF16);
  for (auto d : dims) t.add_dims(d);
  if (int32_storage) {
    for (float v : values) t.add_int32_data(ml::float_to_half(v));
  } else {
    std::string raw;
    for (float v : values) {
      const std::uint16_t h = ml::float_to_half(v);
      raw.push_back(char(h & 0xff));
      raw.push_back(char(h >> 8));
    }
    t.set_raw_data(raw);
  }
  return t;
}

inline TensorProto f32_tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                       const std::vector<float>& values) {
  TensorProto t;
  t.set_name(name);
  t.set_data_type(kF32);
  for (auto d : dims) t.add_dims(d);
  for (float v : values) t.add_float_data(v);
  return t;
}

// Every FLOAT initializer's float_data moved into raw_data (little-endian bytes), as
// exporters store weights.
inline void store_floats_as_raw_data(ModelProto& m) {
  for (TensorProto& t : *m.mutable_graph()->mutable_initializer()) {
    if (t.data_type() != kF32 || t.float_data_size() == 0) continue;
    t.set_raw_data(std::string(reinterpret_cast<const char*>(t.float_data().data()), std::size_t(t.float_data_size()) * 4));
    t.clear_float_data();
  }
}

inline TensorProto i64_tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                       const std::vector<std::int64_t>& values) {
  TensorProto t;
  t.set_name(name);
  t.set_data_type(kI64);
  for (auto d : dims) t.add_dims(d);
  t.set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * 8));
  return t;
}

inline void set_int(NodeProto& n, const std::string& name, std::int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}
inline void set_ints(NodeProto& n, const std::string& name, const std::vector<std::int64_t>& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (auto x : v) a->add_ints(x);
}
inline void set_string(NodeProto& n, const std::string& name, const std::string& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}
inline void set_tensor(NodeProto& n, const std::string& name, const TensorProto& t) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::TENSOR);
  *a->mutable_t() = t;
}
inline void set_graph(NodeProto& n, const std::string& name, const GraphProto& g) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::GRAPH);
  *a->mutable_g() = g;
}

inline void add_value(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>* list,
               const std::string& name, int elem, const std::vector<std::int64_t>& dims) {
  auto* v = list->Add();
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem);
  auto* shape = tt->mutable_shape();
  for (auto d : dims) shape->add_dim()->set_dim_value(d);
}

class GraphBuilder {
 public:
  explicit GraphBuilder(GraphProto* g) : g_(g) {}

  GraphBuilder& input(const std::string& name, int elem, const std::vector<std::int64_t>& dims) {
    add_value(g_->mutable_input(), name, elem, dims);
    return *this;
  }
  GraphBuilder& output(const std::string& name, int elem, const std::vector<std::int64_t>& dims) {
    add_value(g_->mutable_output(), name, elem, dims);
    return *this;
  }
  GraphBuilder& value_info(const std::string& name, int elem,
                           const std::vector<std::int64_t>& dims) {
    add_value(g_->mutable_value_info(), name, elem, dims);
    return *this;
  }
  GraphBuilder& init(const TensorProto& t) {
    *g_->add_initializer() = t;
    return *this;
  }
  NodeProto& node(const std::string& op, const std::vector<std::string>& inputs,
                  const std::vector<std::string>& outputs, const std::string& name) {
    NodeProto* n = g_->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    return *n;
  }
  // A 1×1 convolution (OpenCV wants kernel_shape spelled out).
  NodeProto& conv(const std::vector<std::string>& inputs, const std::string& out,
                  const std::string& name) {
    NodeProto& n = node("Conv", inputs, {out}, name);
    set_ints(n, "kernel_shape", {1, 1});
    return n;
  }
  NodeProto& cast(const std::string& in, const std::string& out, int to, const std::string& name) {
    NodeProto& n = node("Cast", {in}, {out}, name);
    set_int(n, "to", to);
    return n;
  }
  NodeProto& constant(const std::string& out, const TensorProto& value, const std::string& name) {
    NodeProto& n = node("Constant", {}, {out}, name);
    set_tensor(n, "value", value);
    return n;
  }

 private:
  GraphProto* g_;
};

struct Model {
  ModelProto proto;
  GraphBuilder b{nullptr};
  explicit Model(int opset = 13) {
    proto.set_ir_version(8);
    proto.set_producer_name("atelier-test");
    proto.add_opset_import()->set_version(opset);
    proto.mutable_graph()->set_name("test");
    b = GraphBuilder(proto.mutable_graph());
  }
  GraphProto& graph() { return *proto.mutable_graph(); }
};


// A segmentation-shaped model: input "input" 1×3×size×size -> 1×1 Conv (3 -> 1, weights
// 0.5, -0.25, 0.25, bias 0.1; fp16 initializers when `fp16`) -> Sigmoid -> "output".
ModelProto tiny_segmentation_model(int size, bool fp16);
// Its serialized bytes.
std::vector<std::uint8_t> tiny_segmentation_bytes(int size, bool fp16);

}  // namespace atelier::testing
