// Small convolution graphs run through OpenCV DNN's own fp32 inference (the reference) and
// the oneDNN executor (ml/onednn), for the executor's tests and the ISA-cap probe.
#pragma once

#include <string>
#include <vector>

#include "ml/onednn/executor.h"
#include "ml/onednn/graph.h"
#include "support/onnx_builder.h"

namespace atelier::testing {

// n values uniform in [lo, hi), the same for the same seed.
std::vector<float> random_values(std::size_t n, unsigned seed, float lo = -1.f, float hi = 1.f);

// Adds a Conv node `name` from `in` to `out` with random weights and bias (k×k, "same"
// padding unless `pads` is given).
void add_conv(Model& m, const std::string& in, const std::string& out, const std::string& name, int cin, int cout,
              int k, unsigned seed, std::vector<std::int64_t> pads = {}, std::vector<std::int64_t> strides = {},
              std::vector<std::int64_t> dil = {}, int group = 1);

struct Outputs {
  std::vector<float> want, got;  // OpenCV's, the executor's
  ml::onednn::Dims dims;         // the executor's output dims
  std::string conv_implementation;
};

// Runs `m` (input "x" of `in`, output "y"; both declared here when missing) through OpenCV
// DNN and the executor on the same random input; failures are gtest failures.
Outputs run_both(Model& m, ml::onednn::Dims in, ml::onednn::Precision precision = ml::onednn::Precision::kF32,
                 unsigned seed = 7);

// max |got − want| / max |want| (1e9 when the sizes differ or nothing ran).
double rel_error(const Outputs& o);

}  // namespace atelier::testing
