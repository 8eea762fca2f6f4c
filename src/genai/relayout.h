// Changing a design's format deterministically (the baseline `atelier edit --to 1280x720`
// uses when no model is configured or its answer fails validation): every block keeps its
// anchor — the side or centre of the page it is closest to — and scales by the smaller of
// the two axis ratios; texts are re-measured (shrunk to fit); photos that change aspect get
// their focus point from smart crop's saliency so the subject stays in view.
#pragma once

#include "core/status.h"
#include "design/engine.h"

namespace atelier::genai {

struct RelayoutOptions {
  bool use_saliency = true;  // photos' focus points from vision::smart_crop (fast saliency)
};

// Resizes page `page` (a page id) to width×height through the engine, in one transaction.
Status relayout_page(design::Engine& engine, design::BlockId page, double width, double height,
                     const RelayoutOptions& options = {});

}  // namespace atelier::genai
