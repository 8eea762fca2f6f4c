#include "image/image.h"

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

}  // namespace atelier::image
