// Applying a ChangeSet (apply.h): the changes, the asset search for changed alt texts and
// the clean-up, all inside one engine transaction.
#include "genai/apply.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include "design/renderer.h"

namespace atelier::genai {
namespace {

using design::Block;
using design::BlockId;
using design::BlockType;
using design::Engine;
using design::PropertyValue;
using design::Scene;

constexpr double kEps = 1e-6;
// Overlaps thinner than this (design units) on either axis are touching edges, not overlaps.
constexpr double kMinOverlap = 0.5;

using Box = design::Bounds;
using design::rotated_bounds;

// How far a box sticks out of a W×H page on each side (0 when inside).
struct Overflow {
  double l = 0, t = 0, r = 0, b = 0;
};
Overflow overflow(const Box& box, double w, double h) {
  return {std::max(0.0, -box.x0), std::max(0.0, -box.y0), std::max(0.0, box.x1 - w), std::max(0.0, box.y1 - h)};
}

std::string num(double v) { return design::format_property(PropertyValue(v)); }

// "8 (Headline)": the name, else the kind, else the type.
std::string label(const Block& b) {
  std::string what = !b.name.empty() ? b.name : !b.kind.empty() ? b.kind : std::string(design::to_string(b.type));
  return std::to_string(b.id) + " (" + what + ")";
}

Status set_number(Engine& e, BlockId id, const char* property, double value) {
  return e.set(id, property, PropertyValue(value));
}

// Shown at all: visible with some opacity, and so is every group above it.
bool shown(const Scene& s, const Block& b) {
  for (const Block* p = &b; p && p->type != BlockType::kPage; p = s.find(p->parent)) {
    if (!p->visible || !(p->opacity > 0)) return false;
  }
  return true;
}

bool is_backdrop(const Block& b) {
  std::string k = b.kind;
  std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return k == "background" || k == "decoration";
}

bool fits(const Block& b, double size) {
  auto m = design::measure_text(b, size);
  return m.ok() && m->fits;
}

// (a) Clamps block `id` into its page: not further out of the page on any side than it was
// before the edit (`allow`). Leaves shrink when larger than that region (unrotated: the
// axis that is too large; rotated: uniformly about the centre); groups move with all their
// members and never shrink. Returns whether anything moved.
Result<bool> clamp_block(Engine& engine, BlockId id, double page_w, double page_h, const Overflow& allow) {
  const Scene& s = engine.scene();
  const Block* b = s.find(id);
  const double rx0 = -allow.l, ry0 = -allow.t, rx1 = page_w + allow.r, ry1 = page_h + allow.b;
  Box box = design::occupied_bounds(s, *b);
  if (box.x0 >= rx0 - kEps && box.y0 >= ry0 - kEps && box.x1 <= rx1 + kEps && box.y1 <= ry1 + kEps) return false;
  auto shift = [&](const Box& bx) {
    double dx = 0, dy = 0;
    if (bx.w() > rx1 - rx0 || bx.x0 < rx0) {
      dx = rx0 - bx.x0;
    } else if (bx.x1 > rx1) {
      dx = rx1 - bx.x1;
    }
    if (bx.h() > ry1 - ry0 || bx.y0 < ry0) {
      dy = ry0 - bx.y0;
    } else if (bx.y1 > ry1) {
      dy = ry1 - bx.y1;
    }
    return std::pair{dx, dy};
  };
  if (b->type == BlockType::kGroup) {
    auto [dx, dy] = shift(box);
    std::vector<BlockId> ids{id};
    for (BlockId d : s.descendants(id)) ids.push_back(d);
    for (BlockId m : ids) {
      const Block* mb = engine.block(m);
      const double x = mb->x + dx, y = mb->y + dy;
      ATELIER_TRY(set_number(engine, m, "x", x));
      ATELIER_TRY(set_number(engine, m, "y", y));
    }
    return true;
  }
  double x = b->x, y = b->y, w = b->width, h = b->height;
  const double rw = rx1 - rx0, rh = ry1 - ry0;
  if (box.w() > rw + kEps || box.h() > rh + kEps) {
    if (std::fmod(b->rotation, 360.0) == 0) {
      w = std::min(w, rw);
      h = std::min(h, rh);
    } else {
      const double k = std::min({1.0, rw / box.w(), rh / box.h()});
      const double cx = x + w / 2, cy = y + h / 2;
      w *= k;
      h *= k;
      x = cx - w / 2;
      y = cy - h / 2;
    }
  }
  Block moved = *b;
  moved.x = x, moved.y = y, moved.width = w, moved.height = h;
  auto [dx, dy] = shift(rotated_bounds(moved));
  x += dx;
  y += dy;
  ATELIER_TRY(set_number(engine, id, "width", w));
  ATELIER_TRY(set_number(engine, id, "height", h));
  ATELIER_TRY(set_number(engine, id, "x", x));
  ATELIER_TRY(set_number(engine, id, "y", y));
  return true;
}

// (b) The largest whole font size in [lo, hi) at which the text fits (binary search; fitting
// is taken to be monotonic in the size); nullopt when none does.
std::optional<double> largest_fitting_size(const Block& b, double lo, double hi) {
  double a = std::ceil(lo - kEps), z = std::ceil(hi - kEps) - 1;  // whole sizes below hi
  if (a > z || !fits(b, a)) return std::nullopt;
  while (a < z) {  // invariant: fits(a)
    const double mid = std::ceil((a + z) / 2);
    if (fits(b, mid)) {
      a = mid;
    } else {
      z = mid - 1;
    }
  }
  return a;
}

struct Context {
  Engine& engine;
  const Scene& before;
  const ApplyOptions& options;
  ApplyReport& report;
  std::vector<BlockId> touched;  // changed or added, in the order the changes name them
  std::map<BlockId, std::string> searches;  // images to find an asset for: id -> alt text
  std::set<BlockId> explicit_source;        // images whose source the changes set
};

void touch(Context& c, BlockId id) {
  if (std::find(c.touched.begin(), c.touched.end(), id) == c.touched.end()) c.touched.push_back(id);
}

Status apply_modified(Context& c, const ChangeSet& changes) {
  for (const PropertyChange& pc : changes.modified) {
    ATELIER_TRY(c.engine.set(pc.id, pc.property, pc.new_value));
    ++c.report.applied;
    touch(c, pc.id);
    const Block* b = c.engine.block(pc.id);
    // A page that changes size: every block on it must be clamped into the new bounds.
    if (b->type == BlockType::kPage && (pc.property == "width" || pc.property == "height")) {
      for (BlockId d : c.engine.scene().descendants(pc.id)) touch(c, d);
    }
    if (b->type != BlockType::kImage) continue;
    if (pc.property == "alt") c.searches[pc.id] = b->image.alt;
    if (pc.property == "source") c.explicit_source.insert(pc.id);
  }
  return Status();
}

Status apply_added(Context& c, const ChangeSet& changes) {
  for (const AddedBlock& ab : changes.added) {
    ATELIER_ASSIGN_OR_RETURN(BlockId id, c.engine.create(ab.type, ab.parent, ab.index));
    bool has_source = false;
    for (const auto& [name, value] : ab.properties) {
      ATELIER_TRY(c.engine.set(id, name, value));
      has_source |= name == "source";
    }
    ++c.report.applied;
    touch(c, id);
    const Block* b = c.engine.block(id);
    if (b->type == BlockType::kImage && !has_source && !b->image.alt.empty()) c.searches[id] = b->image.alt;
  }
  return Status();
}

Status apply_removed(Context& c, const ChangeSet& changes) {
  for (BlockId id : changes.removed) {
    if (!c.options.allow_delete) {
      c.report.skipped_removals.push_back(id);
      continue;
    }
    // Already gone with a removed group or page: done.
    if (!c.engine.block(id) && c.before.find(id)) {
      ++c.report.applied;
      continue;
    }
    ATELIER_TRY(c.engine.destroy(id));
    ++c.report.applied;
  }
  return Status();
}

Status find_assets(Context& c) {
  if (!c.options.assets) return Status();
  for (BlockId id : c.touched) {  // in the order of the changes
    auto it = c.searches.find(id);
    if (it == c.searches.end() || c.explicit_source.count(id) || !c.engine.block(id)) continue;
    const std::string& alt = it->second;
    if (alt.empty()) continue;
    std::vector<AssetMatch> found = c.options.assets->search(alt, 1);
    if (found.empty() || found.front().score < c.options.min_asset_score) {
      c.report.notes.push_back(std::to_string(id) + ": no asset for '" + alt + "'; image kept");
      continue;
    }
    ATELIER_TRY(c.engine.set(id, "source", PropertyValue(found.front().path.string())));
    c.report.notes.push_back(std::to_string(id) + ": new image for '" + alt + "': " + found.front().path.string());
  }
  return Status();
}

// Blocks that still exist, in document order.
std::vector<BlockId> existing_in_document_order(const Engine& engine, const std::vector<BlockId>& ids) {
  std::set<BlockId> wanted(ids.begin(), ids.end());
  std::vector<BlockId> out;
  for (BlockId id : engine.all_blocks()) {
    if (wanted.count(id)) out.push_back(id);
  }
  return out;
}

Status clamp_all(Context& c, const std::vector<BlockId>& ids) {
  for (BlockId id : ids) {
    const Scene& s = c.engine.scene();
    const Block* b = s.find(id);
    if (!b || b->type == BlockType::kPage) continue;
    const Block* page = s.find(s.page_of(id));
    if (!page) continue;
    Overflow allow;
    const Block* old = c.before.find(id);
    if (old && c.before.page_of(id) == page->id) {
      const Block* old_page = c.before.find(page->id);
      allow = overflow(design::occupied_bounds(c.before, *old), old_page->width, old_page->height);
    }
    ATELIER_ASSIGN_OR_RETURN(bool moved, clamp_block(c.engine, id, page->width, page->height, allow));
    if (moved) c.report.notes.push_back("clamped " + std::to_string(id) + " into the page");
  }
  return Status();
}

Status shrink_texts(Context& c, const std::vector<BlockId>& ids) {
  const double scale = c.options.min_font_scale;
  for (BlockId id : ids) {
    const Block* b = c.engine.block(id);
    if (!b || b->type != BlockType::kText || b->text.auto_fit == design::AutoFit::kGrowHeight) continue;
    if (b->text.content.empty()) continue;
    const double size = b->text.font_size;
    if (fits(*b, size)) continue;
    // Only texts that fitted before the edit (or are new): one that already overflowed is
    // left as the designer had it.
    if (const Block* old = c.before.find(id); old && old->type == BlockType::kText && !fits(*old, old->text.font_size)) {
      continue;
    }
    const double lo = std::max(1.0, size * scale);
    std::optional<double> best = largest_fitting_size(*b, lo, size);
    double target = best ? *best : std::min(size, std::ceil(lo - kEps));
    if (target < size) {
      ATELIER_TRY(set_number(c.engine, id, "font_size", target));
      c.report.notes.push_back("shrank " + std::to_string(id) + "'s text " + num(size) + " -> " + num(target));
    }
    if (!best) c.report.notes.push_back(std::to_string(id) + "'s text still overflows its box");
  }
  return Status();
}

// (c) Overlaps the edit introduced.
void report_overlaps(Context& c) {
  const Scene& now = c.engine.scene();
  const std::set<BlockId> touched(c.touched.begin(), c.touched.end());
  struct Item {
    BlockId id, page;
    Box box;
    bool changed;
    std::optional<Box> old_box;  // when it existed and was shown on the same page before
  };
  auto intersects = [](const Box& a, const Box& b) {
    return std::min(a.x1, b.x1) - std::max(a.x0, b.x0) > kMinOverlap &&
           std::min(a.y1, b.y1) - std::max(a.y0, b.y0) > kMinOverlap;
  };
  auto contains = [](const Box& a, const Box& b) {
    return a.x0 <= b.x0 + kEps && a.y0 <= b.y0 + kEps && a.x1 >= b.x1 - kEps && a.y1 >= b.y1 - kEps;
  };
  std::vector<Item> items;
  for (BlockId id : c.engine.all_blocks()) {
    const Block* b = now.find(id);
    if (b->type == BlockType::kPage || b->type == BlockType::kGroup || is_backdrop(*b) || !shown(now, *b)) continue;
    Item it{id, now.page_of(id), rotated_bounds(*b), touched.count(id) > 0, std::nullopt};
    const Block* old = c.before.find(id);
    if (old && c.before.page_of(id) == it.page && shown(c.before, *old)) {
      it.old_box = rotated_bounds(*old);
      if (!it.changed) {
        const Box ob = *it.old_box;
        it.changed = ob.x0 != it.box.x0 || ob.y0 != it.box.y0 || ob.x1 != it.box.x1 || ob.y1 != it.box.y1;
      }
    } else {
      it.changed = true;  // new, moved to another page, or shown only now
    }
    items.push_back(it);
  }
  for (std::size_t i = 0; i < items.size(); ++i) {
    for (std::size_t j = i + 1; j < items.size(); ++j) {
      const Item& a = items[i];  // below (document order)
      const Item& b = items[j];  // above
      if (a.page != b.page || !(a.changed || b.changed)) continue;
      if (!intersects(a.box, b.box) || contains(a.box, b.box) || contains(b.box, a.box)) continue;
      if (a.old_box && b.old_box && intersects(*a.old_box, *b.old_box)) continue;
      // The changed one first; both changed: the upper one.
      const Item& first = b.changed ? b : a;
      const Item& second = b.changed ? a : b;
      c.report.notes.push_back("overlap: " + label(*now.find(first.id)) + " now overlaps " + label(*now.find(second.id)));
    }
  }
}

Status apply_all(Context& c, const ChangeSet& changes) {
  ATELIER_TRY(apply_modified(c, changes));
  ATELIER_TRY(apply_added(c, changes));
  ATELIER_TRY(apply_removed(c, changes));
  ATELIER_TRY(find_assets(c));
  const std::vector<BlockId> ids = existing_in_document_order(c.engine, c.touched);
  ATELIER_TRY(clamp_all(c, ids));
  ATELIER_TRY(shrink_texts(c, ids));
  report_overlaps(c);
  return Status();
}

}  // namespace

Result<ApplyReport> apply_changes(design::Engine& engine, const ChangeSet& changes, const ApplyOptions& options) {
  if (!(options.min_font_scale >= 0 && options.min_font_scale <= 1)) {
    return invalid_argument("min_font_scale must be within 0..1, got " + num(options.min_font_scale));
  }
  const Scene before = engine.scene();
  ApplyReport report;
  Context c{engine, before, options, report, {}, {}, {}};
  engine.begin("apply changes");
  if (Status s = apply_all(c, changes); !s.ok()) {
    (void)engine.rollback();
    return s;
  }
  ATELIER_TRY(engine.commit());
  return report;
}

}  // namespace atelier::genai
