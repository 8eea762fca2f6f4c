// ml::manifest_from_json: a model store's manifest.json.
#include "fuzz_support.h"
#include "ml/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)atelier::ml::manifest_from_json(atelier::fuzz::text(data, size));
  return 0;
}
