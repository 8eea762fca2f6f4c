// Alpha compositing with premultiplied-alpha arithmetic ("over", Porter-Duff):
//   out.a   = f.a + b.a·(1 − f.a)
//   out.rgb = (f.rgb·f.a + b.rgb·b.a·(1 − f.a)) / out.a      (straight colour out; 0 if out.a = 0)
// Inputs are straight (non-premultiplied) colour; the multiplication by alpha happens here,
// so callers never mix the two conventions.
#pragma once

#include <string_view>

#include <opencv2/core.hpp>

#include "core/status.h"

namespace atelier::image {

struct Rgba {
  float r = 0, g = 0, b = 0, a = 1;  // straight colour, each in [0,1]
  friend bool operator==(const Rgba&, const Rgba&) = default;
};

// "#RRGGBB" or "#RRGGBBAA" (also without '#'), or a CSS name: white, black, transparent,
// red, green, blue, gray. Error names the text and the accepted forms.
Result<Rgba> parse_color(std::string_view text);

// One pixel of "over"; exposed for tests and for per-pixel users.
Rgba over(const Rgba& front, const Rgba& back);

// A background for composite_over: a solid colour, or an image of the same size as the
// foreground (gray/RGB, 8/16-bit or float in [0,1]; opaque unless `alpha` is given).
struct Backdrop {
  Rgba color{0, 0, 0, 0};
  cv::Mat image;  // when set, `color` is ignored
  cv::Mat alpha;  // optional CV_32FC1 alpha of `image`
};

// Composites fg (straight colour, 1 or 3 channels, 8/16-bit or float in [0,1]) with alpha
// (CV_32FC1 in [0,1]) over `back` into `out_depth` (CV_8U or CV_16U). The result has 4
// channels (RGBA) unless `opaque_out` is set, in which case it has 3 and the alpha of the
// result is dropped (use it when the backdrop is opaque). Rows are processed in parallel;
// no full-size float intermediates are allocated.
cv::Mat composite_over(const cv::Mat& fg, const cv::Mat& alpha, const Backdrop& back, int out_depth, bool opaque_out);

}  // namespace atelier::image
