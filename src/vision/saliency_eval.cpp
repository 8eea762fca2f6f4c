#include "vision/saliency_eval.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "core/files.h"
#include "image/codec.h"

namespace atelier::vision {
namespace fs = std::filesystem;
namespace {

constexpr double kEps = 2.2204e-16;  // as the MIT benchmark's code

cv::Mat as_distribution(const cv::Mat& m) {
  cv::Mat d;
  m.convertTo(d, CV_64F);
  const double s = cv::sum(d)[0];
  if (s > 0) d /= s;
  return d;
}

cv::Mat density_at(const cv::Mat& density, cv::Size size) {
  cv::Mat d;
  density.convertTo(d, CV_32F);
  if (d.size() != size) cv::resize(d, d, size, 0, 0, cv::INTER_AREA);
  return d;
}

Result<cv::Mat> read_density(const fs::path& p) {
  ATELIER_ASSIGN_OR_RETURN(image::Image img, image::read_image(p));
  cv::Mat gray = img.mat();
  if (gray.channels() != 1) cv::extractChannel(gray, gray, 0);
  cv::Mat d;
  gray.convertTo(d, CV_32F);
  return d;
}

std::string ratio_key(const Aspect& a) { return std::to_string(a.width) + ":" + std::to_string(a.height); }

}  // namespace

double correlation_coefficient(const cv::Mat& saliency, const cv::Mat& density) {
  cv::Mat a, b;
  saliency.convertTo(a, CV_64F);
  density.convertTo(b, CV_64F);
  cv::Scalar ma, sa, mb, sb;
  cv::meanStdDev(a, ma, sa);
  cv::meanStdDev(b, mb, sb);
  if (sa[0] <= 0 || sb[0] <= 0) return 0;
  return cv::mean((a - ma[0]).mul(b - mb[0]))[0] / (sa[0] * sb[0]);
}

double similarity(const cv::Mat& saliency, const cv::Mat& density) {
  cv::Mat m;
  cv::min(as_distribution(saliency), as_distribution(density), m);
  return cv::sum(m)[0];
}

double kl_divergence(const cv::Mat& saliency, const cv::Mat& density) {
  const cv::Mat p = as_distribution(saliency), q = as_distribution(density);
  double kl = 0;
  for (int y = 0; y < q.rows; ++y) {
    for (int x = 0; x < q.cols; ++x) {
      const double qv = q.at<double>(y, x);
      kl += qv * std::log(kEps + qv / (p.at<double>(y, x) + kEps));
    }
  }
  return kl;
}

double kept_share(const cv::Mat& density, const cv::Rect& window) {
  const double total = cv::sum(density)[0];
  if (total <= 0) return 0;
  return cv::sum(density(window & cv::Rect(0, 0, density.cols, density.rows)))[0] / total;
}

cv::Rect centre_window(cv::Size photo, const Aspect& aspect) {
  const cv::Size w = largest_window(photo, aspect);
  return {(photo.width - w.width) / 2, (photo.height - w.height) / 2, w.width, w.height};
}

Result<std::vector<FixationImage>> load_fixation_dataset(const fs::path& dir) {
  const fs::path stimuli = dir / "stimuli", maps = dir / "density_maps";
  std::error_code ec;
  if (!fs::is_directory(stimuli, ec) || !fs::is_directory(maps, ec)) {
    return invalid_argument(dir.string() + ": expected stimuli/ and density_maps/ folders in it");
  }
  std::vector<FixationImage> out;
  for (const auto& e : fs::directory_iterator(stimuli, ec)) {
    std::string ext = e.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    if (ext != ".jpg" && ext != ".jpeg" && ext != ".png") continue;
    const std::string stem = e.path().stem().string();
    const fs::path density = maps / (stem + ".png");
    if (!fs::exists(density, ec)) return invalid_argument(density.string() + ": no fixation map for " + e.path().string());
    out.push_back({stem, e.path(), density});
  }
  if (out.empty()) return invalid_argument(stimuli.string() + ": no images");
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.stem < b.stem; });
  return out;
}

