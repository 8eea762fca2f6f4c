// image::decode_image on WebP input (probe, limits, OpenCV's decoder, EXIF orientation, ICC
// conversion), with the codec's pixel and byte limits set (fuzz_support.h).
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return atelier::fuzz::decode_if(atelier::image::Format::kWebp, data, size);
}
