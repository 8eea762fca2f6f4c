// The design engine: reads and changes a Scene through an API, with transactions, undo/redo
// and change events (which a service can stream to a browser). Every change goes through
// it; callers never edit the Scene directly. Not thread-safe: one engine per session.
//
//   Engine e(std::move(scene));
//   e.set_position_x(7, 120);            // one undo step
//   e.begin("Resize logo"); e.set_width(7, 300); e.set_height(7, 300); e.commit();  // one step
//   e.undo();
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "design/properties.h"
#include "design/scene.h"

namespace atelier::design {

// kPropertyChanged: `property`, with its old and new value (get_property's form).
// kCreated / kDestroyed / kMoved: old_value and new_value hold the block's parent id before
// and after, as long long (0: none, or a page). Created blocks come parent first, destroyed
// ones children first (one event per block). group: kCreated for the group, then kMoved per
// member (bottom first); ungroup: kMoved per member, then kDestroyed for the group.
// Undo and rollback deliver the inverse of the undone changes, in reverse order (values
// swapped, created <-> destroyed), then kUndo / kRolledBack; redo delivers the step's
// events again, then kRedo. commit delivers kCommitted (the changes were delivered as they
// happened). A call that changes nothing (a value set to what it is) delivers nothing and
// records no undo step.
struct ChangeEvent {
  enum class Kind { kPropertyChanged, kCreated, kDestroyed, kMoved, kUndo, kRedo, kCommitted, kRolledBack };
  Kind kind;
  BlockId id = 0;            // the block concerned (0 for undo/redo/commit/rollback)
  std::string property;      // kPropertyChanged
  PropertyValue old_value{}, new_value{};
  std::string label;         // the transaction's or step's label (commit, rollback, undo, redo)
};

class Engine {
 public:
  explicit Engine(Scene scene);
  // Not copyable (a copy would share the history); movable.
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  Engine(Engine&&) = default;
  Engine& operator=(Engine&&) = default;

  const Scene& scene() const { return scene_; }
  const Block* block(BlockId id) const { return scene_.find(id); }

  // Finding blocks (in document order: pages in order, then depth-first, bottom first).
  std::vector<BlockId> all_blocks() const;
  std::vector<BlockId> find_by_name(std::string_view name) const;
  std::vector<BlockId> find_by_kind(std::string_view kind) const;
  std::vector<BlockId> find_by_type(BlockType type) const;

  // Generic properties (properties.h). Errors name the block and the property.
  Result<PropertyValue> get(BlockId id, std::string_view property) const;
  Status set(BlockId id, std::string_view property, const PropertyValue& value);

  // Typed access for the common properties.
  Status set_position_x(BlockId id, double v);
  Status set_position_y(BlockId id, double v);
  Status set_width(BlockId id, double v);
  Status set_height(BlockId id, double v);
  Status set_rotation(BlockId id, double degrees);
  Status set_opacity(BlockId id, double v);
  Status set_visible(BlockId id, bool v);
  Status set_name(BlockId id, std::string v);
  Status set_kind(BlockId id, std::string v);
  Status set_fill_color(BlockId id, Color c);
  Status set_text(BlockId id, std::string utf8);
  Status set_font_size(BlockId id, double v);
  Status set_text_color(BlockId id, Color c);
  Status set_image_source(BlockId id, std::string path);
  Result<double> position_x(BlockId id) const;
  Result<double> position_y(BlockId id) const;
  Result<double> width(BlockId id) const;
  Result<double> height(BlockId id) const;

  // Structure. `parent`: a page or group; `index`: stacking position (-1 = on top), the
  // block's index in the list after the call; out of range: kOutOfRange. Unknown ids:
  // kNotFound ("no block with id 7"); other misuse: kInvalidArgument. New ids are
  // Scene::next_id() onwards. Geometry is never changed by structure calls (except a new
  // group's box). For pages the list is scene.pages.
  //
  // create: defaults per type, centred on the parent's page (text "Text" 400x40, image
  // 400x300, grey rect shape 200x200, empty group 0x0). create(kPage, 0, i) is
  // create_page(1080, 1080, i). Page sizes are checked as the
  // `width`/`height` properties ("block 9: a page's width must be positive, got 0").
  Result<BlockId> create(BlockType type, BlockId parent, int index = -1);
  Result<BlockId> create_page(double width, double height, int index = -1);
  Result<BlockId> duplicate(BlockId id);  // deep copy (groups with their children), new ids, placed right above it
  Status destroy(BlockId id);             // with its children; a page's blocks too
  Status reorder(BlockId id, int index);  // new stacking position within its parent (pages: page order)
  Status move_to(BlockId id, BlockId new_parent, int index = -1);  // not pages; not into itself
  // Same parent required. The group takes the topmost member's place; members keep their
  // stacking order; its box is the members' axis-aligned bounds (after rotation).
  Result<BlockId> group(const std::vector<BlockId>& ids);
  Status ungroup(BlockId group_id);  // its children take its place in its parent

  // Transactions: changes between begin and commit are one undo step; rollback undoes them.
  // Calls outside a transaction are one step each. Nesting: inner begin/commit pairs join
  // the outer transaction; an inner rollback undoes only the changes since the inner begin.
  // A failed call changes nothing and records nothing, inside a transaction or not.
  // commit/rollback without a transaction: kFailedPrecondition.
  // Steps of calls outside a transaction are labelled by the call: "set opacity",
  // "create text", "create page", "duplicate", "destroy", "reorder", "move", "group",
  // "ungroup".
  void begin(std::string label);
  Status commit();
  Status rollback();
  bool in_transaction() const;

  bool can_undo() const;  // false inside a transaction
  bool can_redo() const;  // a new change clears the redo steps
  Status undo();  // kFailedPrecondition "nothing to undo" / "cannot undo inside a transaction"
  Status redo();  // kFailedPrecondition "nothing to redo" / "cannot redo inside a transaction"

  // Change events, delivered synchronously after each change (and on commit/undo/redo).
  // A call's events are delivered once it has finished, so listeners see a consistent scene
  // (the final one for a call with several events) and may read the engine.
  using Listener = std::function<void(const ChangeEvent&)>;
  int subscribe(Listener listener);
  void unsubscribe(int token);

 private:
  Scene scene_;
  // implementation-defined history and listener state follows in engine.cpp's pimpl
  struct History;
  std::shared_ptr<History> history_;
};

}  // namespace atelier::design
