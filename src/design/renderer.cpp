// The renderer (renderer.h): scene traversal, shapes, pages to pixels, PNG/PDF/SVG files.
// Text is in render_text.cpp, images in render_image.cpp, PNG encoding in render_png.cpp.
//
// Traversal: a page's children in stacking order (bottom first), depth-first through
// groups — the order of Scene::descendants. Invisible blocks are skipped with everything
// inside them; a group's opacity applies to its children drawn together (an isolated
// Cairo group painted with that alpha), so overlapping children do not show through each
// other. A group draws nothing itself, and its geometry (position, size, rotation) does not
// move its children (scene.h: children are in page coordinates). A page's fill is the
// background (transparent when off); pages ignore their own opacity and rotation.
// A block's opacity applies to the block as a whole: when it paints more than once (fill
// and stroke, a text's box and glyphs), the paints go through an isolated group.
//
// Shapes fill their box: polygons and stars are scaled so that their outline touches all
// four sides of the box (vertex up). A line goes from the box's top-left to its
// bottom-right corner and is drawn with the stroke (or, when the stroke is off and the
// fill is on, with the fill colour, 1 unit wide). Strokes are centred on the outline.
//
// Output units: PNG pixels = design units × scale; PDF: 1 design unit × scale = 1 pt;
// SVG: 1 design unit × scale = 1 px (user unit).
#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <opencv2/core.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/files.h"
#include "core/limits.h"
#include "design/render_internal.h"
#include "image/codec.h"

