// Applying a ChangeSet to a design through the Engine, as one transaction (one undo step),
// then a deterministic clean-up: blocks clamped into their page, texts that no longer fit
// their box shrunk (within limits, measured by the renderer), and a report of the overlaps
// the edit introduced (those the design already had are not reported).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "design/engine.h"
#include "genai/assets.h"
#include "genai/change_set.h"

namespace atelier::genai {

struct ApplyOptions {
  bool allow_delete = false;        // removals are applied only when set
  double min_font_scale = 0.6;      // shrinking a text stops at this share of its size
  const AssetSearch* assets = nullptr;  // resolves images whose alt text changed
};

struct ApplyReport {
  int applied = 0;                         // changes applied
  std::vector<design::BlockId> skipped_removals;  // removals left out (allow_delete off)
  std::vector<std::string> notes;          // clean-up and asset-search lines, e.g.
                                           // "clamped 7 into the page", "shrank 8's text 64 -> 52",
                                           // "3: new image for 'a red bicycle': assets/bike.jpg",
                                           // "overlap: 8 (Headline) now overlaps 5 (Logo)"
};

// Errors: a change the engine refuses (the transaction is rolled back: the scene is as before).
Result<ApplyReport> apply_changes(design::Engine& engine, const ChangeSet& changes, const ApplyOptions& options);

}  // namespace atelier::genai
