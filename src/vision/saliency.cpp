#include "vision/saliency.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>
#include <opencv2/saliency.hpp>

#include "vision/analysis_cache.h"
#include "vision/colour_estimates.h"
#include "vision/subject.h"

namespace atelier::vision {
namespace {

cv::Mat normalised(const cv::Mat& m) {
  double lo, hi;
  cv::minMaxLoc(m, &lo, &hi);
  cv::Mat out;
  if (hi > lo) m.convertTo(out, CV_32F, 1.0 / (hi - lo), -lo / (hi - lo));
  else out = cv::Mat::zeros(m.size(), CV_32F);
  return out;
}

cv::Mat spectral_residual(const cv::Mat& gray8) {
  static cv::Ptr<cv::saliency::StaticSaliencySpectralResidual> sr = cv::saliency::StaticSaliencySpectralResidual::create();
  static std::mutex mu;
  std::lock_guard lock(mu);
  cv::Mat out;
  if (!sr->computeSaliency(gray8, out)) return cv::Mat::zeros(gray8.size(), CV_32F);
  out.convertTo(out, CV_32F);
  return normalised(out);
}

// Faces in photo coordinates, detected on a copy at most 640 pixels on its long side.
std::vector<cv::Rect> detect_faces(const image::Image& photo, bool& available) {
  static std::mutex mu;
  static cv::CascadeClassifier cascade;
  static bool loaded = false, tried = false;
  std::lock_guard lock(mu);
  if (!tried) {
    tried = true;
    const std::string file = face_cascade_path() + "/haarcascade_frontalface_alt2.xml";
    std::error_code ec;
    loaded = std::filesystem::exists(file, ec) && cascade.load(file);
  }
  available = loaded;
  if (!loaded) return {};
  const cv::Size small = working_size(cv::Size(photo.width(), photo.height()), 640);
  cv::Mat rgb = image::to_rgb8(photo).mat(), gray;
  cv::resize(rgb, rgb, small, 0, 0, cv::INTER_AREA);
  cv::cvtColor(rgb, gray, cv::COLOR_RGB2GRAY);
  cv::equalizeHist(gray, gray);
  std::vector<cv::Rect> found;
  cascade.detectMultiScale(gray, found, 1.1, 5, 0, cv::Size(20, 20));
  const double sx = double(photo.width()) / small.width, sy = double(photo.height()) / small.height;
  for (cv::Rect& r : found) {
    r = cv::Rect(int(std::lround(r.x * sx)), int(std::lround(r.y * sy)), int(std::lround(r.width * sx)),
                 int(std::lround(r.height * sy)));
  }
  return found;
}

}  // namespace

cv::Mat centre_prior(cv::Size size, float sigma, float power) {
  cv::Mat m(size, CV_32F);
  for (int y = 0; y < size.height; ++y) {
    const double dy = (y + 0.5 - size.height / 2.0) / (sigma * size.height);
    for (int x = 0; x < size.width; ++x) {
      const double dx = (x + 0.5 - size.width / 2.0) / (sigma * size.width);
      m.at<float>(y, x) = float(std::exp(-power * (dx * dx + dy * dy) / 2));
    }
  }
  return m;
}

std::string face_cascade_path() {
  if (const char* p = std::getenv("ATELIER_CASCADES"); p && *p) return p;
  return "/usr/share/opencv4/haarcascades";
}

Result<SaliencyOptions::Source> parse_saliency_source(std::string_view text) {
  if (text == "auto") return SaliencyOptions::Source::kAuto;
  if (text == "model") return SaliencyOptions::Source::kModel;
  if (text == "fast") return SaliencyOptions::Source::kFast;
  return invalid_argument("bad saliency source '" + std::string(text) + "' (auto, model or fast)");
}

namespace {

// `key`: image_key(photo), or empty to compute it only if the model is used.
Result<SaliencyMap> saliency_of(const image::Image& photo, const SaliencyOptions& opt, std::string key) {
  if (photo.empty()) return invalid_argument("empty image");
  const cv::Size full(photo.width(), photo.height());
  const cv::Size work = working_size(full, opt.work_size);
  const SaliencyWeights& w = opt.weights;
  SaliencyMap out;
  out.image_size = full;

  // Subject probability from the model (cached per image), unless fast or unavailable.
  cv::Mat content = cv::Mat::zeros(work, CV_32F);
  out.source = "fast";
  if (opt.source != SaliencyOptions::Source::kFast && w.subject > 0) {
    auto session = ml::get_session(opt.model, opt.backend);
    if (session.ok()) {
      if (key.empty()) key = image_key(photo);
      ATELIER_ASSIGN_OR_RETURN(SubjectMap subject, cached_subject(photo, **session, key));
      cv::Mat small;
      cv::resize(subject.probability, small, work, 0, 0, cv::INTER_AREA);
      content += w.subject * small;
      out.source = opt.model;
    } else if (opt.source == SaliencyOptions::Source::kModel || session.status().code() != StatusCode::kNotFound) {
      return session.status();
    }
  }

  // Spectral residual on the photo at the working size.
  cv::Mat rgb = image::to_rgb8(photo).mat(), small_rgb, gray;
  cv::resize(rgb, small_rgb, work, 0, 0, cv::INTER_AREA);
  cv::cvtColor(small_rgb, gray, cv::COLOR_RGB2GRAY);
  if (w.spectral > 0) content += w.spectral * spectral_residual(gray);

  const double sigma = w.blur * std::max(work.width, work.height);
  if (sigma > 0) cv::GaussianBlur(content, content, cv::Size(), sigma, sigma, cv::BORDER_REFLECT);
  cv::Mat map = normalised(content) + w.floor;

  map = normalised(map.mul(centre_prior(work, w.centre_sigma, w.centre_power)));

  // A Gaussian per face (sigma: half the face's width), wherever it is.
  if (opt.faces && w.faces > 0) {
    out.faces = detect_faces(photo, out.faces_available);
    const double sx = double(work.width) / full.width, sy = double(work.height) / full.height;
    cv::Mat faces = cv::Mat::zeros(work, CV_32F);
    for (const cv::Rect& f : out.faces) {
      const double cx = (f.x + f.width / 2.0) * sx, cy = (f.y + f.height / 2.0) * sy;
      const double s = std::max(1.0, f.width * sx / 2.0);
      for (int y = 0; y < work.height; ++y) {
        float* row = faces.ptr<float>(y);
        for (int x = 0; x < work.width; ++x) {
          const double d2 = (x + 0.5 - cx) * (x + 0.5 - cx) + (y + 0.5 - cy) * (y + 0.5 - cy);
          row[x] = std::max(row[x], float(std::exp(-d2 / (2 * s * s))));
        }
      }
    }
    map += w.faces * faces;
  }
  out.map = normalised(map);
  return out;
}

}  // namespace

Result<SaliencyMap> compute_saliency(const image::Image& photo, const SaliencyOptions& opt) {
  return saliency_of(photo, opt, {});
}

Result<SaliencyMap> cached_saliency(const image::Image& photo, const SaliencyOptions& opt, const std::string& key) {
  const SaliencyWeights& w = opt.weights;
  char what[256];
  std::snprintf(what, sizeof what, "saliency:%d:%s:%d:%d:%g:%g:%g:%g:%g:%g:%g", int(opt.source), opt.model.c_str(),
                opt.work_size, int(opt.faces), w.subject, w.spectral, w.faces, w.blur, w.floor, w.centre_sigma,
                w.centre_power);
  return AnalysisCache::global().get<SaliencyMap>(key, what, [&] { return saliency_of(photo, opt, key); });
}

}  // namespace atelier::vision
