// What an edit changes in a design: the result of diffing the model's answer against the
// design that was sent, before anything is applied. Printed by `atelier edit --dry-run`,
// applied by apply.h as one engine transaction.
#pragma once

#include <string>
#include <vector>

#include "design/properties.h"
#include "design/scene.h"

namespace atelier::genai {

struct PropertyChange {
  design::BlockId id = 0;
  std::string property;               // a design property name (properties.h)
  design::PropertyValue old_value{};  // as in the scene
  design::PropertyValue new_value{};  // as the model wants it
  friend bool operator==(const PropertyChange&, const PropertyChange&) = default;
};

struct AddedBlock {
  design::BlockType type = design::BlockType::kText;
  design::BlockId parent = 0;  // the page or group it is added to
  int index = -1;              // stacking position in the parent (-1: top)
  std::vector<std::pair<std::string, design::PropertyValue>> properties;  // property name -> value
  friend bool operator==(const AddedBlock&, const AddedBlock&) = default;
};

struct ChangeSet {
  std::vector<PropertyChange> modified;  // in document order, then by property name
  std::vector<AddedBlock> added;
  std::vector<design::BlockId> removed;  // blocks the answer left out
  bool empty() const { return modified.empty() && added.empty() && removed.empty(); }
  friend bool operator==(const ChangeSet&, const ChangeSet&) = default;
};

// One line per change: "modified 7 font_size: 64 -> 80", "added text to page 1: text=...",
// "removed 12 (Logo)".
std::vector<std::string> describe(const ChangeSet& changes, const design::Scene& scene);

}  // namespace atelier::genai
