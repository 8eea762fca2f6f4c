// cli::parse_size: WxH option values (--size, --to) with the default side limit.
#include <string>

#include "cli/common.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)atelier::cli::parse_size("--size", std::string(atelier::fuzz::text(data, size)));
  return 0;
}
