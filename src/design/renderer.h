// Drawing scenes with Cairo + Pango (fontconfig fonts): pages to RGBA images, PNG, PDF
// (vector, for print; one PDF page per scene page) and SVG; and text measurement, so that
// features can check whether a text still fits its box (e.g. after a translation).
//
// What is drawn (details in renderer.cpp, render_text.cpp, render_image.cpp):
//   - The page's fill is the background (transparent when off). Blocks are drawn bottom
//     first (Scene::descendants order), each rotated about its centre; invisible blocks
//     and everything in an invisible group are skipped; a group's opacity applies to its
//     children composited together. Groups draw nothing themselves and do not move their
//     children.
//   - Shapes fill their box (polygons and stars touch all four sides, first vertex up); a
//     line runs from the box's top-left to its bottom-right corner, drawn with the stroke.
//     Strokes are centred on the outline. A text's stroke outlines its glyphs; an image's
//     (and a text box's) fill is drawn behind it, its stroke around its box.
//   - Text starts at the top of its box, wraps at words (inside a word only when the word
//     alone is wider than the box), line height = line_height × font size. Overflow:
//     AutoFit::kNone draws only the lines that fit the box's height (a paragraph cut in
//     the middle ends with "…"); kShrink uses the largest font size (to 1/16 unit) at which
//     the text fits; kGrowHeight draws every line, past the bottom of the box if need be.
//   - Fonts: fontconfig's system configuration (family names and fallbacks as installed;
//     "DejaVu Sans" from fonts-dejavu-core is the default) with hinting off, unhinted
//     metrics, grey antialiasing and no subpixel rendering, so layouts are the same at
//     every scale and measure_text agrees with what is drawn; output is deterministic on a
//     given set of installed fonts.
//   - Images are decoded once and cached process-wide (path + mtime + size + limits; at
//     most 64 entries / 512 MiB, least recently used out), together with downscaled
//     renditions for raster output. Sources go through image_source.h (regular files
//     only, never a URL, a device or a FIFO; the image layer's decoders and
//     RenderOptions::limits). A source that cannot be drawn is drawn as a grey box with a
//     diagonal cross and reported (RenderReport).
//   - Text that does not fit its box (AutoFit::kNone, or kShrink at its smallest size) is
//     drawn cut, as described above, and reported.
//   - Units: PNG pixels = design units × scale; PDF points = design units × scale; SVG px
//     = design units × scale.
// Thread-safe: calls may run concurrently (each thread keeps its own Pango fonts and a
// reusable page surface of up to 3840×2160).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/limits.h"
#include "core/status.h"
#include "design/scene.h"
#include "image/image.h"

namespace atelier::design {

// Something drawn differently from what the design asks for, found while rendering.
struct RenderIssue {
  BlockId block = 0;
  // One line, starting with the block: "block 7: image /etc/passwd: not an image (...)"
  // (the reasons of image_source.h), "block 7: text does not fit its box (2 of 5 lines
  // shown)".
  std::string message;
};
struct RenderReport {
  std::vector<RenderIssue> issues;  // in drawing order, one per block at most per call
};

struct RenderOptions {
  double scale = 1.0;  // output pixels per design unit (2 = high density)
  // Resolves relative image sources; empty: the current folder.
  std::filesystem::path base_dir;
  // Image sources are decoded within the input limits; raster pages must fit the output
  // limits (check_page_size).
  Limits limits;
  // Receives the issues of the call (appended), when set. Not shared between threads.
  RenderReport* report = nullptr;
  // Any issue fails the call (kInvalidArgument, the first issue's message) and nothing
  // is written; the report still gets every issue.
  bool strict = false;
};

// Pages are numbered from 0 in these calls (an index into scene.pages) and counted from 1
// in every message: "page 3 does not exist (the design has 1 page)".

// OK when the page, drawn as pixels at options.scale, fits options.limits (core/limits.h:
// check_output_size, "page 1 would be 800.0 MP (40000x20000), more than the 100.0 MP
// limit") and cairo's 32767 pixels a side ("page 1 would be 40000x100, more than 32767
// pixels a side (the renderer's limit)"); "page 1 has no area at this scale". Errors for a
// bad page index as above. render_page and the raster formats of render_to_file check it
// before drawing.
Status check_page_size(const Scene& scene, int page, const RenderOptions& options = {});

// One page (0-based index into scene.pages) as an 8-bit RGBA image of
// round(width × scale) × round(height × scale) pixels. Images that cannot be drawn are
// drawn as a neutral placeholder and reported (an error only when strict). Errors: bad
// page index, size over the limits, render failure.
Result<image::Image> render_page(const Scene& scene, int page, const RenderOptions& options = {});

// By the file's extension, case-insensitive: .png (one page), .pdf (`page` or, when not
// given, every page), .svg (one page), .jpg/.jpeg/.webp (one page, raster previews).
// Written atomically, only after the whole render succeeded. Errors name the path
// ("out.png: not written: block 7: ..." when strict).
Status render_to_file(const Scene& scene, const std::filesystem::path& path, std::optional<int> page,
                      const RenderOptions& options = {});

struct TextMeasure {
  double width = 0;   // of the widest line, design units
  double height = 0;  // of all lines
  int lines = 0;
  bool word_broken = false;  // a word wider than the box was broken across lines
  bool fits = false;  // within the block's width and height, no word broken
};

// Lays out a text block's content in its box width with its font properties (optionally
// another font size) and reports the size it needs. Errors: not a text block.
Result<TextMeasure> measure_text(const Block& text_block, std::optional<double> font_size = std::nullopt);

// How a text block is drawn: at `font_size` (its own, or the shrunk size for
// AutoFit::kShrink), laid out in `lines` lines of which `lines_shown` are drawn — fewer
// when the text overflows its box (kNone, or kShrink even at its smallest size); kGrowHeight
// draws every line. Empty text: 0 of 0. Errors: not a text block.
struct TextFit {
  double font_size = 0;
  int lines = 0;
  int lines_shown = 0;
  bool cut() const { return lines_shown < lines; }
};
Result<TextFit> fit_text(const Block& text_block);

// "block 7: text does not fit its box (2 of 5 lines shown)", the RenderIssue of a cut text.
std::string text_cut_message(const Block& text_block, const TextFit& fit);

}  // namespace atelier::design
