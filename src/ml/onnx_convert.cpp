// The ONNX import step: FLOAT16 -> FLOAT conversion for OpenCV 4.6 DNN (see onnx_convert.h).
//
// convert_to_fp32 works on a copy of the model and moves it into place only when every step
// succeeded, so an error never leaves a half-converted model behind. Steps, per graph
// (subgraphs of If/Loop/Scan first, then the graph that holds them):
//   1. element types of every value name are inferred (declared types first, then a light
//      propagation over the nodes), so that a Cast from an integer type is told apart from
//      a Cast between floating types;
//   2. FLOAT16 tensors (initializers, sparse initializers, node attributes) become FLOAT;
//   3. Casts between floating types are removed: consumers are rewired to the Cast's input
//      (chains collapse); a Cast that produces a graph output hands that name to the
//      producer of its input, or becomes an Identity where that is impossible;
//   4. FLOAT16 element types in inputs, outputs and value_info become FLOAT; value_info
//      entries of names that no longer exist are dropped.
// keep_outputs pruning runs before the conversion, so pruned weights are never upcast.
#include "ml/onnx_convert.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <array>
#include <bit>
#include <climits>
#include <cstring>
#include <limits>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/files.h"

namespace atelier::ml {

static_assert(std::endian::native == std::endian::little,
              "ONNX raw_data is little-endian; this code copies it as host order");

// ---------------------------------------------------------------------------------------
// binary16 <-> binary32

float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = std::uint32_t(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1fu;
  std::uint32_t mant = h & 0x3ffu;
  std::uint32_t bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // inf, or NaN with its payload
  } else if (exp != 0) {
    bits = sign | ((exp + 112u) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;  // ±0
  } else {
    // Subnormal: mant × 2^-24. Normalize: shift until the implicit bit (0x400) is set.
    int e = 113;  // biased float exponent of 2^-14
    while ((mant & 0x400u) == 0) {
      mant <<= 1;
      --e;
    }
    bits = sign | (std::uint32_t(e) << 23) | ((mant & 0x3ffu) << 13);
  }
  return std::bit_cast<float>(bits);
}

std::uint16_t float_to_half(float f) {
  const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  const std::uint16_t sign = std::uint16_t((x >> 16) & 0x8000u);
  const std::uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) {
    if (ax == 0x7f800000u) return sign | 0x7c00u;  // ±inf
    // NaN: keep the top payload bits, force a quiet NaN (never turns into inf).
    return std::uint16_t(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));
  }
  if (ax >= 0x477ff000u) return sign | 0x7c00u;  // ≥ 65520 rounds to inf
  if (ax < 0x38800000u) {
    // Below 2^-14: a half subnormal (or zero) = round(|f| × 2^24).
    const std::uint32_t e = ax >> 23;
    if (e < 102) return sign;  // < 2^-25: rounds to zero (2^-25 itself is a tie -> even 0)
    const std::uint32_t m = (ax & 0x7fffffu) | 0x800000u;
    const std::uint32_t shift = 126 - e;  // 14..24
    std::uint32_t r = m >> shift;
    const std::uint32_t rem = m & ((1u << shift) - 1);
    const std::uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (r & 1u))) ++r;  // may become 0x400: min normal
    return std::uint16_t(sign | r);
  }
  std::uint32_t h = (ax - (112u << 23)) >> 13;
  const std::uint32_t rem = ax & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // a carry into the exponent is right
  return std::uint16_t(sign | h);
}

