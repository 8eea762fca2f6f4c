#include "support/onnx_builder.h"

namespace atelier::testing {

ModelProto tiny_segmentation_model(int size, bool fp16) {
  ModelProto proto;
  proto.set_ir_version(8);
  proto.set_producer_name("atelier-test");
  proto.add_opset_import()->set_version(13);
  GraphProto* g = proto.mutable_graph();
  g->set_name("tiny");
  GraphBuilder b(g);
  b.input("input", kF32, {1, 3, size, size});
  b.output("output", kF32, {1, 1, size, size});
  const std::vector<float> w{0.5f, -0.25f, 0.25f}, bias{0.1f};
  if (fp16) {
    b.init(f16_tensor("w", {1, 3, 1, 1}, w)).init(f16_tensor("b", {1}, bias));
    b.cast("input", "input_h", kF16, "to_half");
    b.conv({"input_h", "w", "b"}, "logits_h", "conv");
    b.cast("logits_h", "logits", kF32, "to_float");
  } else {
    b.init(f32_tensor("w", {1, 3, 1, 1}, w)).init(f32_tensor("b", {1}, bias));
    b.conv({"input", "w", "b"}, "logits", "conv");
  }
  b.node("Sigmoid", {"logits"}, {"output"}, "sigmoid");
  return proto;
}

std::vector<std::uint8_t> tiny_segmentation_bytes(int size, bool fp16) {
  std::string s = tiny_segmentation_model(size, fp16).SerializeAsString();
  return {s.begin(), s.end()};
}

}  // namespace atelier::testing
