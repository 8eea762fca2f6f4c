#include "ml/onednn/executor.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <unordered_map>

#include <oneapi/dnnl/dnnl.hpp>

#include "core/aligned_memory.h"

namespace atelier::ml::onednn {

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::kF32: return "fp32";
    case Precision::kBf16: return "bf16";
    case Precision::kInt8: return "int8";
  }
  return "?";
}

namespace {

// An op's fp32 weights are no longer needed: its own copy freed, its view forgotten (the
// pages behind views go back in bulk: release_consumed_storage).
void drop_weights(Op& op) {
  std::vector<float>().swap(op.weights);
  op.weight_view = {};
}

// Returns to the system the pages of the model file's bytes (Graph::storage_bytes) that no
// op's weight view still needs — everything once all are reordered — when no other copy of
// the graph shares them. In bulk, a few calls per compile: one madvise per conv split the
// buffer's 2 MiB pages and cost ~0.1 s on ISNet.
void release_consumed_storage(const Graph& graph) {
  if (graph.storage_bytes.empty() || graph.storage.use_count() != 1) return;
  std::vector<std::span<const float>> needed;
  for (const Op& op : graph.ops) {
    if (!op.weight_view.empty()) needed.push_back(op.weight_view);
  }
  std::sort(needed.begin(), needed.end(), [](const auto& a, const auto& b) { return a.data() < b.data(); });
  const std::uint8_t* from = graph.storage_bytes.data();
  for (const auto& v : needed) {
    const auto* begin = reinterpret_cast<const std::uint8_t*>(v.data());
    if (begin > from) release_pages(from, std::size_t(begin - from));
    from = std::max(from, begin + v.size_bytes());
  }
  const std::uint8_t* end = graph.storage_bytes.data() + graph.storage_bytes.size();
  if (end > from) release_pages(from, std::size_t(end - from));
}

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

const char* kind_name(OpKind k) {
  switch (k) {
    case OpKind::kConv: return "conv";
    case OpKind::kMaxPool: return "maxpool";
    case OpKind::kAvgPool: return "avgpool";
    case OpKind::kResize: return "resize";
    case OpKind::kConcat: return "concat";
    case OpKind::kAdd: return "add";
    case OpKind::kMul: return "mul";
    case OpKind::kRelu: return "relu";
    case OpKind::kSigmoid: return "sigmoid";
    case OpKind::kClip: return "clip";
  }
  return "?";
}

memory::dims nchw(const Dims& d) { return {d.n, d.c, d.h, d.w}; }

// A tensor in one layout: where it lives (an arena offset, or caller memory when
// external) and the steps between which it is alive.
struct Slot {
  memory::desc md;
  std::size_t offset = 0;
  int first = -1, last = -1;  // step indices (first: written, last: read)
  bool external = false;
  float scale = 0;  // int8 values x·scale; 0 for float values
  memory mem;
};

struct Step {
  dnnl::primitive prim;
  std::string name, kind;
  std::string detail;      // conv: shape and oneDNN implementation, for profiles
  std::int64_t macs = 0;   // conv: multiply-accumulates
  std::vector<std::pair<int, int>> slot_args;   // (DNNL_ARG_*, slot)
  std::unordered_map<int, memory> fixed_args;   // weights, bias, scratchpad
  memory::desc scratchpad;
};

// How a tensor is quantized for int8 convolutions: x_q = round(x · scale), u8 for a
// non-negative range, else s8.
struct Quant {
  float scale = 0;  // 0: not quantized
  dt type = dt::u8;
};

Quant quant_of(const Range& r) {
  Quant q;
  if (!(r.lo <= r.hi) || !std::isfinite(r.lo) || !std::isfinite(r.hi)) return q;
  q.type = r.lo >= 0 ? dt::u8 : dt::s8;
  const float m = std::max(std::fabs(r.lo), std::fabs(r.hi));
  q.scale = m > 0 ? (q.type == dt::u8 ? 255.f : 127.f) / m : 1.f;
  return q;
}


}  // namespace

