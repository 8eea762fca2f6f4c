#include "ml/preprocess.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

namespace atelier::ml {

Tensor make_input_tensor(const image::Image& img, const Preprocess& pre) {
  // 8-bit RGB is resized as it is; anything else is converted first (a copy).
  const cv::Mat rgb = img.mat().type() == CV_8UC3 ? img.mat() : image::to_rgb8(img).mat();
  cv::Mat resized = image::resize_bilinear(rgb, cv::Size(pre.width, pre.height), pre.sampling);
  Tensor t;
  t.shape = {1, 3, pre.height, pre.width};
  t.data.resize(t.size());
  const std::size_t plane = std::size_t(pre.width) * std::size_t(pre.height);
  const bool bgr = pre.channel_order == "BGR";
  for (int c = 0; c < 3; ++c) {
    const int src_c = bgr ? 2 - c : c;
    const float mean = pre.mean[c], inv_std = 1.f / pre.std[c];
    float* dst = t.data.data() + std::size_t(c) * plane;
    for (int y = 0; y < pre.height; ++y) {
      const std::uint8_t* row = resized.ptr<std::uint8_t>(y);
      for (int x = 0; x < pre.width; ++x) dst[y * pre.width + x] = (float(row[3 * x + src_c]) - mean) * inv_std;
    }
  }
  return t;
}

Result<cv::Mat> output_to_map(const Tensor& output, const Postprocess& post) {
  const auto& s = output.shape;
  if (s.size() < 2 || s.size() > 4) return internal_error("model output has " + std::to_string(s.size()) + " dimensions");
  int h = s[s.size() - 2], w = s[s.size() - 1];
  if (h <= 0 || w <= 0 || output.size() != output.data.size()) {
    return internal_error("model output shape does not match its data");
  }
  for (std::size_t i = 0; i + 2 < s.size(); ++i) {
    if (s[i] != 1) return internal_error("model output is not a single map (shape has " + std::to_string(s[i]) + " at axis " + std::to_string(i) + ")");
  }
  cv::Mat map(h, w, CV_32F);
  std::copy(output.data.begin(), output.data.begin() + std::ptrdiff_t(h) * w, map.ptr<float>());
  if (post.activation == "sigmoid") {
    map.forEach<float>([](float& v, const int*) { v = 1.f / (1.f + std::exp(-v)); });
  }
  if (post.minmax_normalize) {
    double lo, hi;
    cv::minMaxLoc(map, &lo, &hi);
    if (hi > lo) map = (map - lo) / (hi - lo);
    else map.setTo(0);
  }
  cv::min(cv::max(map, 0.0), 1.0, map);
  return map;
}

}  // namespace atelier::ml
