#include "vision/matte_refine.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "vision/colour_estimates.h"
#include "image/resample.h"

namespace atelier::vision {
namespace {

cv::Mat box(const cv::Mat& m, int r) {
  cv::Mat out;
  cv::boxFilter(m, out, CV_32F, cv::Size(2 * r + 1, 2 * r + 1), cv::Point(-1, -1), true, cv::BORDER_REFLECT);
  return out;
}

// Colour guided filter (He, Sun, Tang 2013, eq. 19-21) at the working resolution:
// returns mean_a (3 channels) and mean_b packed as a CV_32FC4 map.
cv::Mat guided_coefficients(const cv::Mat& guide, const cv::Mat& p, int r, float eps) {
  std::vector<cv::Mat> I(3);
  cv::split(guide, I);
  cv::Mat mean_p = box(p, r);
  cv::Mat mean_I[3], cov_Ip[3];
  for (int c = 0; c < 3; ++c) {
    mean_I[c] = box(I[c], r);
    cov_Ip[c] = box(I[c].mul(p), r) - mean_I[c].mul(mean_p);
  }
  cv::Mat var[3][3];
  for (int i = 0; i < 3; ++i) {
    for (int j = i; j < 3; ++j) var[i][j] = box(I[i].mul(I[j]), r) - mean_I[i].mul(mean_I[j]);
  }
  cv::Mat a[3], b(p.size(), CV_32F);
  for (auto& m : a) m.create(p.size(), CV_32F);
  cv::parallel_for_(cv::Range(0, p.rows), [&](const cv::Range& rows) {
    for (int y = rows.start; y < rows.end; ++y) {
      for (int x = 0; x < p.cols; ++x) {
        // Σ + εU, symmetric 3×3; solve Σ a = cov by the adjugate.
        double s00 = var[0][0].at<float>(y, x) + eps, s01 = var[0][1].at<float>(y, x), s02 = var[0][2].at<float>(y, x);
        double s11 = var[1][1].at<float>(y, x) + eps, s12 = var[1][2].at<float>(y, x), s22 = var[2][2].at<float>(y, x) + eps;
        double i00 = s11 * s22 - s12 * s12, i01 = s02 * s12 - s01 * s22, i02 = s01 * s12 - s02 * s11;
        double i11 = s00 * s22 - s02 * s02, i12 = s01 * s02 - s00 * s12, i22 = s00 * s11 - s01 * s01;
        double det = s00 * i00 + s01 * i01 + s02 * i02;
        double c0 = cov_Ip[0].at<float>(y, x), c1 = cov_Ip[1].at<float>(y, x), c2 = cov_Ip[2].at<float>(y, x);
        double a0 = (i00 * c0 + i01 * c1 + i02 * c2) / det;
        double a1 = (i01 * c0 + i11 * c1 + i12 * c2) / det;
        double a2 = (i02 * c0 + i12 * c1 + i22 * c2) / det;
        a[0].at<float>(y, x) = float(a0);
        a[1].at<float>(y, x) = float(a1);
        a[2].at<float>(y, x) = float(a2);
        b.at<float>(y, x) = float(mean_p.at<float>(y, x) - a0 * mean_I[0].at<float>(y, x) -
                                  a1 * mean_I[1].at<float>(y, x) - a2 * mean_I[2].at<float>(y, x));
      }
    }
  });
  cv::Mat packed;
  cv::merge(std::vector<cv::Mat>{box(a[0], r), box(a[1], r), box(a[2], r), box(b, r)}, packed);
  return packed;
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

cv::Mat refine_matte(const SubjectMap& coarse, const image::Image& photo, const RefineOptions& opt) {
  CV_Assert(coarse.probability.type() == CV_32FC1);
  const cv::Size full(photo.width(), photo.height());
  const double upsampling = std::max(double(full.width) / coarse.probability.cols,
                                     double(full.height) / coarse.probability.rows);
  if (upsampling <= 1.0) return upsample_matte(coarse, full);  // the map is as fine as the photo
  const cv::Size work = working_size(full, opt.work_size);

  // The guide and the coarse matte at the working resolution.
  const cv::Mat guide = working_rgb(photo, work);
  cv::Mat p = upsample_matte(coarse, work);
  cv::Mat coeffs = guided_coefficients(guide, p, opt.radius, opt.eps);
  cv::Mat q = p;
  for (int i = 1; i < opt.iterations; ++i) {
    // q = mean_a · I + mean_b at the working resolution, then filter q again.
    cv::Mat next(work, CV_32F);
    for (int y = 0; y < work.height; ++y) {
      const cv::Vec4f* k = coeffs.ptr<cv::Vec4f>(y);
      const cv::Vec3f* g = guide.ptr<cv::Vec3f>(y);
      float* o = next.ptr<float>(y);
      for (int x = 0; x < work.width; ++x) {
        o[x] = std::clamp(k[x][0] * g[x][0] + k[x][1] * g[x][1] + k[x][2] * g[x][2] + k[x][3], 0.f, 1.f);
      }
    }
    q = next;
    coeffs = guided_coefficients(guide, q, opt.radius, opt.eps);
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
  weight = box(weight, 1);

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
      bool any = false;
      for (int x = 0; x < full.width; ++x) any |= w[std::size_t(x)] > 0.f;
      if (!any) {
        std::copy(c.begin(), c.end(), out);
        continue;
      }
      coeff_rows.row(y, k.data());
      image::read_rgb_row(photo.mat(), y, rgb.data());
      if (opt.colour_model) {
        subject_rows->row(y, fs.data());
        background_rows->row(y, bs.data());
      }
      for (int x = 0; x < full.width; ++x) {
        const std::size_t i = std::size_t(x);
        const float wx = w[i];
        if (wx <= 0.f) { out[x] = c[i]; continue; }
        const float* kk = &k[i * 4];
        const float* px = &rgb[i * 3];
        float a = std::clamp(kk[0] * px[0] + kk[1] * px[1] + kk[2] * px[2] + kk[3], 0.f, 1.f);
        if (opt.colour_model) {
          // Project the pixel on the segment B̂ -> F̂.
          const float d0 = fs[i * 3] - bs[i * 3], d1 = fs[i * 3 + 1] - bs[i * 3 + 1], d2 = fs[i * 3 + 2] - bs[i * 3 + 2];
          const float v0 = px[0] - bs[i * 3], v1 = px[1] - bs[i * 3 + 1], v2 = px[2] - bs[i * 3 + 2];
          const float sep2 = d0 * d0 + d1 * d1 + d2 * d2;
          if (sep2 > sep0 * sep0) {
            const float t = std::clamp((v0 * d0 + v1 * d1 + v2 * d2) / sep2, 0.f, 1.f);
            const float e0 = v0 - t * d0, e1 = v1 - t * d1, e2 = v2 - t * d2;
            const float fit = std::sqrt(e0 * e0 + e1 * e1 + e2 * e2);
            const float trust = std::clamp(std::sqrt(sep2) / sep0 - 1.f, 0.f, 1.f) * std::clamp(1.f - fit / fit0, 0.f, 1.f) *
                                std::clamp(1.f - std::abs(t - a) / agree0, 0.f, 1.f);
            a += trust * (t - a);
          }
        }
        a = std::clamp((a - opt.snap) / (1.f - 2.f * opt.snap), 0.f, 1.f);
        out[x] = c[i] + std::min(wx, 1.f) * (a - c[i]);
      }
    }
  });
  return alpha;
}

}  // namespace atelier::vision
