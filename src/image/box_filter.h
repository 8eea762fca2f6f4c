// Normalised box filter: the mean over a (2r+1)×(2r+1) window, borders reflected as
// OpenCV's BORDER_REFLECT (…cba|abc…), sums in double. Streaming form: the input image is
// never materialised — `source` writes input row y on demand (width × channels floats; it
// may be asked for a row more than once and from several threads at once, so it must only
// read shared state) and `sink` receives each output row exactly once, from any thread,
// in increasing order within a thread. Rows are split among cv::getNumThreads() threads.
// A guided filter builds its products of guide and input inside `source` this way instead
// of a dozen full-size temporaries.
#pragma once

#include <functional>

#include <opencv2/core.hpp>

namespace atelier::image {

using RowSource = std::function<void(int y, float* row)>;
using RowSink = std::function<void(int y, const float* row)>;

// width, height, channels >= 1; radius >= 0.
void box_filter_rows(int width, int height, int channels, int radius, const RowSource& source, const RowSink& sink);

// The same on a CV_32F image of any channel count; returns a new image of its type.
cv::Mat box_filter(const cv::Mat& src, int radius);

}  // namespace atelier::image