namespace atelier::design {
namespace render_detail {

void set_color(cairo_t* cr, const Color& c, double alpha) {
  cairo_set_source_rgba(cr, c.r, c.g, c.b, std::clamp(c.a * alpha, 0.0, 1.0));
}

void rounded_rect_path(cairo_t* cr, double x, double y, double w, double h, double radius) {
  const double r = std::clamp(radius, 0.0, std::max(0.0, std::min(w, h) / 2));
  if (r <= 0) {
    cairo_rectangle(cr, x, y, w, h);
    return;
  }
  constexpr double kPi = 3.14159265358979323846;
  cairo_new_sub_path(cr);
  cairo_arc(cr, x + w - r, y + r, r, -kPi / 2, 0);
  cairo_arc(cr, x + w - r, y + h - r, r, 0, kPi / 2);
  cairo_arc(cr, x + r, y + h - r, r, kPi / 2, kPi);
  cairo_arc(cr, x + r, y + r, r, kPi, 3 * kPi / 2);
  cairo_close_path(cr);
}

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kMaxDepth = 64;              // groups inside groups; deeper means a cycle
constexpr int kMaxSide = 32767;            // cairo image surfaces

const Block* lookup(const Scene& scene, BlockId id) {
  auto it = scene.blocks.find(id);
  return it == scene.blocks.end() ? nullptr : &it->second;
}

std::string block_name(BlockId id) { return "block " + std::to_string(id); }

// --- shapes ---

// A regular polygon (or a star: `star` alternates outer and inner vertices) with its
// first vertex up, scaled so that its bounding box is the box.
void polygon_path(cairo_t* cr, double w, double h, int points, bool star, double inner) {
  const int n = std::clamp(points, 3, 64);
  const int count = star ? 2 * n : n;
  std::vector<std::pair<double, double>> v(static_cast<std::size_t>(count));
  double minx = 1e9, maxx = -1e9, miny = 1e9, maxy = -1e9;
  for (int i = 0; i < count; ++i) {
    const double a = -kPi / 2 + 2 * kPi * i / count;
    const double r = (star && i % 2 == 1) ? std::clamp(inner, 0.0, 1.0) : 1.0;
    v[std::size_t(i)] = {r * std::cos(a), r * std::sin(a)};
    minx = std::min(minx, v[std::size_t(i)].first);
    maxx = std::max(maxx, v[std::size_t(i)].first);
    miny = std::min(miny, v[std::size_t(i)].second);
    maxy = std::max(maxy, v[std::size_t(i)].second);
  }
  const double kx = maxx > minx ? w / (maxx - minx) : 0, ky = maxy > miny ? h / (maxy - miny) : 0;
  for (int i = 0; i < count; ++i) {
    const double x = (v[std::size_t(i)].first - minx) * kx, y = (v[std::size_t(i)].second - miny) * ky;
    if (i == 0) {
      cairo_move_to(cr, x, y);
    } else {
      cairo_line_to(cr, x, y);
    }
  }
  cairo_close_path(cr);
}

void shape_path(cairo_t* cr, const Block& b) {
  const double w = b.width, h = b.height;
  switch (b.shape.shape) {
    case ShapeKind::kRect: rounded_rect_path(cr, 0, 0, w, h, b.corner_radius); break;
    case ShapeKind::kEllipse:
      if (w > 0 && h > 0) {
        cairo_save(cr);
        cairo_translate(cr, w / 2, h / 2);
        cairo_scale(cr, w / 2, h / 2);
        cairo_new_sub_path(cr);
        cairo_arc(cr, 0, 0, 1, 0, 2 * kPi);
        cairo_close_path(cr);
        cairo_restore(cr);  // the path stays; the stroke is not distorted
      }
      break;
    case ShapeKind::kPolygon: polygon_path(cr, w, h, b.shape.points, false, 1); break;
    case ShapeKind::kStar: polygon_path(cr, w, h, b.shape.points, true, b.shape.inner_radius); break;
    case ShapeKind::kLine:
      cairo_move_to(cr, 0, 0);
      cairo_line_to(cr, w, h);
      break;
  }
}

void draw_shape(cairo_t* cr, const Block& b, double alpha) {
  const bool stroke = b.stroke.enabled && b.stroke.width > 0;
  if (b.shape.shape == ShapeKind::kLine) {
    if (!stroke && !b.fill.enabled) return;
    shape_path(cr, b);
    cairo_set_line_width(cr, stroke ? b.stroke.width : 1.0);
    set_color(cr, stroke ? b.stroke.color : b.fill.color, alpha);
    cairo_stroke(cr);
    return;
  }
  if (b.fill.enabled) {
    shape_path(cr, b);
    set_color(cr, b.fill.color, alpha);
    cairo_fill(cr);
  }
  if (stroke) {
    shape_path(cr, b);
    cairo_set_line_width(cr, b.stroke.width);
    set_color(cr, b.stroke.color, alpha);
    cairo_stroke(cr);
  }
}

// How many separate paints a block makes (more than one needs a group for its opacity).
int paint_count(const Block& b) {
  const int stroke = b.stroke.enabled && b.stroke.width > 0 ? 1 : 0;
  switch (b.type) {
    case BlockType::kShape:
      return b.shape.shape == ShapeKind::kLine ? 1 : (b.fill.enabled ? 1 : 0) + stroke;
    case BlockType::kText: return (b.fill.enabled ? 1 : 0) + (b.text.content.empty() ? 0 : 1) + stroke;
    case BlockType::kImage: return (b.fill.enabled ? 1 : 0) + 1 + stroke;
    default: return 0;
  }
}

// --- traversal ---

struct DrawContext {
  cairo_t* cr;
  const Scene& scene;
  const RenderOptions& options;
};

Status draw_children(const DrawContext& dc, const Block& parent, int depth);

void draw_leaf(const DrawContext& dc, const Block& b) {
  cairo_t* cr = dc.cr;
  const double op = std::clamp(b.opacity, 0.0, 1.0);
  cairo_save(cr);
  cairo_translate(cr, b.x + b.width / 2, b.y + b.height / 2);
  cairo_rotate(cr, b.rotation * kPi / 180);
  cairo_translate(cr, -b.width / 2, -b.height / 2);
  const bool group = op < 1 && paint_count(b) > 1;
  if (group) {
    // Bound the group's surface: the box, plus room for strokes (miter joins) and
    // glyphs that overhang the box. Grown text may go anywhere below: no bound.
    if (!(b.type == BlockType::kText && b.text.auto_fit == AutoFit::kGrowHeight)) {
      double pad = 2;
      if (b.stroke.enabled) pad += 5 * b.stroke.width;
      if (b.type == BlockType::kText) pad += b.text.font_size;
      cairo_rectangle(cr, -pad, -pad, b.width + 2 * pad, b.height + 2 * pad);
      cairo_clip(cr);
    }
    cairo_push_group(cr);
  }
  const double alpha = group ? 1.0 : op;
  switch (b.type) {
    case BlockType::kShape: draw_shape(cr, b, alpha); break;
    case BlockType::kText: draw_text(cr, b, alpha, dc.options.report); break;
    case BlockType::kImage: draw_image(cr, b, alpha, dc.options); break;
    default: break;
  }
  if (group) {
    cairo_pop_group_to_source(cr);
    cairo_paint_with_alpha(cr, op);
  }
  cairo_restore(cr);
}

Status draw_children(const DrawContext& dc, const Block& parent, int depth) {
  if (depth > kMaxDepth) {
    return invalid_argument(block_name(parent.id) + ": groups nested more than " + std::to_string(kMaxDepth) +
                            " deep (a cycle?)");
  }
  for (BlockId id : parent.children) {
    const Block* b = lookup(dc.scene, id);
    if (b == nullptr) return invalid_argument(block_name(parent.id) + ": child " + std::to_string(id) + " does not exist");
    if (!b->visible || !(b->opacity > 0) || b->type == BlockType::kPage) continue;
    if (b->type == BlockType::kGroup) {
      if (b->opacity < 1) {
        cairo_push_group(dc.cr);
        Status st = draw_children(dc, *b, depth + 1);
        cairo_pop_group_to_source(dc.cr);
        if (!st.ok()) return st;
        cairo_paint_with_alpha(dc.cr, b->opacity);
      } else {
        ATELIER_TRY(draw_children(dc, *b, depth + 1));
      }
      continue;
    }
    draw_leaf(dc, *b);
  }
  return {};
}

Status check_options(const RenderOptions& o) {
  if (!std::isfinite(o.scale) || !(o.scale > 0) || o.scale > 100) {
    return invalid_argument("render scale must be a number above 0 and at most 100");
  }
  return {};
}

// "page 1" for index 0: messages count pages from 1.
std::string page_name(int page) { return "page " + std::to_string(std::int64_t(page) + 1); }

Result<const Block*> page_block(const Scene& scene, int page) {
  if (page < 0 || std::size_t(page) >= scene.pages.size()) {
    if (scene.pages.empty()) return Status(StatusCode::kOutOfRange, "the design has no pages");
    return Status(StatusCode::kOutOfRange, page_name(page) + " does not exist (the design has " +
                                               std::to_string(scene.pages.size()) + " page" +
                                               (scene.pages.size() == 1 ? "" : "s") + ")");
  }
  const Block* p = lookup(scene, scene.pages[std::size_t(page)]);
  if (p == nullptr) return invalid_argument(page_name(page) + ": " + block_name(scene.pages[std::size_t(page)]) + " does not exist");
  if (p->type != BlockType::kPage) return invalid_argument(page_name(page) + ": " + block_name(p->id) + " is not a page");
  if (!std::isfinite(p->width) || !std::isfinite(p->height)) return invalid_argument(page_name(page) + " has no valid size");
  return p;
}

Status cairo_error(cairo_status_t s, const std::string& what) {
  if (s == CAIRO_STATUS_SUCCESS) return {};
  if (s == CAIRO_STATUS_NO_MEMORY) return resource_exhausted(what + ": out of memory");
  if (s == CAIRO_STATUS_WRITE_ERROR) return internal_error(what + ": write error");
  return internal_error(what + ": " + cairo_status_to_string(s));
}

// Draws a page onto `cr` (already scaled to design units).
Status draw_page(cairo_t* cr, const Scene& scene, const Block& page, const RenderOptions& options) {
  if (page.fill.enabled && page.fill.color.a > 0) {
    set_color(cr, page.fill.color);
    cairo_paint(cr);
  }
  DrawContext dc{cr, scene, options};
  ATELIER_TRY(draw_children(dc, page, 0));
  return cairo_error(cairo_status(cr), "rendering failed");
}

// Premultiplied B,G,R,A → straight R,G,B,A (swap = true) or straight B,G,R,A (in place).
void unpremultiply_rows(const std::uint8_t* src, int src_stride, std::uint8_t* dst, int dst_stride, int w, int h,
                        bool swap) {
  const auto& t = unpremultiply_lut();
  for (int y = 0; y < h; ++y) {
    const std::uint8_t* s = src + std::ptrdiff_t(y) * src_stride;
    std::uint8_t* d = dst + std::ptrdiff_t(y) * dst_stride;
    for (int x = 0; x < w; ++x, s += 4, d += 4) {
      const std::uint8_t a = s[3];
      std::uint8_t b = s[0], g = s[1], r = s[2];
      if (a != 255) {
        const std::uint8_t* row = &t[std::size_t(a) * 256];
        b = row[b];
        g = row[g];
        r = row[r];
      }
      if (swap) std::swap(b, r);
      d[0] = b;
      d[1] = g;
      d[2] = r;
      d[3] = a;
    }
  }
}

cairo_status_t append_to_vector(void* closure, const unsigned char* data, unsigned int length) {
  auto* out = static_cast<std::vector<std::uint8_t>*>(closure);
  try {
    out->insert(out->end(), data, data + length);
  } catch (...) {
    return CAIRO_STATUS_NO_MEMORY;
  }
  return CAIRO_STATUS_SUCCESS;
}

Result<std::vector<std::uint8_t>> render_pdf(const Scene& scene, const std::vector<int>& pages, const RenderOptions& options) {
  std::vector<std::uint8_t> bytes;
  std::vector<const Block*> blocks;
  for (int p : pages) {
    ATELIER_ASSIGN_OR_RETURN(const Block* b, page_block(scene, p));
    blocks.push_back(b);
  }
  if (blocks.empty()) return invalid_argument("the scene has no pages");
  const double s = options.scale;
  SurfacePtr surface(cairo_pdf_surface_create_for_stream(append_to_vector, &bytes, std::max(1.0, blocks[0]->width * s),
                                                         std::max(1.0, blocks[0]->height * s)));
  ATELIER_TRY(cairo_error(cairo_surface_status(surface.get()), "cannot create a PDF"));
  cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_CREATOR, "Atelier");
  if (!scene.name.empty()) cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_TITLE, scene.name.c_str());
  for (const Block* page : blocks) {
    cairo_pdf_surface_set_size(surface.get(), std::max(1.0, page->width * s), std::max(1.0, page->height * s));
    CairoPtr cr(cairo_create(surface.get()));
    cairo_scale(cr.get(), s, s);
    ATELIER_TRY(draw_page(cr.get(), scene, *page, options));
    cairo_show_page(cr.get());
  }
  cairo_surface_finish(surface.get());
  ATELIER_TRY(cairo_error(cairo_surface_status(surface.get()), "PDF output failed"));
  return bytes;
}

