// Measuring saliency and smart crop against human eye fixations (`atelier eval saliency`,
// `atelier eval crop`), on a folder laid out like NUS / MIT saliency datasets:
// DIR/stimuli/<stem>.jpg with DIR/density_maps/<stem>.png (fixation density, 8-bit).
// Metrics follow the MIT saliency benchmark: CC (Pearson correlation), SIM (histogram
// intersection of the two maps as distributions) and KL (KL divergence of the fixation
// distribution from the saliency one; lower is better), computed at the saliency map's
// resolution; a crop is scored by the share of fixation density it keeps.
#pragma once

#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/status.h"
#include "vision/smart_crop.h"

namespace atelier::vision {

double correlation_coefficient(const cv::Mat& saliency, const cv::Mat& density);
double similarity(const cv::Mat& saliency, const cv::Mat& density);
double kl_divergence(const cv::Mat& saliency, const cv::Mat& density);
// Share of `density` (any size; the photo's pixels) inside `window`.
double kept_share(const cv::Mat& density, const cv::Rect& window);
// The largest window of `aspect`, centred (the baseline every crop should beat).
cv::Rect centre_window(cv::Size photo, const Aspect& aspect);

struct FixationImage {
  std::string stem;
  std::filesystem::path image, density;
};
// Pairs DIR/stimuli/*.{jpg,jpeg,png} with DIR/density_maps/<stem>.png, sorted by stem.
Result<std::vector<FixationImage>> load_fixation_dataset(const std::filesystem::path& dir);

struct SaliencyScores {
  double cc = 0, sim = 0, kl = 0;
};
struct SaliencyEvalRow {
  std::string stem;
  SaliencyScores atelier, centre;  // centre: the centre-bias Gaussian alone, as a baseline
};
struct SaliencyEvalReport {
  std::vector<SaliencyEvalRow> rows;
  SaliencyEvalRow mean;
  std::string source;  // model name or "fast"
};
Result<SaliencyEvalReport> evaluate_saliency(std::span<const FixationImage> images, const SaliencyOptions& options);

// Rectangles from another method, by stem and aspect name (e.g. "9x16"), photo pixels.
using ExtraCrops = std::map<std::string, std::map<std::string, cv::Rect>>;
// Reads {"<stem>": {"9:16": [x, y, w, h], ...}, ...}. Keys "9:16" are matched to aspects by
// their W:H text.
Result<ExtraCrops> load_extra_crops(const std::filesystem::path& json_file);

struct CropEvalRow {
  std::string stem;
  // by aspect name: method -> kept share ("atelier", "centre", "best", extras' names)
  std::map<std::string, std::map<std::string, double>> kept;
};
struct CropEvalReport {
  std::vector<Aspect> aspects;
  std::vector<std::string> methods;  // atelier, centre, best, then extras
  std::vector<CropEvalRow> rows;
  CropEvalRow mean;
};
Result<CropEvalReport> evaluate_crop(std::span<const FixationImage> images, std::span<const Aspect> aspects,
                                     const CropOptions& options, const std::map<std::string, ExtraCrops>& extras);

}  // namespace atelier::vision
