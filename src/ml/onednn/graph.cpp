#include "ml/onednn/graph.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <unordered_map>


namespace atelier::ml::onednn {
namespace {

// A value while importing: a runtime NCHW tensor, or a constant known at import (small
// integer vectors of shape arithmetic, float initializers and Constant tensors).
struct Value {
  int tensor = -1;                   // runtime tensor id, or -1 for a constant
  std::vector<std::int64_t> dims;    // constant's dims
  std::vector<std::int64_t> ints;    // integer constant
  std::vector<float> floats;         // float constant
  std::span<const float> view;       // ... or, for a Conv's weights only, in the model file's bytes
  bool is_float = false;
  bool constant() const { return tensor < 0; }
  std::int64_t count() const { return is_float ? std::int64_t(floats.size()) : std::int64_t(ints.size()); }
};

Status unsupported(const onnx::NodeProto& n, const std::string& why) {
  const std::string name = !n.name().empty() ? n.name() : n.output_size() > 0 ? n.output(0) : std::string("?");
  return invalid_argument("oneDNN executor: node '" + name + "' (" + n.op_type() + "): " + why);
}

template <typename T>
bool read_raw(std::span<const std::uint8_t> raw, std::int64_t count, std::vector<T>& out) {
  if (std::int64_t(raw.size()) != count * std::int64_t(sizeof(T))) return false;
  if (reinterpret_cast<std::uintptr_t>(raw.data()) % alignof(T) == 0) {
    const T* p = reinterpret_cast<const T*>(raw.data());  // no zero-filling of large weights first
    out.assign(p, p + count);
  } else {
    out.resize(std::size_t(count));
    std::memcpy(out.data(), raw.data(), raw.size());
  }
  return true;
}

std::span<const std::uint8_t> own_raw_data(const onnx::TensorProto& t) {
  return {reinterpret_cast<const std::uint8_t*>(t.raw_data().data()), t.raw_data().size()};
}

// `raw`: the tensor's raw_data (its own field, or kept outside it by an OnnxView).
// The tensor's dims and element count, checked.
Result<std::int64_t> tensor_dims(const onnx::TensorProto& t, std::vector<std::int64_t>& dims) {
  std::int64_t count = 1;
  for (auto d : t.dims()) {
    if (d < 0 || d > (std::int64_t(1) << 31)) return invalid_argument("tensor '" + t.name() + "' has a bad dimension");
    dims.push_back(d);
    count *= d;
    if (count > (std::int64_t(1) << 31)) return invalid_argument("tensor '" + t.name() + "' is too large");
  }
  return count;
}

Result<Value> constant_from_tensor(const onnx::TensorProto& t, std::span<const std::uint8_t> raw) {
  Value v;
  ATELIER_ASSIGN_OR_RETURN(const std::int64_t count, tensor_dims(t, v.dims));
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT: {
      v.is_float = true;
      if (!raw.empty()) {
        if (!read_raw(raw, count, v.floats)) return invalid_argument("tensor '" + t.name() + "': raw data size mismatch");
      } else if (t.float_data_size() == count) {
        v.floats.assign(t.float_data().begin(), t.float_data().end());
      } else {
        return invalid_argument("tensor '" + t.name() + "': data size mismatch");
      }
      return v;
    }
    case onnx::TensorProto::INT64: {
      if (!raw.empty()) {
        if (!read_raw(raw, count, v.ints)) return invalid_argument("tensor '" + t.name() + "': raw data size mismatch");
      } else if (t.int64_data_size() == count) {
        v.ints.assign(t.int64_data().begin(), t.int64_data().end());
      } else {
        return invalid_argument("tensor '" + t.name() + "': data size mismatch");
      }
      return v;
    }
    case onnx::TensorProto::INT32: {
      std::vector<std::int32_t> i32;
      if (!raw.empty()) {
        if (!read_raw(raw, count, i32)) return invalid_argument("tensor '" + t.name() + "': raw data size mismatch");
      } else if (t.int32_data_size() == count) {
        i32.assign(t.int32_data().begin(), t.int32_data().end());
      } else {
        return invalid_argument("tensor '" + t.name() + "': data size mismatch");
      }
      v.ints.assign(i32.begin(), i32.end());
      return v;
    }
    default:
      return invalid_argument("tensor '" + t.name() + "': element type " + std::to_string(t.data_type()) +
                              " is not supported by the oneDNN executor");
  }
}

const onnx::AttributeProto* attr(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute()) {
    if (a.name() == name) return &a;
  }
  return nullptr;
}
std::int64_t attr_int(const onnx::NodeProto& n, const std::string& name, std::int64_t def) {
  const auto* a = attr(n, name);
  return a ? a->i() : def;
}
float attr_float(const onnx::NodeProto& n, const std::string& name, float def) {
  const auto* a = attr(n, name);
  return a ? a->f() : def;
}
std::string attr_string(const onnx::NodeProto& n, const std::string& name, const std::string& def) {
  const auto* a = attr(n, name);
  return a ? a->s() : def;
}
std::vector<std::int64_t> attr_ints(const onnx::NodeProto& n, const std::string& name) {
  const auto* a = attr(n, name);
  if (!a) return {};
  return {a->ints().begin(), a->ints().end()};
}

