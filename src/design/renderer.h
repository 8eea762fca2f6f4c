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
//   - Images are decoded once and cached process-wide (path + mtime + size; at most 64
//     entries / 512 MiB, least recently used out), together with downscaled renditions
//     for raster output. A missing or unreadable image is drawn as a grey box with a
//     diagonal cross.
//   - Units: PNG pixels = design units × scale; PDF points = design units × scale; SVG px
//     = design units × scale.
// Thread-safe: calls may run concurrently (each thread keeps its own Pango fonts and a
// reusable page surface of up to 3840×2160).
#pragma once

#include <filesystem>
#include <optional>

#include "core/status.h"
#include "design/scene.h"
#include "image/image.h"

namespace atelier::design {

struct RenderOptions {
  double scale = 1.0;  // output pixels per design unit (2 = high density)
  // Resolves relative image sources; empty: the current folder.
  std::filesystem::path base_dir;
};

// One page (0-based index into scene.pages) as an 8-bit RGBA image of
// round(width × scale) × round(height × scale) pixels. Missing images are drawn as a
// neutral placeholder (not an error). Errors: bad page index, render failure.
Result<image::Image> render_page(const Scene& scene, int page, const RenderOptions& options = {});

// By the file's extension: .png (one page), .pdf (`page` or, when not given, every page),
// .svg (one page), .jpg/.webp (one page, raster previews). Written atomically. Errors name the path.
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

}  // namespace atelier::design
