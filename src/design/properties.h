// The property registry: every editable property of a block by name, with its type, the
// block types it applies to, and typed access. One table serves the JSON format's flat
// attributes (scene_json.h), the Engine's generic get/set (engine.h), `atelier design set
// ID name=value`, and the LLM editor's serializer and validator (issue 5).
//
// Names, in registry order (also the order of the JSON format's attributes):
//   name, kind, x, y, width, height, rotation, opacity, visible,
//   fill (colour or "none"), stroke_color, stroke_width (0 = no stroke), corner_radius,
//   text, font_family, font_size, font_weight, font_style, text_color, align, line_height,
//   letter_spacing, auto_fit,
//   source, alt, fit, focus_x, focus_y,
//   shape, points, inner_radius.
// Which block types have them:
//   name, kind, width, height             every type (a page's width/height: its size)
//   x, y, rotation, opacity, visible      text, image, shape, group (not pages)
//   fill                                  page (background), text (box), image (behind
//                                         the picture), shape; not groups
//   stroke_color, stroke_width,
//   corner_radius (shapes: rect only)     text, image, shape
//   text … auto_fit                       text
//   source, alt, fit, focus_x, focus_y    image
//   shape, points, inner_radius           shape
// Ranges: x, y within ±1e6; width, height, corner_radius 0..1e6 (a page's size must also
// be positive); rotation -360..360; opacity, focus_x, focus_y, inner_radius 0..1;
// stroke_width 0..1e4; font_size 1..1e4; font_weight 100..900; line_height 0.1..10;
// letter_spacing ±1e4; points 3..64. Numbers must be finite; strings valid UTF-8.
// Colours are stored rounded to 8 bits per channel (quantize_color).
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
// colour means "none"; reading a disabled fill gives transparent black {0,0,0,0}), enums
// and strings as std::string.
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

// Whether blocks of `type` have the property.
bool applies_to(const PropertyInfo& info, BlockType type);

// Reads `name` of `block`. Errors (kInvalidArgument): unknown property ("block 7: unknown
// property 'colour'"), or one the block's type does not have ("block 7 (text) has no
// property 'source'").
Result<PropertyValue> get_property(const Block& block, std::string_view name);
// The value a property has on a new Block of `type` (scene.h's defaults); an empty
// PropertyValue for a name the type does not have.
PropertyValue default_property_value(BlockType type, std::string_view name);
// Writes after checking type and range with check_property_value ("block 7: opacity must
// be within 0..1, got 2"; "block 1: a page's width must be positive, got 0").
Status set_property(Block& block, std::string_view name, const PropertyValue& value);

// Checks `value` against the property's type, range and choices and returns it in its
// stored form: an integer is accepted for a number, an integral number for an integer, a
// string for a colour (parsed as by parse_property); colours quantized (quantize_color),
// -0 made 0. Errors (kInvalidArgument) name the property but no block: "opacity must be
// within 0..1, got 2", "width must not be negative, got -5", "points must be an integer,
// got 5.5", "shape must be one of rect, ellipse, polygon, star, line; got 'oval'".
Result<PropertyValue> check_property_value(const PropertyInfo& info, const PropertyValue& value);

// Text forms, as in `design set ID name=value` and the JSON format: numbers in shortest
// round-trip form (plain decimals for magnitudes in [1e-6, 1e15), else with an exponent:
// 100000, 0.25, 1e+20), integers in decimal, true/false, strings as they are, colours as
// "#RRGGBB[AA]" (upper case) and transparent black as "none".
std::string format_property(const PropertyValue& value);
// Parses `text` as the property's type (a colour: "none" = transparent black, or whatever
// image::parse_color accepts). No range check (set_property does that). Errors name the
// property and the text: "opacity: expected a number, got 'abc'".
Result<PropertyValue> parse_property(const PropertyInfo& info, std::string_view text);

}  // namespace atelier::design
