// design::parse_scene: the scene JSON format with all its validation (properties, ids,
// colours, versions), as load_scene reads a design file.
#include "design/scene_json.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)atelier::design::parse_scene(atelier::fuzz::text(data, size), "fuzz.json");
  return 0;
}
