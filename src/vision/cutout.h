// Background removal: the subject's alpha matte from a segmentation model, refined at
// full resolution, the foreground colours decontaminated, composited over a new
// background (transparent, a colour, an image, or a blur of the photo), optionally
// trimmed to the subject. The CLI's `atelier cutout` and the HTTP API call this.
//
//   auto r = atelier::vision::cutout(photo, {.background = *parse_background("#ffffff")});
//
// Thread-safety: concurrent calls are safe; inference on one model is serialised.
#pragma once

#include <string>

#include <opencv2/core.hpp>

#include "core/status.h"
#include "image/image.h"
#include "ml/inference.h"
#include "vision/background.h"
#include "vision/foreground.h"
#include "vision/matte_refine.h"
#include "vision/subject.h"

namespace atelier::vision {

struct CutoutOptions {
  std::string model = "isnet";  // an installed model (atelier models list)
  ml::BackendOptions backend;   // threads, fast convolution
  bool refine = true;           // edge-aware refinement of the matte (matte_refine.h)
  bool decontaminate = true;    // foreground colour estimation (foreground.h)
  Background background;        // what replaces the old background
  bool mask_only = false;       // return the 8-bit matte alone
  bool trim = false;            // crop to the subject's bounds ...
  int margin = 0;               // ... plus this many pixels on each side (clamped to the photo)
  float trim_threshold = 0.04f; // alpha above this counts as subject for trimming
  RefineOptions refine_options;
  ForegroundOptions foreground_options;
};

struct CutoutTimings {
  double inference = 0;   // model pre-processing, inference and post-processing
  double matte = 0;       // upsampling / refinement
  double foreground = 0;  // decontamination
  double composite = 0;   // backdrop and compositing
};

struct CutoutResult {
  // mask_only: 8-bit gray matte. Otherwise RGBA (RGB when the background is opaque), 16-bit
  // when the photo is 16-bit, else 8-bit; straight (non-premultiplied) alpha.
  image::Image image;
  cv::Rect crop;  // the region of the photo the result covers (the whole photo unless trim)
  CutoutTimings timings;
};

// Runs the model (loaded once per process, see ml::get_session) and then cutout_with_matte.
// Errors: kNotFound model not installed; kInvalidArgument "no subject found" with trim.
Result<CutoutResult> cutout(const image::Image& photo, const CutoutOptions& options);

// The same pipeline from a given subject map (any size), without a model.
Result<CutoutResult> cutout_with_matte(const image::Image& photo, const SubjectMap& coarse, const CutoutOptions& options);

}  // namespace atelier::vision
