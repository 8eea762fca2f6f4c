// Text layout and drawing with Pango (fontconfig fonts through cairo's FreeType backend),
// and measure_text (renderer.h).
//
// Determinism: every layout uses glyph outlines without hinting, unhinted metrics and
// unrounded glyph positions, grey antialiasing and no subpixel (LCD) rendering. This is
// set twice: as cairo font options on the Pango contexts, and as fontconfig rules appended
// to a private copy of the system configuration (fontconfig's own rules, e.g. Debian's
// "hintslight" default, would otherwise take precedence over cairo's options). With
// unhinted metrics a layout is the same at every scale and rotation, so what measure_text
// reports is what render_page draws, at scale 1 or 2.
//
// Layout rules (one place, used by drawing and measuring alike):
//   - width = the box width, wrapping at word boundaries, inside words when a word alone
//     is wider than the box (PANGO_WRAP_WORD_CHAR); '\n' starts a new paragraph;
//   - the font size is absolute (design units = pixels at scale 1);
//   - line height = line_height × font size, the extra space split above and below each
//     line (CSS semantics; Pango's absolute line-height attribute);
//   - letter spacing in design units;
//   - text starts at the top of the box (there is no vertical alignment property).
// Overflow:
//   - AutoFit::kNone: only the lines that fit the box's height are drawn (Pango's height
//     limit); when a paragraph is cut in the middle its last drawn line ends with an
//     ellipsis ("…") — a cut between paragraphs shows none. No glyph is sliced in half,
//     nothing spills onto the blocks below, and measure_text reports fits = false.
//   - A word broken across lines (wider than the box on its own) does not fit either, so
//     kShrink shrinks until every word fits on a line.
//   - AutoFit::kShrink: drawn at the largest font size ≤ its own at which it fits (binary
//     search to 1/16 unit, not below 1); if even that does not fit, cut as for kNone.
//   - AutoFit::kGrowHeight: every line is drawn, also past the bottom of the box.
#include <fontconfig/fontconfig.h>
#include <pango/pangocairo.h>
#include <pango/pangofc-fontmap.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <string>

#include "design/render_internal.h"

