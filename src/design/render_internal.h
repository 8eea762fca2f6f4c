// Internals of the renderer (renderer.h), shared by renderer.cpp, render_text.cpp and
// render_image.cpp. Not a public header: it exposes Cairo and Pango types.
//
// Drawing convention: every block is drawn in its own local frame — the origin at the
// block's top-left corner, x right, y down, in design units — set up by the caller
// (translate to the block's centre, rotate, translate back by half its size), so the
// draw_* functions see an axis-aligned box [0, width] × [0, height].
#pragma once

#include <cairo.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "core/status.h"
#include "design/renderer.h"
#include "design/scene.h"
#include "image/png_encode.h"

namespace atelier::design::render_detail {

struct CairoDeleter {
  void operator()(cairo_t* cr) const { cairo_destroy(cr); }
  void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
  void operator()(cairo_pattern_t* p) const { cairo_pattern_destroy(p); }
};
using CairoPtr = std::unique_ptr<cairo_t, CairoDeleter>;
using SurfacePtr = std::unique_ptr<cairo_surface_t, CairoDeleter>;
using PatternPtr = std::unique_ptr<cairo_pattern_t, CairoDeleter>;

// cairo_set_source_rgba with a Color whose alpha is multiplied by `alpha`.
void set_color(cairo_t* cr, const Color& c, double alpha = 1.0);

// Adds a rectangle with rounded corners (radius clamped to half the shorter side) to the
// current path.
void rounded_rect_path(cairo_t* cr, double x, double y, double w, double h, double radius);

// --- pages (renderer.cpp) ---

// A page drawn on a new premultiplied ARGB32 surface of round(size × scale) pixels.
Result<SurfacePtr> render_page_surface(const Scene& scene, int page, const RenderOptions& options);

// --- PNG (render_png.cpp) ---

// PNG bytes of a premultiplied ARGB32 surface at zlib `level` (0..9; image/png_encode.h):
// RGB when every pixel is opaque, else RGBA with straight alpha. The surface is left as it is.
Result<std::vector<std::uint8_t>> encode_png(cairo_surface_t* surface, int level = image::kPngLevel);

// 256 × 256 table: lut[a * 256 + c] is colour c at alpha a un-premultiplied (rounded).
const std::array<std::uint8_t, 256 * 256>& unpremultiply_lut();

// --- text (render_text.cpp) ---

// Draws a text block (fill behind the box, the text, a stroke around the glyphs) in its
// local frame with the block's opacity applied; a text cut to its box is added to
// `report` (when not null).
void draw_text(cairo_t* cr, const Block& b, double alpha, RenderReport* report);

// The font size a text block is drawn at: its own, or for AutoFit::kShrink the largest
// size not above it at which the text fits the box.
double effective_font_size(const Block& b);

// --- images (render_image.cpp) ---

// Draws an image block in its local frame: its fill (if on) behind, the decoded image
// fitted to the box, clipped to its rounded corners, with `alpha`; a placeholder when the
// source cannot be used (image_source.h; options.base_dir and options.limits), reported
// to options.report (when not null).
void draw_image(cairo_t* cr, const Block& b, double alpha, const RenderOptions& options);

// Draws the neutral "missing image" placeholder over the box [0,w]×[0,h].
void draw_placeholder(cairo_t* cr, double w, double h, double radius, double alpha);

}  // namespace atelier::design::render_detail
