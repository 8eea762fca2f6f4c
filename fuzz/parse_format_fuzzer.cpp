// genai::parse_format: `edit --to` values (WxH or a format preset name).
#include "fuzz_support.h"
#include "genai/editor.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)atelier::genai::parse_format(atelier::fuzz::text(data, size));
  return 0;
}
