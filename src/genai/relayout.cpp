// The deterministic format change (relayout.h).
#include "genai/relayout.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <vector>

#include "design/renderer.h"
#include "image/codec.h"
#include "vision/smart_crop.h"

namespace atelier::genai {
namespace {

namespace fs = std::filesystem;
using design::Block;
using design::BlockId;
using design::BlockType;
using design::Engine;
using design::PropertyValue;
using design::Scene;

constexpr double kEps = 1e-6;
constexpr double kBackgroundCover = 0.9;      // share of the page, both axes
constexpr double kAspectChange = 0.01;        // |log(new aspect / old aspect)| above which photos are re-cropped
constexpr double kReflowAspect = 1.6;         // aspect factor from which the orientation flip reflows
constexpr double kHeroArea = 0.15;            // share of the page a photo needs to be the hero
constexpr double kMargin = 0.04;              // of the new page's shorter side
constexpr double kMaxContentScale = 2.0;      // reflowed content grows at most this much

using Box = design::Bounds;
using design::unite;

// A block and, for a group, its members: the unit that moves together.
std::vector<BlockId> unit_of(const Scene& s, BlockId id) {
  std::vector<BlockId> ids{id};
  for (BlockId d : s.descendants(id)) ids.push_back(d);
  return ids;
}

// What a unit occupies (design::occupied_bounds).
Box unit_bounds(const Scene& s, BlockId id) { return design::occupied_bounds(s, *s.find(id)); }

// A per-axis affine map of positions (x' = ox + (x − ix) × kx) with sizes × kx, × ky, and
// the lengths that are not along an axis (font size, letter spacing, corner radius, stroke
// width) × k.
struct Map {
  double ix = 0, ox = 0, kx = 1;
  double iy = 0, oy = 0, ky = 1;
  double k = 1;
};

Status set_number(Engine& e, BlockId id, const char* property, double value) {
  return e.set(id, property, PropertyValue(value));
}

// Applies `m` to the unit rooted at `id`, reading every block's geometry from `from` (the
// scene before the relayout or the current one).
Status apply_map(Engine& engine, const Scene& from, BlockId id, const Map& m) {
  for (BlockId b_id : unit_of(from, id)) {
    const Block& b = *from.find(b_id);
    ATELIER_TRY(set_number(engine, b_id, "x", m.ox + (b.x - m.ix) * m.kx));
    ATELIER_TRY(set_number(engine, b_id, "y", m.oy + (b.y - m.iy) * m.ky));
    ATELIER_TRY(set_number(engine, b_id, "width", b.width * m.kx));
    ATELIER_TRY(set_number(engine, b_id, "height", b.height * m.ky));
    if (m.k == 1) continue;
    if (b.type == BlockType::kText) {
      ATELIER_TRY(set_number(engine, b_id, "font_size", std::max(1.0, b.text.font_size * m.k)));
      if (b.text.letter_spacing != 0) ATELIER_TRY(set_number(engine, b_id, "letter_spacing", b.text.letter_spacing * m.k));
    }
    if (b.type == BlockType::kText || b.type == BlockType::kImage || b.type == BlockType::kShape) {
      if (b.corner_radius != 0) ATELIER_TRY(set_number(engine, b_id, "corner_radius", b.corner_radius * m.k));
      if (b.stroke.enabled) ATELIER_TRY(set_number(engine, b_id, "stroke_width", b.stroke.width * m.k));
    }
  }
  return Status();
}

enum class Anchor { kStart, kCentre, kEnd };

// Which of the page's start edge, centre or end edge the span [p, p + len] is closest to
// (its start edge to the page's start, its centre to the centre, its end to the end); ties
// go to the centre, then the start.
Anchor anchor_of(double p, double len, double page) {
  const double d_start = std::abs(p), d_centre = std::abs(p + len / 2 - page / 2), d_end = std::abs(page - (p + len));
  if (d_centre <= d_start && d_centre <= d_end) return Anchor::kCentre;
  return d_start <= d_end ? Anchor::kStart : Anchor::kEnd;
}

// New start of a span of old start p and length len on an axis from `old_page` to
// `new_page`, scaled by s.
double anchored(Anchor a, double p, double len, double old_page, double new_page, double s) {
  switch (a) {
    case Anchor::kStart: return p * s;
    case Anchor::kEnd: return new_page - (old_page - p - len) * s - len * s;
    case Anchor::kCentre: break;
  }
  return new_page / 2 + (p + len / 2 - old_page / 2) * s - len * s / 2;
}

// The box that decides a unit's anchor: a group's own box, or its members' when it has none.
Box anchor_box(const Scene& s, const Block& b) {
  if (b.type != BlockType::kGroup || b.width > 0 || b.height > 0) return {b.x, b.y, b.x + b.width, b.y + b.height};
  std::optional<Box> box;
  for (BlockId d : s.descendants(b.id)) {
    const Block* m = s.find(d);
    const Box mb{m->x, m->y, m->x + m->width, m->y + m->height};
    box = box ? unite(*box, mb) : mb;
  }
  return box.value_or(Box{b.x, b.y, b.x, b.y});
}

// Shrinks (uniformly, about its bounds' corner) and moves the unit `id` into `region`: the
// page, widened on each side by what the unit stuck out there before, scaled as it was.
Status clamp_unit(Engine& engine, BlockId id, const Box& region) {
  Box box = unit_bounds(engine.scene(), id);
  if (box.w() > region.w() + kEps || box.h() > region.h() + kEps) {
    const double k = std::min(region.w() / box.w(), region.h() / box.h());
    const Scene snapshot = engine.scene();
    ATELIER_TRY(apply_map(engine, snapshot, id, Map{box.x0, box.x0, k, box.y0, box.y0, k, k}));
    box = unit_bounds(engine.scene(), id);
  }
  double dx = 0, dy = 0;
  if (box.x0 < region.x0) dx = region.x0 - box.x0;
  else if (box.x1 > region.x1) dx = std::max(region.x1 - box.x1, region.x0 - box.x0);
  if (box.y0 < region.y0) dy = region.y0 - box.y0;
  else if (box.y1 > region.y1) dy = std::max(region.y1 - box.y1, region.y0 - box.y0);
  if (std::abs(dx) < 1e-9 && std::abs(dy) < 1e-9) return Status();
  for (BlockId m : unit_of(engine.scene(), id)) {
    const Block* b = engine.block(m);
    const double x = b->x + dx, y = b->y + dy;
    ATELIER_TRY(set_number(engine, m, "x", x));
    ATELIER_TRY(set_number(engine, m, "y", y));
  }
  return Status();
}

// Where a unit may lie on the new page: the page, plus on each side the bleed the unit had
// on the old page (how far its bounds stuck out there) times the unit's scale on that axis.
Box allowed_region(const Box& old_bounds, double old_w, double old_h, double new_w, double new_h, const Map& m) {
  return {-std::max(0.0, -old_bounds.x0) * m.kx, -std::max(0.0, -old_bounds.y0) * m.ky,
          new_w + std::max(0.0, old_bounds.x1 - old_w) * m.kx, new_h + std::max(0.0, old_bounds.y1 - old_h) * m.ky};
}

bool fits(const Block& b, double size) {
  auto m = design::measure_text(b, size);
  return m.ok() && m->fits;
}

// The largest font size below the text's own at which it fits: whole sizes by binary
// search (1 when none fits).
Status shrink_to_fit(Engine& engine, const Block& b) {
  const double size = b.text.font_size;
  if (b.text.auto_fit == design::AutoFit::kGrowHeight || b.text.content.empty() || fits(b, size)) return Status();
  double lo = 1, hi = std::ceil(size - kEps) - 1;  // whole sizes below `size`
  if (hi < lo || !fits(b, lo)) return set_number(engine, b.id, "font_size", std::min(size, 1.0));
  while (lo < hi) {  // invariant: fits(lo)
    const double mid = std::ceil((lo + hi) / 2);
    if (fits(b, mid)) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return set_number(engine, b.id, "font_size", lo);
}

// The focus point of a cover-fitted photo in a box of the new aspect: the centre of smart
// crop's best window, set only on the axis the window crops. Unreadable files are skipped.
Status refocus(Engine& engine, const Block& b, const RelayoutOptions& options) {
  if (b.image.source.empty() || !(b.width >= 1) || !(b.height >= 1)) return Status();
  fs::path path(b.image.source);
  if (path.is_relative() && !options.base_dir.empty()) path = options.base_dir / path;
  Result<image::Image> photo = image::read_image(path);
  if (!photo.ok() || photo->empty()) return Status();
  // The box's aspect as whole numbers (design units are at most 1e6).
  const vision::Aspect aspect{static_cast<int>(std::lround(b.width * 100 / std::max(b.width, b.height) * 100)),
                              static_cast<int>(std::lround(b.height * 100 / std::max(b.width, b.height) * 100)),
                              "box"};
  if (aspect.width < 1 || aspect.height < 1) return Status();
  vision::CropOptions co;
  co.saliency.source = vision::SaliencyOptions::Source::kFast;
  Result<vision::CropResult> crop = vision::smart_crop(*photo, std::vector<vision::Aspect>{aspect}, co);
  if (!crop.ok() || crop->windows.empty()) return Status();
  const cv::Rect r = crop->windows.front().rect;
  const int iw = photo->width(), ih = photo->height();
  if (r.width < iw) {
    ATELIER_TRY(set_number(engine, b.id, "focus_x", std::clamp((r.x + r.width / 2.0) / iw, 0.0, 1.0)));
  }
  if (r.height < ih) {
    ATELIER_TRY(set_number(engine, b.id, "focus_y", std::clamp((r.y + r.height / 2.0) / ih, 0.0, 1.0)));
  }
  return Status();
}

// The part of a box inside the page (0×0 at the nearest corner when outside).
Box clipped(const Box& b, double w, double h) {
  const Box c{std::clamp(b.x0, 0.0, w), std::clamp(b.y0, 0.0, h), std::clamp(b.x1, 0.0, w), std::clamp(b.y1, 0.0, h)};
  return c;
}

bool is_background(const Box& box, double w, double h) {
  const Box c = clipped(box, w, h);
  return c.w() / w >= kBackgroundCover && c.h() / h >= kBackgroundCover;
}

// The reflow of an orientation flip (relayout.h): the hero (a photo, else a panel) takes
// one half of the new page with the units lying on it; the other units (but backgrounds
// and outer decorations) are scaled together into the other half.
enum class Role { kAnchored, kHero, kOnHero, kContent };

struct Reflow {
  BlockId hero = 0;
  Box old_hero;     // the hero's box on the old page
  Box hero_box;     // its place on the new page
  Box content;      // the old union of the content units (inside the old page)
  Box region;       // where they go
  std::map<BlockId, Role> roles;
};

bool contains(const Box& outer, const Box& inner) {
  constexpr double kSlack = 1;
  return inner.x0 >= outer.x0 - kSlack && inner.y0 >= outer.y0 - kSlack && inner.x1 <= outer.x1 + kSlack &&
         inner.y1 <= outer.y1 + kSlack;
}

bool carries_a_unit(const Scene& before, const Block& page, BlockId panel, const Box& box) {
  for (BlockId id : page.children) {
    if (id != panel && contains(box, anchor_box(before, *before.find(id)))) return true;
  }
  return false;
}

// The hero: the largest visible cover-fitted image, else the largest visible unrotated
// rectangle shape that carries another unit (a colour panel with a logo on it); either not
// a background, not a decoration and covering at least kHeroArea of the old page.
BlockId find_hero(const Scene& before, const Block& page) {
  const double old_w = page.width, old_h = page.height;
  BlockId best_image = 0, best_panel = 0;
  double image_area = kHeroArea * old_w * old_h, panel_area = image_area;
  for (BlockId id : page.children) {
    const Block& b = *before.find(id);
    if (!b.visible || b.kind == "decoration") continue;
    const Box box = anchor_box(before, b);
    if (is_background(box, old_w, old_h)) continue;
    const Box c = clipped(box, old_w, old_h);
    const double area = c.w() * c.h();
    if (b.type == BlockType::kImage && b.image.fit == design::ImageFit::kCover && area >= image_area) {
      image_area = area, best_image = id;
    } else if (b.type == BlockType::kShape && b.shape.shape == design::ShapeKind::kRect && b.rotation == 0 &&
               area >= panel_area && carries_a_unit(before, page, id, box)) {
      panel_area = area, best_panel = id;
    }
  }
  return best_image != 0 ? best_image : best_panel;
}

std::optional<Reflow> plan_reflow(const Scene& before, const Block& page, double new_w, double new_h) {
  const double old_w = page.width, old_h = page.height;
  const double r = (new_w / new_h) / (old_w / old_h);
  if (r < kReflowAspect && r > 1 / kReflowAspect) return std::nullopt;
  Reflow plan;
  plan.hero = find_hero(before, page);
  if (plan.hero == 0) return std::nullopt;
  plan.old_hero = clipped(anchor_box(before, *before.find(plan.hero)), old_w, old_h);

  // Roles: backgrounds anchored (stretched); units on the hero travel with it; the others
  // are content, except decorations outside the content's union (a corner ornament, a bleed).
  std::optional<Box> content;
  std::vector<BlockId> decorations;
  for (BlockId id : page.children) {
    const Block& b = *before.find(id);
    const Box box = anchor_box(before, b);
    Role role = Role::kContent;
    if (id == plan.hero) role = Role::kHero;
    else if (is_background(box, old_w, old_h)) role = Role::kAnchored;
    else if (b.kind != "background" && contains(plan.old_hero, box)) role = Role::kOnHero;  // not a shade over it
    else if (b.kind == "decoration") decorations.push_back(id), role = Role::kAnchored;
    plan.roles[id] = role;
    if (role == Role::kContent) {
      const Box c = clipped(box, old_w, old_h);
      content = content ? unite(*content, c) : c;
    }
  }
  if (!content || content->w() <= 0 || content->h() <= 0) return std::nullopt;
  plan.content = *content;
  for (BlockId id : decorations) {
    if (contains(plan.content, anchor_box(before, *before.find(id)))) plan.roles[id] = Role::kContent;
  }

  // The hero keeps the side it was on (left/top half of the old page: first) and its inset
  // when it did not touch the page's edges.
  const Box& old_hero = plan.old_hero;
  const bool first = new_w >= new_h ? (old_hero.x0 + old_hero.x1) / 2 <= old_w / 2 + 1e-9
                                    : (old_hero.y0 + old_hero.y1) / 2 <= old_h / 2 + 1e-9;
  const double margin = std::round(kMargin * std::min(new_w, new_h));
  const bool inset = old_hero.x0 > 1 && old_hero.y0 > 1 && old_hero.x1 < old_w - 1 && old_hero.y1 < old_h - 1;
  const double in = inset ? margin : 0;
  if (new_w >= new_h) {
    const double half = new_w / 2;
    plan.hero_box = first ? Box{in, in, half - in / 2, new_h - in} : Box{half + in / 2, in, new_w - in, new_h - in};
    plan.region = first ? Box{half + margin, margin, new_w - margin, new_h - margin}
                        : Box{margin, margin, half - margin, new_h - margin};
  } else {
    const double half = new_h / 2;
    plan.hero_box = first ? Box{in, in, new_w - in, half - in / 2} : Box{in, half + in / 2, new_w - in, new_h - in};
    plan.region = first ? Box{margin, half + margin, new_w - margin, new_h - margin}
                        : Box{margin, margin, new_w - margin, half - margin};
  }
  return plan;
}

// A uniform scale of `from` into `to` (factor min of the two, at most `max_k`), centred.
Map fit_into(const Box& from, const Box& to, double max_k) {
  const double k = std::min({to.w() / from.w(), to.h() / from.h(), max_k});
  Map m;
  m.k = k;
  m.ix = from.x0, m.kx = k, m.ox = to.x0 + (to.w() - from.w() * k) / 2;
  m.iy = from.y0, m.ky = k, m.oy = to.y0 + (to.h() - from.h() * k) / 2;
  return m;
}

Status relayout(Engine& engine, BlockId page_id, double new_w, double new_h, const RelayoutOptions& options) {
  const Scene before = engine.scene();
  const Block& page = *before.find(page_id);
  const double old_w = page.width, old_h = page.height;
  const double sx = new_w / old_w, sy = new_h / old_h, s = std::min(sx, sy);
  ATELIER_TRY(set_number(engine, page_id, "width", new_w));
  ATELIER_TRY(set_number(engine, page_id, "height", new_h));
  const std::optional<Reflow> reflow = options.reflow ? plan_reflow(before, page, new_w, new_h) : std::nullopt;
  Map content_map, on_hero_map;
  if (reflow) {
    content_map = fit_into(reflow->content, reflow->region, kMaxContentScale);
    // Units on the hero keep their place on it: the hero's old box scaled uniformly into
    // its new one, centred.
    on_hero_map = fit_into(reflow->old_hero, reflow->hero_box, kMaxContentScale);
  }

  for (BlockId id : page.children) {
    const Block& b = *before.find(id);
    const Box box = anchor_box(before, b);
    const Role role = reflow ? reflow->roles.at(id) : Role::kAnchored;
    Map m;
    m.k = s;
    if (is_background(box, old_w, old_h)) {  // a background: stretched
      m.ix = 0, m.ox = 0, m.kx = sx;
      m.iy = 0, m.oy = 0, m.ky = sy;
    } else if (role == Role::kHero) {  // its half of the page, scaled per axis
      m.ix = box.x0, m.ox = reflow->hero_box.x0, m.kx = reflow->hero_box.w() / box.w();
      m.iy = box.y0, m.oy = reflow->hero_box.y0, m.ky = reflow->hero_box.h() / box.h();
      m.k = std::min(m.kx, m.ky);
    } else if (role == Role::kOnHero) {
      m = on_hero_map;
    } else if (role == Role::kContent) {
      m = content_map;
    } else {
      m.ix = box.x0, m.kx = s;
      m.ox = anchored(anchor_of(box.x0, box.w(), old_w), box.x0, box.w(), old_w, new_w, s);
      m.iy = box.y0, m.ky = s;
      m.oy = anchored(anchor_of(box.y0, box.h(), old_h), box.y0, box.h(), old_h, new_h, s);
    }
    ATELIER_TRY(apply_map(engine, before, id, m));
    ATELIER_TRY(clamp_unit(engine, id, allowed_region(unit_bounds(before, id), old_w, old_h, new_w, new_h, m)));
  }

  for (BlockId id : engine.scene().descendants(page_id)) {
    const Block b = *engine.block(id);  // a copy: the engine changes the scene
    if (b.type == BlockType::kText) {
      ATELIER_TRY(shrink_to_fit(engine, b));
    } else if (b.type == BlockType::kImage && options.use_saliency && b.image.fit == design::ImageFit::kCover) {
      const Block& old = *before.find(id);
      if (!(old.width > 0 && old.height > 0 && b.width > 0 && b.height > 0)) continue;
      const double change = std::abs(std::log((b.width / b.height) / (old.width / old.height)));
      if (change > kAspectChange) ATELIER_TRY(refocus(engine, b, options));
    }
  }
  return Status();
}

}  // namespace

Status relayout_page(design::Engine& engine, design::BlockId page, double width, double height,
                     const RelayoutOptions& options) {
  const Block* p = engine.block(page);
  if (!p) return not_found("no block with id " + std::to_string(page));
  if (p->type != BlockType::kPage) {
    return invalid_argument("block " + std::to_string(page) + " (" + std::string(design::to_string(p->type)) +
                            ") is not a page");
  }
  if (!(std::isfinite(width) && width > 0 && std::isfinite(height) && height > 0)) {
    return invalid_argument("the new page size must be positive, got " + design::format_property(PropertyValue(width)) +
                            "x" + design::format_property(PropertyValue(height)));
  }
  engine.begin("relayout to " + design::format_property(PropertyValue(width)) + "x" +
               design::format_property(PropertyValue(height)));
  if (Status s = relayout(engine, page, width, height, options); !s.ok()) {
    (void)engine.rollback();
    return s;
  }
  return engine.commit();
}

}  // namespace atelier::genai
