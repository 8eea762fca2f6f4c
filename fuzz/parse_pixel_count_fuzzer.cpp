// cli::parse_pixel_count: the --max-pixels value ("100M", "12000000", "0.5M").
#include <string>

#include "cli/common.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)atelier::cli::parse_pixel_count(std::string(atelier::fuzz::text(data, size)));
  return 0;
}
