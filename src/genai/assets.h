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
Result<std::unique_ptr<AssetSearch>> open_asset_library(const std::filesystem::path& dir);

}  // namespace atelier::genai
