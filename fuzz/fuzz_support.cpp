#include "fuzz_support.h"

#include <cstdlib>
#include <cstdio>

#include "design/scene_json.h"
#include "image/format.h"

namespace atelier::fuzz {

int decode_if(image::Format format, const std::uint8_t* data, std::size_t size) {
  static const bool muted = [] {
    image::set_decoder_messages(false);  // libpng/libtiff warnings would flood the log
    return true;
  }();
  (void)muted;
  if (image::detect_format(bytes(data, size)) != format) return -1;  // not added to the corpus
  (void)image::decode_image(bytes(data, size), decode_limits());
  return 0;
}

const char* const kSceneJson = R"({
  "format": "atelier-scene", "version": 1,
  "pages": [{"id": 1, "type": "page", "name": "Post", "width": 1080, "height": 1080, "fill": "#FFFFFF", "children": [
    {"id": 2, "type": "image", "name": "Photo", "kind": "photo", "x": 0, "y": 0, "width": 1080, "height": 600,
     "source": "tulips.jpg", "alt": "a field of tulips"},
    {"id": 3, "type": "text", "name": "Headline", "kind": "headline", "x": 60.4, "y": 640, "width": 600,
     "height": 100, "text": "Spring sale", "font_size": 64, "text_color": "#1B3A4B"},
    {"id": 4, "type": "shape", "name": "Logo", "kind": "logo", "x": 900, "y": 900, "width": 120, "height": 120,
     "fill": "#E07A5F", "opacity": 0.5},
    {"id": 5, "type": "group", "name": "Button", "x": 60, "y": 900, "width": 400, "height": 100, "children": [
      {"id": 6, "type": "shape", "kind": "cta", "x": 60, "y": 900, "width": 400, "height": 100},
      {"id": 7, "type": "text", "kind": "cta", "x": 80, "y": 920, "width": 360, "height": 60, "text": "Buy now"}
    ]},
    {"id": 8, "type": "shape", "name": "Sun", "kind": "decoration", "x": 900, "y": -100, "width": 300, "height": 300}
  ]}]
})";

const design::Scene& scene() {
  static const design::Scene s = [] {
    auto loaded = design::parse_scene(kSceneJson, "fuzz-scene.json");
    if (!loaded.ok()) {
      std::fprintf(stderr, "fuzz scene does not parse: %s\n", loaded.status().message().c_str());
      std::abort();
    }
    return loaded->scene;
  }();
  return s;
}

}  // namespace atelier::fuzz
