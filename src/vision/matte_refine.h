// From the model's coarse matte to a full-resolution alpha matte.
// upsample_matte: bilinear, nothing else (what the peers do).
// refine_matte: edge-aware refinement where the model's grid is coarser than the photo's:
// in a band around the matte's outline (its 0.5 contour) whose width grows with the
// upsampling factor (photo size / model size), in two parts combined per pixel:
//   1. a colour guided filter (He et al.) in its fast form, iterated: coefficients computed
//      at a working resolution and applied to the full-resolution photo, so the edge
//      follows the photo's own edges, not the model's 1024 grid;
//   2. a colour-line estimate: with F̂ and B̂ the local subject and background colours
//      (colour_estimates.h), α = (I − B̂)·(F̂ − B̂) / |F̂ − B̂|², trusted where the two colours
//      differ clearly and the pixel lies near the line between them. It puts soft edges
//      where the colours say (a mixed pixel gets a partial alpha, a subject-coloured pixel
//      the model missed gets 1) and removes the guided filter's texture ripple.
// Away from the band the result equals upsample_matte exactly; a photo no larger than the
// model's map has nothing to recover, and gets upsample_matte unchanged.
#pragma once

#include <opencv2/core.hpp>

#include "image/image.h"
#include "vision/subject.h"

namespace atelier::vision {

class WorkingRgbCache;  // vision/colour_estimates.h

struct RefineOptions {
  int work_size = 1024;          // long side of the working resolution
  int radius = 16;               // guided-filter window radius (working pixels)
  float eps = 1e-4f;             // regularisation, guide in [0,1]
  float confident_low = 0.1f;    // coarse values <= this are confident background (colours)
  float confident_high = 0.9f;   // coarse values >= this are confident subject (colours)
  float band_per_scale = 1.5f;   // band half-width in photo pixels per unit of upsampling
  int iterations = 2;            // the filter re-applied to its own output sharpens further
  bool colour_model = true;      // part 2 above
  float colour_separation = 0.12f;  // |F̂ − B̂| (RGB in [0,1]) from which colours are trusted ...
  float colour_fit = 0.15f;         // ... for pixels at most this far from the colour line
  float colour_agreement = 0.5f;    // ... and whose colour alpha is within this of the filter's
  float snap = 0.02f;            // refined values within this of 0 or 1 become 0 or 1
};

// The subject map resized bilinearly (with its own sampling convention) to `size`:
// CV_32FC1 in [0,1].
cv::Mat upsample_matte(const SubjectMap& coarse, cv::Size size);

// photo: the full-resolution image the map belongs to. Returns CV_32FC1 of its size.
// working: the photo's working_rgb cache to take the guide from and leave it in (null: a
// guide of its own).
cv::Mat refine_matte(const SubjectMap& coarse, const image::Image& photo, const RefineOptions& options = {},
                     WorkingRgbCache* working = nullptr);

}  // namespace atelier::vision