Result<SaliencyEvalReport> evaluate_saliency(std::span<const FixationImage> images, const SaliencyOptions& options) {
  SaliencyEvalReport report;
  report.mean.stem = "mean";
  for (const auto& item : images) {
    ATELIER_ASSIGN_OR_RETURN(image::Image photo, image::read_image(item.image));
    ATELIER_ASSIGN_OR_RETURN(cv::Mat density, read_density(item.density));
    ATELIER_ASSIGN_OR_RETURN(SaliencyMap s, compute_saliency(photo, options));
    report.source = s.source;
    const cv::Mat d = density_at(density, s.map.size());
    const cv::Mat c = centre_prior(s.map.size(), options.weights.centre_sigma, 1.0f);  // the Gaussian alone
    SaliencyEvalRow row{item.stem,
                        {correlation_coefficient(s.map, d), similarity(s.map, d), kl_divergence(s.map, d)},
                        {correlation_coefficient(c, d), similarity(c, d), kl_divergence(c, d)}};
    for (auto [sum, v] : {std::pair{&report.mean.atelier, &row.atelier}, {&report.mean.centre, &row.centre}}) {
      sum->cc += v->cc / double(images.size());
      sum->sim += v->sim / double(images.size());
      sum->kl += v->kl / double(images.size());
    }
    report.rows.push_back(std::move(row));
  }
  return report;
}

Result<ExtraCrops> load_extra_crops(const fs::path& json_file) {
  ATELIER_ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes, read_file(json_file, 64u << 20));
  nlohmann::json j = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return invalid_argument(json_file.string() + ": not a JSON object");
  ExtraCrops out;
  try {
    for (const auto& [stem, by_aspect] : j.items()) {
      for (const auto& [aspect, r] : by_aspect.items()) {
        out[stem][aspect] = cv::Rect(r.at(0).get<int>(), r.at(1).get<int>(), r.at(2).get<int>(), r.at(3).get<int>());
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return invalid_argument(json_file.string() + ": expected {\"stem\": {\"W:H\": [x, y, w, h]}}: " + e.what());
  }
  return out;
}

Result<CropEvalReport> evaluate_crop(std::span<const FixationImage> images, std::span<const Aspect> aspects,
                                     const CropOptions& options, const std::map<std::string, ExtraCrops>& extras) {
  CropEvalReport report;
  report.aspects.assign(aspects.begin(), aspects.end());
  report.methods = {"atelier", "centre", "best"};
  for (const auto& [name, crops] : extras) report.methods.push_back(name);
  report.mean.stem = "mean";
  CropOptions best_options;  // the best possible window: searched on the fixations themselves
  best_options.border_penalty = 0;
  for (const auto& item : images) {
    ATELIER_ASSIGN_OR_RETURN(image::Image photo, image::read_image(item.image));
    ATELIER_ASSIGN_OR_RETURN(cv::Mat density, read_density(item.density));
    if (density.size() != photo.mat().size()) cv::resize(density, density, photo.mat().size(), 0, 0, cv::INTER_LINEAR);
    ATELIER_ASSIGN_OR_RETURN(CropResult ours, smart_crop(photo, aspects, options));
    const cv::Size size(photo.width(), photo.height());
    const cv::Mat small_density = density_at(density, ours.saliency.map.size());
    const std::vector<CropWindow> best = find_windows(small_density, size, aspects, best_options);
    CropEvalRow row{item.stem, {}};
    for (std::size_t i = 0; i < aspects.size(); ++i) {
      auto& k = row.kept[aspects[i].name];
      k["atelier"] = kept_share(density, ours.windows[i].rect);
      k["centre"] = kept_share(density, centre_window(size, aspects[i]));
      k["best"] = kept_share(density, best[i].rect);
      for (const auto& [name, crops] : extras) {
        const auto by_stem = crops.find(item.stem);
        const cv::Rect* rect = nullptr;
        if (by_stem != crops.end()) {
          const auto r = by_stem->second.find(ratio_key(aspects[i]));
          if (r != by_stem->second.end()) rect = &r->second;
        }
        if (!rect) return invalid_argument(name + ": no " + ratio_key(aspects[i]) + " crop for " + item.stem);
        k[name] = kept_share(density, *rect);
      }
      for (const auto& [method, v] : k) report.mean.kept[aspects[i].name][method] += v / double(images.size());
    }
    report.rows.push_back(std::move(row));
  }
  return report;
}

}  // namespace atelier::vision