struct Executor::Impl {
  Graph graph;
  int convs_added = 0;
  ExecutorOptions options;
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::vector<Slot> slots;
  std::vector<Step> steps;
  std::vector<int> slot_of;  // tensor id -> slot of its producer's layout
  std::vector<int> last_reader;  // tensor id -> index of the last op reading it (ops.size() for the output)
  int op_index = 0;
  std::map<std::pair<int, std::string>, int> converted;  // (slot, layout key) -> slot
  int input_slot = -1, output_slot = -1;
  // In 2 MiB pages where the kernel allows: fewer page faults while loading and on the
  // first run.
  AlignedMemory arena, scratch;
  std::vector<AlignedMemory> weight_memory;
  std::size_t arena_size = 0, scratch_size = 0, weights_size = 0;
  std::string conv_impl;
  // kInt8: per tensor id, its quantization (scale 0: kept in the float type). Tensors
  // that pooling, resizing, concatenation or a residual add only move or mix share one
  // scale (a group), so those operations run on the 8-bit values as they are.
  std::vector<Quant> quant;
  int int8_convs = 0;

  // The type activations are stored and non-convolution operations run in.
  dt compute() const {
    if (options.precision == Precision::kBf16) return dt::bf16;
    if (options.precision == Precision::kInt8 && has_native_bf16()) return dt::bf16;
    return dt::f32;
  }

  bool runs_int8(const Op& op) const {
    return op.kind == OpKind::kConv && options.precision == Precision::kInt8 &&
           options.input_ranges.count(op.name) && quant[std::size_t(op.inputs[0])].scale > 0;
  }

  // Groups tensors that share a scale and gives each group the union of the calibrated
  // ranges of its members that convolutions read.
  void plan_quantization() {
    quant.assign(graph.tensors.size(), Quant{});
    if (options.precision != Precision::kInt8) return;
    std::vector<int> parent(graph.tensors.size());
    for (std::size_t i = 0; i < parent.size(); ++i) parent[i] = int(i);
    auto find = [&](int t) {
      while (parent[std::size_t(t)] != t) t = parent[std::size_t(t)] = parent[std::size_t(parent[std::size_t(t)])];
      return t;
    };
    auto unite = [&](int a, int b) { parent[std::size_t(find(a))] = find(b); };
    for (const Op& op : graph.ops) {
      switch (op.kind) {
        case OpKind::kMaxPool:
        case OpKind::kAvgPool:
        case OpKind::kResize:
        case OpKind::kConcat:
          for (int t : op.inputs) unite(t, op.output);
          break;
        case OpKind::kConv:
          for (const PostOp& p : op.post) {
            if (p.kind == PostOp::Kind::kAdd) unite(p.value, op.output);
          }
          break;
        default: break;
      }
    }
    std::vector<Range> group(graph.tensors.size());
    std::vector<char> has(graph.tensors.size(), 0);
    for (const Op& op : graph.ops) {
      if (op.kind != OpKind::kConv) continue;
      auto it = options.input_ranges.find(op.name);
      if (it == options.input_ranges.end()) continue;
      const auto g = std::size_t(find(op.inputs[0]));
      group[g] = has[g] ? Range{std::min(group[g].lo, it->second.lo), std::max(group[g].hi, it->second.hi)} : it->second;
      has[g] = 1;
    }
    for (std::size_t t = 0; t < quant.size(); ++t) {
      const auto g = std::size_t(find(int(t)));
      if (has[g]) quant[t] = quant_of(group[g]);
    }
  }

  int add_slot(const memory::desc& md, float scale = 0) {
    Slot s;
    s.md = md;
    s.scale = scale;
    slots.push_back(s);
    return int(slots.size()) - 1;
  }

  static std::string key(const memory::desc& md) {
    const auto& d = md.data;
    return std::string(reinterpret_cast<const char*>(&d), sizeof(d));
  }

  // Adds a step, recording which slots it reads and writes (for lifetimes).
  void add_step(Step step) {
    const int index = int(steps.size());
    for (const auto& [arg, slot] : step.slot_args) {
      Slot& s = slots[std::size_t(slot)];
      if (arg == DNNL_ARG_DST) {
        if (s.first < 0) s.first = index;
      }
      s.last = std::max(s.last, index);
    }
    steps.push_back(std::move(step));
  }

  // `slot` in layout `want`, with int8 scale `scale` (0: float), through a reorder step
  // that converts layout, type and scale when the slot is in another.
  int as(int slot, const memory::desc& want, const std::string& why, float scale = 0) {
    const Slot& from = slots[std::size_t(slot)];
    if (from.md == want && from.scale == scale) return slot;
    auto k = std::make_pair(slot, key(want));
    if (auto it = converted.find(k); it != converted.end()) return it->second;
    const int to = add_slot(want, scale);
    add_reorder(slot, to, why);
    converted[k] = to;
    return to;
  }

