// The scene's JSON format (docs/scene-format.md): load with validation that names the line
// and column of every problem, and save in one canonical layout so that load → save is
// byte-stable. Block properties are flat attributes named as in properties.h; children
// nest in stacking order.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "design/scene.h"

namespace atelier::design {

struct LoadedScene {
  Scene scene;
  // e.g. "design.json:14:17: block 7: image photos/a.jpg: no such file"
  std::vector<std::string> warnings;
};

struct LoadOptions {
  // Warn about image sources that cannot be used (image_source.h: check_image_source, the
  // checks that need no reading: URL, missing, not a regular file, permission). Off for
  // callers that render: the renderer reports every source it cannot draw, decoding too.
  bool check_image_sources = true;
};

// `source_name` prefixes messages ("design.json:12:5: ..."); `base_dir` resolves relative
// image sources for the image warnings. Errors (kInvalidArgument), first one found:
//   syntax ("design.json:3:14: expected ',' or '}'"), unknown property ("...: unknown
//   property 'colour' in block 7"), duplicate id ("...: duplicate block id 7 (first at
//   2:9)"), bad colour, negative size, wrong type, missing required field, unsupported
//   version. An unusable image source is a warning, not an error.
Result<LoadedScene> parse_scene(std::string_view json, std::string_view source_name,
                                const std::filesystem::path& base_dir = {}, const LoadOptions& options = {});
// Reads the file (size limit 64 MiB) and parses it with its path as source name.
Result<LoadedScene> load_scene(const std::filesystem::path& path, const LoadOptions& options = {});

// The canonical text: 2-space indent, fixed key order, defaults omitted, numbers in
// shortest round-trip form, a final newline.
std::string scene_to_json(const Scene& scene);
// Atomic write of scene_to_json.
Status save_scene(const std::filesystem::path& path, const Scene& scene);

}  // namespace atelier::design