Result<std::vector<std::uint8_t>> render_svg(const Scene& scene, int page, const RenderOptions& options) {
  ATELIER_ASSIGN_OR_RETURN(const Block* p, page_block(scene, page));
  std::vector<std::uint8_t> bytes;
  const double s = options.scale;
  SurfacePtr surface(cairo_svg_surface_create_for_stream(append_to_vector, &bytes, std::max(1.0, p->width * s),
                                                         std::max(1.0, p->height * s)));
  ATELIER_TRY(cairo_error(cairo_surface_status(surface.get()), "cannot create an SVG"));
  cairo_svg_surface_set_document_unit(surface.get(), CAIRO_SVG_UNIT_PX);
  {
    CairoPtr cr(cairo_create(surface.get()));
    cairo_scale(cr.get(), s, s);
    ATELIER_TRY(draw_page(cr.get(), scene, *p, options));
  }
  cairo_surface_finish(surface.get());
  ATELIER_TRY(cairo_error(cairo_surface_status(surface.get()), "SVG output failed"));
  return bytes;
}

// A surface for a page: each thread keeps its last one (up to kReuseMaxPixels) and
// reuses it when nobody else holds it any more. Fresh 8 MB allocations cost more than
// drawing a simple page (page faults: ~5 ms of the benchmark's 20). `clear`: the caller
// does not cover every pixel with an opaque paint.
constexpr std::int64_t kReuseMaxPixels = 3840 * 2160;

