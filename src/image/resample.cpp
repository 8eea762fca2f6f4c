#include "image/resample.h"

#include <algorithm>
#include <cmath>
#include <string>

#include <opencv2/imgproc.hpp>

namespace atelier::image {

std::string_view sampling_name(Sampling s) { return s == Sampling::kAsymmetric ? "asymmetric" : "half_pixel"; }

Result<Sampling> parse_sampling(std::string_view name) {
  if (name == "half_pixel") return Sampling::kHalfPixel;
  if (name == "asymmetric") return Sampling::kAsymmetric;
  return invalid_argument("unknown sampling '" + std::string(name) + "' (half_pixel or asymmetric)");
}

cv::Mat resize_bilinear(const cv::Mat& src, cv::Size size, Sampling sampling) {
  cv::Mat out;
  if (sampling == Sampling::kHalfPixel) {
    cv::resize(src, out, size, 0, 0, cv::INTER_LINEAR);
    return out;
  }
  // Separable: weights from the same taps as RowUpsampler, rows in parallel.
  const std::vector<RowUpsampler::Tap> xs = RowUpsampler::taps(src.cols, size.width, sampling);
  const std::vector<RowUpsampler::Tap> ys = RowUpsampler::taps(src.rows, size.height, sampling);
  cv::Mat srcf;
  src.convertTo(srcf, CV_32F);
  const int c = src.channels();
  cv::Mat outf(size, CV_MAKETYPE(CV_32F, c));
  cv::parallel_for_(cv::Range(0, size.height), [&](const cv::Range& r) {
    for (int y = r.start; y < r.end; ++y) {
      const auto& ty = ys[std::size_t(y)];
      const float* r0 = srcf.ptr<float>(ty.i0);
      const float* r1 = srcf.ptr<float>(ty.i1);
      float* o = outf.ptr<float>(y);
      for (int x = 0; x < size.width; ++x) {
        const auto& tx = xs[std::size_t(x)];
        for (int k = 0; k < c; ++k) {
          float top = r0[tx.i0 * c + k] + tx.w1 * (r0[tx.i1 * c + k] - r0[tx.i0 * c + k]);
          float bottom = r1[tx.i0 * c + k] + tx.w1 * (r1[tx.i1 * c + k] - r1[tx.i0 * c + k]);
          o[x * c + k] = top + ty.w1 * (bottom - top);
        }
      }
    }
  });
  outf.convertTo(out, src.depth());  // rounds to nearest for integer depths
  return out;
}

std::vector<RowUpsampler::Tap> RowUpsampler::taps(int src_len, int dst_len, Sampling sampling) {
  std::vector<Tap> t(static_cast<std::size_t>(dst_len));
  const double scale = double(src_len) / double(dst_len);
  for (int i = 0; i < dst_len; ++i) {
    double s = sampling == Sampling::kHalfPixel ? (i + 0.5) * scale - 0.5 : i * scale;
    int i0 = int(std::floor(s));
    float w1 = float(s - i0);
    if (i0 < 0) {
      i0 = 0;
      w1 = 0.f;
    }
    if (i0 >= src_len - 1) {
      i0 = src_len - 1;
      w1 = 0.f;
    }
    t[std::size_t(i)] = {i0, std::min(i0 + 1, src_len - 1), w1};
  }
  return t;
}

RowUpsampler::RowUpsampler(const cv::Mat& src, cv::Size dst_size, Sampling sampling)
    : src_(src), dst_(dst_size), xs_(taps(src.cols, dst_size.width, sampling)), ys_(taps(src.rows, dst_size.height, sampling)) {
  CV_Assert(src.depth() == CV_32F && src.channels() <= 4);
}

void RowUpsampler::row(int y, float* out) const {
  const int c = src_.channels();
  const Tap& ty = ys_[std::size_t(y)];
  const float* r0 = src_.ptr<float>(ty.i0);
  const float* r1 = src_.ptr<float>(ty.i1);
  const float wy = ty.w1;
  for (int x = 0; x < dst_.width; ++x) {
    const Tap& tx = xs_[std::size_t(x)];
    for (int k = 0; k < c; ++k) {
      float top = r0[tx.i0 * c + k] + tx.w1 * (r0[tx.i1 * c + k] - r0[tx.i0 * c + k]);
      float bottom = r1[tx.i0 * c + k] + tx.w1 * (r1[tx.i1 * c + k] - r1[tx.i0 * c + k]);
      out[x * c + k] = top + wy * (bottom - top);
    }
  }
}

}  // namespace atelier::image
