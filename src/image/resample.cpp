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

namespace {

// One destination row straight from the two source rows of type T (no float copy of the
// source): the same arithmetic as converting first, so results are identical.
template <typename T, int C>
void resize_row(const T* r0, const T* r1, float wy, const std::vector<RowUpsampler::Tap>& xs, int c, T* o) {
  const int channels = C > 0 ? C : c;
  for (std::size_t x = 0; x < xs.size(); ++x) {
    const RowUpsampler::Tap& tx = xs[x];
    const T* a0 = r0 + std::ptrdiff_t(tx.i0) * channels;
    const T* a1 = r0 + std::ptrdiff_t(tx.i1) * channels;
    const T* b0 = r1 + std::ptrdiff_t(tx.i0) * channels;
    const T* b1 = r1 + std::ptrdiff_t(tx.i1) * channels;
    for (int k = 0; k < channels; ++k) {
      const float top = float(a0[k]) + tx.w1 * (float(a1[k]) - float(a0[k]));
      const float bottom = float(b0[k]) + tx.w1 * (float(b1[k]) - float(b0[k]));
      o[std::ptrdiff_t(x) * channels + k] = cv::saturate_cast<T>(top + wy * (bottom - top));
    }
  }
}

template <typename T>
void resize_asymmetric(const cv::Mat& src, cv::Mat& out) {
  const std::vector<RowUpsampler::Tap> xs = RowUpsampler::taps(src.cols, out.cols, Sampling::kAsymmetric);
  const std::vector<RowUpsampler::Tap> ys = RowUpsampler::taps(src.rows, out.rows, Sampling::kAsymmetric);
  const int c = src.channels();
  cv::parallel_for_(cv::Range(0, out.rows), [&](const cv::Range& r) {
    for (int y = r.start; y < r.end; ++y) {
      const auto& ty = ys[std::size_t(y)];
      const T* r0 = src.ptr<T>(ty.i0);
      const T* r1 = src.ptr<T>(ty.i1);
      T* o = out.ptr<T>(y);
      switch (c) {
        case 1: resize_row<T, 1>(r0, r1, ty.w1, xs, c, o); break;
        case 3: resize_row<T, 3>(r0, r1, ty.w1, xs, c, o); break;
        case 4: resize_row<T, 4>(r0, r1, ty.w1, xs, c, o); break;
        default: resize_row<T, 0>(r0, r1, ty.w1, xs, c, o); break;
      }
    }
  });
}

// Vertical then horizontal interpolation of destination columns [x0, x1) of one row.
template <int C>
void upsample_row(const float* r0, const float* r1, float wy, const RowUpsampler::Tap* xs, int c, int x0, int x1,
                  float* out) {
  const int channels = C > 0 ? C : c;
  // The source columns the span reads, blended vertically once each.
  const int s0 = xs[x0].i0, s1 = xs[x1 - 1].i1;
  thread_local std::vector<float> blended;
  blended.resize(std::size_t(s1 - s0 + 1) * std::size_t(channels));
  float* v = blended.data() - std::ptrdiff_t(s0) * channels;
  for (int i = s0 * channels; i < (s1 + 1) * channels; ++i) v[i] = r0[i] + wy * (r1[i] - r0[i]);
  for (int x = x0; x < x1; ++x) {
    const RowUpsampler::Tap& tx = xs[x];
    const float* p0 = v + std::ptrdiff_t(tx.i0) * channels;
    const float* p1 = v + std::ptrdiff_t(tx.i1) * channels;
    float* o = out + std::ptrdiff_t(x) * channels;
    for (int k = 0; k < channels; ++k) o[k] = p0[k] + tx.w1 * (p1[k] - p0[k]);
  }
}

}  // namespace

cv::Mat resize_bilinear(const cv::Mat& src, cv::Size size, Sampling sampling) {
  cv::Mat out;
  if (sampling == Sampling::kHalfPixel) {
    cv::resize(src, out, size, 0, 0, cv::INTER_LINEAR);
    return out;
  }
  out.create(size, src.type());
  switch (src.depth()) {
    case CV_8U: resize_asymmetric<std::uint8_t>(src, out); break;
    case CV_16U: resize_asymmetric<std::uint16_t>(src, out); break;
    case CV_32F: resize_asymmetric<float>(src, out); break;
    default: {  // other depths through float
      cv::Mat srcf, outf(size, CV_MAKETYPE(CV_32F, src.channels()));
      src.convertTo(srcf, CV_32F);
      resize_asymmetric<float>(srcf, outf);
      outf.convertTo(out, src.depth());
    }
  }
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

void RowUpsampler::row(int y, float* out) const { row(y, out, 0, dst_.width); }

void RowUpsampler::row(int y, float* out, int x0, int x1) const {
  x0 = std::max(x0, 0);
  x1 = std::min(x1, dst_.width);
  if (x0 >= x1) return;
  const int c = src_.channels();
  const Tap& ty = ys_[std::size_t(y)];
  const float* r0 = src_.ptr<float>(ty.i0);
  const float* r1 = src_.ptr<float>(ty.i1);
  switch (c) {
    case 1: upsample_row<1>(r0, r1, ty.w1, xs_.data(), c, x0, x1, out); break;
    case 3: upsample_row<3>(r0, r1, ty.w1, xs_.data(), c, x0, x1, out); break;
    case 4: upsample_row<4>(r0, r1, ty.w1, xs_.data(), c, x0, x1, out); break;
    default: upsample_row<0>(r0, r1, ty.w1, xs_.data(), c, x0, x1, out); break;
  }
}

}  // namespace atelier::image