  // A reorder step from slot `from` to slot `to`: layout, type and int8 scale.
  void add_reorder(int from, int to, const std::string& why) {
    const Slot &a = slots[std::size_t(from)], &b = slots[std::size_t(to)];
    const float factor = (b.scale > 0 ? b.scale : 1.f) / (a.scale > 0 ? a.scale : 1.f);
    dnnl::primitive_attr attr;
    if (factor != 1.f) attr.set_output_scales(0, {factor});
    Step st;
    st.prim = dnnl::reorder(dnnl::reorder::primitive_desc(engine, a.md, engine, b.md, attr));
    st.name = why;
    st.kind = "reorder";
    st.slot_args = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    // DNNL_ARG_TO == DNNL_ARG_DST: add_step sees the write.
    add_step(std::move(st));
  }

  // The slot of tensor `t` in the compute data type (plain layout when converted).
  int in_compute_type(int t, const std::string& why) {
    const int s = slot_of[std::size_t(t)];
    if (slots[std::size_t(s)].md.data_type() == compute() && slots[std::size_t(s)].scale == 0) return s;
    return as(s, memory::desc(nchw(graph.tensors[std::size_t(t)]), compute(), tag::nchw), why);
  }

  // The slot of tensor `t` as data-moving operations (pooling, resizing, concat) read it:
  // in its group's int8 type when it has one, else in the compute type.
  int in_storage_type(int t, const std::string& why) {
    const Quant q = quant[std::size_t(t)];
    if (q.scale == 0) return in_compute_type(t, why);
    const int s = slot_of[std::size_t(t)];
    if (slots[std::size_t(s)].scale == q.scale) return s;
    return as(s, memory::desc(nchw(graph.tensors[std::size_t(t)]), q.type, tag::nchw), why, q.scale);
  }

  dnnl::primitive_attr scratch_attr() const {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    return attr;
  }

  template <typename PD>
  void finish(Step& st, const PD& pd) {
    st.scratchpad = pd.scratchpad_desc();
    scratch_size = std::max(scratch_size, st.scratchpad.get_size());
  }