SurfacePtr page_surface(int w, int h, bool clear) {
  thread_local SurfacePtr spare;
  if (spare && cairo_image_surface_get_width(spare.get()) == w && cairo_image_surface_get_height(spare.get()) == h &&
      cairo_surface_get_reference_count(spare.get()) == 1) {
    if (clear) {
      cairo_surface_flush(spare.get());
      std::memset(cairo_image_surface_get_data(spare.get()), 0,
                  std::size_t(cairo_image_surface_get_stride(spare.get())) * std::size_t(h));
      cairo_surface_mark_dirty(spare.get());
    }
    return SurfacePtr(cairo_surface_reference(spare.get()));
  }
  SurfacePtr s(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h));
  if (cairo_surface_status(s.get()) == CAIRO_STATUS_SUCCESS && std::int64_t(w) * h <= kReuseMaxPixels) {
    spare.reset(cairo_surface_reference(s.get()));
  }
  return s;
}

std::string lower_extension(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return ext;
}

}  // namespace

Result<SurfacePtr> render_page_surface(const Scene& scene, int page, const RenderOptions& options) {
  ATELIER_TRY(check_page_size(scene, page, options));
  const Block* p = *page_block(scene, page);
  const double fw = std::round(p->width * options.scale), fh = std::round(p->height * options.scale);
  const bool opaque = p->fill.enabled && p->fill.color.a >= 1;
  SurfacePtr surface = page_surface(int(fw), int(fh), !opaque);
  ATELIER_TRY(cairo_error(cairo_surface_status(surface.get()), "cannot create a " + std::to_string(int(fw)) + "x" +
                                                                    std::to_string(int(fh)) + " image"));
  CairoPtr cr(cairo_create(surface.get()));
  cairo_scale(cr.get(), options.scale, options.scale);
  ATELIER_TRY(draw_page(cr.get(), scene, *p, options));
  cr.reset();
  cairo_surface_flush(surface.get());
  return surface;
}

}  // namespace render_detail