class Importer {
 public:
  // `consume`: the model is the caller's to give up, so each initializer's bytes are freed
  // once converted (one copy of the weights at a time, not two).
  // `view`: where the initializers' raw_data is (null: in the model itself).
  Importer(const onnx::ModelProto& model, const std::string& input, Dims input_dims, const std::string& output,
           bool consume, const OnnxView* view = nullptr)
      : model_(model), input_name_(input), input_dims_(input_dims), output_name_(output), consume_(consume),
        view_(view) {}

  Result<Graph> run() {
    const auto& g = model_.graph();
    for (const auto& op : model_.opset_import()) {
      if (op.domain().empty() || op.domain() == "ai.onnx") opset_ = int(op.version());
    }
    for (const auto& t : g.initializer()) initializers_[t.name()] = &t;
    for (const auto& n : g.node()) {
      for (const auto& in : n.input()) ++uses_[in];
    }
    bool found_input = false;
    for (const auto& in : g.input()) {
      if (in.name() == input_name_) found_input = true;
    }
    if (!found_input) return invalid_argument("oneDNN executor: the graph has no input '" + input_name_ + "'");
    if (input_dims_.n < 1 || input_dims_.c < 1 || input_dims_.h < 1 || input_dims_.w < 1) {
      return invalid_argument("oneDNN executor: bad input size");
    }
    Value in;
    in.tensor = new_tensor(input_dims_);
    graph_.input = in.tensor;
    values_[input_name_] = in;

    ATELIER_TRY(mark_needed());
    for (const auto& n : g.node()) {
      if (!needed_.count(&n)) continue;
      ATELIER_TRY(import_node(n));
    }
    auto it = values_.find(output_name_);
    if (it == values_.end()) return invalid_argument("oneDNN executor: the graph has no output '" + output_name_ + "'");
    if (it->second.constant()) return invalid_argument("oneDNN executor: output '" + output_name_ + "' is a constant");
    graph_.output = it->second.tensor;
    fuse();
    return std::move(graph_);
  }

 private:
  int new_tensor(Dims d) {
    graph_.tensors.push_back(d);
    return int(graph_.tensors.size()) - 1;
  }

  // The nodes the output depends on (walking producers back from the output).
  Status mark_needed() {
    std::unordered_map<std::string, const onnx::NodeProto*> producer;
    for (const auto& n : model_.graph().node()) {
      for (const auto& o : n.output()) producer[o] = &n;
    }
    if (!producer.count(output_name_)) {
      return invalid_argument("oneDNN executor: the graph has no output '" + output_name_ + "'");
    }
    std::vector<std::string> todo{output_name_};
    while (!todo.empty()) {
      std::string name = std::move(todo.back());
      todo.pop_back();
      auto p = producer.find(name);
      if (p == producer.end() || !needed_.insert(p->second).second) continue;
      for (const auto& i : p->second->input()) {
        if (!i.empty()) todo.push_back(i);
      }
    }
    return {};
  }

  // The value named `name`: computed earlier, an initializer, or absent (empty name).
  Result<const Value*> get(const onnx::NodeProto& n, int index) {
    if (index >= n.input_size() || n.input(index).empty()) return static_cast<const Value*>(nullptr);
    const std::string& name = n.input(index);
    if (auto it = values_.find(name); it != values_.end()) return &it->second;
    if (auto it = initializers_.find(name); it != initializers_.end()) {
      const std::span<const std::uint8_t> raw = view_ ? view_->raw_data(*it->second) : own_raw_data(*it->second);
      ATELIER_ASSIGN_OR_RETURN(Value v, constant_from_tensor(*it->second, raw));
      if (consume_) onnx::TensorProto().Swap(const_cast<onnx::TensorProto*>(it->second));  // frees its data
      return &(values_[name] = std::move(v));
    }
    return unsupported(n, "input '" + name + "' is not produced by any node");
  }
  // A Conv's weights: read in place (a view into the file's bytes, no copy) when they are
  // float raw data of an OnnxView, aligned, and this node is their only reader; else get().
  Result<const Value*> conv_weights(const onnx::NodeProto& n) {
    if (!view_ || n.input_size() < 2 || uses_[n.input(1)] != 1 || values_.count(n.input(1))) return get(n, 1);
    auto it = initializers_.find(n.input(1));
    if (it == initializers_.end() || !view_->raw.count(it->second)) return get(n, 1);
    const onnx::TensorProto& t = *it->second;
    const std::span<const std::uint8_t> raw = view_->raw_data(t);
    if (t.data_type() != onnx::TensorProto::FLOAT || reinterpret_cast<std::uintptr_t>(raw.data()) % alignof(float) != 0) {
      return get(n, 1);
    }
    Value v;
    v.is_float = true;
    ATELIER_ASSIGN_OR_RETURN(const std::int64_t count, tensor_dims(t, v.dims));
    if (std::int64_t(raw.size()) != count * std::int64_t(sizeof(float))) {
      return invalid_argument("tensor '" + t.name() + "': raw data size mismatch");
    }
    v.view = {reinterpret_cast<const float*>(raw.data()), std::size_t(count)};
    return &(values_[n.input(1)] = std::move(v));
  }