  void add_conv(Op& op) {
    const Dims in = graph.tensors[std::size_t(op.inputs[0])], out = graph.tensors[std::size_t(op.output)];
    const int oc = out.c, ic = in.c / op.group;
    const memory::dims wdims = op.group == 1 ? memory::dims{oc, ic, op.kh, op.kw}
                                             : memory::dims{op.group, oc / op.group, ic, op.kh, op.kw};
    // int8: src and weights quantized (weights per output channel), the int32 result
    // scaled back by 1 / (s_in · s_w[o]), and on by s_out when it is stored quantized.
    const bool int8 = runs_int8(op);
    const Quant qin = quant[std::size_t(op.inputs[0])], qout = quant[std::size_t(op.output)];
    const bool q_dst = int8 && qout.scale > 0;
    std::vector<float> w_scale(std::size_t(oc), 1.f);
    std::vector<std::int8_t> w_q;
    if (int8) {
      // Without VNNI, int8 convolutions sum u8·s8 pairs in 16 bits, which saturate unless
      // weights keep to 7 bits: oneDNN halves them itself for s8 inputs (with its
      // compensation), not for u8 ones, so those get ±63 here.
      const float qmax = has_int8_vnni() || qin.type == dt::s8 ? 127.f : 63.f;
      const std::span<const float> weights = op.weight_data();
      const std::size_t per = weights.size() / std::size_t(oc);
      w_q.resize(weights.size());
      for (std::size_t o = 0; o < std::size_t(oc); ++o) {
        float m = 0;
        for (std::size_t i = 0; i < per; ++i) m = std::max(m, std::fabs(weights[o * per + i]));
        w_scale[o] = m > 0 ? qmax / m : 1.f;
        for (std::size_t i = 0; i < per; ++i) {
          w_q[o * per + i] = std::int8_t(std::lround(std::clamp(weights[o * per + i] * w_scale[o], -qmax, qmax)));
        }
      }
      ++int8_convs;
    }
    memory::desc src_any(nchw(in), int8 ? qin.type : compute(), tag::any),
        dst_any(nchw(out), q_dst ? qout.type : compute(), tag::any), w_any(wdims, int8 ? dt::s8 : compute(), tag::any),
        b_md({oc}, dt::f32, tag::x);
    // A residual add is oneDNN's sum post-op: the convolution adds its result to what the
    // destination holds, so the residual is placed there first (in place when nothing
    // reads it later, else copied). A binary post-op would read it from its own memory,
    // but makes oneDNN 2.6 fall back from brgconv to a slow gemm path (fp32) and gives
    // wrong results in bf16.
    dnnl::post_ops po;
    int residual = -1;
    std::size_t last_eltwise = op.post.size();
    for (std::size_t i = 0; i < op.post.size(); ++i) {
      if (op.post[i].kind != PostOp::Kind::kAdd) last_eltwise = i;
    }
    float out_scale = 1.f;  // applied before the post-ops, unless an activation takes it
    if (q_dst && last_eltwise == op.post.size()) out_scale = qout.scale;
    for (std::size_t i = 0; i < op.post.size(); ++i) {
      const PostOp& p = op.post[i];
      const float s = q_dst && i == last_eltwise ? qout.scale : 1.f;
      switch (p.kind) {
        case PostOp::Kind::kRelu: po.append_eltwise(s, dnnl::algorithm::eltwise_relu, 0.f, 0.f); break;
        case PostOp::Kind::kSigmoid: po.append_eltwise(s, dnnl::algorithm::eltwise_logistic, 0.f, 0.f); break;
        case PostOp::Kind::kClip: po.append_eltwise(s, dnnl::algorithm::eltwise_clip, p.lo, p.hi); break;
        case PostOp::Kind::kAdd:
          // The destination holds the residual in its own units: int8 ones are brought to
          // float when the sum comes before the activation that quantizes.
          po.append_sum(q_dst && last_eltwise < op.post.size() && i < last_eltwise ? 1.f / qout.scale : 1.f);
          residual = p.value;
          break;
      }
    }
    dnnl::primitive_attr attr = scratch_attr();
    attr.set_post_ops(po);
    if (int8) {
      std::vector<float> scales(w_scale.size());
      for (std::size_t o = 0; o < scales.size(); ++o) scales[o] = out_scale / (qin.scale * w_scale[o]);
      attr.set_output_scales(1 << 1, scales);
    }
    const memory::dims strides{op.stride[0], op.stride[1]}, dil{op.dilation[0] - 1, op.dilation[1] - 1},
        pad_l{op.pad[0], op.pad[1]}, pad_r{op.pad[2], op.pad[3]};
    dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src_any,
                                      w_any, b_md, dst_any, strides, dil, pad_l, pad_r);
    dnnl::convolution_forward::primitive_desc pd(d, attr, engine);
    // Where the CPU's JIT kernels do not take an activation followed by the sum (AVX2
    // without AVX-512: oneDNN 2.6 then picks its reference convolution, about 100x
    // slower), the convolution keeps the activation and a binary step adds the residual.
    bool separate_add = false;
    if (residual >= 0 && !int8 && std::string_view(pd.impl_info_str()).starts_with("ref") &&
        op.post.back().kind == PostOp::Kind::kAdd &&
        std::count_if(op.post.begin(), op.post.end(), [](const PostOp& p) { return p.kind == PostOp::Kind::kAdd; }) == 1) {
      dnnl::post_ops without_sum;
      for (int i = 0; i + 1 < po.len(); ++i) {
        dnnl::algorithm alg;
        float scale, alpha, beta;
        po.get_params_eltwise(i, scale, alg, alpha, beta);
        without_sum.append_eltwise(scale, alg, alpha, beta);
      }
      dnnl::primitive_attr split = scratch_attr();
      split.set_post_ops(without_sum);
      dnnl::convolution_forward::primitive_desc fast(d, split, engine);
      if (!std::string_view(fast.impl_info_str()).starts_with("ref")) {
        pd = fast;
        separate_add = true;
      }
    }
    if (conv_impl.empty() && ic >= 16) conv_impl = pd.impl_info_str();

    // Weights and bias: reordered once into the layout and type the primitive wants (int8:
    // the bias in the int32 sum's units, s_in · s_w[o]).
    const tag wtag = op.group == 1 ? tag::oihw : tag::goihw;
    memory user_w = int8 ? memory({wdims, dt::s8, wtag}, engine, w_q.data())
                         : memory({wdims, dt::f32, wtag}, engine, const_cast<float*>(op.weight_data().data()));
    weight_memory.push_back(allocate_aligned(pd.weights_desc().get_size()));
    if (!weight_memory.back()) throw std::bad_alloc();
    memory w(pd.weights_desc(), engine, weight_memory.back().get());
    dnnl::reorder(user_w, w).execute(stream, user_w, w);
    memory b(b_md, engine);
    float* bias = static_cast<float*>(b.get_data_handle());
    for (std::size_t o = 0; o < op.bias.size(); ++o) bias[o] = int8 ? op.bias[o] * qin.scale * w_scale[o] : op.bias[o];
    stream.wait();
    weights_size += pd.weights_desc().get_size() + b_md.get_size();
    // In oneDNN's memory now: drop the graph's copy at once (the peak holds one at a time).
    drop_weights(op);
    if (++convs_added % 16 == 0) release_consumed_storage(graph);
    std::vector<float>().swap(op.bias);
    std::vector<std::int8_t>().swap(w_q);