namespace atelier::design {
namespace render_detail {
namespace {

// Appended to the system configuration: these edits run after the distribution's own.
constexpr char kDeterministicRules[] = R"(<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <match target="pattern">
    <edit name="antialias" mode="assign"><bool>true</bool></edit>
    <edit name="hinting" mode="assign"><bool>false</bool></edit>
    <edit name="hintstyle" mode="assign"><const>hintnone</const></edit>
    <edit name="autohint" mode="assign"><bool>false</bool></edit>
    <edit name="rgba" mode="assign"><const>none</const></edit>
    <edit name="embeddedbitmap" mode="assign"><bool>false</bool></edit>
  </match>
  <match target="font">
    <edit name="antialias" mode="assign"><bool>true</bool></edit>
    <edit name="hinting" mode="assign"><bool>false</bool></edit>
    <edit name="hintstyle" mode="assign"><const>hintnone</const></edit>
    <edit name="autohint" mode="assign"><bool>false</bool></edit>
    <edit name="rgba" mode="assign"><const>none</const></edit>
    <edit name="embeddedbitmap" mode="assign"><bool>false</bool></edit>
  </match>
</fontconfig>
)";

// The process-wide fontconfig configuration (system fonts and aliases + the rules above);
// nullptr when fontconfig cannot load one (Pango then uses its default).
FcConfig* font_config() {
  static FcConfig* config = [] {
    FcConfig* c = FcInitLoadConfigAndFonts();
    if (c != nullptr) {
      FcConfigParseAndLoadFromMemory(c, reinterpret_cast<const FcChar8*>(kDeterministicRules), FcFalse);
    }
    return c;
  }();
  return config;
}

void configure_context(PangoContext* ctx) {
  cairo_font_options_t* opts = cairo_font_options_create();
  cairo_font_options_set_antialias(opts, CAIRO_ANTIALIAS_GRAY);
  cairo_font_options_set_hint_style(opts, CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_hint_metrics(opts, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_subpixel_order(opts, CAIRO_SUBPIXEL_ORDER_DEFAULT);
  pango_cairo_context_set_font_options(ctx, opts);
  cairo_font_options_destroy(opts);
  pango_context_set_round_glyph_positions(ctx, FALSE);
  pango_cairo_context_set_resolution(ctx, 96.0);  // irrelevant: sizes are absolute
}

// Pango font maps and contexts are not thread-safe: each thread has its own (fonts and
// glyph caches are per font map; the fontconfig configuration is shared).
struct ThreadFonts {
  PangoFontMap* map = nullptr;
  PangoContext* measure = nullptr;  // identity transform, never tied to a cairo_t
  PangoContext* render = nullptr;   // updated from the cairo_t before each layout

  ThreadFonts() {
    map = pango_cairo_font_map_new_for_font_type(CAIRO_FONT_TYPE_FT);
    if (map == nullptr) map = pango_cairo_font_map_new();
    if (FcConfig* config = font_config(); config != nullptr && PANGO_IS_FC_FONT_MAP(map)) {
      pango_fc_font_map_set_config(PANGO_FC_FONT_MAP(map), config);
    }
    measure = pango_font_map_create_context(map);
    render = pango_font_map_create_context(map);
    configure_context(measure);
    configure_context(render);
  }
  ~ThreadFonts() {
    g_object_unref(render);
    g_object_unref(measure);
    g_object_unref(map);
  }
  ThreadFonts(const ThreadFonts&) = delete;
  ThreadFonts& operator=(const ThreadFonts&) = delete;
};

ThreadFonts& thread_fonts() {
  thread_local ThreadFonts fonts;
  return fonts;
}

struct GObjectUnref {
  void operator()(void* p) const { g_object_unref(p); }
};
using LayoutPtr = std::unique_ptr<PangoLayout, GObjectUnref>;

// Measured sizes are compared with the box with this tolerance (design units), so that a
// text measured as fitting is also drawn whole.
constexpr double kFitTolerance = 0.01;
constexpr double kMinShrinkSize = 1.0;

// The layout of a text block at `font_size` (see the rules at the top of this file).
LayoutPtr make_layout(PangoContext* ctx, const Block& b, double font_size) {
  const TextProps& t = b.text;
  LayoutPtr layout(pango_layout_new(ctx));
  PangoLayout* l = layout.get();

  PangoFontDescription* desc = pango_font_description_new();
  pango_font_description_set_family(desc, t.font_family.empty() ? "sans-serif" : t.font_family.c_str());
  pango_font_description_set_absolute_size(desc, std::max(font_size, 0.0) * PANGO_SCALE);
  pango_font_description_set_weight(desc, static_cast<PangoWeight>(std::clamp(t.font_weight, 100, 1000)));
  pango_font_description_set_style(desc, t.font_style == FontStyle::kItalic ? PANGO_STYLE_ITALIC : PANGO_STYLE_NORMAL);
  pango_layout_set_font_description(l, desc);
  pango_font_description_free(desc);

  pango_layout_set_width(l, b.width > 0 ? pango_units_from_double(b.width) : -1);
  pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
  switch (t.align) {
    case TextAlign::kLeft: pango_layout_set_alignment(l, PANGO_ALIGN_LEFT); break;
    case TextAlign::kCenter: pango_layout_set_alignment(l, PANGO_ALIGN_CENTER); break;
    case TextAlign::kRight: pango_layout_set_alignment(l, PANGO_ALIGN_RIGHT); break;
    case TextAlign::kJustify:
      pango_layout_set_alignment(l, PANGO_ALIGN_LEFT);
      pango_layout_set_justify(l, TRUE);  // the last line of each paragraph stays ragged
      break;
  }

  PangoAttrList* attrs = pango_attr_list_new();
  if (t.line_height > 0 && font_size > 0) {
    pango_attr_list_insert(attrs, pango_attr_line_height_new_absolute(pango_units_from_double(t.line_height * font_size)));
  }
  if (t.letter_spacing != 0) {
    pango_attr_list_insert(attrs, pango_attr_letter_spacing_new(pango_units_from_double(t.letter_spacing)));
  }
  pango_layout_set_attributes(l, attrs);
  pango_attr_list_unref(attrs);

  // Pango needs valid UTF-8: invalid bytes become U+FFFD.
  if (g_utf8_validate(t.content.data(), static_cast<gssize>(t.content.size()), nullptr)) {
    pango_layout_set_text(l, t.content.data(), static_cast<int>(t.content.size()));
  } else {
    gchar* valid = g_utf8_make_valid(t.content.data(), static_cast<gssize>(t.content.size()));
    pango_layout_set_text(l, valid, -1);
    g_free(valid);
  }
  return layout;
}

TextMeasure measure_layout(PangoLayout* l, const Block& b) {
  TextMeasure m;
  PangoRectangle logical;
  pango_layout_get_extents(l, nullptr, &logical);
  int widest = 0;
  for (GSList* it = pango_layout_get_lines_readonly(l); it != nullptr; it = it->next) {
    PangoRectangle line_rect;
    pango_layout_line_get_extents(static_cast<PangoLayoutLine*>(it->data), nullptr, &line_rect);
    widest = std::max(widest, line_rect.width);
  }
  m.width = pango_units_to_double(widest);
  m.height = pango_units_to_double(logical.height);
  m.lines = pango_layout_get_line_count(l);
  // A line that starts where Pango allows no line break began inside a word (a word wider
  // than the box, wrapped by character).
  int n_attrs = 0;
  const PangoLogAttr* attrs = pango_layout_get_log_attrs_readonly(l, &n_attrs);
  const char* text = pango_layout_get_text(l);
  for (GSList* it = pango_layout_get_lines_readonly(l); it != nullptr && !m.word_broken; it = it->next) {
    const int start = static_cast<PangoLayoutLine*>(it->data)->start_index;
    if (start == 0) continue;
    const long offset = g_utf8_pointer_to_offset(text, text + start);
    m.word_broken = offset < n_attrs && !attrs[offset].is_line_break;
  }
  m.fits = m.width <= b.width + kFitTolerance && m.height <= b.height + kFitTolerance && !m.word_broken;
  return m;
}

bool fits_at(const Block& b, double size) {
  LayoutPtr layout = make_layout(thread_fonts().measure, b, size);
  return measure_layout(layout.get(), b).fits;
}

}  // namespace

double effective_font_size(const Block& b) {
  const double size = b.text.font_size;
  if (b.text.auto_fit != AutoFit::kShrink || !(size > kMinShrinkSize) || b.text.content.empty()) return size;
  if (fits_at(b, size)) return size;
  double lo = kMinShrinkSize, hi = size;  // invariant: fits(lo) (or lo is the minimum), !fits(hi)
  if (!fits_at(b, lo)) return lo;
  while (hi - lo > 1.0 / 16) {
    const double mid = (lo + hi) / 2;
    (fits_at(b, mid) ? lo : hi) = mid;
  }
  return lo;
}

// Limits a layout to the box's height (AutoFit::kNone and kShrink): the lines below are
// dropped, a paragraph cut in the middle ends with an ellipsis. Returns the number of
// lines before and after, so a caller can tell that text was cut.
std::pair<int, int> limit_to_box(PangoLayout* l, const Block& b) {
  const int before = pango_layout_get_line_count(l);
  pango_layout_set_height(l, pango_units_from_double(std::max(b.height, 0.0) + kFitTolerance));
  pango_layout_set_ellipsize(l, PANGO_ELLIPSIZE_END);
  return {before, pango_layout_get_line_count(l)};
}

// The lines drawn when not all of them fit: those that start above the box's bottom.
int lines_shown(PangoLayout* l, const Block& b) {
  const int n = pango_layout_get_line_count(l);
  PangoLayoutIter* it = pango_layout_get_iter(l);
  int shown = 0;
  do {
    PangoRectangle r;
    pango_layout_iter_get_line_extents(it, nullptr, &r);
    if (pango_units_to_double(r.y + r.height) <= std::max(b.height, 0.0) + kFitTolerance || shown == 0) ++shown;
  } while (shown < n && pango_layout_iter_next_line(it));
  pango_layout_iter_free(it);
  return shown;
}

void draw_text(cairo_t* cr, const Block& b, double alpha, RenderReport* report) {
  const TextProps& t = b.text;
  if (b.fill.enabled && b.width > 0 && b.height > 0) {
    rounded_rect_path(cr, 0, 0, b.width, b.height, b.corner_radius);
    set_color(cr, b.fill.color, alpha);
    cairo_fill(cr);
  }
  const double size = effective_font_size(b);
  if (t.content.empty() || !(size > 0)) return;

  ThreadFonts& fonts = thread_fonts();
  pango_cairo_update_context(cr, fonts.render);
  LayoutPtr layout = make_layout(fonts.render, b, size);
  if (t.auto_fit != AutoFit::kGrowHeight) {
    PangoRectangle logical;
    pango_layout_get_extents(layout.get(), nullptr, &logical);
    if (pango_units_to_double(logical.height) > std::max(b.height, 0.0) + kFitTolerance) {
      const int lines = pango_layout_get_line_count(layout.get());
      limit_to_box(layout.get(), b);
      if (report != nullptr) {
        const TextFit fit{size, lines, lines_shown(layout.get(), b)};
        if (fit.cut()) report->issues.push_back({b.id, text_cut_message(b, fit)});
      }
    }
  }
  cairo_move_to(cr, 0, 0);
  set_color(cr, t.color, alpha);
  pango_cairo_show_layout(cr, layout.get());
  if (b.stroke.enabled && b.stroke.width > 0) {
    cairo_new_path(cr);
    cairo_move_to(cr, 0, 0);
    pango_cairo_layout_path(cr, layout.get());
    cairo_set_line_width(cr, b.stroke.width);
    set_color(cr, b.stroke.color, alpha);
    cairo_stroke(cr);
  }
}

}  // namespace render_detail

Result<TextFit> fit_text(const Block& b) {
  if (b.type != BlockType::kText) return invalid_argument("block " + std::to_string(b.id) + " is not a text block");
  TextFit fit;
  fit.font_size = render_detail::effective_font_size(b);
  if (b.text.content.empty() || !(fit.font_size > 0)) return fit;
  auto layout = render_detail::make_layout(render_detail::thread_fonts().measure, b, fit.font_size);
  fit.lines = fit.lines_shown = pango_layout_get_line_count(layout.get());
  if (b.text.auto_fit == AutoFit::kGrowHeight) return fit;
  PangoRectangle logical;
  pango_layout_get_extents(layout.get(), nullptr, &logical);
  if (pango_units_to_double(logical.height) > std::max(b.height, 0.0) + render_detail::kFitTolerance) {
    render_detail::limit_to_box(layout.get(), b);
    fit.lines_shown = render_detail::lines_shown(layout.get(), b);
  }
  return fit;
}

std::string text_cut_message(const Block& b, const TextFit& fit) {
  return "block " + std::to_string(b.id) + ": text does not fit its box (" + std::to_string(fit.lines_shown) + " of " +
         std::to_string(fit.lines) + " line" + (fit.lines == 1 ? "" : "s") + " shown)";
}

Result<TextMeasure> measure_text(const Block& text_block, std::optional<double> font_size) {
  if (text_block.type != BlockType::kText) {
    return invalid_argument("block " + std::to_string(text_block.id) + " is not a text block");
  }
  const double size = font_size.value_or(text_block.text.font_size);
  if (!std::isfinite(size) || size < 0) {
    return invalid_argument("font size must be a finite number not below 0");
  }
  auto layout = render_detail::make_layout(render_detail::thread_fonts().measure, text_block, size);
  return render_detail::measure_layout(layout.get(), text_block);
}

}  // namespace atelier::design
