// The design engine. History is kept as deltas: each undo step holds the before and after
// state of only the blocks it touched (and of the `pages` list when it changed), plus the
// change events it produced, so that undo and redo restore the scene exactly and replay the
// events (inverted for undo) without ever copying the whole scene.
//
// Mechanics: every mutating call runs in a frame that records, the first time a block is
// touched, its state before the call (absent for a block being created). Open transactions
// are frames too, below the running call's frame; touching records into every open frame
// that has not seen the block yet. A failed call restores its frame and drops its events; a
// finished call outside a transaction turns its frame into an undo step, inside one hands
// its events to the transaction. Rollback restores a transaction's frame.
#include "design/engine.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <utility>

namespace atelier::design {
namespace {

using Kind = ChangeEvent::Kind;

constexpr double kDefaultPageWidth = 1080;
constexpr double kDefaultPageHeight = 1080;

std::string id_str(BlockId id) { return std::to_string(id); }

Status out_of_range(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
Status no_block(BlockId id) { return not_found("no block with id " + id_str(id)); }

std::string describe(const Block& b) {
  return "block " + id_str(b.id) + " (" + std::string(to_string(b.type)) + ")";
}

bool holds_children(BlockType t) { return t == BlockType::kPage || t == BlockType::kGroup; }

// The position at which to insert into a list of `size` entries: -1 = the end (on top),
// else 0..size. `owner` names the list in the message.
Result<std::size_t> insert_position(const std::string& owner, int index, std::size_t size) {
  if (index == -1) return size;
  if (index < 0 || static_cast<std::size_t>(index) > size) {
    return out_of_range(owner + ": index " + std::to_string(index) + " is out of range 0.." +
                        std::to_string(size) + " (-1: on top)");
  }
  return static_cast<std::size_t>(index);
}

std::optional<std::size_t> index_of(const std::vector<BlockId>& list, BlockId id) {
  auto it = std::find(list.begin(), list.end(), id);
  if (it == list.end()) return std::nullopt;
  return static_cast<std::size_t>(it - list.begin());
}

ChangeEvent structure_event(Kind kind, BlockId id, BlockId old_parent, BlockId new_parent) {
  ChangeEvent e;
  e.kind = kind;
  e.id = id;
  e.old_value = static_cast<long long>(old_parent);
  e.new_value = static_cast<long long>(new_parent);
  return e;
}

ChangeEvent label_event(Kind kind, std::string label) {
  ChangeEvent e;
  e.kind = kind;
  e.label = std::move(label);
  return e;
}

// The event that reverses `e`: values swapped, created <-> destroyed.
ChangeEvent inverse(const ChangeEvent& e) {
  ChangeEvent r = e;
  if (e.kind == Kind::kCreated) r.kind = Kind::kDestroyed;
  if (e.kind == Kind::kDestroyed) r.kind = Kind::kCreated;
  std::swap(r.old_value, r.new_value);
  return r;
}

std::vector<ChangeEvent> inverted(const std::vector<ChangeEvent>& events) {
  std::vector<ChangeEvent> out;
  out.reserve(events.size() + 1);
  for (auto it = events.rbegin(); it != events.rend(); ++it) out.push_back(inverse(*it));
  return out;
}

Block default_block(BlockType type) {
  Block b;
  b.type = type;
  switch (type) {
    case BlockType::kPage:
      b.width = kDefaultPageWidth;
      b.height = kDefaultPageHeight;
      b.fill = Fill{true, Color{1, 1, 1, 1}};
      break;
    case BlockType::kText:
      b.width = 400;
      b.height = 40;
      b.text.content = "Text";
      break;
    case BlockType::kImage:
      b.width = 400;
      b.height = 300;
      break;
    case BlockType::kShape:
      b.width = 200;
      b.height = 200;
      b.fill = Fill{true, quantize_color(Color{0.8f, 0.8f, 0.8f, 1})};
      break;
    case BlockType::kGroup:
      b.width = 0;
      b.height = 0;
      break;
  }
  return b;
}

// `count` fresh ids from Scene::next_id() on.
Result<BlockId> fresh_ids(const Scene& s, std::size_t count) {
  const BlockId first = s.next_id();
  if (first < 1 || static_cast<std::size_t>(kMaxBlockId - first) + 1 < count) {
    return resource_exhausted("no block ids left (the largest is " + std::to_string(kMaxBlockId) + ")");
  }
  return first;
}

// Every property of `b` passes the registry's checks.
Status check_properties(const Block& b) {
  for (const PropertyInfo* info : properties_of(b.type)) {
    ATELIER_ASSIGN_OR_RETURN(PropertyValue v, get_property(b, info->name));
    auto checked = check_property_value(*info, v);
    if (!checked.ok()) return checked.status();
  }
  return Status();
}

struct Entry {
  BlockId id;
  std::optional<Block> before, after;
};

// One undo step.
struct Step {
  std::string label;
  std::vector<Entry> blocks;  // by id
  std::optional<std::vector<BlockId>> pages_before, pages_after;
  std::vector<ChangeEvent> events;  // as delivered when the step was done
};

// An open transaction or the running call.
struct Frame {
  std::string label;
  std::map<BlockId, std::optional<Block>> before;  // first-touch states
  std::optional<std::vector<BlockId>> pages_before;
  std::vector<ChangeEvent> events;
};

}  // namespace

struct Engine::History {
  std::vector<Frame> frames;  // open transactions (outermost first), then the running call
  int open_transactions = 0;
  std::vector<Step> undo_steps, redo_steps;
  std::vector<std::pair<int, Listener>> listeners;
  int next_token = 1;

