// What goes behind a cut-out subject: nothing (transparent), a colour, another image, or
// a blurred copy of the photo itself (a portrait-mode look).
#pragma once

#include <filesystem>
#include <string_view>

#include <opencv2/core.hpp>

#include "core/status.h"
#include "image/codec.h"
#include "image/composite.h"
#include "image/image.h"

namespace atelier::vision {

struct Background {
  enum class Kind { kTransparent, kColor, kImage, kBlur };
  Kind kind = Kind::kTransparent;
  image::Rgba color{0, 0, 0, 0};  // kColor
  image::Image image;             // kImage: scaled to cover the photo, centred
  std::filesystem::path source;   // kImage: the file it was read from
  float blur_radius = 0;          // kBlur: Gaussian sigma in pixels; 0: long side / 50
  // True when the composite has no transparent pixel (so JPEG can hold it).
  bool opaque() const;
};

// "transparent", a colour ("#RRGGBB", "#RRGGBBAA", "white", ...), "blur" / "blur=RADIUS",
// or an image file (read with `limits`). Errors name the spec or the file.
Result<Background> parse_background(std::string_view spec, const image::DecodeLimits& limits = {});

// The backdrop for `photo`: the colour, the image scaled to cover the photo's size, or the
// photo blurred with the subject (alpha) left out, so its colours do not bleed around it.
image::Backdrop make_backdrop(const Background& background, const image::Image& photo, const cv::Mat& alpha);

}  // namespace atelier::vision
