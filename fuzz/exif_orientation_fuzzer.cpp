// image::exif_orientation: the TIFF-structured EXIF block reader (IFD walking, both byte
// orders, optional "Exif\0\0" prefix), on arbitrary bytes.
#include "fuzz_support.h"
#include "image/format.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)atelier::image::exif_orientation(atelier::fuzz::bytes(data, size));
  return 0;
}
