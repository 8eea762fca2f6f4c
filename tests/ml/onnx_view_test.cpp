// Parsing ONNX without copying the weights (ml/onnx_view.h): the same model as protobuf's
// own parse, the raw bytes in place (aligned for floats), and malformed files rejected.
#include "ml/onnx_view.h"

#include <cstring>

#include <gtest/gtest.h>

#include "ml/onnx_convert.h"
#include "support/onnx_builder.h"
#include "support/test_support.h"

namespace atelier::ml {
namespace {

using namespace atelier::testing;

// Initializers of several kinds and sizes (odd lengths shift the ones after them), one
// without raw_data, and a node after them.
std::vector<std::uint8_t> mixed_model() {
  Model m;
  std::vector<float> big(1000);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = float(i) * 0.5f - 7.f;
  m.b.init(f32_tensor("w0", {10, 100}, big));
  m.b.init(i64_tensor("shape", {3}, {1, 2, 3}));
  m.b.init(f32_tensor("w1", {5, 7}, std::vector<float>(big.begin(), big.begin() + 35)));
  onnx::TensorProto listed;
  listed.set_name("listed");
  listed.set_data_type(onnx::TensorProto::FLOAT);
  listed.add_dims(2);
  listed.add_float_data(1.5f);
  listed.add_float_data(-2.f);
  m.b.init(f32_tensor("w2", {300}, std::vector<float>(big.begin() + 1, big.begin() + 301)));
  store_floats_as_raw_data(m.proto);
  *m.graph().add_initializer() = listed;  // kept in float_data
  m.b.node("Relu", {"x"}, {"y"}, "relu");
  m.b.input("x", kF32, {1, 1, 2, 2});
  m.b.output("y", kF32, {});
  return *serialize_onnx(m.proto);
}

TEST(OnnxView, SameModelAsAFullParseWithTheRawBytesInPlace) {
  const std::vector<std::uint8_t> bytes = mixed_model();
  auto full = parse_onnx(bytes);
  ASSERT_TRUE(full.ok());
  auto view = parse_onnx_view(large_buffer(bytes));
  ASSERT_TRUE(view.ok()) << view.status().message();
  const auto& got = view->model.graph().initializer();
  const auto& want = full->graph().initializer();
  ASSERT_EQ(got.size(), want.size());
  onnx::ModelProto rebuilt = view->model;
  for (int i = 0; i < got.size(); ++i) {
    const std::span<const std::uint8_t> raw = view->raw_data(got[i]);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(raw.data()), raw.size()), want[i].raw_data()) << i;
    EXPECT_TRUE(got[i].raw_data().empty()) << i;  // not copied
    if (!raw.empty()) {
      EXPECT_GE(raw.data(), view->bytes.data());
      EXPECT_LE(raw.data() + raw.size(), view->bytes.data() + view->bytes.size());
      if (raw.size() >= 128) {
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(raw.data()) % 4, 0u) << got[i].name();
      }
      rebuilt.mutable_graph()->mutable_initializer(i)->set_raw_data(raw.data(), raw.size());
    }
  }
  EXPECT_EQ(rebuilt.SerializeAsString(), full->SerializeAsString());  // everything else parsed alike
  EXPECT_EQ(view->model.graph().initializer(4).float_data_size(), 2);
  EXPECT_EQ(view->raw.size(), 4u);  // the raw ones
}

TEST(OnnxView, MalformedBytesAreRejected) {
  const std::vector<std::uint8_t> bytes = mixed_model();
  const std::string want = "not an ONNX model (protobuf parse failed)";
  std::vector<std::uint8_t> cut(bytes.begin(), bytes.begin() + std::ptrdiff_t(bytes.size() * 2 / 3));
  EXPECT_EQ(parse_onnx_view(large_buffer(cut)).status().message(), want);
  EXPECT_EQ(parse_onnx_view(large_buffer({0x0b, 0x00})).status().message(), want);   // a group (wire type 3)
  EXPECT_EQ(parse_onnx_view(large_buffer({0x3a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}))
                .status()
                .message(),
            want);  // a length past the end (and an over-long varint)
  EXPECT_EQ(parse_onnx_view(large_buffer({0x08, 0x07})).status().message(), "not an ONNX model (no graph)");
  auto missing = load_onnx_view("/nonexistent/model.onnx");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/model.onnx"), std::string::npos);
}

}  // namespace
}  // namespace atelier::ml