using namespace render_detail;

Status check_page_size(const Scene& scene, int page, const RenderOptions& options) {
  ATELIER_TRY(check_options(options));
  ATELIER_ASSIGN_OR_RETURN(const Block* p, page_block(scene, page));
  const double fw = std::round(p->width * options.scale), fh = std::round(p->height * options.scale);
  if (!(fw >= 1) || !(fh >= 1)) return invalid_argument(page_name(page) + " has no area at this scale");
  ATELIER_TRY(check_output_size(page_name(page), fw, fh, options.limits));
  if (fw > kMaxSide || fh > kMaxSide) {
    return resource_exhausted(page_name(page) + " would be " + std::to_string(std::int64_t(fw)) + "x" +
                              std::to_string(std::int64_t(fh)) + ", more than " + std::to_string(kMaxSide) +
                              " pixels a side (the renderer's limit)");
  }
  return {};
}

namespace {

// The options of one public call: a report always there (the caller's, or a local one),
// and the issues this call added.
class CallReport {
 public:
  explicit CallReport(const RenderOptions& options) : options_(options) {
    if (options_.report == nullptr) options_.report = &local_;
    first_ = options_.report->issues.size();
  }
  CallReport(const CallReport&) = delete;
  CallReport& operator=(const CallReport&) = delete;
  const RenderOptions& options() const { return options_; }
  // OK, or in strict mode the first issue of this call (and how many more there were).
  Status strict_status() const {
    const auto& issues = options_.report->issues;
    if (!options_.strict || issues.size() == first_) return {};
    std::string m = issues[first_].message;
    if (const std::size_t more = issues.size() - first_ - 1; more > 0) {
      m += " (and " + std::to_string(more) + " more problem" + (more == 1 ? "" : "s") + ")";
    }
    return invalid_argument(m);
  }

