#include "image/box_filter.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace atelier::image {

void box_filter_rows(int width, int height, int channels, int radius, const RowSource& source, const RowSink& sink) {
  CV_Assert(width >= 1 && height >= 1 && channels >= 1 && radius >= 0);
  const std::size_t row_len = std::size_t(width) * std::size_t(channels);
  const double norm = 1.0 / (double(2 * radius + 1) * double(2 * radius + 1));
  // Source column of each position of the horizontally extended row [-r, width + r).
  std::vector<int> xs(std::size_t(width + 2 * radius));
  for (int k = 0; k < width + 2 * radius; ++k) xs[std::size_t(k)] = cv::borderInterpolate(k - radius, width, cv::BORDER_REFLECT);
  auto reflect_row = [&](int y) { return cv::borderInterpolate(y, height, cv::BORDER_REFLECT); };

  // Each stripe of rows keeps its own column sums over the window's rows.
  const int stripes = std::max(1, std::min(cv::getNumThreads(), height / std::max(1, 2 * radius + 1)));
  cv::parallel_for_(cv::Range(0, stripes), [&](const cv::Range& range) {
    std::vector<double> columns(row_len), sums(static_cast<std::size_t>(channels));
    std::vector<float> in(row_len), out(row_len);
    auto accumulate = [&](int y, double sign) {
      source(reflect_row(y), in.data());
      for (std::size_t i = 0; i < row_len; ++i) columns[i] += sign * double(in[i]);
    };
    for (int s = range.start; s < range.end; ++s) {
      const int y0 = int(std::int64_t(height) * s / stripes), y1 = int(std::int64_t(height) * (s + 1) / stripes);
      if (y0 >= y1) continue;
      std::fill(columns.begin(), columns.end(), 0.0);
      for (int dy = -radius; dy <= radius; ++dy) accumulate(y0 + dy, 1.0);
      for (int y = y0; y < y1; ++y) {
        for (int c = 0; c < channels; ++c) {
          double sum = 0;
          for (int k = 0; k <= 2 * radius; ++k) sum += columns[std::size_t(xs[std::size_t(k)]) * channels + c];
          sums[std::size_t(c)] = sum;
        }
        for (int x = 0; x < width; ++x) {
          float* o = &out[std::size_t(x) * channels];
          if (x > 0) {
            const double* add = &columns[std::size_t(xs[std::size_t(x + 2 * radius)]) * channels];
            const double* sub = &columns[std::size_t(xs[std::size_t(x - 1)]) * channels];
            for (int c = 0; c < channels; ++c) sums[std::size_t(c)] += add[c] - sub[c];
          }
          for (int c = 0; c < channels; ++c) o[c] = float(sums[std::size_t(c)] * norm);
        }
        sink(y, out.data());
        if (y + 1 < y1) {
          accumulate(y - radius, -1.0);
          accumulate(y + radius + 1, 1.0);
        }
      }
    }
  });
}

cv::Mat box_filter(const cv::Mat& src, int radius) {
  CV_Assert(src.depth() == CV_32F && !src.empty());
  cv::Mat dst(src.size(), src.type());
  const std::size_t bytes = std::size_t(src.cols) * src.elemSize();
  box_filter_rows(
      src.cols, src.rows, src.channels(), radius, [&](int y, float* row) { std::memcpy(row, src.ptr<float>(y), bytes); },
      [&](int y, const float* row) { std::memcpy(dst.ptr<float>(y), row, bytes); });
  return dst;
}

}  // namespace atelier::image
