// image::parse_color: "#RRGGBB", "#RRGGBBAA" and colour names.
#include "fuzz_support.h"
#include "image/composite.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)atelier::image::parse_color(atelier::fuzz::text(data, size));
  return 0;
}
