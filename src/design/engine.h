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

struct ChangeEvent {
  enum class Kind { kPropertyChanged, kCreated, kDestroyed, kMoved, kUndo, kRedo, kCommitted, kRolledBack };
  Kind kind;
  BlockId id = 0;            // the block concerned (0 for undo/redo/commit/rollback)
  std::string property;      // kPropertyChanged
  PropertyValue old_value{}, new_value{};
  std::string label;         // the transaction's label (commit, undo, redo)
};

class Engine {
 public:
  explicit Engine(Scene scene);

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

  // Structure. `parent`: a page or group; `index`: stacking position (-1 = on top).
  Result<BlockId> create(BlockType type, BlockId parent, int index = -1);
  Result<BlockId> create_page(double width, double height, int index = -1);
  Result<BlockId> duplicate(BlockId id);  // deep copy (groups with their children), new ids, placed above it
  Status destroy(BlockId id);             // with its children; a page's blocks too
  Status reorder(BlockId id, int index);  // new stacking position within its parent
  Status move_to(BlockId id, BlockId new_parent, int index = -1);
  Result<BlockId> group(const std::vector<BlockId>& ids);  // same parent required; the group's box bounds them
  Status ungroup(BlockId group_id);

  // Transactions: changes between begin and commit are one undo step; rollback undoes them.
  // Calls outside a transaction are one step each. Nesting: inner begin/commit pairs join
  // the outer transaction.
  void begin(std::string label);
  Status commit();
  Status rollback();
  bool in_transaction() const;

  bool can_undo() const;
  bool can_redo() const;
  Status undo();  // kFailedPrecondition "nothing to undo" / inside a transaction
  Status redo();

  // Change events, delivered synchronously after each change (and on commit/undo/redo).
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
