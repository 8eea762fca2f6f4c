// Saliency: where people look in a photo, as a map in [0,1] at a working resolution with
// the photo's aspect ratio. It combines
//   - the subject probability of the segmentation model (shared with cutout through the
//     AnalysisCache, so a photo is never run through the model twice),
//   - spectral-residual saliency (Hou & Zhang 2007, OpenCV contrib; model-free),
//   - a face prior: a Gaussian on each face found by OpenCV's Haar cascade (frontalface_alt2,
//     which gave no false positives on nus_scene50 where the default one did; opencv-data),
//   - a centre bias (people look at the middle of pictures):
//     map = normalise((normalise(blur(subject·w_s + spectral·w_r)) + floor) × centre^centre_power
//                     + faces·w_f)
//   Faces are added after the centre bias: people look at a face wherever it is.
// The weights were chosen on ../shared/eval-dev/nus_scene50 (atelier eval saliency/crop).
#pragma once

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/status.h"
#include "image/image.h"
#include "ml/inference.h"

namespace atelier::vision {

struct SaliencyWeights {
  float subject = 1.0f;        // segmentation model's subject probability
  float spectral = 0.6f;       // spectral-residual saliency
  float faces = 1.0f;          // face prior
  float blur = 0.03f;          // Gaussian blur of the content, × the map's long side
  float floor = 0.1f;          // added to the normalised content: nothing is worth nothing
  float centre_sigma = 0.25f;  // centre Gaussian's sigma, × width and × height
  float centre_power = 2.0f;   // map ×= centre^centre_power
};

struct SaliencyOptions {
  // auto: the model when it is installed, else fast; model: the model or an error;
  // fast: no model (spectral residual, faces, centre).
  enum class Source { kAuto, kModel, kFast };
  Source source = Source::kAuto;
  std::string model = "isnet";
  ml::BackendOptions backend;
  SaliencyWeights weights;
  int work_size = 256;   // long side of the map
  bool faces = true;
};

// "auto", "model", "fast"
Result<SaliencyOptions::Source> parse_saliency_source(std::string_view text);

struct SaliencyMap {
  cv::Mat map;                   // CV_32FC1 in [0,1], work size, the photo's aspect ratio
  cv::Size image_size;           // the photo's size
  std::string source;            // the model's name, or "fast"
  std::vector<cv::Rect> faces;   // in photo coordinates
  bool faces_available = false;  // the cascade was found
};

// Errors: kNotFound with source kModel when the model is not installed.
Result<SaliencyMap> compute_saliency(const image::Image& photo, const SaliencyOptions& options);

// The same, cached per image content and options (AnalysisCache::global()); `key` is
// image_key(photo).
Result<SaliencyMap> cached_saliency(const image::Image& photo, const SaliencyOptions& options, const std::string& key);

// The centre-bias prior alone: exp(−(dx² + dy²)/2)^power with d = offset from the centre in
// units of sigma × width (× height); CV_32FC1 of `size`.
cv::Mat centre_prior(cv::Size size, float sigma, float power);

// Where the face cascade is read from: $ATELIER_CASCADES or /usr/share/opencv4/haarcascades.
std::string face_cascade_path();

}  // namespace atelier::vision
