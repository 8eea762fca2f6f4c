// Foreground colour estimation ("decontamination"): at a soft edge a pixel's colour is
// I = αF + (1−α)B, a mix of the subject F and the old background B. Compositing I itself
// on a new background leaves a fringe of the old one; compositing F does not.
//
// Method: blur-fusion's correction step (Forte & Pitié, "Approximate Fast Foreground
// Colour Estimation", ICIP 2021),
//   F = F̂ + α(I − αF̂ − (1−α)B̂),
// with the smooth estimates F̂ and B̂ taken only from confident pixels (α ≥ 0.95 for F̂,
// α ≤ 0.05 for B̂) and spread into the uncertain band by a push-pull pyramid (normalised
// averaging over 2× coarser levels, finer levels winning where they have data). Unlike
// plain blur-fusion, which averages the contaminated edge pixels themselves into F̂, a
// clean two-colour edge is recovered exactly. The estimates live at a working resolution;
// the correction runs row by row at full resolution, so memory stays at a few planes of
// the working size plus the output.
#pragma once

#include <opencv2/core.hpp>

#include "image/image.h"

namespace atelier::vision {

class WorkingRgbCache;  // vision/colour_estimates.h

struct ForegroundOptions {
  int work_size = 1024;             // long side of the F̂/B̂ estimates
  float confident_subject = 0.95f;  // α at or above: the pixel's colour is F
  float confident_background = 0.05f;  // α at or below: the pixel's colour is B
};

// photo: gray/RGB/RGBA, 8/16-bit or float; alpha: CV_32FC1 of the photo's size in [0,1].
// Returns F as 3 channels of the photo's depth (8/16-bit or float), RGB order. F is
// estimated where 0 < α < 1; where α = 1 it equals the photo, and where α = 0 (F cannot
// show in any composite) the photo too, so that a full-resolution pass costs only the soft
// edge.
// working: the photo's working_rgb cache (null: resized here).
cv::Mat estimate_foreground(const image::Image& photo, const cv::Mat& alpha, const ForegroundOptions& options = {},
                            WorkingRgbCache* working = nullptr);

}  // namespace atelier::vision
