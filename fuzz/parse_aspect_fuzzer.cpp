// vision::parse_aspect: --aspect values ("16:9", "1.91:1", preset names).
#include "fuzz_support.h"
#include "vision/smart_crop.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)atelier::vision::parse_aspect(atelier::fuzz::text(data, size));
  return 0;
}
