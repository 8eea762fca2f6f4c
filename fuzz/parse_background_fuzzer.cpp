// vision::parse_background: --background values (transparent, colours, blur=RADIUS, image
// files). Specs with a '/' are skipped: they name files outside the harness's empty working
// folder (devices, FIFOs), which is the image decoders' business (decode_*_fuzzer).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "fuzz_support.h"
#include "vision/background.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool in_empty_dir = [] {
    std::string dir = (std::filesystem::temp_directory_path() / "atelier-fuzz-XXXXXX").string();
    return mkdtemp(dir.data()) != nullptr && chdir(dir.c_str()) == 0;
  }();
  const std::string_view spec = atelier::fuzz::text(data, size);
  if (!in_empty_dir || spec.find('/') != std::string_view::npos || spec.find('\0') != std::string_view::npos) return -1;
  (void)atelier::vision::parse_background(spec, atelier::fuzz::decode_limits());
  return 0;
}
