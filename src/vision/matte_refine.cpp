#include "vision/matte_refine.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "vision/colour_estimates.h"
#include "image/box_filter.h"
#include "image/resample.h"
#include "image/runs.h"

namespace atelier::vision {
namespace {

// Colour guided filter (He, Sun, Tang 2013, eq. 19-21) at the working resolution, on the
// input that `input_row(y, out)` writes row by row: returns mean_a (3 channels) and mean_b
// packed as a CV_32FC4 map. The window means of I, p, I·p and I·Iᵀ (13 channels) are one
// streaming box filter whose rows are built on demand, so no full-size product is stored.
template <typename InputRow>
cv::Mat guided_coefficients(const cv::Mat& guide, InputRow input_row, int r, float eps) {
  const int w = guide.cols, h = guide.rows;
  cv::Mat ab(guide.size(), CV_32FC4);
  image::box_filter_rows(
      w, h, 13, r,
      [&](int y, float* row) {
        thread_local std::vector<float> p;
        p.resize(std::size_t(w));
        input_row(y, p.data());
        const cv::Vec3f* g = guide.ptr<cv::Vec3f>(y);
        for (int x = 0; x < w; ++x, row += 13) {
          const float i0 = g[x][0], i1 = g[x][1], i2 = g[x][2], v = p[std::size_t(x)];
          row[0] = i0, row[1] = i1, row[2] = i2, row[3] = v;
          row[4] = i0 * v, row[5] = i1 * v, row[6] = i2 * v;
          row[7] = i0 * i0, row[8] = i0 * i1, row[9] = i0 * i2, row[10] = i1 * i1, row[11] = i1 * i2, row[12] = i2 * i2;
        }
      },
      [&](int y, const float* m) {
        cv::Vec4f* out = ab.ptr<cv::Vec4f>(y);
        for (int x = 0; x < w; ++x, m += 13) {
          const double mi0 = m[0], mi1 = m[1], mi2 = m[2], mp = m[3];
          // Σ + εU, symmetric 3×3; solve Σ a = cov(I, p) by the adjugate.
          const double s00 = double(m[7]) - mi0 * mi0 + eps, s01 = double(m[8]) - mi0 * mi1, s02 = double(m[9]) - mi0 * mi2;
          const double s11 = double(m[10]) - mi1 * mi1 + eps, s12 = double(m[11]) - mi1 * mi2;
          const double s22 = double(m[12]) - mi2 * mi2 + eps;
          const double c0 = double(m[4]) - mi0 * mp, c1 = double(m[5]) - mi1 * mp, c2 = double(m[6]) - mi2 * mp;
          const double i00 = s11 * s22 - s12 * s12, i01 = s02 * s12 - s01 * s22, i02 = s01 * s12 - s02 * s11;
          const double i11 = s00 * s22 - s02 * s02, i12 = s01 * s02 - s00 * s12, i22 = s00 * s11 - s01 * s01;
          const double det = s00 * i00 + s01 * i01 + s02 * i02;
          const double a0 = (i00 * c0 + i01 * c1 + i02 * c2) / det;
          const double a1 = (i01 * c0 + i11 * c1 + i12 * c2) / det;
          const double a2 = (i02 * c0 + i12 * c1 + i22 * c2) / det;
          out[x] = cv::Vec4f(float(a0), float(a1), float(a2), float(mp - a0 * mi0 - a1 * mi1 - a2 * mi2));
        }
      });
  return image::box_filter(ab, r);
}

}  // namespace

cv::Mat upsample_matte(const SubjectMap& coarse, cv::Size size) {
  CV_Assert(coarse.probability.type() == CV_32FC1);
  const image::RowUpsampler rows(coarse.probability, size, coarse.sampling);
  cv::Mat out(size, CV_32FC1);
  cv::parallel_for_(cv::Range(0, size.height), [&](const cv::Range& r) {
    for (int y = r.start; y < r.end; ++y) rows.row(y, out.ptr<float>(y));
  });
  return out;
}

cv::Mat refine_matte(const SubjectMap& coarse, const image::Image& photo, const RefineOptions& opt,
                     WorkingRgbCache* working) {
  CV_Assert(coarse.probability.type() == CV_32FC1);
  const cv::Size full(photo.width(), photo.height());
  const double upsampling = std::max(double(full.width) / coarse.probability.cols,
                                     double(full.height) / coarse.probability.rows);
  if (upsampling <= 1.0) return upsample_matte(coarse, full);  // the map is as fine as the photo
  const cv::Size work = working_size(full, opt.work_size);

  // The guide and the coarse matte at the working resolution.
  const cv::Mat guide = working ? working->at(work) : working_rgb(photo, work);
  cv::Mat p = upsample_matte(coarse, work);
  cv::Mat coeffs = guided_coefficients(
      guide, [&](int y, float* row) { std::copy_n(p.ptr<float>(y), work.width, row); }, opt.radius, opt.eps);
  for (int i = 1; i < opt.iterations; ++i) {
    // Filter again the previous output q = mean_a · I + mean_b, computed row by row.
    const cv::Mat previous = coeffs;
    coeffs = guided_coefficients(
        guide,
        [&](int y, float* row) {
          const cv::Vec4f* k = previous.ptr<cv::Vec4f>(y);
          const cv::Vec3f* g = guide.ptr<cv::Vec3f>(y);
          for (int x = 0; x < work.width; ++x) {
            row[x] = std::clamp(k[x][0] * g[x][0] + k[x][1] * g[x][1] + k[x][2] * g[x][2] + k[x][3], 0.f, 1.f);
          }
        },
        opt.radius, opt.eps);
  }

  ColourEstimates colours;
  if (opt.colour_model) colours = estimate_colours(guide, p, opt.confident_low, opt.confident_high);

  // Band weight: 1 within `band` of the 0.5 contour, exactly 0 elsewhere (with a one-pixel
  // soft edge at the working resolution).
  const double work_per_full = double(work.width) / full.width;
  const int band = std::max(1, int(std::lround(opt.band_per_scale * upsampling * work_per_full)));
  cv::Mat inside = p > 0.5f, contour;
  cv::morphologyEx(inside, contour, cv::MORPH_GRADIENT, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(3, 3)));
  cv::dilate(contour, contour, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * band + 1, 2 * band + 1)));
  cv::Mat weight;
  contour.convertTo(weight, CV_32F, 1.0 / 255.0);
  weight = image::box_filter(weight, 1);

  const image::RowUpsampler coarse_rows(coarse.probability, full, coarse.sampling);
  const image::RowUpsampler coeff_rows(coeffs, full), weight_rows(weight, full);
  std::optional<image::RowUpsampler> subject_rows, background_rows;
  if (opt.colour_model) {
    subject_rows.emplace(colours.subject, full);
    background_rows.emplace(colours.background, full);
  }
  const float sep0 = opt.colour_separation, fit0 = opt.colour_fit, agree0 = opt.colour_agreement;
  cv::Mat alpha(full, CV_32FC1);
  cv::parallel_for_(cv::Range(0, full.height), [&](const cv::Range& rows) {
    const std::size_t n = std::size_t(full.width);
    std::vector<float> c(n), k(n * 4), w(n), rgb(n * 3), fs(opt.colour_model ? n * 3 : 0), bs(fs.size());
    for (int y = rows.start; y < rows.end; ++y) {
      coarse_rows.row(y, c.data());
      weight_rows.row(y, w.data());
      float* out = alpha.ptr<float>(y);
      std::copy(c.begin(), c.end(), out);
      // Only the runs of the band (weight > 0) read the photo and the colour estimates.
      auto refine_run = [&](int x0, int x1) {
        coeff_rows.row(y, k.data(), x0, x1);
        image::read_rgb_row(photo.mat(), y, rgb.data(), x0, x1);
        if (opt.colour_model) {
          subject_rows->row(y, fs.data(), x0, x1);
          background_rows->row(y, bs.data(), x0, x1);
        }
        for (int x = x0; x < x1; ++x) {
          const std::size_t i = std::size_t(x);
          const float wx = w[i];
          if (wx <= 0.f) continue;
          const float* kk = &k[i * 4];
          const float* px = &rgb[i * 3];
          float a = std::clamp(kk[0] * px[0] + kk[1] * px[1] + kk[2] * px[2] + kk[3], 0.f, 1.f);
          if (opt.colour_model) {
            // Project the pixel on the segment B̂ -> F̂.
            const float* f = &fs[i * 3];
            const float* b = &bs[i * 3];
            const float d0 = f[0] - b[0], d1 = f[1] - b[1], d2 = f[2] - b[2];
            const float v0 = px[0] - b[0], v1 = px[1] - b[1], v2 = px[2] - b[2];
            const float sep2 = d0 * d0 + d1 * d1 + d2 * d2;
            if (sep2 > sep0 * sep0) {
              const float t = std::clamp((v0 * d0 + v1 * d1 + v2 * d2) / sep2, 0.f, 1.f);
              const float e0 = v0 - t * d0, e1 = v1 - t * d1, e2 = v2 - t * d2;
              const float fit = std::sqrt(e0 * e0 + e1 * e1 + e2 * e2);
              const float trust = std::clamp(std::sqrt(sep2) / sep0 - 1.f, 0.f, 1.f) *
                                  std::clamp(1.f - fit / fit0, 0.f, 1.f) *
                                  std::clamp(1.f - std::abs(t - a) / agree0, 0.f, 1.f);
              a += trust * (t - a);
            }
          }
          a = std::clamp((a - opt.snap) / (1.f - 2.f * opt.snap), 0.f, 1.f);
          out[x] = c[i] + std::min(wx, 1.f) * (a - c[i]);
        }
      };
      image::for_each_run(full.width, [&](int x) { return w[std::size_t(x)] > 0.f; }, 32, refine_run);
    }
  });
  return alpha;
}

}  // namespace atelier::vision