namespace {

using onnx::AttributeProto;
using onnx::GraphProto;
using onnx::ModelProto;
using onnx::NodeProto;
using onnx::TensorProto;
using onnx::TypeProto;

constexpr int kFloat = TensorProto::FLOAT;
constexpr int kFloat16 = TensorProto::FLOAT16;
constexpr int kDouble = TensorProto::DOUBLE;
constexpr int kBFloat16 = TensorProto::BFLOAT16;
constexpr int kInt64 = TensorProto::INT64;
constexpr int kBool = TensorProto::BOOL;

bool is_floating(int t) { return t == kFloat || t == kFloat16 || t == kDouble || t == kBFloat16; }

const float* half_table() {
  static const std::array<float, 65536>* table = [] {
    auto* t = new std::array<float, 65536>;
    for (std::uint32_t i = 0; i < 65536; ++i) (*t)[i] = half_to_float(std::uint16_t(i));
    return t;
  }();
  return table->data();
}

bool default_domain(const NodeProto& n) { return n.domain().empty() || n.domain() == "ai.onnx"; }

const AttributeProto* find_attr(const NodeProto& n, std::string_view name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

std::string in_quotes(std::string_view s) {
  std::string r;
  r.reserve(s.size() + 2);
  r += '\'';
  r += s;
  r += '\'';
  return r;
}

std::string node_label(const NodeProto& n) {
  if (!n.name().empty()) return "node " + in_quotes(n.name());
  return n.op_type() + " node" +
         (n.output_size() > 0 ? " producing " + in_quotes(n.output(0)) : "");
}

Result<std::int64_t> element_count(const TensorProto& t, const std::string& where) {
  std::int64_t n = 1;
  for (std::int64_t d : t.dims()) {
    if (d < 0) return invalid_argument(where + ": negative tensor dimension " + std::to_string(d));
    if (d != 0 && n > std::numeric_limits<std::int64_t>::max() / d)
      return invalid_argument(where + ": tensor dimensions overflow");
    n *= d;
  }
  return n;
}

// FLOAT16 -> FLOAT in place (raw_data FLOAT, same name and dims). Sets `changed`.
Status upcast_tensor(TensorProto& t, const std::string& where, bool& changed) {
  changed = false;
  if (t.data_type() != kFloat16) return {};
  if (t.data_location() == TensorProto::EXTERNAL || t.external_data_size() > 0)
    return invalid_argument(where + ": FLOAT16 data stored in an external file is not supported");
  ATELIER_ASSIGN_OR_RETURN(const std::int64_t count, element_count(t, where));
  const float* table = half_table();
  std::string out;
  if (!t.raw_data().empty()) {
    const std::string& raw = t.raw_data();
    if (std::int64_t(raw.size()) != 2 * count)
      return invalid_argument(where + ": FLOAT16 tensor has " + std::to_string(raw.size()) +
                              " bytes of data for " + std::to_string(count) + " elements");
    out.resize(std::size_t(count) * 4);
    const auto* src = reinterpret_cast<const unsigned char*>(raw.data());
    char* dst = out.data();
    for (std::int64_t i = 0; i < count; ++i) {
      const float v = table[std::uint32_t(src[2 * i]) | (std::uint32_t(src[2 * i + 1]) << 8)];
      std::memcpy(dst + 4 * i, &v, 4);
    }
  } else if (t.int32_data_size() == count) {
    out.resize(std::size_t(count) * 4);
    char* dst = out.data();
    for (std::int64_t i = 0; i < count; ++i) {
      const std::int32_t bitsv = t.int32_data(int(i));
      if (bitsv < 0 || bitsv > 0xffff)
        return invalid_argument(where + ": FLOAT16 tensor holds an invalid 16-bit pattern " +
                                std::to_string(bitsv));
      const float v = table[bitsv];
      std::memcpy(dst + 4 * i, &v, 4);
    }
  } else {
    return invalid_argument(where + ": FLOAT16 tensor has " + std::to_string(t.int32_data_size()) +
                            " values for " + std::to_string(count) + " elements");
  }
  t.clear_int32_data();
  t.set_raw_data(std::move(out));
  t.set_data_type(kFloat);
  changed = true;
  return {};
}

void fix_type(TypeProto& tp) {
  if (tp.has_tensor_type() && tp.tensor_type().elem_type() == kFloat16)
    tp.mutable_tensor_type()->set_elem_type(kFloat);
  if (tp.has_sparse_tensor_type() && tp.sparse_tensor_type().elem_type() == kFloat16)
    tp.mutable_sparse_tensor_type()->set_elem_type(kFloat);
  if (tp.has_sequence_type() && tp.sequence_type().has_elem_type())
    fix_type(*tp.mutable_sequence_type()->mutable_elem_type());
  if (tp.has_optional_type() && tp.optional_type().has_elem_type())
    fix_type(*tp.mutable_optional_type()->mutable_elem_type());
  if (tp.has_map_type() && tp.map_type().has_value_type())
    fix_type(*tp.mutable_map_type()->mutable_value_type());
}

// ---------------------------------------------------------------------------------------
// Name scopes and type inference

// Element types of the names visible in a graph: its own, then the enclosing graphs'.
struct Scope {
  const Scope* parent = nullptr;
  std::unordered_map<std::string, int> types;

  int type_of(const std::string& name) const {
    for (const Scope* s = this; s; s = s->parent) {
      auto it = s->types.find(name);
      if (it != s->types.end()) return it->second;
    }
    return 0;  // unknown
  }
};

int tensor_type_of(const TypeProto& tp) {
  return tp.has_tensor_type() ? tp.tensor_type().elem_type() : 0;
}

// Ops whose (first) output has the element type of their first input.
const std::unordered_set<std::string>& type_preserving_ops() {
  static const std::unordered_set<std::string> ops = {"Identity",
                                                      "Add",
                                                      "Sub",
                                                      "Mul",
                                                      "Div",
                                                      "Neg",
                                                      "Abs",
                                                      "Relu",
                                                      "LeakyRelu",
                                                      "Sigmoid",
                                                      "Tanh",
                                                      "Exp",
                                                      "Log",
                                                      "Sqrt",
                                                      "Reciprocal",
                                                      "Pow",
                                                      "Mod",
                                                      "Min",
                                                      "Max",
                                                      "Sum",
                                                      "Mean",
                                                      "Floor",
                                                      "Ceil",
                                                      "Round",
                                                      "Sign",
                                                      "Clip",
                                                      "Reshape",
                                                      "Transpose",
                                                      "Squeeze",
                                                      "Unsqueeze",
                                                      "Flatten",
                                                      "Concat",
                                                      "Split",
                                                      "Slice",
                                                      "Gather",
                                                      "GatherElements",
                                                      "GatherND",
                                                      "Expand",
                                                      "Tile",
                                                      "Pad",
                                                      "ReduceSum",
                                                      "ReduceMean",
                                                      "ReduceMax",
                                                      "ReduceMin",
                                                      "ReduceProd",
                                                      "ReduceL1",
                                                      "ReduceL2",
                                                      "CumSum",
                                                      "Range",
                                                      "Resize",
                                                      "Upsample",
                                                      "Conv",
                                                      "ConvTranspose",
                                                      "MatMul",
                                                      "Gemm",
                                                      "MaxPool",
                                                      "AveragePool",
                                                      "GlobalAveragePool",
                                                      "GlobalMaxPool",
                                                      "BatchNormalization",
                                                      "InstanceNormalization",
                                                      "LayerNormalization",
                                                      "Softmax",
                                                      "LogSoftmax",
                                                      "Erf",
                                                      "HardSigmoid",
                                                      "HardSwish",
                                                      "Elu",
                                                      "Selu",
                                                      "PRelu",
                                                      "Softplus",
                                                      "DepthToSpace",
                                                      "SpaceToDepth",
                                                      "ScatterND",
                                                      "ScatterElements",
                                                      "Dropout",
                                                      "Einsum",
                                                      "Trilu",
                                                      "ReverseSequence",
                                                      "Compress",
                                                      "Sin",
                                                      "Cos",
                                                      "LRN",
                                                      "Shrink",
                                                      "ThresholdedRelu",
                                                      "Celu",
                                                      "Mish",
                                                      "GridSample",
                                                      "RoiAlign",
                                                      "Det"};
  return ops;
}

int attr_int_or(const NodeProto& n, std::string_view name, int fallback) {
  const AttributeProto* a = find_attr(n, name);
  return a ? int(a->i()) : fallback;
}

int constant_type(const NodeProto& n) {
  for (const auto& a : n.attribute()) {
    if (a.name() == "value") return a.t().data_type();
    if (a.name() == "sparse_value") return a.sparse_tensor().values().data_type();
    if (a.name() == "value_float" || a.name() == "value_floats") return kFloat;
    if (a.name() == "value_int" || a.name() == "value_ints") return kInt64;
    if (a.name() == "value_string" || a.name() == "value_strings") return TensorProto::STRING;
  }
  return 0;
}

// Fills scope.types for the names a graph defines: declared types, then propagation.
void infer_types(const GraphProto& g, Scope& scope) {
  auto declare = [&](const std::string& name, int t) {
    if (!name.empty() && t != 0) scope.types.emplace(name, t);
  };
  for (const auto& v : g.input()) declare(v.name(), tensor_type_of(v.type()));
  for (const auto& t : g.initializer()) declare(t.name(), t.data_type());
  for (const auto& s : g.sparse_initializer()) declare(s.values().name(), s.values().data_type());
  for (const auto& v : g.value_info()) declare(v.name(), tensor_type_of(v.type()));
  for (const auto& v : g.output()) declare(v.name(), tensor_type_of(v.type()));

  auto in = [&](const NodeProto& n, int i) {
    return i < n.input_size() && !n.input(i).empty() ? scope.type_of(n.input(i)) : 0;
  };
  static const std::unordered_set<std::string> int64_ops = {"Shape", "Size", "NonZero", "ArgMax",
                                                            "ArgMin"};
  static const std::unordered_set<std::string> bool_ops = {
      "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "Not",
      "And",   "Or",   "Xor",     "IsNaN",       "IsInf"};
  for (const auto& n : g.node()) {
    if (n.output_size() == 0) continue;
    int first = 0;   // type of output 0
    int others = 0;  // type of outputs 1..
    if (default_domain(n)) {
      const std::string& op = n.op_type();
      if (op == "Cast") {
        first = attr_int_or(n, "to", 0);
      } else if (op == "CastLike") {
        first = in(n, 1);
      } else if (op == "Constant") {
        first = constant_type(n);
      } else if (op == "ConstantOfShape") {
        const AttributeProto* a = find_attr(n, "value");
        first = a ? a->t().data_type() : kFloat;
      } else if (int64_ops.count(op)) {
        first = kInt64;
      } else if (bool_ops.count(op)) {
        first = kBool;
      } else if (op == "TopK" || op == "Unique") {
        first = in(n, 0);
        others = kInt64;
      } else if (op == "Where") {
        first = in(n, 1);
      } else if (op == "OneHot") {
        first = in(n, 2);
      } else if (op == "EyeLike" || op == "RandomNormalLike" || op == "RandomUniformLike") {
        first = attr_int_or(n, "dtype", in(n, 0));
      } else if (op == "RandomNormal" || op == "RandomUniform") {
        first = attr_int_or(n, "dtype", kFloat);
      } else if (op == "DequantizeLinear") {
        first = kFloat;
      } else if (op == "QuantizeLinear") {
        first = n.input_size() > 2 ? in(n, 2) : int(TensorProto::UINT8);
      } else if (op == "Split") {
        first = others = in(n, 0);
      } else if (type_preserving_ops().count(op)) {
        first = in(n, 0);
      }
    }
    declare(n.output(0), first);
    for (int i = 1; i < n.output_size(); ++i) declare(n.output(i), others);
  }
}

// Every name a graph defines itself (inputs, initializers, node outputs, recursively in its
// subgraphs): names a subgraph defines shadow outer names of the same spelling.
void collect_defined(const GraphProto& g, std::unordered_set<std::string>& out) {
  for (const auto& v : g.input()) out.insert(v.name());
  for (const auto& t : g.initializer()) out.insert(t.name());
  for (const auto& s : g.sparse_initializer()) out.insert(s.values().name());
  for (const auto& n : g.node()) {
    for (const auto& o : n.output()) out.insert(o);
    for (const auto& a : n.attribute()) {
      if (a.has_g()) collect_defined(a.g(), out);
      for (const auto& sg : a.graphs()) collect_defined(sg, out);
    }
  }
}

// Names a subgraph reads from its enclosing scopes.
void collect_outer_refs(const GraphProto& g, std::unordered_set<std::string>& out) {
  std::unordered_set<std::string> defined;
  collect_defined(g, defined);
  auto visit = [&](const GraphProto& sg, auto&& self) -> void {
    for (const auto& n : sg.node()) {
      for (const auto& i : n.input())
        if (!i.empty() && !defined.count(i)) out.insert(i);
      for (const auto& a : n.attribute()) {
        if (a.has_g()) self(a.g(), self);
        for (const auto& s : a.graphs()) self(s, self);
      }
    }
    for (const auto& o : sg.output())
      if (!defined.count(o.name())) out.insert(o.name());
  };
  visit(g, visit);
}

// Applies `rename` to the outer-scope names a subgraph reads.
template <typename Fn>
void rename_outer_refs(GraphProto& g, const Fn& rename) {
  std::unordered_set<std::string> defined;
  collect_defined(g, defined);
  auto visit = [&](GraphProto& sg, auto&& self) -> void {
    for (auto& n : *sg.mutable_node()) {
      for (auto& i : *n.mutable_input())
        if (!i.empty() && !defined.count(i)) i = rename(i);
      for (auto& a : *n.mutable_attribute()) {
        if (a.has_g()) self(*a.mutable_g(), self);
        for (auto& s : *a.mutable_graphs()) self(s, self);
      }
    }
    for (auto& o : *sg.mutable_output())
      if (!defined.count(o.name())) o.set_name(rename(o.name()));
  };
  visit(g, visit);
}

template <typename T>
void remove_flagged(google::protobuf::RepeatedPtrField<T>& items, const std::vector<char>& drop) {
  int w = 0;
  const int n = items.size();
  for (int r = 0; r < n; ++r) {
    if (drop[std::size_t(r)]) continue;
    if (w != r) items.SwapElements(w, r);
    ++w;
  }
  if (w < n) items.DeleteSubrange(w, n - w);
}

// Drops value_info entries for names the graph no longer defines.
void drop_stale_value_info(GraphProto& g) {
  std::unordered_set<std::string> defined;
  for (const auto& v : g.input()) defined.insert(v.name());
  for (const auto& t : g.initializer()) defined.insert(t.name());
  for (const auto& s : g.sparse_initializer()) defined.insert(s.values().name());
  for (const auto& n : g.node())
    for (const auto& o : n.output()) defined.insert(o);
  std::vector<char> drop(std::size_t(g.value_info_size()), 0);
  for (int i = 0; i < g.value_info_size(); ++i)
    drop[std::size_t(i)] = !defined.count(g.value_info(i).name());
  remove_flagged(*g.mutable_value_info(), drop);
}

// ---------------------------------------------------------------------------------------
// The converter

class Converter {
 public:
  ConversionReport report;

  Status convert_graph(GraphProto& g, const Scope* outer) {
    Scope scope;
    scope.parent = outer;
    infer_types(g, scope);

    for (auto& t : *g.mutable_initializer()) {
      bool changed = false;
      ATELIER_TRY(upcast_tensor(t, "initializer " + in_quotes(t.name()), changed));
      report.initializers_upcast += changed;
    }
    for (auto& s : *g.mutable_sparse_initializer()) {
      bool changed = false;
      ATELIER_TRY(upcast_tensor(*s.mutable_values(),
                                "sparse initializer " + in_quotes(s.values().name()), changed));
      report.initializers_upcast += changed;
    }
    for (auto& n : *g.mutable_node()) ATELIER_TRY(convert_node_attributes(n, &scope));

    remove_casts(g, scope);

    for (auto& v : *g.mutable_input()) fix_type(*v.mutable_type());
    for (auto& v : *g.mutable_output()) fix_type(*v.mutable_type());
    for (auto& v : *g.mutable_value_info()) fix_type(*v.mutable_type());
    drop_stale_value_info(g);
    return {};
  }

  // Tensors, types and subgraphs held by a node's attributes; FLOAT16 `to`/`dtype` values.
  Status convert_node_attributes(NodeProto& n, const Scope* scope) {
    for (auto& a : *n.mutable_attribute()) {
      const std::string where = "attribute " + in_quotes(a.name()) + " of " + node_label(n);
      bool changed = false;
      if (a.has_t()) {
        ATELIER_TRY(upcast_tensor(*a.mutable_t(), where, changed));
        report.constants_upcast += changed;
      }
      for (auto& t : *a.mutable_tensors()) {
        ATELIER_TRY(upcast_tensor(t, where, changed));
        report.constants_upcast += changed;
      }
      if (a.has_sparse_tensor()) {
        ATELIER_TRY(upcast_tensor(*a.mutable_sparse_tensor()->mutable_values(), where, changed));
        report.constants_upcast += changed;
      }
      for (auto& s : *a.mutable_sparse_tensors()) {
        ATELIER_TRY(upcast_tensor(*s.mutable_values(), where, changed));
        report.constants_upcast += changed;
      }
      if (a.has_tp()) fix_type(*a.mutable_tp());
      for (auto& tp : *a.mutable_type_protos()) fix_type(tp);
      if (a.has_g()) ATELIER_TRY(convert_graph(*a.mutable_g(), scope));
      for (auto& sg : *a.mutable_graphs()) ATELIER_TRY(convert_graph(sg, scope));
      // A kept Cast (from an integer type) to FLOAT16, or an op creating FLOAT16 values
      // (RandomNormal, EyeLike, ...), now produces FLOAT like everything around it.
      if (default_domain(n) && a.i() == kFloat16 &&
          ((n.op_type() == "Cast" && a.name() == "to") || a.name() == "dtype"))
        a.set_i(kFloat);
    }
    return {};
  }

 private:
  void remove_casts(GraphProto& g, const Scope& scope) {
    const int count = g.node_size();
    std::unordered_set<std::string> graph_inputs, graph_outputs, initializers;
    for (const auto& v : g.input()) graph_inputs.insert(v.name());
    for (const auto& v : g.output()) graph_outputs.insert(v.name());
    for (const auto& t : g.initializer()) initializers.insert(t.name());
    for (const auto& s : g.sparse_initializer()) initializers.insert(s.values().name());

    std::unordered_map<std::string, std::string> alias;  // removed Cast output -> its input
    std::unordered_map<std::string, int> output_casts;   // graph output -> removable Cast
    std::unordered_map<std::string, int> producer;
    std::vector<char> removed(std::size_t(count), 0);
    for (int i = 0; i < count; ++i) {
      const NodeProto& n = g.node(i);
      for (const auto& o : n.output()) producer.emplace(o, i);
      if (!removable_cast(n, scope)) continue;
      if (graph_outputs.count(n.output(0))) {
        output_casts.emplace(n.output(0), i);
      } else {
        alias.emplace(n.output(0), n.input(0));
        removed[std::size_t(i)] = 1;
        ++report.casts_removed;
      }
    }
    if (alias.empty() && output_casts.empty()) return;

    auto resolve = [&](std::string name) {
      for (std::size_t guard = 0; guard <= alias.size(); ++guard) {
        auto it = alias.find(name);
        if (it == alias.end()) break;
        name = it->second;
      }
      return name;
    };

    // Graph outputs produced by a Cast, in output order: the first claims the producer's
    // tensor; the others (or where there is no producer node) get an Identity.
    std::unordered_map<std::string, std::string> rename;  // producer tensor -> graph output
    std::vector<std::pair<int, std::string>> identities;  // node index, input before rename
    for (const auto& v : g.output()) {
      auto oc = output_casts.find(v.name());
      if (oc == output_casts.end()) continue;
      const int i = oc->second;
      output_casts.erase(oc);  // a name listed twice is handled once
      const std::string src = resolve(g.node(i).input(0));
      const bool renamable = producer.count(src) && !graph_inputs.count(src) &&
                             !graph_outputs.count(src) && !initializers.count(src) &&
                             !rename.count(src);
      if (renamable) {
        rename.emplace(src, v.name());
        removed[std::size_t(i)] = 1;
        ++report.casts_removed;
      } else {
        identities.emplace_back(i, src);
        ++report.casts_to_identity;
      }
    }

    auto final_name = [&](const std::string& name) {
      std::string r = resolve(name);
      auto it = rename.find(r);
      return it == rename.end() ? r : it->second;
    };
    for (auto& [i, src] : identities) {
      NodeProto& n = *g.mutable_node(i);
      n.set_op_type("Identity");
      n.clear_domain();
      n.clear_attribute();
      n.clear_input();
      n.add_input(final_name(src));
    }
    std::vector<char> is_identity(std::size_t(count), 0);
    for (auto& [i, src] : identities) is_identity[std::size_t(i)] = 1;
    for (int i = 0; i < count; ++i) {
      if (removed[std::size_t(i)]) continue;
      NodeProto& n = *g.mutable_node(i);
      if (!is_identity[std::size_t(i)])
        for (auto& in : *n.mutable_input())
          if (!in.empty()) in = final_name(in);
      for (auto& out : *n.mutable_output()) {
        auto it = rename.find(out);
        if (it != rename.end()) out = it->second;
      }
      for (auto& a : *n.mutable_attribute()) {
        if (a.has_g()) rename_outer_refs(*a.mutable_g(), final_name);
        for (auto& sg : *a.mutable_graphs()) rename_outer_refs(sg, final_name);
      }
    }
    remove_flagged(*g.mutable_node(), removed);
  }

  static bool removable_cast(const NodeProto& n, const Scope& scope) {
    if (n.op_type() != "Cast" || !default_domain(n)) return false;
    if (n.input_size() != 1 || n.output_size() != 1 || n.input(0).empty() || n.output(0).empty())
      return false;
    const AttributeProto* to = find_attr(n, "to");
    if (!to || !is_floating(int(to->i()))) return false;
    const int from = scope.type_of(n.input(0));
    return from == 0 || is_floating(from);
  }
};

// Drops graph outputs not in `keep` and the nodes and initializers nothing kept needs.
void prune_to_outputs(GraphProto& g, const std::vector<std::string>& keep,
                      ConversionReport& report) {
  std::unordered_set<std::string> kept(keep.begin(), keep.end());
  {
    std::vector<char> drop(std::size_t(g.output_size()), 0);
    std::unordered_set<std::string> seen;
    for (int i = 0; i < g.output_size(); ++i) {
      const std::string& name = g.output(i).name();
      drop[std::size_t(i)] = !kept.count(name) || !seen.insert(name).second;
      report.outputs_dropped += !kept.count(name);
    }
    remove_flagged(*g.mutable_output(), drop);
  }

  std::unordered_map<std::string, int> producer;
  for (int i = 0; i < g.node_size(); ++i)
    for (const auto& o : g.node(i).output()) producer.emplace(o, i);
  std::unordered_set<std::string> needed;
  std::vector<std::string> work;
  auto need = [&](const std::string& name) {
    if (!name.empty() && needed.insert(name).second) work.push_back(name);
  };
  for (const auto& v : g.output()) need(v.name());
  std::vector<char> live(std::size_t(g.node_size()), 0);
  while (!work.empty()) {
    const std::string name = std::move(work.back());
    work.pop_back();
    auto it = producer.find(name);
    if (it == producer.end() || live[std::size_t(it->second)]) continue;
    live[std::size_t(it->second)] = 1;
    const NodeProto& n = g.node(it->second);
    for (const auto& in : n.input()) need(in);
    for (const auto& a : n.attribute()) {
      std::unordered_set<std::string> refs;
      if (a.has_g()) collect_outer_refs(a.g(), refs);
      for (const auto& sg : a.graphs()) collect_outer_refs(sg, refs);
      for (const auto& r : refs) need(r);
    }
  }
  std::vector<char> drop(std::size_t(g.node_size()), 0);
  for (int i = 0; i < g.node_size(); ++i) {
    drop[std::size_t(i)] = !live[std::size_t(i)];
    report.nodes_pruned += !live[std::size_t(i)];
  }
  remove_flagged(*g.mutable_node(), drop);

  std::unordered_set<std::string> dropped_inits;
  std::vector<char> di(std::size_t(g.initializer_size()), 0);
  for (int i = 0; i < g.initializer_size(); ++i)
    if (!needed.count(g.initializer(i).name())) {
      di[std::size_t(i)] = 1;
      dropped_inits.insert(g.initializer(i).name());
    }
  remove_flagged(*g.mutable_initializer(), di);
  std::vector<char> ds(std::size_t(g.sparse_initializer_size()), 0);
  for (int i = 0; i < g.sparse_initializer_size(); ++i)
    if (!needed.count(g.sparse_initializer(i).values().name())) {
      ds[std::size_t(i)] = 1;
      dropped_inits.insert(g.sparse_initializer(i).values().name());
    }
  remove_flagged(*g.mutable_sparse_initializer(), ds);
  // Graph inputs that only declared a dropped initializer (IR < 4 models) go with it.
  std::vector<char> dinp(std::size_t(g.input_size()), 0);
  for (int i = 0; i < g.input_size(); ++i)
    dinp[std::size_t(i)] = dropped_inits.count(g.input(i).name()) > 0;
  remove_flagged(*g.mutable_input(), dinp);
  drop_stale_value_info(g);
}

// ---------------------------------------------------------------------------------------
// The final check: no FLOAT16 anywhere.

struct Fp16Finder {
  std::string found;  // where, empty if none

  bool type(const TypeProto& tp, const std::string& where) {
    bool bad = (tp.has_tensor_type() && tp.tensor_type().elem_type() == kFloat16) ||
               (tp.has_sparse_tensor_type() && tp.sparse_tensor_type().elem_type() == kFloat16);
    if (!bad && tp.has_sequence_type()) bad = type(tp.sequence_type().elem_type(), where);
    if (!bad && tp.has_optional_type()) bad = type(tp.optional_type().elem_type(), where);
    if (!bad && tp.has_map_type()) bad = type(tp.map_type().value_type(), where);
    if (bad && found.empty()) found = where;
    return bad;
  }
  void tensor(const TensorProto& t, const std::string& where) {
    if (t.data_type() == kFloat16 && found.empty()) found = where;
  }
  void node(const NodeProto& n) {
    for (const auto& a : n.attribute()) {
      const std::string where = "attribute " + in_quotes(a.name()) + " of " + node_label(n);
      if (a.has_t()) tensor(a.t(), where);
      for (const auto& t : a.tensors()) tensor(t, where);
      if (a.has_sparse_tensor()) tensor(a.sparse_tensor().values(), where);
      for (const auto& s : a.sparse_tensors()) tensor(s.values(), where);
      if (a.has_tp()) type(a.tp(), where);
      for (const auto& tp : a.type_protos()) type(tp, where);
      if (a.has_g()) graph(a.g());
      for (const auto& g : a.graphs()) graph(g);
      if (default_domain(n) && a.i() == kFloat16 &&
          ((n.op_type() == "Cast" && a.name() == "to") || a.name() == "dtype") && found.empty())
        found = where;
    }
  }
  void graph(const GraphProto& g) {
    for (const auto& t : g.initializer()) tensor(t, "initializer " + in_quotes(t.name()));
    for (const auto& s : g.sparse_initializer())
      tensor(s.values(), "sparse initializer " + in_quotes(s.values().name()));
    for (const auto& v : g.input()) type(v.type(), "graph input " + in_quotes(v.name()));
    for (const auto& v : g.output()) type(v.type(), "graph output " + in_quotes(v.name()));
    for (const auto& v : g.value_info()) type(v.type(), "value_info " + in_quotes(v.name()));
    for (const auto& n : g.node()) node(n);
  }
};

// ---------------------------------------------------------------------------------------
// retarget helpers

// A constant int64 vector: an initializer, a Constant's `value` tensor or its `value_ints`.
struct ConstInts {
  TensorProto* tensor = nullptr;
  AttributeProto* ints = nullptr;
  explicit operator bool() const { return tensor || ints; }
  const void* key() const { return tensor ? static_cast<const void*>(tensor) : ints; }
};

Result<std::vector<std::int64_t>> read_ints(const ConstInts& c, const std::string& where) {
  if (c.ints) return std::vector<std::int64_t>(c.ints->ints().begin(), c.ints->ints().end());
  const TensorProto& t = *c.tensor;
  if (t.data_type() != kInt64)
    return invalid_argument(where + ": sizes tensor is not INT64 (type " +
                            std::to_string(t.data_type()) + ")");
  if (t.data_location() == TensorProto::EXTERNAL || t.external_data_size() > 0)
    return invalid_argument(where + ": sizes tensor stored in an external file is not supported");
  ATELIER_ASSIGN_OR_RETURN(const std::int64_t count, element_count(t, where));
  std::vector<std::int64_t> v(static_cast<std::size_t>(count));
  if (!t.raw_data().empty()) {
    if (std::int64_t(t.raw_data().size()) != 8 * count)
      return invalid_argument(where + ": sizes tensor has the wrong amount of data");
    std::memcpy(v.data(), t.raw_data().data(), v.size() * 8);
  } else if (t.int64_data_size() == count) {
    for (std::int64_t i = 0; i < count; ++i) v[std::size_t(i)] = t.int64_data(int(i));
  } else {
    return invalid_argument(where + ": sizes tensor has the wrong amount of data");
  }
  return v;
}

void write_ints(const ConstInts& c, const std::vector<std::int64_t>& v) {
  if (c.ints) {
    c.ints->clear_ints();
    for (auto x : v) c.ints->add_ints(x);
    return;
  }
  TensorProto& t = *c.tensor;
  if (!t.raw_data().empty()) {
    t.set_raw_data(std::string(reinterpret_cast<const char*>(v.data()), v.size() * 8));
  } else {
    t.clear_int64_data();
    for (auto x : v) t.add_int64_data(x);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Public API

Result<ConversionReport> convert_to_fp32(onnx::ModelProto& model,
                                         const ConversionOptions& options) {
  if (!model.has_graph()) return invalid_argument("not an ONNX model (no graph)");
  const GraphProto& original = model.graph();
  if (!options.keep_outputs.empty()) {
    std::unordered_set<std::string> names;
    for (const auto& v : original.output()) names.insert(v.name());
    for (const auto& k : options.keep_outputs) {
      if (names.count(k)) continue;
      std::string list;
      for (const auto& v : original.output()) list += (list.empty() ? "" : ", ") + v.name();
      return invalid_argument("model has no output " + in_quotes(k) + " (outputs: " + list + ")");
    }
  }

  ModelProto work(model);
  Converter conv;
  GraphProto& g = *work.mutable_graph();
  if (!options.keep_outputs.empty()) prune_to_outputs(g, options.keep_outputs, conv.report);
  ATELIER_TRY(conv.convert_graph(g, nullptr));
  for (auto& ti : *work.mutable_training_info()) {
    if (ti.has_initialization())
      ATELIER_TRY(conv.convert_graph(*ti.mutable_initialization(), nullptr));
    if (ti.has_algorithm()) ATELIER_TRY(conv.convert_graph(*ti.mutable_algorithm(), nullptr));
  }
  for (auto& f : *work.mutable_functions())
    for (auto& n : *f.mutable_node()) ATELIER_TRY(conv.convert_node_attributes(n, nullptr));

  Fp16Finder finder;
  finder.graph(work.graph());
  for (const auto& ti : work.training_info()) {
    finder.graph(ti.initialization());
    finder.graph(ti.algorithm());
  }
  for (const auto& f : work.functions())
    for (const auto& n : f.node()) finder.node(n);
  if (!finder.found.empty())
    return internal_error("FLOAT16 remains after conversion in " + finder.found);

  model = std::move(work);
  return conv.report;
}

Result<onnx::ModelProto> parse_onnx(std::span<const std::uint8_t> bytes) {
  if (bytes.size() > std::size_t(INT_MAX))
    return resource_exhausted("ONNX model of " + format_bytes(bytes.size()) +
                              " is too large (protobuf limit: 2 GiB)");
  onnx::ModelProto model;
  google::protobuf::io::ArrayInputStream stream(bytes.data(), int(bytes.size()));
  google::protobuf::io::CodedInputStream coded(&stream);
  coded.SetTotalBytesLimit(INT_MAX);
  if (!model.ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage())
    return invalid_argument("not an ONNX model (protobuf parse failed)");
  if (!model.has_graph()) return invalid_argument("not an ONNX model (no graph)");
  return model;
}

Result<onnx::ModelProto> load_onnx(const std::filesystem::path& path) {
  // read_file's messages already start with the path.
  ATELIER_ASSIGN_OR_RETURN(const LargeBuffer bytes, read_large_file(path, std::uint64_t(2) << 30));
  Result<onnx::ModelProto> model = parse_onnx({bytes.data(), bytes.size()});
  if (!model.ok()) return model.status().with_context(path.string());
  return model;
}

Result<std::vector<std::uint8_t>> serialize_onnx(const onnx::ModelProto& model) {
  const std::size_t size = model.ByteSizeLong();
  if (size > std::size_t(INT_MAX))
    return resource_exhausted("ONNX model of " + format_bytes(size) +
                              " is too large to serialize (protobuf limit: 2 GiB)");
  std::vector<std::uint8_t> out(size);
  if (!model.SerializeToArray(out.data(), int(size)))
    return internal_error("ONNX model serialization failed");
  return out;
}

Status retarget_input_size(onnx::ModelProto& model, int height, int width) {
  if (height <= 0 || width <= 0)
    return invalid_argument("input size must be positive (got " + std::to_string(height) + "x" +
                            std::to_string(width) + ")");
  if (!model.has_graph()) return invalid_argument("not an ONNX model (no graph)");
  GraphProto& g = *model.mutable_graph();

  std::unordered_map<std::string, TensorProto*> inits;
  for (auto& t : *g.mutable_initializer()) inits.emplace(t.name(), &t);
  std::vector<onnx::ValueInfoProto*> images;
  for (auto& v : *g.mutable_input()) {
    if (inits.count(v.name())) continue;
    if (v.type().has_tensor_type() && v.type().tensor_type().has_shape() &&
        v.type().tensor_type().shape().dim_size() == 4)
      images.push_back(&v);
  }
  if (images.size() != 1) {
    if (images.empty()) return invalid_argument("model has no 4-D (NCHW) input to retarget");
    std::string list;
    for (auto* v : images) list += (list.empty() ? "" : ", ") + v->name();
    return invalid_argument("model has several 4-D inputs (" + list +
                            "); cannot choose one to retarget");
  }
  onnx::ValueInfoProto& input = *images[0];
  const auto& shape = input.type().tensor_type().shape();
  const std::int64_t old_h = shape.dim(2).has_dim_value() ? shape.dim(2).dim_value() : 0;
  const std::int64_t old_w = shape.dim(3).has_dim_value() ? shape.dim(3).dim_value() : 0;

  std::unordered_map<std::string, NodeProto*> producer;
  for (auto& n : *g.mutable_node())
    for (const auto& o : n.output()) producer.emplace(o, &n);
  auto constant = [&](const std::string& name) -> ConstInts {
    if (auto it = inits.find(name); it != inits.end()) return {it->second, nullptr};
    auto it = producer.find(name);
    if (it == producer.end() || it->second->op_type() != "Constant" || !default_domain(*it->second))
      return {};
    for (auto& a : *it->second->mutable_attribute()) {
      if (a.name() == "value") return {a.mutable_t(), nullptr};
      if (a.name() == "value_ints") return {nullptr, &a};
    }
    return {};
  };

  struct Change {
    ConstInts target;
    std::vector<std::int64_t> values;
  };
  std::vector<Change> changes;
  std::unordered_set<const void*> seen;
  for (auto& n : *g.mutable_node()) {
    if (n.op_type() != "Resize" || !default_domain(n) || n.input_size() < 4 || n.input(3).empty())
      continue;
    const std::string where = "Resize " + node_label(n);
    ConstInts c = constant(n.input(3));
    int h_index = -1, w_index = -1;
    std::vector<std::int64_t> values;
    if (c) {
      ATELIER_ASSIGN_OR_RETURN(values, read_ints(c, where));
      if (const AttributeProto* axes = find_attr(n, "axes")) {
        for (int k = 0; k < axes->ints_size(); ++k) {
          const std::int64_t axis = axes->ints(k) < 0 ? axes->ints(k) + 4 : axes->ints(k);
          if (axis == 2) h_index = k;
          if (axis == 3) w_index = k;
        }
      } else if (values.size() == 4) {
        h_index = 2;
        w_index = 3;
      } else {
        return invalid_argument(where + ": sizes has " + std::to_string(values.size()) +
                                " entries; expected 4 (NCHW)");
      }
    } else {
      // torch's F.interpolate(x, size=t.shape[2:]): Concat(Slice(Shape(x)), Constant[h, w]).
      auto p = producer.find(n.input(3));
      if (p == producer.end() || p->second->op_type() != "Concat" || p->second->input_size() < 2)
        continue;  // computed at run time: follows the new size by itself
      c = constant(p->second->input(p->second->input_size() - 1));
      if (!c) continue;
      ATELIER_ASSIGN_OR_RETURN(values, read_ints(c, where));
      if (values.size() != 2) continue;
      h_index = 0;
      w_index = 1;
    }
    if (!seen.insert(c.key()).second) continue;  // a shared constant is rescaled once
    if ((h_index >= 0 && old_h <= 0) || (w_index >= 0 && old_w <= 0))
      return invalid_argument("input " + in_quotes(input.name()) +
                              " has no fixed height and width to rescale " + where + " from");
    auto rescale = [&](int index, std::int64_t old_size, std::int64_t new_size) -> Status {
      if (index < 0 || std::size_t(index) >= values.size()) return {};
      const std::int64_t v = values[std::size_t(index)];
      if ((v * new_size) % old_size != 0)
        return invalid_argument(where + ": traced size " + std::to_string(v) +
                                " does not scale to a whole number from " +
                                std::to_string(old_size) + " to " + std::to_string(new_size));
      values[std::size_t(index)] = v * new_size / old_size;
      return {};
    };
    ATELIER_TRY(rescale(h_index, old_h, height));
    ATELIER_TRY(rescale(w_index, old_w, width));
    changes.push_back({c, std::move(values)});
  }

  for (const auto& ch : changes) write_ints(ch.target, ch.values);
  auto* dims = input.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim();
  (*dims)[2].set_dim_value(height);
  (*dims)[3].set_dim_value(width);
  // Spatial sizes traced for the old input are stale: make them unknown.
  auto forget_spatial = [](onnx::ValueInfoProto& v) {
    if (!v.type().has_tensor_type() || !v.type().tensor_type().has_shape()) return;
    auto* d = v.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim();
    if (d->size() != 4) return;
    (*d)[2].Clear();
    (*d)[3].Clear();
  };
  for (auto& v : *g.mutable_output()) forget_spatial(v);
  for (auto& v : *g.mutable_value_info()) forget_spatial(v);
  return {};
}

}  // namespace atelier::ml
