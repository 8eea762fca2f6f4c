// Drawing scenes with Cairo + Pango (fontconfig fonts): pages to RGBA images, PNG, PDF
// (vector, for print; one PDF page per scene page) and SVG; and text measurement, so that
// features can check whether a text still fits its box (e.g. after a translation).
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
// .svg (one page). Written atomically. Errors name the path.
Status render_to_file(const Scene& scene, const std::filesystem::path& path, std::optional<int> page,
                      const RenderOptions& options = {});

struct TextMeasure {
  double width = 0;   // of the widest line, design units
  double height = 0;  // of all lines
  int lines = 0;
  bool fits = false;  // within the block's width and height
};

// Lays out a text block's content in its box width with its font properties (optionally
// another font size) and reports the size it needs. Errors: not a text block.
Result<TextMeasure> measure_text(const Block& text_block, std::optional<double> font_size = std::nullopt);

}  // namespace atelier::design