  // Records the state of `id` (absent if it does not exist yet) in every open frame that has
  // not seen it. A frame that has seen it implies every frame below has too.
  void touch(const Scene& s, BlockId id) {
    for (auto f = frames.rbegin(); f != frames.rend(); ++f) {
      if (f->before.count(id)) break;
      auto it = s.blocks.find(id);
      f->before.emplace(id, it == s.blocks.end() ? std::nullopt : std::optional<Block>(it->second));
    }
  }
  void touch_pages(const Scene& s) {
    for (auto f = frames.rbegin(); f != frames.rend(); ++f) {
      if (f->pages_before) break;
      f->pages_before = s.pages;
    }
  }
  void emit(ChangeEvent e) { frames.back().events.push_back(std::move(e)); }

  static void restore(Scene& s, const Frame& f) {
    for (const auto& [id, before] : f.before) {
      if (before) {
        s.blocks[id] = *before;
      } else {
        s.blocks.erase(id);
      }
    }
    if (f.pages_before) s.pages = *f.pages_before;
  }

  static void apply(Scene& s, const Step& step, bool backwards) {
    for (const Entry& e : step.blocks) {
      const std::optional<Block>& target = backwards ? e.before : e.after;
      if (target) {
        s.blocks[e.id] = *target;
      } else {
        s.blocks.erase(e.id);
      }
    }
    const auto& pages = backwards ? step.pages_before : step.pages_after;
    if (pages) s.pages = *pages;
  }

  // Turns a finished outermost frame into an undo step, unless it changed nothing.
  void record(const Scene& s, Frame&& f) {
    Step step;
    step.label = std::move(f.label);
    for (auto& [id, before] : f.before) {
      auto it = s.blocks.find(id);
      std::optional<Block> after;
      if (it != s.blocks.end()) after = it->second;
      if (before != after) step.blocks.push_back({id, std::move(before), std::move(after)});
    }
    if (f.pages_before && *f.pages_before != s.pages) {
      step.pages_before = std::move(f.pages_before);
      step.pages_after = s.pages;
    }
    if (step.blocks.empty() && !step.pages_before) return;
    step.events = std::move(f.events);
    undo_steps.push_back(std::move(step));
    redo_steps.clear();
  }

  void deliver(const std::vector<ChangeEvent>& events) const {
    if (events.empty() || listeners.empty()) return;
    auto copy = listeners;  // a listener may (un)subscribe
    for (const ChangeEvent& e : events) {
      for (const auto& [token, listener] : copy) listener(e);
    }
  }

