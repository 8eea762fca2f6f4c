// image::parse_sampling: a manifest's pixel-grid convention ("half_pixel", "asymmetric").
#include "fuzz_support.h"
#include "image/resample.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)atelier::image::parse_sampling(atelier::fuzz::text(data, size));
  return 0;
}
