#include "core/limits.h"

#include <cmath>
#include <cstdio>

namespace atelier {

std::string format_pixels(std::uint64_t pixels) {
  char buf[48];
  if (pixels >= 100'000) {
    std::snprintf(buf, sizeof buf, "%.1f MP", double(pixels) / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%llu pixel%s", static_cast<unsigned long long>(pixels), pixels == 1 ? "" : "s");
  }
  return buf;
}

Status check_output_size(const std::string& what, double width, double height, const Limits& limits) {
  if (!std::isfinite(width) || !std::isfinite(height) || !(width >= 1) || !(height >= 1)) {
    return invalid_argument(what + " has no area");
  }
  const double w = std::round(width), h = std::round(height);
  const std::string size = std::to_string(static_cast<long long>(std::min(w, 9e18))) + "x" +
                           std::to_string(static_cast<long long>(std::min(h, 9e18)));
  const double side = std::max(w, h);
  if (side > double(limits.max_output_side)) {
    return resource_exhausted(what + " would be " + size + ", more than " + std::to_string(limits.max_output_side) +
                              " pixels a side");
  }
  const double px = w * h;
  if (px > double(limits.max_output_pixels)) {
    return resource_exhausted(what + " would be " + format_pixels(std::uint64_t(px)) + " (" + size +
                              "), more than the " + format_pixels(limits.max_output_pixels) + " limit");
  }
  return {};
}

}  // namespace atelier
