// Subject analysis: the probability that each pixel belongs to the photo's main subject,
// from a segmentation model run through its manifest's pre- and post-processing.
#pragma once

#include <string>

#include <opencv2/core.hpp>

#include "core/status.h"
#include "image/image.h"
#include "image/resample.h"
#include "ml/inference.h"

namespace atelier::vision {

// A subject probability map at the model's resolution (e.g. 1024×1024 for ISNet, whatever
// the photo's aspect ratio) and the pixel-grid convention that maps it onto the photo.
struct SubjectMap {
  SubjectMap() = default;
  SubjectMap(cv::Mat p, image::Sampling s = image::Sampling::kHalfPixel)  // NOLINT: implicit
      : probability(std::move(p)), sampling(s) {}
  cv::Mat probability;  // CV_32FC1 in [0,1]
  image::Sampling sampling = image::Sampling::kHalfPixel;
};

// Runs the session's model on the photo with its manifest's pre- and post-processing.
Result<SubjectMap> predict_subject(const image::Image& photo, ml::Session& session);

// predict_subject through AnalysisCache::global(): the model runs once per image content
// (`key` = image_key(photo)) and model, whatever operation asks.
Result<SubjectMap> cached_subject(const image::Image& photo, ml::Session& session, const std::string& key);

}  // namespace atelier::vision
