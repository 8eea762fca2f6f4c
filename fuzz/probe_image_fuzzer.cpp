// image::probe_image: format detection, header parsing, EXIF orientation, ICC extraction
// and the completeness check of every format, on arbitrary bytes.
#include "fuzz_support.h"
#include "image/format.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)atelier::image::probe_image(atelier::fuzz::bytes(data, size));
  return 0;
}
