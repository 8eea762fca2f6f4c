// design::json::parse, the positioned JSON reader under the scene format, with its default
// limits (64 levels, 64 MiB).
#include "design/json_doc.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)atelier::design::json::parse(atelier::fuzz::text(data, size));
  return 0;
}
