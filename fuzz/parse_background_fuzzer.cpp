// vision::parse_background: --background values (transparent, colours, blur=RADIUS, image
// files). Specs with a '/' are skipped: they name files outside the harness's empty working
// folder (devices, FIFOs), which is the image decoders' business (decode_*_fuzzer).
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "fuzz_support.h"
#include "vision/background.h"

namespace {
std::string g_dir;
void remove_dir() { rmdir(g_dir.c_str()); }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool in_empty_dir = [] {
    g_dir = (std::filesystem::temp_directory_path() / "atelier-fuzz-XXXXXX").string();
    if (mkdtemp(g_dir.data()) == nullptr) return false;
    std::atexit(remove_dir);
    return chdir(g_dir.c_str()) == 0;
  }();
  const std::string_view spec = atelier::fuzz::text(data, size);
  if (!in_empty_dir || spec.find('/') != std::string_view::npos || spec.find('\0') != std::string_view::npos) return -1;
  (void)atelier::vision::parse_background(spec, atelier::fuzz::decode_limits());
  return 0;
}
