// crop and saliency as operations (operation.h): what their checked values stand for,
// built here for the CLI and the HTTP service alike.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "ops/operation.h"
#include "vision/saliency.h"
#include "vision/smart_crop.h"

namespace atelier::ops {

// saliency=auto|model|fast and model=NAME.
Result<vision::SaliencyOptions> saliency_options(const OptionValues& values, const RunContext& ctx);

struct CropTarget {
  vision::Aspect aspect;
  std::optional<cv::Size> size;  // size=WxH: resized to this after cropping
};
struct CropPlan {
  vision::CropOptions options;
  std::vector<CropTarget> targets;  // aspects first, then sizes, in the order given
  bool allow_upscale = false;
};
// Errors: "--aspect: bad aspect '0:1' (...)", "crop: give at least one --aspect or --size",
// "--allow-upscale: only with --size", a size over the output limits.
Result<CropPlan> crop_plan(const OptionValues& values, const RunContext& ctx);

// "1024x768" -> 1024×768; each side 1..limit. Error: "<flag>: expected WxH such as
// 1280x720, got '<text>'".
Result<cv::Size> parse_crop_size(const std::string& flag, const std::string& text, int limit = 100000);

}  // namespace atelier::ops
