#include "ml/onednn/executor.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <unordered_map>

#include <oneapi/dnnl/dnnl.hpp>

namespace atelier::ml::onednn {

const char* precision_name(Precision p) { return p == Precision::kBf16 ? "bf16" : "fp32"; }

namespace {

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
  memory mem;
};

struct Step {
  dnnl::primitive prim;
  std::string name, kind;
  std::vector<std::pair<int, int>> slot_args;   // (DNNL_ARG_*, slot)
  std::unordered_map<int, memory> fixed_args;   // weights, bias, scratchpad
  memory::desc scratchpad;
};

struct FreeAligned {
  void operator()(void* p) const { std::free(p); }
};

}  // namespace

struct Executor::Impl {
  Graph graph;
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
  std::unique_ptr<void, FreeAligned> arena, scratch;
  std::size_t arena_size = 0, scratch_size = 0, weights_size = 0;
  std::string conv_impl;

  dt compute() const { return options.precision == Precision::kBf16 ? dt::bf16 : dt::f32; }

  int add_slot(const memory::desc& md) {
    Slot s;
    s.md = md;
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

  // `slot` in layout `want`, through a reorder step when it is in another.
  int as(int slot, const memory::desc& want, const std::string& why) {
    if (slots[std::size_t(slot)].md == want) return slot;
    auto k = std::make_pair(slot, key(want));
    if (auto it = converted.find(k); it != converted.end()) return it->second;
    const int to = add_slot(want);
    Step st;
    st.prim = dnnl::reorder(dnnl::reorder::primitive_desc(engine, slots[std::size_t(slot)].md, engine, want));
    st.name = why;
    st.kind = "reorder";
    st.slot_args = {{DNNL_ARG_FROM, slot}, {DNNL_ARG_TO, to}};
    // DNNL_ARG_TO == DNNL_ARG_DST: add_step sees the write.
    add_step(std::move(st));
    converted[k] = to;
    return to;
  }

  // The slot of tensor `t` in the compute data type (plain layout when converted).
  int in_compute_type(int t, const std::string& why) {
    const int s = slot_of[std::size_t(t)];
    if (slots[std::size_t(s)].md.data_type() == compute()) return s;
    return as(s, memory::desc(nchw(graph.tensors[std::size_t(t)]), compute(), tag::nchw), why);
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

  void add_conv(const Op& op) {
    const Dims in = graph.tensors[std::size_t(op.inputs[0])], out = graph.tensors[std::size_t(op.output)];
    const int oc = out.c, ic = in.c / op.group;
    const memory::dims wdims = op.group == 1 ? memory::dims{oc, ic, op.kh, op.kw}
                                             : memory::dims{op.group, oc / op.group, ic, op.kh, op.kw};
    memory::desc src_any(nchw(in), compute(), tag::any), dst_any(nchw(out), compute(), tag::any),
        w_any(wdims, compute(), tag::any), b_md({oc}, dt::f32, tag::x);
    // A residual add is oneDNN's sum post-op: the convolution adds its result to what the
    // destination holds, so the residual is placed there first (in place when nothing
    // reads it later, else copied). A binary post-op would read it from its own memory,
    // but makes oneDNN 2.6 fall back from brgconv to a slow gemm path (fp32) and gives
    // wrong results in bf16.
    dnnl::post_ops po;
    int residual = -1;
    for (const PostOp& p : op.post) {
      switch (p.kind) {
        case PostOp::Kind::kRelu: po.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f); break;
        case PostOp::Kind::kSigmoid: po.append_eltwise(1.f, dnnl::algorithm::eltwise_logistic, 0.f, 0.f); break;
        case PostOp::Kind::kClip: po.append_eltwise(1.f, dnnl::algorithm::eltwise_clip, p.lo, p.hi); break;
        case PostOp::Kind::kAdd:
          po.append_sum(1.f);
          residual = p.value;
          break;
      }
    }
    dnnl::primitive_attr attr = scratch_attr();
    attr.set_post_ops(po);
    const memory::dims strides{op.stride[0], op.stride[1]}, dil{op.dilation[0] - 1, op.dilation[1] - 1},
        pad_l{op.pad[0], op.pad[1]}, pad_r{op.pad[2], op.pad[3]};
    dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src_any,
                                      w_any, b_md, dst_any, strides, dil, pad_l, pad_r);
    dnnl::convolution_forward::primitive_desc pd(d, attr, engine);
    if (conv_impl.empty() && ic >= 16) conv_impl = pd.impl_info_str();

    // Weights and bias: reordered once into the layout and type the primitive wants.
    memory user_w({wdims, dt::f32, op.group == 1 ? tag::oihw : tag::goihw}, engine,
                  const_cast<float*>(op.weights.data()));
    memory w(pd.weights_desc(), engine);
    dnnl::reorder(user_w, w).execute(stream, user_w, w);
    memory b(b_md, engine);
    std::copy(op.bias.begin(), op.bias.end(), static_cast<float*>(b.get_data_handle()));
    stream.wait();
    weights_size += pd.weights_desc().get_size() + b_md.get_size();

    const int src = as(slot_of[std::size_t(op.inputs[0])], pd.src_desc(), op.name + " input");
    int dst = -1;
    if (residual >= 0) {
      const int r = slot_of[std::size_t(residual)];
      if (last_reader[std::size_t(residual)] == op_index && !slots[std::size_t(r)].external &&
          slots[std::size_t(r)].md == pd.dst_desc() && r != src) {
        dst = r;  // overwritten in place: copies of its old contents in other layouts are stale
        for (auto it = converted.begin(); it != converted.end();) {
          it = it->first.first == r ? converted.erase(it) : std::next(it);
        }
      } else {
        dst = add_slot(pd.dst_desc());
        Step copy;
        copy.prim = dnnl::reorder(dnnl::reorder::primitive_desc(engine, slots[std::size_t(r)].md, engine, pd.dst_desc()));
        copy.name = op.name + " residual";
        copy.kind = "reorder";
        copy.slot_args = {{DNNL_ARG_FROM, r}, {DNNL_ARG_TO, dst}};
        add_step(std::move(copy));
      }
    } else {
      dst = add_slot(pd.dst_desc());
    }
    Step st;
    st.prim = dnnl::convolution_forward(pd);
    st.name = op.name;
    st.kind = "conv";
    st.slot_args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}};
    st.fixed_args = {{DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, b}};
    finish(st, pd);
    add_step(std::move(st));
    slot_of[std::size_t(op.output)] = dst;
  }

  void add_simple(const Op& op) {
    const Dims out = graph.tensors[std::size_t(op.output)];
    const memory::desc dst_any(nchw(out), compute(), tag::any);
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
        dst = add_slot(pd.dst_desc());
        st.prim = dnnl::eltwise_forward(pd);
        st.slot_args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}};
        finish(st, pd);
        break;
      }
      case OpKind::kMaxPool:
      case OpKind::kAvgPool: {
        const int src = in_compute_type(op.inputs[0], op.name);
        const auto alg = op.kind == OpKind::kMaxPool ? dnnl::algorithm::pooling_max
                         : op.count_include_pad      ? dnnl::algorithm::pooling_avg_include_padding
                                                     : dnnl::algorithm::pooling_avg_exclude_padding;
        dnnl::pooling_forward::desc d(dnnl::prop_kind::forward_inference, alg, slots[std::size_t(src)].md, dst_any,
                                      {op.stride[0], op.stride[1]}, {op.kh, op.kw}, {op.pad[0], op.pad[1]},
                                      {op.pad[2], op.pad[3]});
        dnnl::pooling_forward::primitive_desc pd(d, attr, engine);
        dst = add_slot(pd.dst_desc());
        st.prim = dnnl::pooling_forward(pd);
        st.slot_args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}};
        finish(st, pd);
        break;
      }
      case OpKind::kResize: {
        const int src = in_compute_type(op.inputs[0], op.name);
        const auto alg = op.linear ? dnnl::algorithm::resampling_linear : dnnl::algorithm::resampling_nearest;
        dnnl::resampling_forward::desc d(dnnl::prop_kind::forward_inference, alg, slots[std::size_t(src)].md, dst_any);
        dnnl::resampling_forward::primitive_desc pd(d, attr, engine);
        dst = add_slot(pd.dst_desc());
        st.prim = dnnl::resampling_forward(pd);
        st.slot_args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}};
        finish(st, pd);
        break;
      }
      case OpKind::kConcat: {
        std::vector<memory::desc> srcs;
        std::vector<int> in;
        for (int t : op.inputs) {
          in.push_back(in_compute_type(t, op.name));
          srcs.push_back(slots[std::size_t(in.back())].md);
        }
        dnnl::concat::primitive_desc pd(1, srcs, engine, attr);
        dst = add_slot(pd.dst_desc());
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
        dst = add_slot(pd.dst_desc());
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
    for (const Op& op : graph.ops) {
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
    const int last = slot_of[std::size_t(graph.output)];
    Step st;
    st.prim = dnnl::reorder(dnnl::reorder::primitive_desc(engine, slots[std::size_t(last)].md, engine,
                                                          slots[std::size_t(output_slot)].md));
    st.name = "output";
    st.kind = "reorder";
    st.slot_args = {{DNNL_ARG_FROM, last}, {DNNL_ARG_TO, output_slot}};
    add_step(std::move(st));
    // Weights are in oneDNN's memory now: drop the ONNX copies.
    for (Op& op : graph.ops) {
      std::vector<float>().swap(op.weights);
      std::vector<float>().swap(op.bias);
    }

    plan_arena();
    void* a = nullptr;
    if (arena_size > 0 && posix_memalign(&a, 4096, arena_size) != 0) {
      return resource_exhausted("oneDNN executor: cannot allocate " + std::to_string(arena_size >> 20) + " MiB");
    }
    arena.reset(a);
    void* sp = nullptr;
    if (scratch_size > 0 && posix_memalign(&sp, 4096, scratch_size) != 0) {
      return resource_exhausted("oneDNN executor: cannot allocate the scratchpad");
    }
    scratch.reset(sp);
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

  Result<std::vector<float>> run(const float* input, std::vector<StepTime>* times) {
    std::vector<float> out(std::size_t(graph.tensors[std::size_t(graph.output)].count()));
    try {
      omp_set_num_threads(options.threads);
      slots[std::size_t(input_slot)].mem.set_data_handle(const_cast<float*>(input));
      slots[std::size_t(output_slot)].mem.set_data_handle(out.data());
      for (const Step& st : steps) {
        const auto start = std::chrono::steady_clock::now();
        st.prim.execute(stream, args_of(st));
        if (times) {
          stream.wait();
          times->push_back({st.name, st.kind,
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
  auto impl = std::make_unique<Impl>();
  impl->graph = std::move(graph);
  impl->options = options;
  omp_set_num_threads(options.threads);  // primitives are tuned for the thread count they will run with
  try {
    ATELIER_TRY(impl->build());
  } catch (const dnnl::error& e) {
    return invalid_argument(std::string("oneDNN executor: ") + e.what());
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

bool has_native_bf16() {
  const auto isa = dnnl::get_effective_cpu_isa();
  return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
}

}  // namespace atelier::ml::onednn
