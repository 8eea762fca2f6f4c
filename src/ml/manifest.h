// A model's manifest: what a model is (name, where it came from, checksums, licence) and
// how to feed it (input size, channel order, normalisation) and read it (output name,
// activation). Inference code is generic: pre- and post-processing come from here, never
// from code per model. Stored as manifest.json beside the model file.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "image/resample.h"

namespace atelier::ml {

// x = (v − mean[c]) / std[c], with v the 8-bit channel value (0..255) after a bilinear
// resize to width×height (aspect ratio not kept) with the given pixel-grid convention
// (the output map is resized back to the photo with the same one), channels in
// `channel_order`, NCHW.
struct Preprocess {
  int width = 0;
  int height = 0;
  std::string channel_order = "RGB";  // "RGB" or "BGR"
  std::array<float, 3> mean{0, 0, 0};
  std::array<float, 3> std{1, 1, 1};
  image::Sampling sampling = image::Sampling::kHalfPixel;
  friend bool operator==(const Preprocess&, const Preprocess&) = default;
};

// The output tensor (N×1×H×W, or N×H×W) read as a map in [0,1]: `activation` applied
// ("none" or "sigmoid"), then optionally min-max normalised, then clamped.
struct Postprocess {
  std::string output;               // graph output name
  std::string activation = "none";  // "none" | "sigmoid"
  bool minmax_normalize = false;
  friend bool operator==(const Postprocess&, const Postprocess&) = default;
};

struct ModelSource {
  std::string kind;      // "npm" or "file"
  std::string package;   // npm package name (kind npm)
  std::string version;   // npm package version (kind npm)
  std::string resource;  // resource inside the package, e.g. "/models/medium"
  std::string path;      // original file name (kind file)
  std::string sha256;    // of the original model bytes
  std::uint64_t bytes = 0;
  friend bool operator==(const ModelSource&, const ModelSource&) = default;
};

// How a reduced compute precision of the oneDNN executor did against the fp32 reference
// (OpenCV DNN's own inference) on a set of photos, measured at import or by `atelier
// models calibrate` (precision_check.h): IoU of the masks (alpha > 127) and mean |Δα| in
// 0..255, on the model's output map. `passed` is recomputed from the numbers on reading.
struct PrecisionCheck {
  std::string precision;  // "bf16" or "int8"
  int photos = 0;
  double mean_iou = 0;
  double min_iou = 0;
  double mean_abs_alpha = 0;
  bool passed = false;
  friend bool operator==(const PrecisionCheck&, const PrecisionCheck&) = default;
};

// The bar a precision must meet to be used by --precision auto: mean IoU ≥ 0.995, every
// photo's IoU ≥ 0.98, mean |Δα| ≤ 1.0.
bool meets_quality_bar(const PrecisionCheck& c);

// What int8 inference needs: the range of values each convolution's input took when the
// fp32 model ran on a set of photos (`atelier models calibrate`, or at import), clipped at
// a quantile of |x| (precision_check.h), by the convolution's ONNX node name. Empty
// (photos 0) until calibrated.
struct Int8Calibration {
  int photos = 0;
  std::map<std::string, std::pair<float, float>> input_ranges;  // name -> (lo, hi)
  bool empty() const { return input_ranges.empty(); }
  friend bool operator==(const Int8Calibration&, const Int8Calibration&) = default;
};

struct ModelManifest {
  int format_version = 1;
  std::string name;
  std::string task = "segmentation";
  std::string file = "model.onnx";  // converted fp32 model, relative to the manifest
  std::string sha256;               // of `file`
  std::uint64_t bytes = 0;          // size of `file`
  std::string license;
  // Where the model runs when not here: a KServe v2 URL (remote_backend.h), used unless
  // --inference-url is given; "" (the default): locally. `atelier models remote` sets it.
  std::string inference_url;
  ModelSource source;
  std::string input;                // graph input name
  Preprocess preprocess;
  Postprocess postprocess;
  std::vector<PrecisionCheck> precision_checks;  // at most one per precision
  Int8Calibration int8_calibration;
  friend bool operator==(const ModelManifest&, const ModelManifest&) = default;
};

std::string manifest_to_json(const ModelManifest& m);
// Errors: kInvalidArgument "bad manifest: <what>".
Result<ModelManifest> manifest_from_json(std::string_view json);

// Named pre/post-processing presets for `models import --preset`:
//   isnet: 1024×1024 RGB, (v−128)/256, asymmetric sampling, output as is (probabilities)
//          - exactly IMG.LY's pipeline for its ISNet export
//   u2net: 320×320 RGB, ImageNet mean/std (in 0..255 units), output min-max normalised
Result<std::pair<Preprocess, Postprocess>> preset(std::string_view name);
std::vector<std::string> preset_names();

// Model names: 1–64 characters of [a-z0-9._-], starting with a letter or digit.
Status validate_model_name(std::string_view name);

}  // namespace atelier::ml
