#include "genai/change_set.h"

#include <string>

#include "core/text.h"

namespace atelier::genai {

namespace {

// A value for one line of text: strings (free-text properties) in double quotes with
// '"', '\' and line breaks escaped; everything else as format_property writes it.
std::string value_text(std::string_view property, const design::PropertyValue& value) {
  const design::PropertyInfo* info = design::find_property(property);
  const std::string* s = std::get_if<std::string>(&value);
  if (s == nullptr || info == nullptr || info->type != design::PropertyType::kString) {
    return design::format_property(value);
  }
  return quoted(*s);
}

}  // namespace

std::vector<std::string> describe(const ChangeSet& changes, const design::Scene& scene) {
  std::vector<std::string> lines;
  for (const PropertyChange& c : changes.modified) {
    lines.push_back("modified " + std::to_string(c.id) + " " + c.property + ": " + value_text(c.property, c.old_value) +
                    " -> " + value_text(c.property, c.new_value));
  }
  for (const AddedBlock& a : changes.added) {
    std::string line = "added " + std::string(design::to_string(a.type)) + " to ";
    const design::Block* parent = scene.find(a.parent);
    line += parent != nullptr ? std::string(design::to_string(parent->type)) : std::string("block");
    line += " " + std::to_string(a.parent);
    for (std::size_t i = 0; i < a.properties.size(); ++i) {
      line += i == 0 ? ": " : " ";
      line += a.properties[i].first + "=" + value_text(a.properties[i].first, a.properties[i].second);
    }
    lines.push_back(std::move(line));
  }
  for (design::BlockId id : changes.removed) {
    std::string line = "removed " + std::to_string(id);
    const design::Block* b = scene.find(id);
    if (b != nullptr && !b->name.empty()) line += " (" + b->name + ")";
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace atelier::genai
