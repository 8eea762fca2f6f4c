// The ONNX import step (DESIGN.md): rewrites a model so that OpenCV 4.6 DNN, which cannot
// read FLOAT16 tensors, loads it as an fp32 graph with the same numbers:
//   - FLOAT16 initializers, and FLOAT16 tensors in node attributes (Constant's `value`,
//     ConstantOfShape, ... also inside subgraphs), are upcast to FLOAT;
//   - Cast nodes between floating types are removed by rewiring their consumers to the
//     Cast's input (a Cast that feeds a graph output hands its name to its producer; where
//     that is impossible, e.g. graph input -> Cast -> graph output, it becomes an Identity);
//     Casts to or from integer types are kept;
//   - graph input/output and value_info element types FLOAT16 become FLOAT;
//   - optionally, only some graph outputs are kept and nodes nothing depends on are pruned.
// All functions are pure over their arguments and thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "core/status.h"

namespace atelier::ml {

struct ConversionOptions {
  // Graph outputs to keep, by name; empty keeps all. Unknown names are an error.
  std::vector<std::string> keep_outputs;
};

struct ConversionReport {
  int initializers_upcast = 0;  // FLOAT16 initializers converted to FLOAT
  int constants_upcast = 0;     // FLOAT16 attribute tensors converted to FLOAT
  int casts_removed = 0;        // Cast nodes removed by rewiring
  int casts_to_identity = 0;    // Cast nodes replaced by Identity
  int nodes_pruned = 0;         // nodes no kept output depends on
  int outputs_dropped = 0;      // graph outputs removed by keep_outputs
};

Result<ConversionReport> convert_to_fp32(onnx::ModelProto& model, const ConversionOptions& options = {});

// IEEE 754 binary16 -> binary32, exact for every value (subnormals, inf, NaN).
float half_to_float(std::uint16_t h);
// binary32 -> binary16, round to nearest even (used by tests to build fp16 models).
std::uint16_t float_to_half(float f);

// Parsing and serialization. Errors: kInvalidArgument "not an ONNX model (...)".
Result<onnx::ModelProto> parse_onnx(std::span<const std::uint8_t> bytes);
Result<onnx::ModelProto> load_onnx(const std::filesystem::path& path);
Result<std::vector<std::uint8_t>> serialize_onnx(const onnx::ModelProto& model);

// Sets the spatial size of the (single, NCHW) graph input to height×width and rescales
// the constant target sizes that the exporter traced for the old size (the `sizes` of
// Resize nodes, as in ISNet / U²-Net `_upsample_like`), so the graph runs at the new size.
// Errors (kInvalidArgument) when a traced size does not scale to a whole number.
Status retarget_input_size(onnx::ModelProto& model, int height, int width);

}  // namespace atelier::ml
