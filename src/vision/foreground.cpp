#include "vision/foreground.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "vision/colour_estimates.h"
#include "image/resample.h"

namespace atelier::vision {
namespace {

template <typename T>
void store_channels(cv::Mat& out, int y, const float* v, float scale) {
  T* p = out.ptr<T>(y);
  for (int i = 0; i < out.cols * 3; ++i) {
    if constexpr (std::is_floating_point_v<T>) p[i] = v[i];
    else p[i] = T(std::lround(std::clamp(v[i], 0.f, 1.f) * scale));
  }
}

}  // namespace

cv::Mat estimate_foreground(const image::Image& photo, const cv::Mat& alpha, const ForegroundOptions& opt) {
  CV_Assert(alpha.type() == CV_32FC1 && alpha.cols == photo.width() && alpha.rows == photo.height());
  const cv::Size full = alpha.size();
  const cv::Size work = working_size(full, opt.work_size);

  // F̂ and B̂ at the working resolution, from confident pixels only.
  cv::Mat small_alpha;
  cv::resize(alpha, small_alpha, work, 0, 0, cv::INTER_AREA);
  ColourEstimates est =
      estimate_colours(working_rgb(photo, work), small_alpha, opt.confident_background, opt.confident_subject);
  const image::RowUpsampler f_rows(est.subject, full), b_rows(est.background, full);

  // F = F̂ + α(I − αF̂ − (1−α)B̂) at full resolution, row by row.
  const int depth = photo.depth() == CV_16U ? CV_16U : photo.depth() == CV_8U ? CV_8U : CV_32F;
  cv::Mat out(full, CV_MAKETYPE(depth, 3));
  const float scale = depth == CV_16U ? 65535.f : 255.f;
  cv::parallel_for_(cv::Range(0, full.height), [&](const cv::Range& rows) {
    const std::size_t n = std::size_t(full.width) * 3;
    std::vector<float> rgb(n), fh(n), bh(n), f(n);
    for (int y = rows.start; y < rows.end; ++y) {
      image::read_rgb_row(photo.mat(), y, rgb.data());
      f_rows.row(y, fh.data());
      b_rows.row(y, bh.data());
      const float* a = alpha.ptr<float>(y);
      for (int x = 0; x < full.width; ++x) {
        const float ax = std::clamp(a[x], 0.f, 1.f);
        for (int c = 0; c < 3; ++c) {
          const std::size_t i = std::size_t(3 * x + c);
          if (ax >= 1.f) {
            f[i] = rgb[i];
            continue;
          }
          const float residual = rgb[i] - ax * fh[i] - (1.f - ax) * bh[i];
          f[i] = std::clamp(fh[i] + ax * residual, 0.f, 1.f);
        }
      }
      switch (depth) {
        case CV_8U: store_channels<std::uint8_t>(out, y, f.data(), scale); break;
        case CV_16U: store_channels<std::uint16_t>(out, y, f.data(), scale); break;
        default: store_channels<float>(out, y, f.data(), 1.f); break;
      }
    }
  });
  return out;
}

}  // namespace atelier::vision