 private:
  RenderOptions options_;
  RenderReport local_;
  std::size_t first_ = 0;
};

}  // namespace

Result<image::Image> render_page(const Scene& scene, int page, const RenderOptions& options) {
  CallReport call(options);
  ATELIER_ASSIGN_OR_RETURN(SurfacePtr surface, render_page_surface(scene, page, call.options()));
  ATELIER_TRY(call.strict_status());
  const int w = cairo_image_surface_get_width(surface.get()), h = cairo_image_surface_get_height(surface.get());
  cv::Mat rgba(h, w, CV_8UC4);
  const std::uint8_t* data = cairo_image_surface_get_data(surface.get());
  const int stride = cairo_image_surface_get_stride(surface.get());
  cv::parallel_for_(cv::Range(0, h), [&](const cv::Range& r) {
    unpremultiply_rows(data + std::ptrdiff_t(r.start) * stride, stride, rgba.ptr(r.start), int(rgba.step), w,
                       r.end - r.start, true);
  }, 8);
  return image::Image(std::move(rgba));
}

Status render_to_file(const Scene& scene, const std::filesystem::path& path, std::optional<int> page,
                      const RenderOptions& caller_options) {
  CallReport call(caller_options);
  RenderOptions options = call.options();
  options.strict = false;  // judged here, once, before anything is written
  const std::string ext = lower_extension(path);
  Result<std::vector<std::uint8_t>> bytes = std::vector<std::uint8_t>{};
  if (Status st = check_options(options); !st.ok()) return st.with_context(path.string());
  if (ext == ".png") {
    Result<SurfacePtr> surface = render_page_surface(scene, page.value_or(0), options);
    if (!surface.ok()) return surface.status().with_context(path.string());
    bytes = encode_png(surface->get());
  } else if (ext == ".pdf") {
    std::vector<int> pages;
    if (page) {
      pages.push_back(*page);
    } else {
      for (std::size_t i = 0; i < scene.pages.size(); ++i) pages.push_back(int(i));
    }
    bytes = render_pdf(scene, pages, options);
  } else if (ext == ".svg") {
    bytes = render_svg(scene, page.value_or(0), options);
  } else if (ext == ".jpg" || ext == ".jpeg" || ext == ".webp") {
    // Raster previews: JPEG drops the alpha channel (pages with a transparent background
    // come out black there), WebP keeps it.
    Result<image::Image> img = render_page(scene, page.value_or(0), options);
    if (!img.ok()) return img.status().with_context(path.string());
    image::Image out = *img;
    if (ext != ".webp") out = image::to_rgb8(out);
    bytes = image::encode_image(out, ext == ".webp" ? image::Format::kWebp : image::Format::kJpeg, {.quality = 88});
  } else {
    return invalid_argument(path.string() + ": unknown output format (use .png, .pdf, .svg, .jpg or .webp)");
  }
  if (!bytes.ok()) return bytes.status().with_context(path.string());
  if (Status st = call.strict_status(); !st.ok()) return st.with_context(path.string() + ": not written");
  return write_file_atomic(path, *bytes);
}

}  // namespace atelier::design
