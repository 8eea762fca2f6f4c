// core/parse.h: ranged integers and numbers from option text (--threads, --margin,
// --quality, --zoom, ATELIER_THREADS, later query parameters). Besides not crashing, a
// value that parses must lie in its range: anything else traps.
#include <cmath>
#include <cstdlib>
#include <string>

#include "core/parse.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(atelier::fuzz::text(data, size));
  if (auto i = atelier::parse_integer(text, -1000, 100000); i.ok() && (*i < -1000 || *i > 100000)) std::abort();
  if (auto t = atelier::parse_integer(text, 1, 256); t.ok() && (*t < 1 || *t > 256)) std::abort();
  if (auto n = atelier::parse_number(text, 0, 1); n.ok() && !(*n >= 0 && *n <= 1 && std::isfinite(*n))) std::abort();
  return 0;
}
