// The oneDNN executor's view of a model: an imported ONNX graph reduced, for one input
// size, to a list of NCHW tensor operations with static shapes. Shape arithmetic (Shape,
// Slice, Gather, Concat, Unsqueeze, Cast, Constant on small integer tensors, as exporters
// write for Resize targets) is folded at import; a BatchNormalization after a Conv is
// folded into its weights; a Relu/Sigmoid/Clip(0,6) after a Conv, and an Add of a Conv's
// (activated) output with another tensor, become the Conv's post-ops; nodes the requested
// output does not depend on are dropped. An operator or attribute the executor cannot run
// is an error naming the node, so a caller can fall back to another backend.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "core/status.h"
#include "ml/onnx_view.h"

namespace atelier::ml::onednn {

struct Dims {
  int n = 1, c = 1, h = 1, w = 1;
  std::int64_t count() const { return std::int64_t(n) * c * h * w; }
  friend bool operator==(const Dims&, const Dims&) = default;
};

enum class OpKind { kConv, kMaxPool, kAvgPool, kResize, kConcat, kAdd, kMul, kRelu, kSigmoid, kClip };

// An activation or a residual add applied to a Conv's result, in order.
struct PostOp {
  enum class Kind { kRelu, kSigmoid, kClip, kAdd } kind = Kind::kRelu;
  int value = -1;            // kAdd: the tensor added
  float lo = 0, hi = 0;      // kClip
};

struct Op {
  OpKind kind = OpKind::kConv;
  std::string name;          // the ONNX node's name (or its first output's), for errors and profiles
  std::vector<int> inputs;   // tensor ids (kConv: the data input only)
  int output = -1;
  // kConv: weights in OIHW (O = out channels, I = in channels / group), bias per O.
  int group = 1, kh = 1, kw = 1;
  std::array<int, 2> stride{1, 1}, dilation{1, 1};
  std::array<int, 4> pad{0, 0, 0, 0};  // top, left, bottom, right (pools: bottom/right include ceil_mode)
  std::vector<float> weights, bias;
  // kConv weights read in place instead (build_graph from an OnnxView: the model file's
  // bytes, kept alive by Graph::storage; `weights` is then empty). Private memory, so the
  // executor may release its pages once it has reordered them.
  std::span<const float> weight_view;
  std::span<const float> weight_data() const { return weight_view.empty() ? std::span<const float>(weights) : weight_view; }
  std::vector<PostOp> post;
  // kResize: true for linear (half-pixel centres), false for nearest.
  bool linear = true;
  // kClip (standalone)
  float lo = 0, hi = 0;
  // kAvgPool: whether padded cells count in the average.
  bool count_include_pad = false;
};

struct Graph {
  std::shared_ptr<const void> storage;        // what the ops' weight views point into (or null) ...
  std::span<const std::uint8_t> storage_bytes;  // ... its bytes: private memory the executor may release
  std::vector<Dims> tensors;  // shape of every tensor id
  std::vector<Op> ops;        // in execution order
  int input = -1, output = -1;
  // Multiply-accumulates of all convolutions (×2 = FLOP), for reports.
  std::int64_t conv_macs = 0;
};

// Builds the graph of `model` for graph input `input` of size `input_dims` up to tensor
// `output`. Errors (kInvalidArgument), e.g. "oneDNN executor: node 'Foo_3' (LSTM): operator
// not supported", "...: Resize with coordinate_transformation_mode align_corners is not
// supported", "graph has no input 'x'".
Result<Graph> build_graph(const onnx::ModelProto& model, const std::string& input, Dims input_dims,
                          const std::string& output);
// The same, giving up `model`: each initializer's bytes are freed as the graph takes its
// values, so the weights are held once while building, not twice.
Result<Graph> build_graph(onnx::ModelProto&& model, const std::string& input, Dims input_dims,
                          const std::string& output);
// The same from a view (ml/onnx_view.h), giving it up: Conv weights are read in place
// (Op::weight_view, the file's bytes kept by Graph::storage until the graph goes; the
// executor returns their pages once it no longer needs them).
Result<Graph> build_graph(OnnxView&& view, const std::string& input, Dims input_dims, const std::string& output);

}  // namespace atelier::ml::onednn