  Result<const Value*> tensor_input(const onnx::NodeProto& n, int index) {
    ATELIER_ASSIGN_OR_RETURN(const Value* v, get(n, index));
    if (!v || v->constant()) return unsupported(n, "input " + std::to_string(index) + " must be a computed tensor");
    return v;
  }
  Result<std::vector<std::int64_t>> const_ints(const onnx::NodeProto& n, int index) {
    ATELIER_ASSIGN_OR_RETURN(const Value* v, get(n, index));
    if (!v) return std::vector<std::int64_t>{};
    if (!v->constant()) return unsupported(n, "input " + std::to_string(index) + " must be known at import");
    if (v->is_float) {
      std::vector<std::int64_t> out;
      for (float f : v->floats) out.push_back(std::int64_t(f));
      return out;
    }
    return v->ints;
  }
  Result<std::vector<float>> const_floats(const onnx::NodeProto& n, int index) {
    ATELIER_ASSIGN_OR_RETURN(const Value* v, get(n, index));
    if (!v) return std::vector<float>{};
    if (!v->constant()) return unsupported(n, "input " + std::to_string(index) + " must be known at import");
    if (!v->is_float) return std::vector<float>(v->ints.begin(), v->ints.end());
    return v->floats;
  }

  void set_output(const onnx::NodeProto& n, Value v) { values_[n.output(0)] = std::move(v); }

  int add_op(Op op, const onnx::NodeProto& n, Dims out) {
    op.name = !n.name().empty() ? n.name() : n.output(0);
    op.output = new_tensor(out);
    graph_.ops.push_back(std::move(op));
    Value v;
    v.tensor = graph_.ops.back().output;
    set_output(n, v);
    return v.tensor;
  }

  Status import_node(const onnx::NodeProto& n) {
    const std::string& t = n.op_type();
    if (!n.domain().empty() && n.domain() != "ai.onnx") return unsupported(n, "operator domain not supported");
    if (n.output_size() < 1) return unsupported(n, "no output");
    if (t == "Constant") return import_constant(n);
    if (t == "Shape") return import_shape(n);
    if (t == "Slice") return import_slice(n);
    if (t == "Gather") return import_gather(n);
    if (t == "Unsqueeze" || t == "Squeeze" || t == "Cast" || t == "Identity") {
      return import_passthrough(n);
    }
    if (t == "Conv") return import_conv(n);
    if (t == "BatchNormalization") return import_batch_norm(n);
    if (t == "Relu" || t == "Sigmoid" || t == "Clip") return import_activation(n);
    if (t == "Add" || t == "Mul" || t == "Sub" || t == "Div") return import_binary(n);
    if (t == "Concat") return import_concat(n);
    if (t == "MaxPool" || t == "AveragePool") return import_pool(n);
    if (t == "Resize" || t == "Upsample") return import_resize(n);
    return unsupported(n, "operator not supported");
  }

  Status import_constant(const onnx::NodeProto& n) {
    const auto* a = attr(n, "value");
    if (a && a->has_t()) {
      ATELIER_ASSIGN_OR_RETURN(Value v, constant_from_tensor(a->t(), own_raw_data(a->t())));
      set_output(n, std::move(v));
      return {};
    }
    if ((a = attr(n, "value_ints"))) {
      Value v;
      v.ints.assign(a->ints().begin(), a->ints().end());
      v.dims = {std::int64_t(v.ints.size())};
      set_output(n, std::move(v));
      return {};
    }
    if ((a = attr(n, "value_int"))) {
      Value v;
      v.ints = {a->i()};
      set_output(n, std::move(v));
      return {};
    }
    if ((a = attr(n, "value_float"))) {
      Value v;
      v.is_float = true;
      v.floats = {a->f()};
      set_output(n, std::move(v));
      return {};
    }
    return unsupported(n, "only tensor, int and float constants are supported");
  }

  Status import_shape(const onnx::NodeProto& n) {
    ATELIER_ASSIGN_OR_RETURN(const Value* in, get(n, 0));
    if (!in) return unsupported(n, "missing input");
    Value v;
    if (in->constant()) {
      v.ints = in->dims;
    } else {
      const Dims& d = graph_.tensors[std::size_t(in->tensor)];
      v.ints = {d.n, d.c, d.h, d.w};
    }
    const std::int64_t rank = std::int64_t(v.ints.size());
    std::int64_t start = attr_int(n, "start", 0), end = attr_int(n, "end", rank);
    if (start < 0) start += rank;
    if (end < 0) end += rank;
    start = std::clamp<std::int64_t>(start, 0, rank);
    end = std::clamp<std::int64_t>(end, start, rank);
    v.ints = std::vector<std::int64_t>(v.ints.begin() + start, v.ints.begin() + end);
    v.dims = {std::int64_t(v.ints.size())};
    set_output(n, std::move(v));
    return {};
  }

