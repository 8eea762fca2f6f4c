#include "image/image.h"

#include <algorithm>

#include <opencv2/imgproc.hpp>

namespace atelier::image {
namespace {

cv::Mat to_three_channels(const cv::Mat& m) {
  cv::Mat out;
  switch (m.channels()) {
    case 1: cv::cvtColor(m, out, cv::COLOR_GRAY2RGB); break;
    case 4: cv::cvtColor(m, out, cv::COLOR_RGBA2RGB); break;
    default: out = m; break;
  }
  return out;
}

}  // namespace

Image to_rgb8(const Image& img) {
  cv::Mat m = img.mat();
  if (m.depth() == CV_16U) {
    m.convertTo(m, CV_8U, 1.0 / 257.0);
  } else if (m.depth() == CV_32F) {
    m.convertTo(m, CV_8U, 255.0);
  }
  cv::Mat out = to_three_channels(m);
  if (out.data == img.mat().data) out = out.clone();
  return Image(out);
}

cv::Mat to_rgb_float(const Image& img) {
  cv::Mat m = to_three_channels(img.mat());
  cv::Mat out;
  switch (m.depth()) {
    case CV_8U: m.convertTo(out, CV_32F, 1.0 / 255.0); break;
    case CV_16U: m.convertTo(out, CV_32F, 1.0 / 65535.0); break;
    default: out = (m.data == img.mat().data) ? m.clone() : m; break;
  }
  return out;
}

namespace {
template <typename T>
void rgb_row(const cv::Mat& img, int y, float scale, float* out, int x0, int x1) {
  const T* p = img.ptr<T>(y);
  const int c = img.channels();
  for (int x = x0; x < x1; ++x) {
    if (c >= 3) {
      out[3 * x] = float(p[c * x]) * scale;
      out[3 * x + 1] = float(p[c * x + 1]) * scale;
      out[3 * x + 2] = float(p[c * x + 2]) * scale;
    } else {
      out[3 * x] = out[3 * x + 1] = out[3 * x + 2] = float(p[c * x]) * scale;
    }
  }
}
}  // namespace

void read_rgb_row(const cv::Mat& img, int y, float* out) { read_rgb_row(img, y, out, 0, img.cols); }

void read_rgb_row(const cv::Mat& img, int y, float* out, int x0, int x1) {
  x0 = std::max(x0, 0);
  x1 = std::min(x1, img.cols);
  switch (img.depth()) {
    case CV_8U: rgb_row<std::uint8_t>(img, y, 1.f / 255.f, out, x0, x1); break;
    case CV_16U: rgb_row<std::uint16_t>(img, y, 1.f / 65535.f, out, x0, x1); break;
    default: rgb_row<float>(img, y, 1.f, out, x0, x1); break;
  }
}

}  // namespace atelier::image
