#include "vision/foreground.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "vision/colour_estimates.h"
#include "image/resample.h"
#include "image/runs.h"

namespace atelier::vision {
namespace {

// Columns [x0, x1) of F (floats in [0,1]) into row y of `out`, rounded half up.
template <typename T>
void store_span(cv::Mat& out, int y, const float* v, int x0, int x1, float scale) {
  T* p = out.ptr<T>(y);
  for (int i = 3 * x0; i < 3 * x1; ++i) {
    if constexpr (std::is_floating_point_v<T>) p[i] = v[i];
    else p[i] = T(std::clamp(v[i], 0.f, 1.f) * scale + 0.5f);
  }
}

// Row y of the photo as RGB in `out` (of the photo's depth): where α = 1, F is the photo.
template <typename T>
void copy_rgb_row(const cv::Mat& photo, int y, cv::Mat& out) {
  const T* p = photo.ptr<T>(y);
  T* o = out.ptr<T>(y);
  const int c = photo.channels();
  if (c == 3) {
    std::copy_n(p, std::size_t(photo.cols) * 3, o);
    return;
  }
  for (int x = 0; x < photo.cols; ++x) {
    const T* px = p + std::ptrdiff_t(x) * c;
    o[3 * x] = px[0];
    o[3 * x + 1] = c >= 3 ? px[1] : px[0];
    o[3 * x + 2] = c >= 3 ? px[2] : px[0];
  }
}

}  // namespace

cv::Mat estimate_foreground(const image::Image& photo, const cv::Mat& alpha, const ForegroundOptions& opt,
                            WorkingRgbCache* working) {
  CV_Assert(alpha.type() == CV_32FC1 && alpha.cols == photo.width() && alpha.rows == photo.height());
  const cv::Size full = alpha.size();
  const cv::Size work = working_size(full, opt.work_size);

  // F̂ and B̂ at the working resolution, from confident pixels only.
  cv::Mat small_alpha;
  cv::resize(alpha, small_alpha, work, 0, 0, cv::INTER_AREA);
  ColourEstimates est =
      estimate_colours(working ? working->at(work) : working_rgb(photo, work), small_alpha, opt.confident_background,
                       opt.confident_subject);
  const image::RowUpsampler f_rows(est.subject, full), b_rows(est.background, full);

  // F = F̂ + α(I − αF̂ − (1−α)B̂) at full resolution, row by row.
  const int depth = photo.depth();  // an Image is 8-bit, 16-bit or float
  CV_Assert(depth == CV_8U || depth == CV_16U || depth == CV_32F);
  cv::Mat out(full, CV_MAKETYPE(depth, 3));
  const float scale = depth == CV_16U ? 65535.f : 255.f;
  cv::parallel_for_(cv::Range(0, full.height), [&](const cv::Range& rows) {
    const std::size_t n = std::size_t(full.width) * 3;
    std::vector<float> rgb(n), fh(n), bh(n), f(n);
    for (int y = rows.start; y < rows.end; ++y) {
      const float* a = alpha.ptr<float>(y);
      // F is estimated for soft pixels (0 < α < 1) only; elsewhere it is the photo's own
      // colour (copied first): opaque pixels are the subject, and where α = 0 F cannot be
      // seen in any composite.
      auto soft = [&](int x) { return !(a[x] >= 1.f) && !(a[x] <= 0.f); };
      auto estimate_run = [&](int x0, int x1) {
        image::read_rgb_row(photo.mat(), y, rgb.data(), x0, x1);
        f_rows.row(y, fh.data(), x0, x1);
        b_rows.row(y, bh.data(), x0, x1);
        for (int x = x0; x < x1; ++x) {
          float* fx = &f[std::size_t(3 * x)];
          const float* ix = &rgb[std::size_t(3 * x)];
          if (!soft(x)) {  // between two soft runs: the photo
            fx[0] = ix[0], fx[1] = ix[1], fx[2] = ix[2];
            continue;
          }
          const float ax = std::clamp(a[x], 0.f, 1.f);
          const float* fhx = &fh[std::size_t(3 * x)];
          const float* bhx = &bh[std::size_t(3 * x)];
          for (int c = 0; c < 3; ++c) {
            const float residual = ix[c] - ax * fhx[c] - (1.f - ax) * bhx[c];
            fx[c] = std::clamp(fhx[c] + ax * residual, 0.f, 1.f);
          }
        }
        switch (depth) {
          case CV_8U: store_span<std::uint8_t>(out, y, f.data(), x0, x1, scale); break;
          case CV_16U: store_span<std::uint16_t>(out, y, f.data(), x0, x1, scale); break;
          default: store_span<float>(out, y, f.data(), x0, x1, 1.f); break;
        }
      };
      switch (depth) {
        case CV_8U: copy_rgb_row<std::uint8_t>(photo.mat(), y, out); break;
        case CV_16U: copy_rgb_row<std::uint16_t>(photo.mat(), y, out); break;
        default: copy_rgb_row<float>(photo.mat(), y, out); break;
      }
      image::for_each_run(full.width, soft, 32, estimate_run);
    }
  });
  return out;
}

}  // namespace atelier::vision
