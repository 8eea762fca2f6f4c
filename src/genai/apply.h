// Applying a ChangeSet to a design through the Engine, as one transaction (one undo step),
// then a deterministic clean-up: blocks clamped into their page, texts that no longer fit
// their box shrunk (within limits, measured by the renderer), and a report of the overlaps
// the edit introduced (those the design already had are not reported).
//
// Rules, in the order they run (all inside the one transaction; an engine error anywhere
// rolls everything back):
//   1. modified: engine.set(id, property, new_value), in the given order; added:
//      engine.create(type, parent, index) then each property set in order; removed:
//      engine.destroy, only with allow_delete (else listed in skipped_removals; a block
//      already gone with a removed ancestor counts as removed). `applied` counts these.
//   2. Assets: an image whose `alt` the changes modified (or an added image with an alt and
//      no source), when `assets` is set and the changes do not set its `source` themselves:
//      the best match of the new alt text becomes its source if its score is at least
//      min_asset_score ("3: new image for 'a red bicycle': /lib/bike.jpg"), else the image
//      is kept ("3: no asset for 'a red bicycle'; image kept").
//   Blocks changed or added by 1–2 are "touched" (a page whose width or height changes
//   touches every block on it); the clean-up visits them in document order.
//   3. Clamp: a touched block is moved back so that it sticks out of its page on no side
//      further than it did before the edit (so deliberate bleeds stay; added blocks must be
//      inside). Bounds are the axis-aligned box after rotation. Moving comes first; a block
//      larger than that region shrinks (unrotated: only the axis that is too large; rotated:
//      uniformly about its centre). A group moves with all its members and does not shrink.
//      Note: "clamped 7 into the page".
//   4. Texts (auto_fit none or shrink; grow-height texts grow instead): a touched text that
//      does not fit its box (design::measure_text) but did before the edit (or is new) gets
//      the largest whole font size that fits, not below min_font_scale × its size (the size
//      after the changes; binary search): "shrank 8's text 64 -> 52". When even that size
//      does not fit it is set anyway, noted "8's text still overflows its box". A text
//      that already overflowed before the edit is left alone.
//   5. Overlaps: pairs of shown blocks (visible, opacity > 0, groups above them too) on the
//      same page, leaves only (groups are represented by their members), whose rotated
//      bounds intersect by more than 0.5 unit on both axes, where at least one of the two is
//      touched or moved, and which did not intersect before the edit (a block that is new,
//      on another page or hidden before counts as not intersecting). Not reported: one box
//      containing the other entirely (a label on its button), and blocks of kind
//      "background" or "decoration" (meant to lie under or around others). The changed
//      block is named first (both changed: the upper one):
//      "overlap: 8 (Headline) now overlaps 5 (Logo)" (the name, else the kind, else the type).
//   Notes come in this order: assets, clamps, texts, overlaps.
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
  double min_asset_score = 0.5;     // an asset must score at least this (AssetMatch::score)
};

struct ApplyReport {
  int applied = 0;                         // changes applied
  std::vector<design::BlockId> skipped_removals;  // removals left out (allow_delete off)
  std::vector<std::string> notes;          // clean-up and asset-search lines, e.g.
                                           // "clamped 7 into the page", "shrank 8's text 64 -> 52",
                                           // "3: new image for 'a red bicycle': assets/bike.jpg",
                                           // "overlap: 8 (Headline) now overlaps 5 (Logo)"
};

// Errors: a change the engine refuses (the transaction is rolled back: the scene is as before);
// min_font_scale outside 0..1 (kInvalidArgument, nothing done).
Result<ApplyReport> apply_changes(design::Engine& engine, const ChangeSet& changes, const ApplyOptions& options);

}  // namespace atelier::genai
