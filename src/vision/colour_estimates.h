// Smooth estimates of the subject's and the background's colours everywhere, taken only
// from pixels whose alpha is confident and spread into the uncertain band around the
// subject by a push-pull pyramid. Matte refinement uses them to place soft edges by
// colour; foreground estimation uses them to remove the old background's tint.
// Everything here runs at a working resolution (long side ~1024).
#pragma once

#include <opencv2/core.hpp>

#include "image/image.h"

namespace atelier::vision {

// `full` scaled so that its long side is at most `long_side` (never enlarged).
cv::Size working_size(cv::Size full, int long_side);

// The photo at `size` (area-averaged) as CV_32FC3 RGB in [0,1].
cv::Mat working_rgb(const image::Image& photo, cv::Size size);

// working_rgb of one photo, computed on first use and kept for the next request of the
// same size, so that the steps of one cutout (refinement, foreground estimation) resize
// the photo once. The photo must outlive the cache.
class WorkingRgbCache {
 public:
  explicit WorkingRgbCache(const image::Image& photo) : photo_(photo) {}
  const cv::Mat& at(cv::Size size);

 private:
  const image::Image& photo_;
  cv::Mat rgb_;
};

// Fills every pixel of `values` (CV_32FC3) where `weight` (CV_32FC1, ≥ 0) is small from
// the weighted values around it: weighted averages over 2× coarser levels, finer levels
// winning wherever a quarter of their area has weight (push-pull).
cv::Mat push_pull_fill(const cv::Mat& values, const cv::Mat& weight);

struct ColourEstimates {
  cv::Mat subject;     // F̂: CV_32FC3, from pixels with alpha >= confident_subject
  cv::Mat background;  // B̂: CV_32FC3, from pixels with alpha <= confident_background
};

// rgb: CV_32FC3; alpha: CV_32FC1 of the same size.
ColourEstimates estimate_colours(const cv::Mat& rgb, const cv::Mat& alpha, float confident_background,
                                 float confident_subject);

}  // namespace atelier::vision
