#include "design/properties.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <system_error>

#include "image/composite.h"

namespace atelier::design {

namespace {

using T = BlockType;

constexpr double kCoord = 1e6;

// One registry entry: the public description plus typed access. The getter returns the
// stored form; the setter receives a value that check_property_value has already accepted.
struct Entry {
  PropertyInfo info;
  PropertyValue (*get)(const Block&);
  void (*set)(Block&, const PropertyValue&);
};

double num(const PropertyValue& v) { return std::get<double>(v); }
long long integer(const PropertyValue& v) { return std::get<long long>(v); }
const std::string& str(const PropertyValue& v) { return std::get<std::string>(v); }
Color color(const PropertyValue& v) { return std::get<Color>(v); }

const std::vector<BlockType> kPlaced = {T::kText, T::kImage, T::kShape, T::kGroup};
const std::vector<BlockType> kFilled = {T::kPage, T::kText, T::kImage, T::kShape};
const std::vector<BlockType> kOutlined = {T::kText, T::kImage, T::kShape};
const std::vector<BlockType> kTextOnly = {T::kText};
const std::vector<BlockType> kImageOnly = {T::kImage};
const std::vector<BlockType> kShapeOnly = {T::kShape};

PropertyInfo number(std::string_view name, std::vector<BlockType> types, double min, double max,
                    std::string_view description) {
  return {name, PropertyType::kNumber, std::move(types), {}, min, max, description};
}
PropertyInfo integer_info(std::string_view name, std::vector<BlockType> types, double min, double max,
                          std::string_view description) {
  return {name, PropertyType::kInteger, std::move(types), {}, min, max, description};
}
PropertyInfo simple(std::string_view name, PropertyType type, std::vector<BlockType> types,
                    std::string_view description) {
  return {name, type, std::move(types), {}, 0, 0, description};
}
PropertyInfo choice(std::string_view name, std::vector<BlockType> types, std::vector<std::string_view> choices,
                    std::string_view description) {
  return {name, PropertyType::kEnum, std::move(types), std::move(choices), 0, 0, description};
}

const std::vector<Entry>& entries() {
  static const std::vector<Entry> kEntries = {
      {simple("name", PropertyType::kString, {}, "a name for people, e.g. \"Hero photo\""),
       [](const Block& b) -> PropertyValue { return b.name; },
       [](Block& b, const PropertyValue& v) { b.name = str(v); }},
      {simple("kind", PropertyType::kString, {}, "a role tag: logo, headline, body, cta, photo, background, ..."),
       [](const Block& b) -> PropertyValue { return b.kind; },
       [](Block& b, const PropertyValue& v) { b.kind = str(v); }},
      {number("x", kPlaced, -kCoord, kCoord, "left edge, design units from the page's left"),
       [](const Block& b) -> PropertyValue { return b.x; },
       [](Block& b, const PropertyValue& v) { b.x = num(v); }},
      {number("y", kPlaced, -kCoord, kCoord, "top edge, design units from the page's top"),
       [](const Block& b) -> PropertyValue { return b.y; },
       [](Block& b, const PropertyValue& v) { b.y = num(v); }},
      {number("width", {}, 0, kCoord, "width in design units (a page's: the page width)"),
       [](const Block& b) -> PropertyValue { return b.width; },
       [](Block& b, const PropertyValue& v) { b.width = num(v); }},
      {number("height", {}, 0, kCoord, "height in design units (a page's: the page height)"),
       [](const Block& b) -> PropertyValue { return b.height; },
       [](Block& b, const PropertyValue& v) { b.height = num(v); }},
      {number("rotation", kPlaced, -360, 360, "degrees clockwise about the centre"),
       [](const Block& b) -> PropertyValue { return b.rotation; },
       [](Block& b, const PropertyValue& v) { b.rotation = num(v); }},
      {number("opacity", kPlaced, 0, 1, "0 transparent .. 1 opaque"),
       [](const Block& b) -> PropertyValue { return b.opacity; },
       [](Block& b, const PropertyValue& v) { b.opacity = num(v); }},
      {simple("visible", PropertyType::kBool, kPlaced, "whether the block is drawn"),
       [](const Block& b) -> PropertyValue { return b.visible; },
       [](Block& b, const PropertyValue& v) { b.visible = std::get<bool>(v); }},
      {simple("fill", PropertyType::kColor, kFilled, "fill colour (a page's background), or none"),
       [](const Block& b) -> PropertyValue { return b.fill.enabled ? b.fill.color : Color{0, 0, 0, 0}; },
       [](Block& b, const PropertyValue& v) {
         const Color c = color(v);
         b.fill = c.a > 0 ? Fill{true, c} : Fill{};
       }},
      {simple("stroke_color", PropertyType::kColor, kOutlined, "outline colour (drawn when stroke_width > 0)"),
       [](const Block& b) -> PropertyValue { return b.stroke.color; },
       [](Block& b, const PropertyValue& v) { b.stroke.color = color(v); }},
      {number("stroke_width", kOutlined, 0, 1e4, "outline width in design units, centred on the outline; 0: none"),
       [](const Block& b) -> PropertyValue { return b.stroke.enabled ? b.stroke.width : 0.0; },
       [](Block& b, const PropertyValue& v) {
         const double w = num(v);
         b.stroke.enabled = w > 0;
         b.stroke.width = w > 0 ? w : Stroke{}.width;
       }},
      {number("corner_radius", kOutlined, 0, kCoord, "rounded corners (rect shapes, images, text box fill)"),
       [](const Block& b) -> PropertyValue { return b.corner_radius; },
       [](Block& b, const PropertyValue& v) { b.corner_radius = num(v); }},
      {simple("text", PropertyType::kString, kTextOnly, "the text, UTF-8; a newline breaks the line"),
       [](const Block& b) -> PropertyValue { return b.text.content; },
       [](Block& b, const PropertyValue& v) { b.text.content = str(v); }},
      {simple("font_family", PropertyType::kString, kTextOnly, "font family name (fontconfig)"),
       [](const Block& b) -> PropertyValue { return b.text.font_family; },
       [](Block& b, const PropertyValue& v) { b.text.font_family = str(v); }},
      {number("font_size", kTextOnly, 1, 1e4, "font size in design units"),
       [](const Block& b) -> PropertyValue { return b.text.font_size; },
       [](Block& b, const PropertyValue& v) { b.text.font_size = num(v); }},
      {integer_info("font_weight", kTextOnly, 100, 900, "100 thin .. 400 regular .. 700 bold .. 900 black"),
       [](const Block& b) -> PropertyValue { return static_cast<long long>(b.text.font_weight); },
       [](Block& b, const PropertyValue& v) { b.text.font_weight = static_cast<int>(integer(v)); }},
      {choice("font_style", kTextOnly, {"normal", "italic"}, "upright or italic"),
       [](const Block& b) -> PropertyValue { return std::string(to_string(b.text.font_style)); },
       [](Block& b, const PropertyValue& v) { b.text.font_style = *parse_font_style(str(v)); }},
      {simple("text_color", PropertyType::kColor, kTextOnly, "colour of the letters"),
       [](const Block& b) -> PropertyValue { return b.text.color; },
       [](Block& b, const PropertyValue& v) { b.text.color = color(v); }},
      {choice("align", kTextOnly, {"left", "center", "right", "justify"}, "horizontal alignment of the lines"),
       [](const Block& b) -> PropertyValue { return std::string(to_string(b.text.align)); },
       [](Block& b, const PropertyValue& v) { b.text.align = *parse_text_align(str(v)); }},
      {number("line_height", kTextOnly, 0.1, 10, "line spacing as a multiple of the font size"),
       [](const Block& b) -> PropertyValue { return b.text.line_height; },
       [](Block& b, const PropertyValue& v) { b.text.line_height = num(v); }},
      {number("letter_spacing", kTextOnly, -1e4, 1e4, "design units added between characters"),
       [](const Block& b) -> PropertyValue { return b.text.letter_spacing; },
       [](Block& b, const PropertyValue& v) { b.text.letter_spacing = num(v); }},
      {choice("auto_fit", kTextOnly, {"none", "shrink", "grow-height"},
              "none; shrink the font to fit the box; grow the box's height to fit the text"),
       [](const Block& b) -> PropertyValue { return std::string(to_string(b.text.auto_fit)); },
       [](Block& b, const PropertyValue& v) { b.text.auto_fit = *parse_auto_fit(str(v)); }},
      {simple("source", PropertyType::kString, kImageOnly, "image file path (absolute or relative to the design file)"),
       [](const Block& b) -> PropertyValue { return b.image.source; },
       [](Block& b, const PropertyValue& v) { b.image.source = str(v); }},
      {simple("alt", PropertyType::kString, kImageOnly, "what the image shows"),
       [](const Block& b) -> PropertyValue { return b.image.alt; },
       [](Block& b, const PropertyValue& v) { b.image.alt = str(v); }},
      {choice("fit", kImageOnly, {"cover", "contain", "fill"},
              "cover: fill the box, cropping; contain: whole image inside the box; fill: stretch"),
       [](const Block& b) -> PropertyValue { return std::string(to_string(b.image.fit)); },
       [](Block& b, const PropertyValue& v) { b.image.fit = *parse_image_fit(str(v)); }},
      {number("focus_x", kImageOnly, 0, 1, "horizontal point kept in view when cropping, 0 left .. 1 right"),
       [](const Block& b) -> PropertyValue { return b.image.focus_x; },
       [](Block& b, const PropertyValue& v) { b.image.focus_x = num(v); }},
      {number("focus_y", kImageOnly, 0, 1, "vertical point kept in view when cropping, 0 top .. 1 bottom"),
       [](const Block& b) -> PropertyValue { return b.image.focus_y; },
       [](Block& b, const PropertyValue& v) { b.image.focus_y = num(v); }},
      {choice("shape", kShapeOnly, {"rect", "ellipse", "polygon", "star", "line"}, "the outline drawn in the box"),
       [](const Block& b) -> PropertyValue { return std::string(to_string(b.shape.shape)); },
       [](Block& b, const PropertyValue& v) { b.shape.shape = *parse_shape_kind(str(v)); }},
      {integer_info("points", kShapeOnly, 3, 64, "polygon sides / star points"),
       [](const Block& b) -> PropertyValue { return static_cast<long long>(b.shape.points); },
       [](Block& b, const PropertyValue& v) { b.shape.points = static_cast<int>(integer(v)); }},
      {number("inner_radius", kShapeOnly, 0, 1, "star: inner radius as a share of the outer one"),
       [](const Block& b) -> PropertyValue { return b.shape.inner_radius; },
       [](Block& b, const PropertyValue& v) { b.shape.inner_radius = num(v); }},
  };
  return kEntries;
}

const Entry* find_entry(std::string_view name) {
  for (const Entry& e : entries()) {
    if (e.info.name == name) return &e;
  }
  return nullptr;
}

std::string block_label(const Block& b) { return "block " + std::to_string(b.id); }

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string choices_text(const PropertyInfo& info) {
  std::string out;
  for (std::size_t i = 0; i < info.choices.size(); ++i) {
    if (i > 0) out += ", ";
    out += info.choices[i];
  }
  return out;
}

std::string_view kind_of(const PropertyValue& v) {
  switch (v.index()) {
    case 0: return "a number";
    case 1: return "an integer";
    case 2: return "a boolean";
    case 3: return "a string";
    default: return "a colour";
  }
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int n = 0;
    std::uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) n = 1, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) n = 2, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) n = 3, cp = c & 0x07;
    else return false;
    if (i + static_cast<std::size_t>(n) >= s.size()) return false;
    for (int k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

std::optional<double> parse_double(std::string_view text) {
  double v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || p != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

// A colour from text: "none" (transparent black) or what image::parse_color accepts.
std::optional<Color> parse_color_text(std::string_view text) {
  if (text == "none") return Color{0, 0, 0, 0};
  auto c = image::parse_color(text);
  if (!c.ok()) return std::nullopt;
  return quantize_color(*c);
}

constexpr std::string_view kColourForms = " (expected #RRGGBB, #RRGGBBAA, none or a name such as white)";

}  // namespace

const std::vector<PropertyInfo>& properties() {
  static const std::vector<PropertyInfo> kInfos = [] {
    std::vector<PropertyInfo> out;
    for (const Entry& e : entries()) out.push_back(e.info);
    return out;
  }();
  return kInfos;
}

const PropertyInfo* find_property(std::string_view name) {
  for (const PropertyInfo& info : properties()) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

bool applies_to(const PropertyInfo& info, BlockType type) {
  return info.applies_to.empty() ||
         std::find(info.applies_to.begin(), info.applies_to.end(), type) != info.applies_to.end();
}

std::vector<const PropertyInfo*> properties_of(BlockType type) {
  std::vector<const PropertyInfo*> out;
  for (const PropertyInfo& info : properties()) {
    if (applies_to(info, type)) out.push_back(&info);
  }
  return out;
}

Result<PropertyValue> check_property_value(const PropertyInfo& info, const PropertyValue& value) {
  const std::string name(info.name);
  auto wrong_type = [&](std::string_view expected) {
    return invalid_argument(name + " must be " + std::string(expected) + ", got " + std::string(kind_of(value)));
  };
  auto in_range = [&](double v) -> Status {
    if (info.min == info.max || (v >= info.min && v <= info.max)) return Status::ok_status();
    if (info.min == 0 && info.max > 1 && v < 0) {  // sizes: the upper bound is only a sanity limit
      return invalid_argument(name + " must not be negative, got " + format_property(value));
    }
    return invalid_argument(name + " must be within " + format_property(info.min) + ".." + format_property(info.max) +
                            ", got " + format_property(value));
  };
  switch (info.type) {
    case PropertyType::kNumber: {
      double v = 0;
      if (const double* d = std::get_if<double>(&value)) v = *d;
      else if (const long long* i = std::get_if<long long>(&value)) v = static_cast<double>(*i);
      else return wrong_type("a number");
      if (!std::isfinite(v)) return invalid_argument(name + " must be a finite number");
      ATELIER_TRY(in_range(v));
      return PropertyValue(v == 0 ? 0.0 : v);  // no negative zero
    }
    case PropertyType::kInteger: {
      long long v = 0;
      if (const long long* i = std::get_if<long long>(&value)) {
        v = *i;
      } else if (const double* d = std::get_if<double>(&value)) {
        if (!std::isfinite(*d) || std::trunc(*d) != *d || std::fabs(*d) > 9007199254740992.0) {
          return invalid_argument(name + " must be an integer, got " + format_property(value));
        }
        v = static_cast<long long>(*d);
      } else {
        return wrong_type("an integer");
      }
      ATELIER_TRY(in_range(static_cast<double>(v)));
      return PropertyValue(v);
    }
    case PropertyType::kBool:
      if (!std::holds_alternative<bool>(value)) return wrong_type("true or false");
      return value;
    case PropertyType::kString: {
      const std::string* s = std::get_if<std::string>(&value);
      if (s == nullptr) return wrong_type("a string");
      if (!valid_utf8(*s)) return invalid_argument(name + " must be valid UTF-8");
      return value;
    }
    case PropertyType::kColor: {
      if (const std::string* s = std::get_if<std::string>(&value)) {
        auto c = parse_color_text(*s);
        if (!c) {
          return invalid_argument("bad colour " + in_quotes(*s) + " for " + name + std::string(kColourForms));
        }
        return PropertyValue(*c);
      }
      const Color* c = std::get_if<Color>(&value);
      if (c == nullptr) return wrong_type("a colour");
      for (float ch : {c->r, c->g, c->b, c->a}) {
        if (!(ch >= 0.f && ch <= 1.f)) return invalid_argument(name + " must have colour channels within 0..1");
      }
      return PropertyValue(quantize_color(*c));
    }
    case PropertyType::kEnum: {
      const std::string* s = std::get_if<std::string>(&value);
      if (s == nullptr || std::find(info.choices.begin(), info.choices.end(), *s) == info.choices.end()) {
        return invalid_argument(name + " must be one of " + choices_text(info) + "; got " +
                                (s != nullptr ? in_quotes(*s) : std::string(kind_of(value))));
      }
      return value;
    }
  }
  return internal_error("unknown property type");
}

Result<PropertyValue> get_property(const Block& block, std::string_view name) {
  const Entry* e = find_entry(name);
  if (e == nullptr) return invalid_argument(block_label(block) + ": unknown property " + in_quotes(name));
  if (!applies_to(e->info, block.type)) {
    return invalid_argument(block_label(block) + " (" + std::string(to_string(block.type)) + ") has no property " +
                            in_quotes(name));
  }
  return e->get(block);
}

Status set_property(Block& block, std::string_view name, const PropertyValue& value) {
  const Entry* e = find_entry(name);
  if (e == nullptr) return invalid_argument(block_label(block) + ": unknown property " + in_quotes(name));
  if (!applies_to(e->info, block.type)) {
    return invalid_argument(block_label(block) + " (" + std::string(to_string(block.type)) + ") has no property " +
                            in_quotes(name));
  }
  auto checked = check_property_value(e->info, value);
  if (!checked.ok()) return checked.status().with_context(block_label(block));
  if (block.type == BlockType::kPage && (name == "width" || name == "height") && !(num(*checked) > 0)) {
    return invalid_argument(block_label(block) + ": a page's " + std::string(name) + " must be positive, got " +
                            format_property(*checked));
  }
  e->set(block, *checked);
  return Status::ok_status();
}

std::string format_property(const PropertyValue& value) {
  switch (value.index()) {
    case 0: {
      const double v = std::get<double>(value);
      char buf[64];
      const double mag = std::fabs(v);
      const bool plain = v == 0 || (mag >= 1e-6 && mag < 1e15);
      auto r = plain ? std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed)
                     : std::to_chars(buf, buf + sizeof buf, v);
      return std::string(buf, r.ptr);
    }
    case 1: return std::to_string(std::get<long long>(value));
    case 2: return std::get<bool>(value) ? "true" : "false";
    case 3: return std::get<std::string>(value);
    default: {
      std::string hex = color_to_hex(std::get<Color>(value));
      return hex == "#00000000" ? "none" : hex;
    }
  }
}

Result<PropertyValue> parse_property(const PropertyInfo& info, std::string_view text) {
  const std::string name(info.name);
  switch (info.type) {
    case PropertyType::kNumber: {
      auto v = parse_double(text);
      if (!v) return invalid_argument(name + ": expected a number, got " + in_quotes(text));
      return PropertyValue(*v);
    }
    case PropertyType::kInteger: {
      long long v = 0;
      const char* end = text.data() + text.size();
      auto [p, ec] = std::from_chars(text.data(), end, v);
      if (ec == std::errc() && p == end) return PropertyValue(v);
      auto d = parse_double(text);
      if (d && std::trunc(*d) == *d && std::fabs(*d) <= 9007199254740992.0) {
        return PropertyValue(static_cast<long long>(*d));
      }
      return invalid_argument(name + ": expected an integer, got " + in_quotes(text));
    }
    case PropertyType::kBool:
      if (text == "true") return PropertyValue(true);
      if (text == "false") return PropertyValue(false);
      return invalid_argument(name + ": expected true or false, got " + in_quotes(text));
    case PropertyType::kString:
      return PropertyValue(std::string(text));
    case PropertyType::kColor: {
      auto c = parse_color_text(text);
      if (!c) return invalid_argument(name + ": bad colour " + in_quotes(text) + std::string(kColourForms));
      return PropertyValue(*c);
    }
    case PropertyType::kEnum:
      if (std::find(info.choices.begin(), info.choices.end(), text) == info.choices.end()) {
        return invalid_argument(name + ": expected one of " + choices_text(info) + "; got " + in_quotes(text));
      }
      return PropertyValue(std::string(text));
  }
  return internal_error("unknown property type");
}

PropertyValue default_property_value(BlockType type, std::string_view name) {
  Block b;
  b.type = type;
  auto v = get_property(b, name);
  return v.ok() ? *v : PropertyValue{};
}

}  // namespace atelier::design
