#include "image/box_filter.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace atelier::image {

namespace {

// One output row from the column sums: the running window sum over x in `sum` (one per
// channel), C channels (a compile-time count lets the compiler unroll; 0: `channels`).
template <int C>
void horizontal_pass(const double* columns, const int* xs, int width, int channels, int radius, double norm,
                     double* sum, float* out) {
  const int ch = C > 0 ? C : channels;
  for (int c = 0; c < ch; ++c) {
    double v = 0;
    for (int k = 0; k <= 2 * radius; ++k) v += columns[std::size_t(xs[k]) * ch + c];
    sum[c] = v;
  }
  for (int c = 0; c < ch; ++c) out[c] = float(sum[c] * norm);
  for (int x = 1; x < width; ++x) {
    const double* add = &columns[std::size_t(xs[x + 2 * radius]) * ch];
    const double* sub = &columns[std::size_t(xs[x - 1]) * ch];
    float* o = out + std::size_t(x) * ch;
    for (int c = 0; c < ch; ++c) {
      sum[c] += add[c] - sub[c];
      o[c] = float(sum[c] * norm);
    }
  }
}

using HorizontalPass = void (*)(const double*, const int*, int, int, int, double, double*, float*);

HorizontalPass horizontal_pass_for(int channels) {
  switch (channels) {
    case 1: return horizontal_pass<1>;
    case 3: return horizontal_pass<3>;
    case 4: return horizontal_pass<4>;
    case 13: return horizontal_pass<13>;
    default: return horizontal_pass<0>;
  }
}

}  // namespace

void box_filter_rows(int width, int height, int channels, int radius, const RowSource& source, const RowSink& sink) {
  CV_Assert(width >= 1 && height >= 1 && channels >= 1 && radius >= 0);
  const std::size_t row_len = std::size_t(width) * std::size_t(channels);
  const double norm = 1.0 / (double(2 * radius + 1) * double(2 * radius + 1));
  // Source column of each position of the horizontally extended row [-r, width + r).
  std::vector<int> xs(std::size_t(width + 2 * radius));
  for (int k = 0; k < width + 2 * radius; ++k) xs[std::size_t(k)] = cv::borderInterpolate(k - radius, width, cv::BORDER_REFLECT);
  auto reflect_row = [&](int y) { return cv::borderInterpolate(y, height, cv::BORDER_REFLECT); };
  const HorizontalPass horizontal = horizontal_pass_for(channels);
  const int window = 2 * radius + 1;

  // Each stripe of rows keeps its own column sums over the window's rows, and the window's
  // source rows in a ring, so each is built once per stripe (it leaves the sums by
  // subtraction from the ring, not by building it again).
  const int stripes = std::max(1, std::min(cv::getNumThreads(), height / std::max(1, window)));
  cv::parallel_for_(cv::Range(0, stripes), [&](const cv::Range& range) {
    std::vector<double> columns(row_len), sums(static_cast<std::size_t>(channels));
    std::vector<float> ring(row_len * std::size_t(window)), out(row_len);
    auto ring_row = [&](int y) { return ring.data() + row_len * std::size_t(((y % window) + window) % window); };
    for (int s = range.start; s < range.end; ++s) {
      const int y0 = int(std::int64_t(height) * s / stripes), y1 = int(std::int64_t(height) * (s + 1) / stripes);
      if (y0 >= y1) continue;
      std::fill(columns.begin(), columns.end(), 0.0);
      for (int dy = -radius; dy <= radius; ++dy) {
        float* in = ring_row(y0 + dy);
        source(reflect_row(y0 + dy), in);
        for (std::size_t i = 0; i < row_len; ++i) columns[i] += double(in[i]);
      }
      for (int y = y0; y < y1; ++y) {
        horizontal(columns.data(), xs.data(), width, channels, radius, norm, sums.data(), out.data());
        sink(y, out.data());
        if (y + 1 < y1) {
          // Row y - r leaves the window and row y + r + 1 enters it, in the same ring slot.
          float* slot = ring_row(y + radius + 1);
          for (std::size_t i = 0; i < row_len; ++i) columns[i] -= double(slot[i]);
          source(reflect_row(y + radius + 1), slot);
          for (std::size_t i = 0; i < row_len; ++i) columns[i] += double(slot[i]);
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
