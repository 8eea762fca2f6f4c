#include "vision/cutout.h"

#include <chrono>
#include <cstdint>

#include <opencv2/imgproc.hpp>

#include "image/composite.h"
#include "vision/analysis_cache.h"
#include "vision/colour_estimates.h"
#include "vision/subject.h"

namespace atelier::vision {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Bounds of alpha > threshold, grown by margin and clamped; empty when there is none.
cv::Rect subject_bounds(const cv::Mat& alpha, float threshold, int margin) {
  cv::Mat mask = alpha > threshold;
  cv::Rect r = cv::boundingRect(mask);
  if (r.area() == 0) return {};
  // In 64 bits: a margin near INT_MAX must clamp to the photo, not wrap to nothing.
  const std::int64_t m = margin;
  const std::int64_t x0 = std::max<std::int64_t>(0, r.x - m), y0 = std::max<std::int64_t>(0, r.y - m);
  const std::int64_t x1 = std::min<std::int64_t>(alpha.cols, std::int64_t(r.x) + r.width + m);
  const std::int64_t y1 = std::min<std::int64_t>(alpha.rows, std::int64_t(r.y) + r.height + m);
  return cv::Rect(int(x0), int(y0), int(x1 - x0), int(y1 - y0));
}

// Alpha within half an output level of 0 or 1 becomes exactly 0 or 1: the written alpha
// is the same (it rounds there anyway), and the full-resolution passes after it treat
// those pixels as background or subject instead of estimating colours for a model's
// 0.0003 or 0.9996 over the whole photo.
void snap_to_output_levels(cv::Mat& alpha, int depth) {
  const float half = depth == CV_16U ? 0.5f / 65535.f : 0.5f / 255.f;
  cv::parallel_for_(cv::Range(0, alpha.rows), [&](const cv::Range& rows) {
    for (int y = rows.start; y < rows.end; ++y) {
      float* a = alpha.ptr<float>(y);
      for (int x = 0; x < alpha.cols; ++x) a[x] = a[x] < half ? 0.f : a[x] > 1.f - half ? 1.f : a[x];
    }
  });
}

}  // namespace

Result<CutoutResult> cutout(const image::Image& photo, const CutoutOptions& options) {
  if (photo.empty()) return invalid_argument("empty image");
  ATELIER_ASSIGN_OR_RETURN(std::shared_ptr<ml::Session> session, ml::get_session(options.model, options.backend));
  auto t = Clock::now();
  ATELIER_ASSIGN_OR_RETURN(SubjectMap coarse, cached_subject(photo, *session, image_key(photo)));
  double inference = since(t);
  ATELIER_ASSIGN_OR_RETURN(CutoutResult result, cutout_with_matte(photo, coarse, options));
  result.timings.inference = inference;
  return result;
}

Result<CutoutResult> cutout_with_matte(const image::Image& photo, const SubjectMap& coarse, const CutoutOptions& options) {
  if (photo.empty()) return invalid_argument("empty image");
  if (coarse.probability.type() != CV_32FC1 || coarse.probability.empty()) {
    return invalid_argument("the subject map must be a CV_32FC1 map");
  }
  if (options.margin < 0) return invalid_argument("margin must not be negative");
  CutoutResult result;
  const cv::Size size(photo.width(), photo.height());

  auto t = Clock::now();
  WorkingRgbCache working(photo);  // refinement's guide is foreground estimation's photo too
  cv::Mat alpha =
      options.refine ? refine_matte(coarse, photo, options.refine_options, &working) : upsample_matte(coarse, size);
  if (photo.has_alpha()) {  // a subject can only be as opaque as the photo was
    cv::Mat own;
    cv::extractChannel(photo.mat(), own, 3);
    const double scale = own.depth() == CV_16U ? 1.0 / 65535 : own.depth() == CV_8U ? 1.0 / 255 : 1.0;
    own.convertTo(own, CV_32F, scale);
    alpha = alpha.mul(own);
  }
  const int depth = photo.depth() == CV_16U ? CV_16U : CV_8U;
  snap_to_output_levels(alpha, depth);
  result.timings.matte = since(t);

  result.crop = cv::Rect(0, 0, size.width, size.height);
  if (options.trim) {
    result.crop = subject_bounds(alpha, options.trim_threshold, options.margin);
    if (result.crop.area() == 0) return invalid_argument("no subject found (nothing to trim to)");
  }

  if (options.mask_only) {
    cv::Mat mask;
    alpha(result.crop).convertTo(mask, CV_8U, 255.0);
    result.image = image::Image(mask);
    return result;
  }

  t = Clock::now();
  cv::Mat fg = options.decontaminate ? estimate_foreground(photo, alpha, options.foreground_options, &working) : photo.mat();
  result.timings.foreground = since(t);

  t = Clock::now();
  image::Backdrop back = make_backdrop(options.background, photo, alpha);
  const cv::Rect c = result.crop;
  if (!back.image.empty()) back.image = back.image(c);
  if (!back.alpha.empty()) back.alpha = back.alpha(c);
  cv::Mat out = image::composite_over(fg(c), alpha(c), back, depth, options.background.opaque());
  result.image = image::Image(out);
  result.timings.composite = since(t);
  return result;
}

}  // namespace atelier::vision
