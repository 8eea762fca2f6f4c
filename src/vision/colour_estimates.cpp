#include "vision/colour_estimates.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

namespace atelier::vision {

cv::Size working_size(cv::Size full, int long_side) {
  const double s = std::min(1.0, double(long_side) / std::max(full.width, full.height));
  return {std::max(1, int(std::lround(full.width * s))), std::max(1, int(std::lround(full.height * s)))};
}

cv::Mat working_rgb(const image::Image& photo, cv::Size size) {
  cv::Mat small;
  cv::resize(photo.mat(), small, size, 0, 0, cv::INTER_AREA);
  cv::Mat rgb(size, CV_32FC3);
  for (int y = 0; y < size.height; ++y) image::read_rgb_row(small, y, rgb.ptr<float>(y));
  return rgb;
}

const cv::Mat& WorkingRgbCache::at(cv::Size size) {
  if (rgb_.empty() || rgb_.size() != size) rgb_ = working_rgb(photo_, size);
  return rgb_;
}

cv::Mat push_pull_fill(const cv::Mat& values, const cv::Mat& weight) {
  CV_Assert(values.type() == CV_32FC3 && weight.type() == CV_32FC1 && values.size() == weight.size());
  // Push: weighted sums and weights, averaged down to 1×1.
  cv::Mat w3;
  cv::merge(std::vector<cv::Mat>(3, weight), w3);
  std::vector<cv::Mat> sums{values.mul(w3)}, weights{weight.clone()};
  while (sums.back().cols > 1 || sums.back().rows > 1) {
    cv::Size half((sums.back().cols + 1) / 2, (sums.back().rows + 1) / 2);
    cv::Mat s, w;
    cv::resize(sums.back(), s, half, 0, 0, cv::INTER_AREA);
    cv::resize(weights.back(), w, half, 0, 0, cv::INTER_AREA);
    sums.push_back(s);
    weights.push_back(w);
  }
  // Pull: from the coarsest level up, a level's own average where at least a quarter of
  // its area has weight, blended into the coarser estimate below that.
  cv::Mat estimate;
  for (int level = int(sums.size()) - 1; level >= 0; --level) {
    const cv::Mat& s = sums[std::size_t(level)];
    const cv::Mat& w = weights[std::size_t(level)];
    cv::Mat coarser;
    if (!estimate.empty()) cv::resize(estimate, coarser, s.size(), 0, 0, cv::INTER_LINEAR);
    cv::Mat next(s.size(), CV_32FC3);
    for (int y = 0; y < s.rows; ++y) {
      const cv::Vec3f* ps = s.ptr<cv::Vec3f>(y);
      const float* pw = w.ptr<float>(y);
      const cv::Vec3f* pc = coarser.empty() ? nullptr : coarser.ptr<cv::Vec3f>(y);
      cv::Vec3f* pn = next.ptr<cv::Vec3f>(y);
      for (int x = 0; x < s.cols; ++x) {
        const cv::Vec3f own = pw[x] > 1e-6f ? ps[x] / pw[x] : cv::Vec3f(0, 0, 0);
        const float t = pc ? std::min(1.f, 4.f * pw[x]) : 1.f;
        pn[x] = pc ? t * own + (1.f - t) * pc[x] : own;
      }
    }
    estimate = next;
  }
  return estimate;
}

ColourEstimates estimate_colours(const cv::Mat& rgb, const cv::Mat& alpha, float confident_background,
                                 float confident_subject) {
  cv::Mat subject_w, background_w;
  cv::threshold(alpha, subject_w, confident_subject - 1e-6, 1.0, cv::THRESH_BINARY);
  cv::threshold(alpha, background_w, confident_background, 1.0, cv::THRESH_BINARY_INV);
  return {push_pull_fill(rgb, subject_w), push_pull_fill(rgb, background_w)};
}

}  // namespace atelier::vision
