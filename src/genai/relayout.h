// Changing a design's format deterministically (the baseline `atelier edit --to 1280x720`
// uses when no model is configured or its answer fails validation): every block keeps its
// anchor — the side or centre of the page it is closest to — and scales by the smaller of
// the two axis ratios; an orientation flip splits the page between the hero photo and the
// rest instead; texts are re-measured (shrunk to fit); photos that change aspect get their
// focus point from smart crop's saliency so the subject stays in view.
//
// Rules, as implemented (old page W×H → new page W'×H', sx = W'/W, sy = H'/H,
// s = min(sx, sy)); everything in one transaction:
//   - Units: each child of the page is laid out with all its descendants (a group's members
//     follow the group's transform, so a logo's mark and name stay together). The unit's
//     box is the block's x/y/width/height (a group without a size: its members' union).
//   - Backgrounds: a unit whose box covers at least 90% of the old page on both axes (the
//     part inside the page) is stretched: x' = x·sx, w' = w·sx, y' = y·sy, h' = h·sy.
//   - Anchors, per axis, for the others: start (left/top), centre or end (right/bottom),
//     whichever of |x|, |cx − W/2|, |W − (x + w)| is smallest (ties: centre, then start).
//     w' = w·s and start: x' = x·s; end: x' = W' − (W − x − w)·s − w'; centre:
//     x' = W'/2 + (cx − W/2)·s − w'/2. Members: x' = X' + (x − X)·s with X, X' the unit's
//     old and new start (same vertically).
//   - Reflow (RelayoutOptions::reflow, on by default): when the aspect ratio changes by a
//     factor of 1.6 or more (story ↔ landscape) and the page has a hero, anchors would leave
//     half the page empty, so the page is split in two. The hero: the largest visible
//     cover-fitted image, else the largest visible unrotated rectangle shape that carries
//     another unit (a colour band with the logo on it); not a background, not of kind
//     "decoration", covering at least 15% of the old page. It fills one half (left/top when
//     its centre was in the old page's left/top half, else right/bottom; inset by the
//     margin m = round(4% of the new shorter side) when it did not touch the old page's
//     edges), its box scaled per axis (lengths × the smaller factor). Units lying on the
//     hero (their box inside its box, 1 unit of slack; kind "background" excepted: a shade
//     belongs to the layout, not the photo) keep their place on it: the hero's
//     old box scaled uniformly (min of the axis factors) into the new one, centred. The
//     other units — content — are scaled together: one factor k = min(region w / their
//     union's w, region h / union's h, 2), lengths × k, centred in the other half less m on
//     every side; the union is of their boxes' parts inside the old page. Backgrounds, and
//     decorations outside the content's union (a corner ornament, a bleed), keep the rules
//     above; a decoration inside it (a rule between texts) is content.
//   - Lengths: font_size (not below 1), letter_spacing, corner_radius and an enabled
//     stroke's width × s (stretched backgrounds too). Rotation is kept.
//   - Clamp: each unit's bounds (rotated boxes; a group's own box unrotated) are moved into
//     its allowed region: the new page, widened on each side by the unit's bleed there on
//     the old page (how far it stuck out) times its scale on that axis (sx/sy for a
//     stretched background, s otherwise) — a deliberate bleed (a decoration cut by the
//     edge, a background larger than the page) stays, nothing else leaves the page. A unit
//     larger than its region first shrinks uniformly (positions about its bounds' top-left
//     corner, sizes and the lengths above × the factor).
//   - Texts on the page (auto_fit none or shrink; grow-height texts keep their scaled size:
//     the renderer grows them) that do not fit their box (design::measure_text) get the
//     largest whole font size below theirs that fits (binary search; 1 when none does). No
//     lower limit: a format change must fit.
//   - Photos: an image with fit cover whose box aspect changed (|log(new/old aspect)| above
//     0.01, about 1%) gets its focus from vision::smart_crop with fast saliency (no model)
//     on its file: the centre of the best window of the box's new aspect, normalised to the
//     image, set only on the axis that window crops (the other keeps the designer's focus;
//     a window that crops nothing changes nothing). Files that cannot be read (or analysed)
//     are skipped silently; use_saliency false skips this step.
#pragma once

#include <filesystem>

#include "core/status.h"
#include "design/engine.h"

namespace atelier::genai {

struct RelayoutOptions {
  bool use_saliency = true;  // photos' focus points from vision::smart_crop (fast saliency)
  bool reflow = true;        // orientation flips reflow around the hero photo (see above)
  // Resolves relative image sources (the design file's folder); empty: the current folder.
  std::filesystem::path base_dir;
};

// Resizes page `page` (a page id) to width×height through the engine, in one transaction
// (one undo step; none when nothing changes, e.g. the same size with every block inside
// the page). Errors: no such block (kNotFound), not a page or a size that is not
// positive (kInvalidArgument), an engine error (rolled back: the scene is as before).
Status relayout_page(design::Engine& engine, design::BlockId page, double width, double height,
                     const RelayoutOptions& options = {});

}  // namespace atelier::genai