  // Runs one mutating call: all or nothing, one undo step outside a transaction.
  template <typename Body>
  Status run(Scene& s, std::string label, Body&& body) {
    const bool outermost = frames.empty();
    frames.push_back(Frame{std::move(label), {}, {}, {}});
    Status status = body();
    Frame f = std::move(frames.back());
    frames.pop_back();
    if (!status.ok()) {
      restore(s, f);
      return status;
    }
    std::vector<ChangeEvent> events = f.events;
    if (outermost) {
      record(s, std::move(f));
    } else {
      auto& outer = frames.back().events;
      outer.insert(outer.end(), f.events.begin(), f.events.end());
    }
    deliver(events);
    return Status();
  }
};

Engine::Engine(Scene scene) : scene_(std::move(scene)), history_(std::make_shared<History>()) {}

// ---- finding ----

std::vector<BlockId> Engine::all_blocks() const {
  std::vector<BlockId> out;
  out.reserve(scene_.blocks.size());
  for (BlockId page : scene_.pages) {
    if (!scene_.find(page)) continue;
    out.push_back(page);
    std::vector<BlockId> d = scene_.descendants(page);
    out.insert(out.end(), d.begin(), d.end());
  }
  return out;
}

namespace {
template <typename Pred>
std::vector<BlockId> filter(const Scene& s, std::vector<BlockId> ids, Pred pred) {
  std::erase_if(ids, [&](BlockId id) {
    const Block* b = s.find(id);
    return !b || !pred(*b);
  });
  return ids;
}
}  // namespace

std::vector<BlockId> Engine::find_by_name(std::string_view name) const {
  return filter(scene_, all_blocks(), [&](const Block& b) { return b.name == name; });
}
std::vector<BlockId> Engine::find_by_kind(std::string_view kind) const {
  return filter(scene_, all_blocks(), [&](const Block& b) { return b.kind == kind; });
}
std::vector<BlockId> Engine::find_by_type(BlockType type) const {
  return filter(scene_, all_blocks(), [&](const Block& b) { return b.type == type; });
}

// ---- properties ----

Result<PropertyValue> Engine::get(BlockId id, std::string_view property) const {
  const Block* b = scene_.find(id);
  if (!b) return no_block(id);
  return get_property(*b, property);
}

Status Engine::set(BlockId id, std::string_view property, const PropertyValue& value) {
  return history_->run(scene_, "set " + std::string(property), [&]() -> Status {
    Block* b = scene_.find(id);
    if (!b) return no_block(id);
    ATELIER_ASSIGN_OR_RETURN(PropertyValue old_value, get_property(*b, property));
    Block updated = *b;  // set_property is not required to be all-or-nothing
    ATELIER_TRY(set_property(updated, property, value));
    if (updated == *b) return Status();
    ATELIER_ASSIGN_OR_RETURN(PropertyValue new_value, get_property(updated, property));
    history_->touch(scene_, id);
    *b = std::move(updated);
    ChangeEvent e;
    e.kind = Kind::kPropertyChanged;
    e.id = id;
    e.property = std::string(property);
    e.old_value = std::move(old_value);
    e.new_value = std::move(new_value);
    history_->emit(std::move(e));
    return Status();
  });
}

Status Engine::set_position_x(BlockId id, double v) { return set(id, "x", v); }
Status Engine::set_position_y(BlockId id, double v) { return set(id, "y", v); }
Status Engine::set_width(BlockId id, double v) { return set(id, "width", v); }
Status Engine::set_height(BlockId id, double v) { return set(id, "height", v); }
Status Engine::set_rotation(BlockId id, double degrees) { return set(id, "rotation", degrees); }
Status Engine::set_opacity(BlockId id, double v) { return set(id, "opacity", v); }
Status Engine::set_visible(BlockId id, bool v) { return set(id, "visible", v); }
Status Engine::set_name(BlockId id, std::string v) { return set(id, "name", std::move(v)); }
Status Engine::set_kind(BlockId id, std::string v) { return set(id, "kind", std::move(v)); }
Status Engine::set_fill_color(BlockId id, Color c) { return set(id, "fill", c); }
Status Engine::set_text(BlockId id, std::string utf8) { return set(id, "text", std::move(utf8)); }
Status Engine::set_font_size(BlockId id, double v) { return set(id, "font_size", v); }
Status Engine::set_text_color(BlockId id, Color c) { return set(id, "text_color", c); }
Status Engine::set_image_source(BlockId id, std::string path) { return set(id, "source", std::move(path)); }

namespace {
Result<double> get_number(const Engine& e, BlockId id, std::string_view property) {
  ATELIER_ASSIGN_OR_RETURN(PropertyValue v, e.get(id, property));
  if (const double* d = std::get_if<double>(&v)) return *d;
  return internal_error("property '" + std::string(property) + "' is not a number");
}
}  // namespace

Result<double> Engine::position_x(BlockId id) const { return get_number(*this, id, "x"); }
Result<double> Engine::position_y(BlockId id) const { return get_number(*this, id, "y"); }
Result<double> Engine::width(BlockId id) const { return get_number(*this, id, "width"); }
Result<double> Engine::height(BlockId id) const { return get_number(*this, id, "height"); }

// ---- structure ----

namespace {
// A block that can hold children.
Result<Block*> container(Scene& s, BlockId id) {
  Block* b = s.find(id);
  if (!b) return no_block(id);
  if (!holds_children(b->type)) {
    return invalid_argument(describe(*b) + " cannot hold blocks: a parent must be a page or a group");
  }
  return b;
}
}  // namespace

Result<BlockId> Engine::create(BlockType type, BlockId parent, int index) {
  if (type == BlockType::kPage) {
    if (parent != 0) {
      return invalid_argument("a page cannot be placed in block " + id_str(parent) + ": pages have no parent");
    }
    return create_page(kDefaultPageWidth, kDefaultPageHeight, index);
  }
  BlockId new_id = 0;
  Status status = history_->run(scene_, "create " + std::string(to_string(type)), [&]() -> Status {
    if (parent == 0) {
      return invalid_argument("a " + std::string(to_string(type)) + " block needs a parent page or group");
    }
    ATELIER_ASSIGN_OR_RETURN(Block * p, container(scene_, parent));
    ATELIER_ASSIGN_OR_RETURN(std::size_t pos, insert_position("block " + id_str(parent), index, p->children.size()));
    Block b = default_block(type);
    ATELIER_ASSIGN_OR_RETURN(b.id, fresh_ids(scene_, 1));
    b.parent = parent;
    if (const Block* page = scene_.find(scene_.page_of(parent))) {  // centred on its page
      b.x = (page->width - b.width) / 2;
      b.y = (page->height - b.height) / 2;
    }
    new_id = b.id;
    history_->touch(scene_, new_id);
    history_->touch(scene_, parent);
    scene_.blocks.emplace(new_id, std::move(b));  // std::map: `p` stays valid
    p->children.insert(p->children.begin() + static_cast<std::ptrdiff_t>(pos), new_id);
    history_->emit(structure_event(Kind::kCreated, new_id, 0, parent));
    return Status();
  });
  if (!status.ok()) return status;
  return new_id;
}

Result<BlockId> Engine::create_page(double width, double height, int index) {
  BlockId new_id = 0;
  Status status = history_->run(scene_, "create page", [&]() -> Status {
    ATELIER_ASSIGN_OR_RETURN(std::size_t pos, insert_position("pages", index, scene_.pages.size()));
    Block b = default_block(BlockType::kPage);
    ATELIER_ASSIGN_OR_RETURN(b.id, fresh_ids(scene_, 1));
    ATELIER_TRY(set_property(b, "width", width));  // the registry's range checks
    ATELIER_TRY(set_property(b, "height", height));
    new_id = b.id;
    history_->touch(scene_, new_id);
    history_->touch_pages(scene_);
    scene_.blocks.emplace(new_id, std::move(b));
    scene_.pages.insert(scene_.pages.begin() + static_cast<std::ptrdiff_t>(pos), new_id);
    history_->emit(structure_event(Kind::kCreated, new_id, 0, 0));
    return Status();
  });
  if (!status.ok()) return status;
  return new_id;
}

Result<BlockId> Engine::duplicate(BlockId id) {
  BlockId new_id = 0;
  Status status = history_->run(scene_, "duplicate", [&]() -> Status {
    const Block* src = scene_.find(id);
    if (!src) return no_block(id);
    std::vector<BlockId> originals{id};
    std::vector<BlockId> d = scene_.descendants(id);
    originals.insert(originals.end(), d.begin(), d.end());
    std::map<BlockId, BlockId> remap;
    ATELIER_ASSIGN_OR_RETURN(BlockId next, fresh_ids(scene_, originals.size()));
    for (BlockId o : originals) remap[o] = next++;
    new_id = remap[id];

    std::vector<BlockId>* list = nullptr;
    if (src->type == BlockType::kPage) {
      history_->touch_pages(scene_);
      list = &scene_.pages;
    } else {
      Block* parent = scene_.find(src->parent);
      if (!parent) return internal_error(describe(*src) + " has no parent");
      history_->touch(scene_, parent->id);
      list = &parent->children;
    }
    auto pos = index_of(*list, id);
    if (!pos) return internal_error(describe(*src) + " is not listed in its parent");

    for (BlockId o : originals) {
      const Block* from = scene_.find(o);
      if (!from) return internal_error("block " + id_str(o) + " is listed as a child but does not exist");
      Block copy = *from;
      copy.id = remap.at(o);
      if (o != id) copy.parent = remap.at(copy.parent);
      for (BlockId& c : copy.children) {
        auto it = remap.find(c);
        if (it == remap.end()) return internal_error("block " + id_str(c) + " is not a descendant of block " + id_str(id));
        c = it->second;
      }
      history_->touch(scene_, copy.id);
      const BlockId copy_parent = copy.parent;
      scene_.blocks.emplace(copy.id, std::move(copy));
      history_->emit(structure_event(Kind::kCreated, remap.at(o), 0, copy_parent));
    }
    list->insert(list->begin() + static_cast<std::ptrdiff_t>(*pos + 1), new_id);
    return Status();
  });
  if (!status.ok()) return status;
  return new_id;
}

Status Engine::destroy(BlockId id) {
  return history_->run(scene_, "destroy", [&]() -> Status {
    const Block* b = scene_.find(id);
    if (!b) return no_block(id);
    std::vector<BlockId> doomed{id};
    std::vector<BlockId> d = scene_.descendants(id);
    doomed.insert(doomed.end(), d.begin(), d.end());
    if (b->type == BlockType::kPage) {
      history_->touch_pages(scene_);
      std::erase(scene_.pages, id);
    } else {
      Block* parent = scene_.find(b->parent);
      if (!parent) return internal_error(describe(*b) + " has no parent");
      history_->touch(scene_, parent->id);
      std::erase(parent->children, id);
    }
    // Children before their parents: the reverse of document order.
    for (auto it = doomed.rbegin(); it != doomed.rend(); ++it) {
      auto found = scene_.blocks.find(*it);
      if (found == scene_.blocks.end()) continue;
      history_->touch(scene_, *it);
      history_->emit(structure_event(Kind::kDestroyed, *it, found->second.parent, 0));
      scene_.blocks.erase(found);
    }
    return Status();
  });
}

Status Engine::reorder(BlockId id, int index) {
  return history_->run(scene_, "reorder", [&]() -> Status {
    const Block* b = scene_.find(id);
    if (!b) return no_block(id);
    std::vector<BlockId>* list = nullptr;
    std::string owner;
    if (b->type == BlockType::kPage) {
      list = &scene_.pages;
      owner = "pages";
    } else {
      Block* parent = scene_.find(b->parent);
      if (!parent) return internal_error(describe(*b) + " has no parent");
      list = &parent->children;
      owner = "block " + id_str(parent->id);
    }
    auto from = index_of(*list, id);
    if (!from) return internal_error(describe(*b) + " is not listed in its parent");
    ATELIER_ASSIGN_OR_RETURN(std::size_t to, insert_position(owner, index, list->size() - 1));
    if (to == *from) return Status();
    if (b->type == BlockType::kPage) {
      history_->touch_pages(scene_);
    } else {
      history_->touch(scene_, b->parent);
    }
    list->erase(list->begin() + static_cast<std::ptrdiff_t>(*from));
    list->insert(list->begin() + static_cast<std::ptrdiff_t>(to), id);
    history_->emit(structure_event(Kind::kMoved, id, b->parent, b->parent));
    return Status();
  });
}

Status Engine::move_to(BlockId id, BlockId new_parent, int index) {
  return history_->run(scene_, "move", [&]() -> Status {
    Block* b = scene_.find(id);
    if (!b) return no_block(id);
    if (b->type == BlockType::kPage) {
      return invalid_argument("block " + id_str(id) + " is a page: pages cannot be moved into a block");
    }
    ATELIER_ASSIGN_OR_RETURN(Block * np, container(scene_, new_parent));
    for (const Block* a = np; a; a = a->parent ? scene_.find(a->parent) : nullptr) {
      if (a->id == id) {
        return invalid_argument("cannot move block " + id_str(id) + " into block " + id_str(new_parent) +
                                ": it is the block itself or inside it");
      }
    }
    Block* op = scene_.find(b->parent);
    if (!op) return internal_error(describe(*b) + " has no parent");
    auto from = index_of(op->children, id);
    if (!from) return internal_error(describe(*b) + " is not listed in its parent");
    const bool same = op == np;
    ATELIER_ASSIGN_OR_RETURN(std::size_t to, insert_position("block " + id_str(new_parent), index,
                                                             np->children.size() - (same ? 1 : 0)));
    if (same && to == *from) return Status();
    const BlockId old_parent = op->id;
    history_->touch(scene_, id);
    history_->touch(scene_, old_parent);
    history_->touch(scene_, new_parent);
    op->children.erase(op->children.begin() + static_cast<std::ptrdiff_t>(*from));
    np->children.insert(np->children.begin() + static_cast<std::ptrdiff_t>(to), id);
    b->parent = new_parent;
    history_->emit(structure_event(Kind::kMoved, id, old_parent, new_parent));
    return Status();
  });
}

Result<BlockId> Engine::group(const std::vector<BlockId>& ids) {
  BlockId group_id = 0;
  Status status = history_->run(scene_, "group", [&]() -> Status {
    if (ids.empty()) return invalid_argument("nothing to group: no blocks given");
    std::set<BlockId> seen;
    const Block* first = nullptr;
    for (BlockId id : ids) {
      const Block* b = scene_.find(id);
      if (!b) return no_block(id);
      if (b->type == BlockType::kPage) {
        return invalid_argument("block " + id_str(id) + " is a page: pages cannot be grouped");
      }
      if (!seen.insert(id).second) return invalid_argument("block " + id_str(id) + " is listed twice");
      if (!first) {
        first = b;
      } else if (b->parent != first->parent) {
        return invalid_argument("blocks " + id_str(first->id) + " and " + id_str(id) + " have different parents (" +
                                id_str(first->parent) + " and " + id_str(b->parent) +
                                "): only blocks with the same parent can be grouped");
      }
    }
    const BlockId parent_id = first->parent;
    Block* parent = scene_.find(parent_id);
    if (!parent) return internal_error(describe(*first) + " has no parent");

    // Members in stacking order, and the box that bounds them.
    std::vector<BlockId> members;
    std::size_t top = 0;
    Bounds box{0, 0, 0, 0};
    for (std::size_t i = 0; i < parent->children.size(); ++i) {
      BlockId c = parent->children[i];
      if (!seen.count(c)) continue;
      const Bounds bb = rotated_bounds(*scene_.find(c));
      box = members.empty() ? bb : unite(box, bb);
      members.push_back(c);
      top = i;
    }
    if (members.size() != ids.size()) return internal_error("a block to group is not listed in its parent");

    Block g = default_block(BlockType::kGroup);
    ATELIER_ASSIGN_OR_RETURN(g.id, fresh_ids(scene_, 1));
    g.parent = parent_id;
    g.children = members;
    g.x = box.x0;
    g.y = box.y0;
    g.width = box.x1 - box.x0;
    g.height = box.y1 - box.y0;
    if (Status st = check_properties(g); !st.ok()) {
      return invalid_argument("cannot group: the group's box is out of range: " + st.message());
    }
    group_id = g.id;

    history_->touch(scene_, group_id);
    history_->touch(scene_, parent_id);
    for (BlockId m : members) history_->touch(scene_, m);
    std::erase_if(parent->children, [&](BlockId c) { return seen.count(c) > 0; });
    const std::size_t at = top + 1 - members.size();
    parent->children.insert(parent->children.begin() + static_cast<std::ptrdiff_t>(at), group_id);
    scene_.blocks.emplace(group_id, std::move(g));
    history_->emit(structure_event(Kind::kCreated, group_id, 0, parent_id));
    for (BlockId m : members) {
      scene_.find(m)->parent = group_id;
      history_->emit(structure_event(Kind::kMoved, m, parent_id, group_id));
    }
    return Status();
  });
  if (!status.ok()) return status;
  return group_id;
}

Status Engine::ungroup(BlockId group_id) {
  return history_->run(scene_, "ungroup", [&]() -> Status {
    const Block* g = scene_.find(group_id);
    if (!g) return no_block(group_id);
    if (g->type != BlockType::kGroup) return invalid_argument(describe(*g) + " is not a group");
    Block* parent = scene_.find(g->parent);
    if (!parent) return internal_error(describe(*g) + " has no parent");
    auto pos = index_of(parent->children, group_id);
    if (!pos) return internal_error(describe(*g) + " is not listed in its parent");
    const std::vector<BlockId> members = g->children;
    const BlockId parent_id = parent->id;
    history_->touch(scene_, parent_id);
    history_->touch(scene_, group_id);
    for (BlockId m : members) {
      Block* mb = scene_.find(m);
      if (!mb) return internal_error("block " + id_str(m) + " is listed as a child but does not exist");
      history_->touch(scene_, m);
      mb->parent = parent_id;
      history_->emit(structure_event(Kind::kMoved, m, group_id, parent_id));
    }
    auto& kids = parent->children;
    kids.erase(kids.begin() + static_cast<std::ptrdiff_t>(*pos));
    kids.insert(kids.begin() + static_cast<std::ptrdiff_t>(*pos), members.begin(), members.end());
    history_->emit(structure_event(Kind::kDestroyed, group_id, parent_id, 0));
    scene_.blocks.erase(group_id);
    return Status();
  });
}

// ---- transactions, undo, redo ----

void Engine::begin(std::string label) {
  history_->frames.push_back(Frame{std::move(label), {}, {}, {}});
  ++history_->open_transactions;
}

Status Engine::commit() {
  History& h = *history_;
  if (h.open_transactions == 0) return failed_precondition("no transaction to commit");
  Frame f = std::move(h.frames.back());
  h.frames.pop_back();
  --h.open_transactions;
  if (h.open_transactions > 0) {  // joins the enclosing transaction
    auto& outer = h.frames.back().events;
    outer.insert(outer.end(), f.events.begin(), f.events.end());
    return Status();
  }
  std::string label = f.label;
  h.record(scene_, std::move(f));
  h.deliver({label_event(Kind::kCommitted, std::move(label))});
  return Status();
}

Status Engine::rollback() {
  History& h = *history_;
  if (h.open_transactions == 0) return failed_precondition("no transaction to roll back");
  Frame f = std::move(h.frames.back());
  h.frames.pop_back();
  --h.open_transactions;
  History::restore(scene_, f);
  std::vector<ChangeEvent> events = inverted(f.events);
  events.push_back(label_event(Kind::kRolledBack, std::move(f.label)));
  h.deliver(events);
  return Status();
}

bool Engine::in_transaction() const { return history_->open_transactions > 0; }

bool Engine::can_undo() const { return !in_transaction() && !history_->undo_steps.empty(); }
bool Engine::can_redo() const { return !in_transaction() && !history_->redo_steps.empty(); }

Status Engine::undo() {
  History& h = *history_;
  if (h.open_transactions > 0) return failed_precondition("cannot undo inside a transaction");
  if (h.undo_steps.empty()) return failed_precondition("nothing to undo");
  Step step = std::move(h.undo_steps.back());
  h.undo_steps.pop_back();
  History::apply(scene_, step, /*backwards=*/true);
  std::vector<ChangeEvent> events = inverted(step.events);
  events.push_back(label_event(Kind::kUndo, step.label));
  h.redo_steps.push_back(std::move(step));
  h.deliver(events);
  return Status();
}

Status Engine::redo() {
  History& h = *history_;
  if (h.open_transactions > 0) return failed_precondition("cannot redo inside a transaction");
  if (h.redo_steps.empty()) return failed_precondition("nothing to redo");
  Step step = std::move(h.redo_steps.back());
  h.redo_steps.pop_back();
  History::apply(scene_, step, /*backwards=*/false);
  std::vector<ChangeEvent> events = step.events;
  events.push_back(label_event(Kind::kRedo, step.label));
  h.undo_steps.push_back(std::move(step));
  h.deliver(events);
  return Status();
}

// ---- events ----

int Engine::subscribe(Listener listener) {
  const int token = history_->next_token++;
  history_->listeners.emplace_back(token, std::move(listener));
  return token;
}

void Engine::unsubscribe(int token) {
  std::erase_if(history_->listeners, [&](const auto& entry) { return entry.first == token; });
}

}  // namespace atelier::design
