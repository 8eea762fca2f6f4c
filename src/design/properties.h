// The property registry: every editable property of a block by name, with its type, the
// block types it applies to, and typed access. One table serves the JSON format's flat
// attributes (scene_json.h), the Engine's generic get/set (engine.h), `atelier design set
// ID name=value`, and the LLM editor's serializer and validator (issue 5).
//
// Names: x, y, width, height, rotation, opacity, visible, name, kind,
//   fill (colour or "none"), stroke_color, stroke_width (0 = no stroke), corner_radius,
//   text, font_family, font_size, font_weight, font_style, text_color, align, line_height,
//   letter_spacing, auto_fit,
//   source, alt, fit, focus_x, focus_y,
//   shape, points, inner_radius.
// (Structure — id, type, parent, children, order — is not a property: the Engine edits it.)
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"
#include "design/scene.h"

namespace atelier::design {

enum class PropertyType { kNumber, kInteger, kBool, kString, kColor, kEnum };

// A value: numbers as double, integers as long long, colours as Color (fill: an alpha-0
// colour means "none"), enums and strings as std::string.
using PropertyValue = std::variant<double, long long, bool, std::string, Color>;

struct PropertyInfo {
  std::string_view name;
  PropertyType type;
  std::vector<BlockType> applies_to;     // empty: every block type
  std::vector<std::string_view> choices; // kEnum: the allowed names
  double min = 0, max = 0;               // kNumber/kInteger range (min == max: unbounded)
  std::string_view description;
};

const std::vector<PropertyInfo>& properties();
// nullptr for an unknown name.
const PropertyInfo* find_property(std::string_view name);
// The properties a block type has.
std::vector<const PropertyInfo*> properties_of(BlockType type);

// Reads `name` of `block`. Errors (kInvalidArgument): unknown property, or one the block's
// type does not have ("block 7 (text) has no property 'source'").
Result<PropertyValue> get_property(const Block& block, std::string_view name);
// Writes after checking type and range ("block 7: opacity must be within 0..1, got 2").
Status set_property(Block& block, std::string_view name, const PropertyValue& value);

// Text forms, as in `design set ID name=value` and the JSON format: numbers in shortest
// round-trip form, true/false, colours as "#RRGGBB[AA]" (fill: also "none").
std::string format_property(const PropertyValue& value);
// Parses `text` as the property's type. Errors name the property and the text.
Result<PropertyValue> parse_property(const PropertyInfo& info, std::string_view text);

}  // namespace atelier::design
