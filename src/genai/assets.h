// Finding an image for a description: when an edit changes an image's alt text ("a red
// bicycle"), the editor searches for a matching asset and makes it the image's source. The
// local library is a folder with an index of captions and tags (assets.json); a remote stock
// provider with an API key can implement the same interface.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace atelier::genai {

struct AssetMatch {
  std::filesystem::path path;
  std::string caption;
  double score = 0;  // 0..1
};

class AssetSearch {
 public:
  virtual ~AssetSearch() = default;
  // Best matches first; empty when nothing matches.
  virtual std::vector<AssetMatch> search(std::string_view description, int limit) const = 0;
};

// DIR/assets.json: [{"file": "bike.jpg", "caption": "a red bicycle against a wall",
// "tags": ["bicycle", "red", "street"]}, ...]. Without an index, file names are the
// captions ("red-bicycle.jpg" -> "red bicycle"). Matching: word overlap (lower case,
// simple plural stripping) between the description and caption + tags, tags weighted more.
//
// Index rules: an array of objects; `file` (required) is relative to DIR or absolute (the
// index is the operator's configuration, e.g. a shared photo folder) and must be an
// existing file; `caption` (string) defaults to the file-name caption; `tags` (array of
// strings) may be omitted; other keys are ignored. Errors name the index file and the
// entry (1-based): "DIR/assets.json: entry 3: file not found: bike.jpg", "...: not valid
// JSON (at byte 57)", "...: entry 2: 'tags' must be an array of strings". Without an
// index: every .jpg/.jpeg/.png/.webp/.tif/.tiff/.bmp file directly in DIR (case-insensitive
// extension; '-', '_', '.' in the name become spaces). A missing DIR is kNotFound.
// Paths in matches are absolute.
//
// Scoring: the description and each asset's caption and tags are split into words
// (letters and digits, lower case; UTF-8 letters kept), stop words ("a", "the", "of",
// "with", "photo", "image", ...) and single letters dropped, plurals stripped ("berries" ->
// "berry", "boxes" -> "box", "bicycles" -> "bicycle"). Each distinct description word found
// among the asset's tag words counts 1, found only among its caption words 0.8 (1 in a
// library without an index, where the file name is all there is); score = that sum / the
// number of description words (0..1: the weighted share of the description the asset
// covers). Assets scoring 0 are left out. Order: score, then the share of the asset's own
// words the description mentions (the more specific asset first), then path.
Result<std::unique_ptr<AssetSearch>> open_asset_library(const std::filesystem::path& dir);

}  // namespace atelier::genai