    const int src = as(slot_of[std::size_t(op.inputs[0])], pd.src_desc(), op.name + " input", int8 ? qin.scale : 0.f);
    const float dst_scale = q_dst ? qout.scale : 0.f;
    int dst = -1;
    if (separate_add) {
      dst = add_slot(pd.dst_desc(), 0.f);
    } else if (residual >= 0) {
      const int r = slot_of[std::size_t(residual)];
      if (last_reader[std::size_t(residual)] == op_index && !slots[std::size_t(r)].external &&
          slots[std::size_t(r)].md == pd.dst_desc() && slots[std::size_t(r)].scale == dst_scale && r != src) {
        dst = r;  // overwritten in place: copies of its old contents in other layouts are stale
        for (auto it = converted.begin(); it != converted.end();) {
          it = it->first.first == r ? converted.erase(it) : std::next(it);
        }
      } else {
        dst = add_slot(pd.dst_desc(), dst_scale);
        add_reorder(r, dst, op.name + " residual");
      }
    } else {
      dst = add_slot(pd.dst_desc(), dst_scale);
    }
    Step st;
    st.prim = dnnl::convolution_forward(pd);
    st.name = op.name;
    st.kind = "conv";
    st.macs = out.count() * ic * op.kh * op.kw;
    st.detail = std::to_string(in.c) + "->" + std::to_string(oc) + " " + std::to_string(op.kh) + "x" +
                std::to_string(op.kw) + (op.dilation[0] > 1 ? " d" + std::to_string(op.dilation[0]) : "") +
                (op.stride[0] > 1 ? " s" + std::to_string(op.stride[0]) : "") + " @" + std::to_string(out.w) + "x" +
                std::to_string(out.h) + (int8 ? " int8" : "") + " " + pd.impl_info_str();
    st.slot_args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}};
    st.fixed_args = {{DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, b}};
    finish(st, pd);
    add_step(std::move(st));
    slot_of[std::size_t(op.output)] = dst;
    if (separate_add) {
      const int r = as(slot_of[std::size_t(residual)], pd.dst_desc(), op.name + " residual");
      dnnl::binary::primitive_desc bpd(dnnl::binary::desc(dnnl::algorithm::binary_add, pd.dst_desc(), pd.dst_desc(),
                                                          pd.dst_desc()),
                                       scratch_attr(), engine);
      Step add;
      add.prim = dnnl::binary(bpd);
      add.name = op.name + " + residual";
      add.kind = "binary";
      add.slot_args = {{DNNL_ARG_SRC_0, dst}, {DNNL_ARG_SRC_1, r}, {DNNL_ARG_DST, dst}};
      finish(add, bpd);
      add_step(std::move(add));
    }
  }

  void add_simple(const Op& op) {
    const Dims out = graph.tensors[std::size_t(op.output)];
    // Data-moving operations keep their input's int8 type and scale (its group's).
    const Quant q = quant[std::size_t(op.output)];
    const bool moves = op.kind == OpKind::kMaxPool || op.kind == OpKind::kAvgPool || op.kind == OpKind::kResize ||
                       op.kind == OpKind::kConcat;
    const float dst_scale = moves ? q.scale : 0.f;
    const memory::desc dst_any(nchw(out), dst_scale > 0 ? q.type : compute(), tag::any);
    Step st;
    st.name = op.name;
    st.kind = kind_name(op.kind);
    int dst = -1;
    dnnl::primitive_attr attr = scratch_attr();
    switch (op.kind) {
      case OpKind::kRelu:
      case OpKind::kSigmoid:
      case OpKind::kClip: {
        const int src = in_compute_type(op.inputs[0], op.name);
        const auto alg = op.kind == OpKind::kRelu      ? dnnl::algorithm::eltwise_relu
                         : op.kind == OpKind::kSigmoid ? dnnl::algorithm::eltwise_logistic
                                                       : dnnl::algorithm::eltwise_clip;
        const float alpha = op.kind == OpKind::kClip ? op.lo : 0.f, beta = op.kind == OpKind::kClip ? op.hi : 0.f;
        dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, alg, slots[std::size_t(src)].md, alpha, beta);
        dnnl::eltwise_forward::primitive_desc pd(d, attr, engine);
        dst = add_slot(pd.dst_desc(), dst_scale);
        st.prim = dnnl::eltwise_forward(pd);
        st.slot_args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}};
        finish(st, pd);
        break;
      }
      case OpKind::kMaxPool:
      case OpKind::kAvgPool: {
        const int src = in_storage_type(op.inputs[0], op.name);
        const auto alg = op.kind == OpKind::kMaxPool ? dnnl::algorithm::pooling_max
                         : op.count_include_pad      ? dnnl::algorithm::pooling_avg_include_padding
                                                     : dnnl::algorithm::pooling_avg_exclude_padding;
        dnnl::pooling_forward::desc d(dnnl::prop_kind::forward_inference, alg, slots[std::size_t(src)].md, dst_any,
                                      {op.stride[0], op.stride[1]}, {op.kh, op.kw}, {op.pad[0], op.pad[1]},
                                      {op.pad[2], op.pad[3]});
        dnnl::pooling_forward::primitive_desc pd(d, attr, engine);
        dst = add_slot(pd.dst_desc(), dst_scale);
        st.prim = dnnl::pooling_forward(pd);
        st.slot_args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}};
        finish(st, pd);
        break;
      }
      case OpKind::kResize: {
        const int src = in_storage_type(op.inputs[0], op.name);
        const auto alg = op.linear ? dnnl::algorithm::resampling_linear : dnnl::algorithm::resampling_nearest;
        dnnl::resampling_forward::desc d(dnnl::prop_kind::forward_inference, alg, slots[std::size_t(src)].md, dst_any);
        dnnl::resampling_forward::primitive_desc pd(d, attr, engine);
        dst = add_slot(pd.dst_desc(), dst_scale);
        st.prim = dnnl::resampling_forward(pd);
        st.slot_args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}};
        finish(st, pd);
        break;
      }
      case OpKind::kConcat: {
        std::vector<memory::desc> srcs;
        std::vector<int> in;
        for (int t : op.inputs) {
          in.push_back(in_storage_type(t, op.name));
          srcs.push_back(slots[std::size_t(in.back())].md);
        }
        dnnl::concat::primitive_desc pd(1, srcs, engine, attr);
        dst = add_slot(pd.dst_desc(), dst_scale);
        st.prim = dnnl::concat(pd);
        for (std::size_t i = 0; i < in.size(); ++i) st.slot_args.emplace_back(DNNL_ARG_MULTIPLE_SRC + int(i), in[i]);
        st.slot_args.emplace_back(DNNL_ARG_DST, dst);
        finish(st, pd);
        break;
      }
      case OpKind::kAdd:
      case OpKind::kMul: {
        const int a = in_compute_type(op.inputs[0], op.name), b = in_compute_type(op.inputs[1], op.name);
        const memory::desc& amd = slots[std::size_t(a)].md;
        dnnl::binary::desc d(op.kind == OpKind::kAdd ? dnnl::algorithm::binary_add : dnnl::algorithm::binary_mul, amd,
                             slots[std::size_t(b)].md, amd);
        dnnl::binary::primitive_desc pd(d, attr, engine);
        dst = add_slot(pd.dst_desc(), dst_scale);
        st.prim = dnnl::binary(pd);
        st.slot_args = {{DNNL_ARG_SRC_0, a}, {DNNL_ARG_SRC_1, b}, {DNNL_ARG_DST, dst}};
        finish(st, pd);
        break;
      }
      case OpKind::kConv: break;
    }
    add_step(std::move(st));
    slot_of[std::size_t(op.output)] = dst;
  }

  // Places every non-external slot in the arena: largest first, at the lowest offset that
  // overlaps no placed slot alive at the same time.
  void plan_arena() {
    constexpr std::size_t kAlign = 64;
    std::vector<int> order;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (!slots[i].external) order.push_back(int(i));
    }
    auto bytes = [&](int s) { return (slots[std::size_t(s)].md.get_size() + kAlign - 1) / kAlign * kAlign; };
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return bytes(a) > bytes(b); });
    std::vector<int> placed;
    arena_size = 0;
    for (int s : order) {
      Slot& me = slots[std::size_t(s)];
      std::vector<std::pair<std::size_t, std::size_t>> busy;
      for (int p : placed) {
        const Slot& o = slots[std::size_t(p)];
        if (o.last < me.first || me.last < o.first) continue;
        busy.emplace_back(o.offset, o.offset + bytes(p));
      }
      std::sort(busy.begin(), busy.end());
      std::size_t at = 0;
      for (const auto& [b, e] : busy) {
        if (at + bytes(s) <= b) break;
        at = std::max(at, e);
      }
      me.offset = at;
      arena_size = std::max(arena_size, at + bytes(s));
      placed.push_back(s);
    }
  }

  Status build() {
    plan_quantization();
    slot_of.assign(graph.tensors.size(), -1);
    input_slot = add_slot(memory::desc(nchw(graph.tensors[std::size_t(graph.input)]), dt::f32, tag::nchw));
    slots[std::size_t(input_slot)].external = true;
    slot_of[std::size_t(graph.input)] = input_slot;
    last_reader.assign(graph.tensors.size(), -1);
    for (std::size_t i = 0; i < graph.ops.size(); ++i) {
      for (int t : graph.ops[i].inputs) last_reader[std::size_t(t)] = int(i);
      for (const PostOp& p : graph.ops[i].post) {
        if (p.value >= 0) last_reader[std::size_t(p.value)] = int(i);
      }
    }
    last_reader[std::size_t(graph.output)] = int(graph.ops.size());
    for (Op& op : graph.ops) {
      try {
        if (op.kind == OpKind::kConv) add_conv(op);
        else add_simple(op);
        ++op_index;
      } catch (const dnnl::error& e) {
        return invalid_argument(std::string("oneDNN executor: ") + kind_name(op.kind) + " '" + op.name + "' (" +
                                precision_name(options.precision) + "): could not create a primitive (" + e.what() + ")");
      }
    }
    const Dims out = graph.tensors[std::size_t(graph.output)];
    output_slot = add_slot(memory::desc(nchw(out), dt::f32, tag::nchw));
    slots[std::size_t(output_slot)].external = true;
    add_reorder(slot_of[std::size_t(graph.output)], output_slot, "output");
    // Weights are in oneDNN's memory now: drop the ONNX copies.
    for (Op& op : graph.ops) {
      drop_weights(op);
      std::vector<float>().swap(op.bias);
    }
    release_consumed_storage(graph);

    plan_arena();
    if (arena_size > 0 && !(arena = allocate_aligned(arena_size))) {
      return resource_exhausted("oneDNN executor: cannot allocate " + std::to_string(arena_size >> 20) + " MiB");
    }
    if (scratch_size > 0 && !(scratch = allocate_aligned(scratch_size))) {
      return resource_exhausted("oneDNN executor: cannot allocate the scratchpad");
    }
    for (Slot& s : slots) {
      s.mem = memory(s.md, engine, s.external ? nullptr : static_cast<char*>(arena.get()) + s.offset);
    }
    for (Step& st : steps) {
      if (st.scratchpad.get_size() > 0) st.fixed_args[DNNL_ARG_SCRATCHPAD] = memory(st.scratchpad, engine, scratch.get());
    }
    return {};
  }

  std::unordered_map<int, memory> args_of(const Step& st) const {
    std::unordered_map<int, memory> args = st.fixed_args;
    for (const auto& [arg, slot] : st.slot_args) args[arg] = slots[std::size_t(slot)].mem;
    return args;
  }

  // Adds the values in the conv step's source slot (fp32) to `stats[name]`.
  void observe(const Step& st, CalibrationStats& stats) const {
    for (const auto& [arg, slot] : st.slot_args) {
      if (arg != DNNL_ARG_SRC) continue;
      const Slot& s = slots[std::size_t(slot)];
      const float* p = static_cast<const float*>(s.mem.get_data_handle());
      const std::size_t n = s.md.get_size() / sizeof(float);
      if (n == 0) return;
      const auto [lo, hi] = std::minmax_element(p, p + n);
      auto [it, fresh] = stats.try_emplace(st.name);
      InputStats& in = it->second;
      in.range = fresh ? Range{*lo, *hi} : Range{std::min(in.range.lo, *lo), std::max(in.range.hi, *hi)};
      std::uint64_t* bins = in.magnitudes.data();
      for (std::size_t i = 0; i < n; ++i) {
        std::uint32_t u;
        std::memcpy(&u, p + i, 4);
        ++bins[(u & 0x7fffffffu) >> 20];  // |x|: exponent and top 3 mantissa bits
      }
    }
  }

  Result<std::vector<float>> run(const float* input, std::vector<StepTime>* times,
                                 CalibrationStats* ranges = nullptr) {
    std::vector<float> out(std::size_t(graph.tensors[std::size_t(graph.output)].count()));
    try {
      omp_set_num_threads(options.threads);
      slots[std::size_t(input_slot)].mem.set_data_handle(const_cast<float*>(input));
      slots[std::size_t(output_slot)].mem.set_data_handle(out.data());
      for (const Step& st : steps) {
        if (ranges && st.kind == "conv") {
          stream.wait();
          observe(st, *ranges);
        }
        const auto start = std::chrono::steady_clock::now();
        st.prim.execute(stream, args_of(st));
        if (times) {
          stream.wait();
          times->push_back({st.name, st.kind, st.detail, st.macs,
                            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count()});
        }
      }
      stream.wait();
    } catch (const dnnl::error& e) {
      return internal_error(std::string("oneDNN executor: inference failed (") + e.what() + ")");
    }
    return out;
  }
};