  Status import_slice(const onnx::NodeProto& n) {
    ATELIER_ASSIGN_OR_RETURN(const Value* in, get(n, 0));
    if (!in || !in->constant() || in->is_float || in->dims.size() > 1) {
      return unsupported(n, "only slices of 1-D integer tensors known at import are supported");
    }
    std::vector<std::int64_t> starts, ends, axes, steps;
    if (opset_ < 10) {
      starts = attr_ints(n, "starts");
      ends = attr_ints(n, "ends");
      axes = attr_ints(n, "axes");
    } else {
      ATELIER_ASSIGN_OR_RETURN(starts, const_ints(n, 1));
      ATELIER_ASSIGN_OR_RETURN(ends, const_ints(n, 2));
      ATELIER_ASSIGN_OR_RETURN(axes, const_ints(n, 3));
      ATELIER_ASSIGN_OR_RETURN(steps, const_ints(n, 4));
    }
    if (starts.size() != 1 || ends.size() != 1 || (!axes.empty() && (axes.size() != 1 || (axes[0] != 0 && axes[0] != -1))) ||
        (!steps.empty() && (steps.size() != 1 || steps[0] != 1))) {
      return unsupported(n, "only unit-step slices along axis 0 are supported");
    }
    const std::int64_t size = std::int64_t(in->ints.size());
    auto fix = [&](std::int64_t i) { return std::clamp<std::int64_t>(i < 0 ? i + size : i, 0, size); };
    const std::int64_t b = fix(starts[0]), e = std::max(b, fix(ends[0]));
    Value v;
    v.ints.assign(in->ints.begin() + b, in->ints.begin() + e);
    v.dims = {std::int64_t(v.ints.size())};
    set_output(n, std::move(v));
    return {};
  }

  Status import_gather(const onnx::NodeProto& n) {
    ATELIER_ASSIGN_OR_RETURN(const Value* in, get(n, 0));
    if (!in || !in->constant() || in->is_float || in->dims.size() > 1 || attr_int(n, "axis", 0) != 0) {
      return unsupported(n, "only gathers from 1-D integer tensors known at import are supported");
    }
    ATELIER_ASSIGN_OR_RETURN(const Value* idx, get(n, 1));
    if (!idx || !idx->constant() || idx->is_float) return unsupported(n, "indices must be integers known at import");
    Value v;
    const std::int64_t size = std::int64_t(in->ints.size());
    for (std::int64_t i : idx->ints) {
      if (i < -size || i >= size) return unsupported(n, "index out of range");
      v.ints.push_back(in->ints[std::size_t(i < 0 ? i + size : i)]);
    }
    v.dims = idx->dims;
    set_output(n, std::move(v));
    return {};
  }

  Status import_passthrough(const onnx::NodeProto& n) {
    ATELIER_ASSIGN_OR_RETURN(const Value* in, get(n, 0));
    if (!in) return unsupported(n, "missing input");
    Value v = *in;
    if (v.constant()) {
      if (n.op_type() == "Cast") {
        const std::int64_t to = attr_int(n, "to", 0);
        if (to == onnx::TensorProto::FLOAT && !v.is_float) {
          v.floats.assign(v.ints.begin(), v.ints.end());
          v.ints.clear();
          v.is_float = true;
        } else if ((to == onnx::TensorProto::INT64 || to == onnx::TensorProto::INT32) && v.is_float) {
          for (float f : v.floats) v.ints.push_back(std::int64_t(f));
          v.floats.clear();
          v.is_float = false;
        }
      }
      if (n.op_type() == "Unsqueeze" || n.op_type() == "Squeeze") v.dims = {v.count()};
    } else if (n.op_type() != "Identity" && n.op_type() != "Cast") {
      return unsupported(n, "only supported on tensors known at import");
    }
    set_output(n, std::move(v));
    return {};
  }

