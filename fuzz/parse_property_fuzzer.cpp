// design::parse_property: `design set ID PROPERTY=VALUE` values, for every property of the
// registry (the first byte picks the property, the rest is the value).
#include "design/properties.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& all = atelier::design::properties();
  if (size == 0 || all.empty()) return 0;
  (void)atelier::design::parse_property(all[data[0] % all.size()], atelier::fuzz::text(data + 1, size - 1));
  return 0;
}