Executor::Executor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Executor::~Executor() = default;

Result<std::unique_ptr<Executor>> Executor::compile(Graph graph, const ExecutorOptions& options) {
  if (options.threads < 1) return invalid_argument("oneDNN executor: threads must be at least 1");
  if (graph.input < 0 || graph.output < 0) return invalid_argument("oneDNN executor: empty graph");
  if (options.precision == Precision::kInt8 && options.input_ranges.empty()) {
    return invalid_argument("oneDNN executor: int8 needs the convolutions' input ranges (calibrate the model)");
  }
  auto impl = std::make_unique<Impl>();
  impl->graph = std::move(graph);
  impl->options = options;
  omp_set_num_threads(options.threads);  // primitives are tuned for the thread count they will run with
  try {
    ATELIER_TRY(impl->build());
  } catch (const dnnl::error& e) {
    return invalid_argument(std::string("oneDNN executor: ") + e.what());
  } catch (const std::bad_alloc&) {
    return resource_exhausted("oneDNN executor: out of memory for the weights");
  }
  return std::unique_ptr<Executor>(new Executor(std::move(impl)));
}

Result<std::vector<float>> Executor::run(const float* input) { return impl_->run(input, nullptr); }
Result<std::vector<StepTime>> Executor::profile(const float* input) {
  std::vector<StepTime> times;
  ATELIER_TRY(impl_->run(input, &times).status());
  return times;
}
const Dims& Executor::input_dims() const { return impl_->graph.tensors[std::size_t(impl_->graph.input)]; }
const Dims& Executor::output_dims() const { return impl_->graph.tensors[std::size_t(impl_->graph.output)]; }
Status Executor::calibrate(const float* input, CalibrationStats& ranges) {
  if (impl_->options.precision != Precision::kF32) {
    return failed_precondition("oneDNN executor: calibration runs in fp32, not " +
                               std::string(precision_name(impl_->options.precision)));
  }
  return impl_->run(input, nullptr, &ranges).status();
}
int Executor::int8_convolutions() const { return impl_->int8_convs; }