  Status import_conv(const onnx::NodeProto& n) {
    ATELIER_ASSIGN_OR_RETURN(const Value* x, tensor_input(n, 0));
    ATELIER_ASSIGN_OR_RETURN(const Value* w, conv_weights(n));
    if (!w || !w->constant() || !w->is_float || w->dims.size() != 4) {
      return unsupported(n, "weights must be a 4-D float initializer (2-D convolutions only)");
    }
    ATELIER_ASSIGN_OR_RETURN(const Value* b, get(n, 2));
    const Dims in = graph_.tensors[std::size_t(x->tensor)];
    Op op;
    op.kind = OpKind::kConv;
    op.inputs = {x->tensor};
    op.group = int(attr_int(n, "group", 1));
    const int out_c = int(w->dims[0]);
    if (op.group < 1 || in.c % op.group != 0 || out_c % op.group != 0 || w->dims[1] != in.c / op.group) {
      return unsupported(n, "weights do not match the input's channels and the group count");
    }
    op.kh = int(w->dims[2]);
    op.kw = int(w->dims[3]);
    auto strides = attr_ints(n, "strides"), dil = attr_ints(n, "dilations"), pads = attr_ints(n, "pads"),
         ks = attr_ints(n, "kernel_shape");
    if ((!ks.empty() && (ks.size() != 2 || ks[0] != op.kh || ks[1] != op.kw)) ||
        (!strides.empty() && strides.size() != 2) || (!dil.empty() && dil.size() != 2) ||
        (!pads.empty() && pads.size() != 4)) {
      return unsupported(n, "only 2-D convolutions are supported");
    }
    if (!strides.empty()) op.stride = {int(strides[0]), int(strides[1])};
    if (!dil.empty()) op.dilation = {int(dil[0]), int(dil[1])};
    const std::string auto_pad = attr_string(n, "auto_pad", "NOTSET");
    if (auto_pad == "NOTSET") {
      if (!pads.empty()) op.pad = {int(pads[0]), int(pads[1]), int(pads[2]), int(pads[3])};
    } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      for (int axis = 0; axis < 2; ++axis) {
        const int size = axis == 0 ? in.h : in.w, k = axis == 0 ? op.kh : op.kw;
        const int out = (size + op.stride[axis] - 1) / op.stride[axis];
        const int total = std::max(0, (out - 1) * op.stride[axis] + (k - 1) * op.dilation[axis] + 1 - size);
        const int small = total / 2, big = total - small;
        op.pad[axis] = auto_pad == "SAME_UPPER" ? small : big;
        op.pad[axis + 2] = auto_pad == "SAME_UPPER" ? big : small;
      }
    } else if (auto_pad != "VALID") {
      return unsupported(n, "auto_pad " + auto_pad + " is not supported");
    }
    for (int s : op.stride) {
      if (s < 1) return unsupported(n, "bad stride");
    }
    for (int d : op.dilation) {
      if (d < 1) return unsupported(n, "bad dilation");
    }
    for (int p : op.pad) {
      if (p < 0) return unsupported(n, "negative padding");
    }
    Dims out{in.n, out_c, 0, 0};
    out.h = (in.h + op.pad[0] + op.pad[2] - ((op.kh - 1) * op.dilation[0] + 1)) / op.stride[0] + 1;
    out.w = (in.w + op.pad[1] + op.pad[3] - ((op.kw - 1) * op.dilation[1] + 1)) / op.stride[1] + 1;
    if (out.h < 1 || out.w < 1) return unsupported(n, "the kernel is larger than the padded input");
    // Weights read by this node alone move into the op (no second copy).
    if (!w->view.empty()) op.weight_view = w->view;
    else if (uses_[n.input(1)] == 1) op.weights = std::move(const_cast<Value*>(w)->floats);
    else op.weights = w->floats;
    if (b) {
      if (!b->constant() || !b->is_float || b->count() != out_c) return unsupported(n, "bias must be a float initializer");
      op.bias = b->floats;
    } else {
      op.bias.assign(std::size_t(out_c), 0.f);
    }
    graph_.conv_macs += out.count() * (in.c / op.group) * op.kh * op.kw;
    add_op(std::move(op), n, out);
    return {};
  }

  // BatchNormalization right after a Conv whose output nothing else reads: folded into
  // its weights and bias (inference mode).
  Status import_batch_norm(const onnx::NodeProto& n) {
    ATELIER_ASSIGN_OR_RETURN(const Value* x, tensor_input(n, 0));
    Op* conv = producer(x->tensor);
    if (!conv || conv->kind != OpKind::kConv || !conv->post.empty() || readers(n.input(0)) != 1) {
      return unsupported(n, "only a BatchNormalization right after a Conv is supported");
    }
    ATELIER_ASSIGN_OR_RETURN(std::vector<float> scale, const_floats(n, 1));
    ATELIER_ASSIGN_OR_RETURN(std::vector<float> shift, const_floats(n, 2));
    ATELIER_ASSIGN_OR_RETURN(std::vector<float> mean, const_floats(n, 3));
    ATELIER_ASSIGN_OR_RETURN(std::vector<float> var, const_floats(n, 4));
    const std::size_t c = conv->bias.size();
    if (scale.size() != c || shift.size() != c || mean.size() != c || var.size() != c) {
      return unsupported(n, "parameters do not match the channels");
    }
    const float eps = attr_float(n, "epsilon", 1e-5f);
    if (!conv->weight_view.empty()) {  // changed here, so copied out of the file's bytes
      conv->weights.assign(conv->weight_view.begin(), conv->weight_view.end());
      conv->weight_view = {};
    }
    const std::size_t per_out = conv->weights.size() / c;
    for (std::size_t o = 0; o < c; ++o) {
      const float k = scale[o] / std::sqrt(var[o] + eps);
      for (std::size_t i = 0; i < per_out; ++i) conv->weights[o * per_out + i] *= k;
      conv->bias[o] = (conv->bias[o] - mean[o]) * k + shift[o];
    }
    Value v;
    v.tensor = x->tensor;
    set_output(n, v);
    return {};
  }

  Status import_activation(const onnx::NodeProto& n) {
    ATELIER_ASSIGN_OR_RETURN(const Value* x, tensor_input(n, 0));
    Op op;
    op.inputs = {x->tensor};
    if (n.op_type() == "Relu") {
      op.kind = OpKind::kRelu;
    } else if (n.op_type() == "Sigmoid") {
      op.kind = OpKind::kSigmoid;
    } else {
      op.kind = OpKind::kClip;
      op.lo = -INFINITY;
      op.hi = INFINITY;
      if (opset_ < 11) {
        op.lo = attr_float(n, "min", -INFINITY);
        op.hi = attr_float(n, "max", INFINITY);
      } else {
        ATELIER_ASSIGN_OR_RETURN(std::vector<float> lo, const_floats(n, 1));
        ATELIER_ASSIGN_OR_RETURN(std::vector<float> hi, const_floats(n, 2));
        if (lo.size() > 1 || hi.size() > 1) return unsupported(n, "min and max must be scalars");
        if (!lo.empty()) op.lo = lo[0];
        if (!hi.empty()) op.hi = hi[0];
      }
    }
    add_op(std::move(op), n, graph_.tensors[std::size_t(x->tensor)]);
    return {};
  }

  Status import_binary(const onnx::NodeProto& n) {
    ATELIER_ASSIGN_OR_RETURN(const Value* a, get(n, 0));
    ATELIER_ASSIGN_OR_RETURN(const Value* b, get(n, 1));
    if (!a || !b) return unsupported(n, "missing input");
    if (a->constant() && b->constant()) {  // shape arithmetic
      if (a->is_float || b->is_float) return unsupported(n, "float arithmetic on constants is not supported");
      if (a->ints.size() != b->ints.size() && a->ints.size() != 1 && b->ints.size() != 1) {
        return unsupported(n, "constant shapes do not broadcast");
      }
      Value v;
      const std::size_t size = std::max(a->ints.size(), b->ints.size());
      for (std::size_t i = 0; i < size; ++i) {
        const std::int64_t p = a->ints[a->ints.size() == 1 ? 0 : i], q = b->ints[b->ints.size() == 1 ? 0 : i];
        const std::string& t = n.op_type();
        if (t == "Div" && q == 0) return unsupported(n, "division by zero");
        v.ints.push_back(t == "Add" ? p + q : t == "Sub" ? p - q : t == "Mul" ? p * q : p / q);
      }
      v.dims = {std::int64_t(size)};
      set_output(n, std::move(v));
      return {};
    }
    if (n.op_type() != "Add" && n.op_type() != "Mul") return unsupported(n, "only Add and Mul of tensors are supported");
    if (a->constant() || b->constant() ||
        !(graph_.tensors[std::size_t(a->tensor)] == graph_.tensors[std::size_t(b->tensor)])) {
      return unsupported(n, "only tensors of the same shape are supported (no broadcasting)");
    }
    Op op;
    op.kind = n.op_type() == "Add" ? OpKind::kAdd : OpKind::kMul;
    op.inputs = {a->tensor, b->tensor};
    add_op(std::move(op), n, graph_.tensors[std::size_t(a->tensor)]);
    return {};
  }

  Status import_concat(const onnx::NodeProto& n) {
    std::vector<const Value*> in;
    for (int i = 0; i < n.input_size(); ++i) {
      ATELIER_ASSIGN_OR_RETURN(const Value* v, get(n, i));
      if (!v) return unsupported(n, "missing input");
      in.push_back(v);
    }
    const bool all_const = std::all_of(in.begin(), in.end(), [](const Value* v) { return v->constant(); });
    if (all_const) {
      Value v;
      for (const Value* p : in) {
        if (p->is_float) return unsupported(n, "float constants are not supported");
        v.ints.insert(v.ints.end(), p->ints.begin(), p->ints.end());
      }
      v.dims = {std::int64_t(v.ints.size())};
      set_output(n, std::move(v));
      return {};
    }
    std::int64_t axis = attr_int(n, "axis", 1);
    if (axis < 0) axis += 4;
    if (axis != 1) return unsupported(n, "only concatenation along channels (axis 1) is supported");
    Op op;
    op.kind = OpKind::kConcat;
    Dims out = graph_.tensors[std::size_t(in[0]->tensor)];
    out.c = 0;
    for (const Value* p : in) {
      if (p->constant()) return unsupported(n, "cannot concatenate a constant with a tensor");
      const Dims& d = graph_.tensors[std::size_t(p->tensor)];
      if (d.n != out.n || d.h != out.h || d.w != out.w) return unsupported(n, "inputs differ in size");
      out.c += d.c;
      op.inputs.push_back(p->tensor);
    }
    add_op(std::move(op), n, out);
    return {};
  }

  Status import_pool(const onnx::NodeProto& n) {
    ATELIER_ASSIGN_OR_RETURN(const Value* x, tensor_input(n, 0));
    const Dims in = graph_.tensors[std::size_t(x->tensor)];
    Op op;
    op.kind = n.op_type() == "MaxPool" ? OpKind::kMaxPool : OpKind::kAvgPool;
    op.inputs = {x->tensor};
    auto ks = attr_ints(n, "kernel_shape"), strides = attr_ints(n, "strides"), pads = attr_ints(n, "pads"),
         dil = attr_ints(n, "dilations");
    if (ks.size() != 2 || (!strides.empty() && strides.size() != 2) || (!pads.empty() && pads.size() != 4)) {
      return unsupported(n, "only 2-D pooling is supported");
    }
    for (auto d : dil) {
      if (d != 1) return unsupported(n, "dilated pooling is not supported");
    }
    if (n.output_size() > 1 && !n.output(1).empty()) return unsupported(n, "the Indices output is not supported");
    const std::string auto_pad = attr_string(n, "auto_pad", "NOTSET");
    if (auto_pad != "NOTSET" && auto_pad != "VALID") return unsupported(n, "auto_pad " + auto_pad + " is not supported");
    op.kh = int(ks[0]);
    op.kw = int(ks[1]);
    if (!strides.empty()) op.stride = {int(strides[0]), int(strides[1])};
    if (!pads.empty()) op.pad = {int(pads[0]), int(pads[1]), int(pads[2]), int(pads[3])};
    op.count_include_pad = attr_int(n, "count_include_pad", 0) != 0;
    const bool ceil_mode = attr_int(n, "ceil_mode", 0) != 0;
    if (op.kh < 1 || op.kw < 1 || op.stride[0] < 1 || op.stride[1] < 1) return unsupported(n, "bad kernel or stride");
    Dims out = in;
    for (int axis = 0; axis < 2; ++axis) {
      const int size = axis == 0 ? in.h : in.w, k = axis == 0 ? op.kh : op.kw, s = op.stride[axis];
      const int span = size + op.pad[axis] + op.pad[axis + 2] - k;
      if (span < 0) return unsupported(n, "the kernel is larger than the padded input");
      int o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
      // ceil_mode: the last window must start inside the input or its left padding.
      if (ceil_mode && (o - 1) * s >= size + op.pad[axis]) --o;
      // The extra right padding that makes oneDNN's arithmetic give `o` outputs.
      op.pad[axis + 2] = std::max(op.pad[axis + 2], (o - 1) * s + k - size - op.pad[axis]);
      (axis == 0 ? out.h : out.w) = o;
    }
    add_op(std::move(op), n, out);
    return {};
  }

  Status import_resize(const onnx::NodeProto& n) {
    ATELIER_ASSIGN_OR_RETURN(const Value* x, tensor_input(n, 0));
    const Dims in = graph_.tensors[std::size_t(x->tensor)];
    Op op;
    op.kind = OpKind::kResize;
    op.inputs = {x->tensor};
    const std::string mode = attr_string(n, "mode", "nearest");
    if (mode == "linear" || mode == "bilinear") op.linear = true;
    else if (mode == "nearest") op.linear = false;
    else return unsupported(n, "mode " + mode + " is not supported");
    std::vector<float> scales;
    std::vector<std::int64_t> sizes;
    std::string transform = "asymmetric";
    if (n.op_type() == "Upsample" || opset_ < 11) {
      if (opset_ < 9) {
        const auto* a = attr(n, "scales");
        if (a) scales.assign(a->floats().begin(), a->floats().end());
      } else {
        ATELIER_ASSIGN_OR_RETURN(scales, const_floats(n, 1));
      }
      // Upsample and Resize-10 are asymmetric; linear means align_corners=False in
      // PyTorch's export only when the transform is half_pixel, which they cannot say.
    } else {
      transform = attr_string(n, "coordinate_transformation_mode", "half_pixel");
      ATELIER_ASSIGN_OR_RETURN(scales, const_floats(n, 2));
      ATELIER_ASSIGN_OR_RETURN(sizes, const_ints(n, 3));
    }
    Dims out = in;
    if (sizes.size() == 4) {
      if (sizes[0] != in.n || sizes[1] != in.c) return unsupported(n, "only spatial resizing is supported");
      out.h = int(sizes[2]);
      out.w = int(sizes[3]);
    } else if (scales.size() == 4) {
      if (scales[0] != 1.f || scales[1] != 1.f) return unsupported(n, "only spatial resizing is supported");
      out.h = int(std::floor(in.h * scales[2]));
      out.w = int(std::floor(in.w * scales[3]));
    } else {
      return unsupported(n, "needs 4 scales or 4 sizes known at import");
    }
    if (out.h < 1 || out.w < 1 || out.h > 65536 || out.w > 65536) return unsupported(n, "bad output size");
    // oneDNN samples at half-pixel centres. That is ONNX's half_pixel (and pytorch_half_pixel
    // for outputs longer than 1); nearest neighbours agree with asymmetric for whole-number
    // upscales (floor(x/k) = floor((x + 0.5)/k - 0.5 + 0.5)).
    const bool whole_upscale = out.h % in.h == 0 && out.w % in.w == 0;
    const bool half_pixel = transform == "half_pixel" || (transform == "pytorch_half_pixel" && out.h > 1 && out.w > 1);
    if (op.linear ? !half_pixel : !(half_pixel || (transform == "asymmetric" && whole_upscale))) {
      return unsupported(n, "coordinate_transformation_mode " + transform + " is not supported for mode " + mode);
    }
    if (!op.linear) {
      const std::string nearest = attr_string(n, "nearest_mode", "round_prefer_floor");
      if (!(transform == "asymmetric" && nearest == "floor") && !(half_pixel && whole_upscale)) {
        return unsupported(n, "nearest_mode " + nearest + " is not supported with " + transform);
      }
    }
    add_op(std::move(op), n, out);
    return {};
  }

  Op* producer(int tensor) {
    for (auto it = graph_.ops.rbegin(); it != graph_.ops.rend(); ++it) {
      if (it->output == tensor) return &*it;
    }
    return nullptr;
  }

  // How many needed nodes read the value `name`, plus one if it is the graph's output.
  int readers(const std::string& name) {
    int count = name == output_name_ ? 1 : 0;
    for (const auto* node : needed_) {
      for (const auto& i : node->input()) count += i == name;
    }
    return count;
  }

  // Activations and residual adds into the Conv that produces their input, when nothing
  // else reads the Conv's result: conv → relu, conv → add(·, other) → relu, ...
  void fuse() {
    std::vector<int> uses(graph_.tensors.size(), 0);
    for (const Op& op : graph_.ops) {
      for (int t : op.inputs) ++uses[std::size_t(t)];
    }
    ++uses[std::size_t(graph_.output)];
    std::vector<int> producer_of(graph_.tensors.size(), -1);
    std::vector<bool> dropped(graph_.ops.size(), false);
    std::vector<int> rename(graph_.tensors.size());
    for (std::size_t t = 0; t < rename.size(); ++t) rename[t] = int(t);
    for (std::size_t i = 0; i < graph_.ops.size(); ++i) {
      Op& op = graph_.ops[i];
      for (int& t : op.inputs) t = rename[std::size_t(t)];
      for (PostOp& p : op.post) p.value = p.value >= 0 ? rename[std::size_t(p.value)] : -1;
      auto fusable = [&](int t) {
        const int p = producer_of[std::size_t(t)];
        return p >= 0 && graph_.ops[std::size_t(p)].kind == OpKind::kConv && uses[std::size_t(t)] == 1 ? p : -1;
      };
      int into = -1;
      PostOp post;
      if (op.kind == OpKind::kRelu || op.kind == OpKind::kSigmoid || op.kind == OpKind::kClip) {
        into = fusable(op.inputs[0]);
        post.kind = op.kind == OpKind::kRelu ? PostOp::Kind::kRelu
                    : op.kind == OpKind::kSigmoid ? PostOp::Kind::kSigmoid
                                                  : PostOp::Kind::kClip;
        post.lo = op.lo;
        post.hi = op.hi;
      } else if (op.kind == OpKind::kAdd) {
        // The other operand must already exist when the Conv runs (it is computed earlier).
        for (int side = 0; side < 2 && into < 0; ++side) {
          const int c = fusable(op.inputs[std::size_t(side)]);
          const int other = op.inputs[std::size_t(1 - side)];
          const int other_producer = producer_of[std::size_t(other)];
          if (c >= 0 && other_producer < c && other != graph_.ops[std::size_t(c)].output) {
            into = c;
            post.kind = PostOp::Kind::kAdd;
            post.value = other;
          }
        }
      }
      if (into >= 0) {
        Op& conv = graph_.ops[std::size_t(into)];
        conv.post.push_back(post);
        rename[std::size_t(op.output)] = conv.output;
        uses[std::size_t(conv.output)] = uses[std::size_t(op.output)];
        dropped[i] = true;
        continue;
      }
      producer_of[std::size_t(op.output)] = int(i);
    }
    graph_.output = rename[std::size_t(graph_.output)];
    std::vector<Op> kept;
    for (std::size_t i = 0; i < graph_.ops.size(); ++i) {
      if (!dropped[i]) kept.push_back(std::move(graph_.ops[i]));
    }
    graph_.ops = std::move(kept);
  }

  const onnx::ModelProto& model_;
  std::string input_name_;
  Dims input_dims_;
  std::string output_name_;
  int opset_ = 13;
  bool consume_ = false;
  const OnnxView* view_ = nullptr;
  std::unordered_map<std::string, int> uses_;  // how many node inputs name each value
  Graph graph_;
  std::unordered_map<std::string, const onnx::TensorProto*> initializers_;
  std::unordered_map<std::string, Value> values_;
  std::set<const onnx::NodeProto*> needed_;
};

}  // namespace

Result<Graph> build_graph(const onnx::ModelProto& model, const std::string& input, Dims input_dims,
                          const std::string& output) {
  return Importer(model, input, input_dims, output, /*consume=*/false).run();
}

Result<Graph> build_graph(onnx::ModelProto&& model, const std::string& input, Dims input_dims,
                          const std::string& output) {
  return Importer(model, input, input_dims, output, /*consume=*/true).run();
}

Result<Graph> build_graph(OnnxView&& view, const std::string& input, Dims input_dims, const std::string& output) {
  auto storage = std::make_shared<OnnxView>(std::move(view));
  Result<Graph> graph = Importer(storage->model, input, input_dims, output, /*consume=*/true, storage.get()).run();
  if (graph.ok()) {
    graph->storage_bytes = {storage->bytes.data(), storage->bytes.size()};
    graph->storage = std::move(storage);
  }
  return graph;
}

}  // namespace atelier::ml::onednn
