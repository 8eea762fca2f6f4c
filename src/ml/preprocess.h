// Turning images into model inputs and model outputs into maps, as a manifest says
// (manifest.h): the only place where pre- and post-processing happen, for every model.
#pragma once

#include <opencv2/core.hpp>

#include "core/status.h"
#include "image/image.h"
#include "ml/inference.h"
#include "ml/manifest.h"

namespace atelier::ml {

// Any image (gray/RGB/RGBA, 8/16-bit/float) -> 1×3×H×W float tensor: converted to 8-bit
// RGB, bilinear resize to the model's width×height (aspect not kept, the manifest's
// sampling convention, rounded to 8 bits), channels in the manifest's order,
// value (v − mean[c]) / std[c].
Tensor make_input_tensor(const image::Image& img, const Preprocess& pre);

// The output tensor (1×1×H×W, 1×H×W or H×W) -> CV_32FC1 map in [0,1] at the model's
// resolution: activation, optional min-max normalisation, clamp.
Result<cv::Mat> output_to_map(const Tensor& output, const Postprocess& post);

}  // namespace atelier::ml