InputRanges clipped_ranges(const CalibrationStats& stats, double quantile) {
  InputRanges out;
  for (const auto& [name, s] : stats) {
    Range r = s.range;
    if (quantile < 1) {
      std::uint64_t total = 0;
      for (std::uint64_t c : s.magnitudes) total += c;
      const auto keep = std::uint64_t(std::ceil(double(total) * quantile));
      std::uint64_t seen = 0;
      for (std::size_t b = 0; b < s.magnitudes.size(); ++b) {
        seen += s.magnitudes[b];
        if (seen >= keep) {
          const auto bits = std::uint32_t((b + 1) << 20);  // the bin's upper edge
          float edge;
          std::memcpy(&edge, &bits, 4);
          r = {std::max(r.lo, -edge), std::min(r.hi, edge)};
          break;
        }
      }
    }
    out[name] = r;
  }
  return out;
}
std::size_t Executor::arena_bytes() const { return impl_->arena_size; }
std::size_t Executor::weight_bytes() const { return impl_->weights_size; }
std::size_t Executor::scratchpad_bytes() const { return impl_->scratch_size; }
std::string Executor::conv_implementation() const { return impl_->conv_impl; }

std::string effective_isa() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "other";
  }
}

bool has_int8_vnni() {
  const auto isa = dnnl::get_effective_cpu_isa();
  return isa == dnnl::cpu_isa::avx2_vnni || isa == dnnl::cpu_isa::avx512_core_vnni ||
         isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
}

bool runs_bf16() { return effective_isa().rfind("avx512_core", 0) == 0 || has_native_bf16(); }

bool has_native_bf16() {
  const auto isa = dnnl::get_effective_cpu_isa();
  return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
}

}  // namespace atelier::ml::onednn
