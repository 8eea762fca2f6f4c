#include "genai/serializer.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/text.h"
#include "design/properties.h"

namespace atelier::genai {

namespace {

using design::Block;
using design::BlockType;
using design::PropertyValue;

constexpr Profile kL = Profile::kLayout;
constexpr Profile kT = Profile::kText;
constexpr Profile kS = Profile::kStyle;

bool in_profile(const XmlAttribute& a, Profile p) {
  return p == Profile::kFull || std::find(a.profiles.begin(), a.profiles.end(), p) != a.profiles.end();
}

// x, y, w, h are written even at their default (a box without them is hard to read).
bool always_written(const XmlAttribute& a) { return a.name == "x" || a.name == "y" || a.name == "w" || a.name == "h"; }

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20) {
          out += "&#" + std::to_string(static_cast<int>(ch)) + ";";
        } else {
          out += ch;
        }
    }
  }
  return out;
}

// "width: ..." / "width must ..." -> "w: ..." / "w must ...".
std::string rename(const std::string& message, std::string_view property, std::string_view attribute) {
  if (message.size() > property.size() && message.compare(0, property.size(), property) == 0 &&
      (message[property.size()] == ':' || message[property.size()] == ' ')) {
    return std::string(attribute) + message.substr(property.size());
  }
  return message;
}

void write_block(std::string& out, const design::Scene& scene, const Block& block, Profile profile, int depth) {
  const std::string indent(static_cast<std::size_t>(depth) * 2, ' ');
  const std::string_view tag = design::to_string(block.type);
  out += indent;
  out += '<';
  out += tag;
  for (const XmlAttribute* a : attributes_for(block.type, profile)) {
    if (a->property.empty()) {
      out += " id=\"" + std::to_string(block.id) + "\"";
      continue;
    }
    auto value = design::get_property(block, a->property);
    if (!value.ok()) continue;
    const PropertyValue rounded = rounded_value(*a, *value);
    if (!always_written(*a) && rounded == rounded_value(*a, design::default_property_value(block.type, a->property))) continue;
    out += ' ';
    out += a->name;
    out += "=\"";
    out += xml_escape(format_xml_value(*a, rounded));
    out += '"';
  }
  std::vector<const Block*> children;
  for (design::BlockId id : block.children) {
    if (const Block* child = scene.find(id)) children.push_back(child);
  }
  if (children.empty()) {
    out += "/>\n";
    return;
  }
  out += ">\n";
  for (const Block* child : children) write_block(out, scene, *child, profile, depth + 1);
  out += indent;
  out += "</";
  out += tag;
  out += ">\n";
}

// Lower-cases ASCII letters and the UTF-8 upper-case umlauts Ä Ö Ü.
std::string lower(std::string_view s) {
  std::string out(s);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto c = static_cast<unsigned char>(out[i]);
    if (c >= 'A' && c <= 'Z') {
      out[i] = static_cast<char>(c - 'A' + 'a');
    } else if (c == 0xC3 && i + 1 < out.size()) {
      const auto d = static_cast<unsigned char>(out[i + 1]);
      if (d == 0x84 || d == 0x96 || d == 0x9C) out[i + 1] = static_cast<char>(d + 0x20);  // Ä Ö Ü
      ++i;
    }
  }
  return out;
}

std::vector<std::string> words_of(std::string_view request) {
  const std::string text = lower(request);
  std::vector<std::string> words;
  std::string word;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80) {
      word += ch;
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

bool any_keyword(const std::vector<std::string>& words, const std::vector<std::string_view>& keywords) {
  for (const std::string& w : words) {
    for (std::string_view k : keywords) {
      if (k.ends_with('*')) {
        k.remove_suffix(1);
        if (w.starts_with(k)) return true;
      } else if (w == k) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace

std::string_view to_string(Profile p) {
  switch (p) {
    case Profile::kLayout: return "layout";
    case Profile::kText: return "text";
    case Profile::kStyle: return "style";
    case Profile::kFull: return "full";
  }
  return "full";
}

std::optional<Profile> parse_profile(std::string_view s) {
  for (Profile p : {Profile::kLayout, Profile::kText, Profile::kStyle, Profile::kFull}) {
    if (to_string(p) == s) return p;
  }
  return std::nullopt;
}

Profile guess_profile(std::string_view request) {
  // Keep these lists in step with the comment in serializer.h.
  static const std::vector<std::string_view> kText = {
      "translat*", "übersetz*", "reword*",   "rephras*", "rewrit*",  "umformulier*", "formulier*",
      "wording",   "proofread*", "typo*",    "tippfehler*", "spelling", "copy",       "copywrit*",
      "say",       "says",      "language*", "sprache*", "english",  "german",       "french",
      "spanish",   "italian",   "englisch",  "deutsch",  "französisch", "spanisch",  "italienisch"};
  static const std::vector<std::string_view> kStyle = {
      "colour*",   "color*",   "farb*",    "font*",      "schrift*",  "typeface*", "typograph*", "brand*",
      "marke*",    "bold*",    "fett*",    "italic*",    "kursiv*",   "palette*",  "theme*",     "style*",
      "stil*",     "dark*",    "dunkl*",   "contrast*",  "kontrast*", "outline*",  "stroke*",    "border*",
      "rahmen*",   "rounded",  "corner*",  "opacity",    "transparen*", "weight",  "red",        "blue",
      "green",     "yellow",   "orange",   "purple",     "pink",      "black",     "white",      "grey",
      "gray",      "gold",     "rot",      "blau",       "grün",      "gelb",      "schwarz",    "weiß",
      "weiss"};
  static const std::vector<std::string_view> kLayoutWords = {
      "move*",     "resiz*",    "bigger",    "smaller",  "larger",    "enlarg*",    "shrink*",   "scale*",
      "format*",   "reformat*", "position*", "layout*",  "arrang*",   "align*",     "center",    "centre",
      "rotat*",    "shift*",    "wider",     "narrower", "taller",    "shorter",    "width",     "height",
      "size*",     "crop*",     "aspect*",   "landscape", "portrait", "square",     "spacing",   "margin*",
      "padding*",  "overlap*",  "verschieb*", "größe*",  "grösse*",   "kleiner*",   "breiter*",  "schmaler*",
      "höher*",    "beweg*",    "anordn*",   "skalier*", "vergrößer*", "verkleiner*", "ausricht*", "zentrier*",
      "platzier*", "dreh*"};
  const std::vector<std::string> words = words_of(request);
  const bool text = any_keyword(words, kText);
  const bool style = any_keyword(words, kStyle);
  const bool layout = any_keyword(words, kLayoutWords);
  if (text + style + layout != 1) return Profile::kFull;
  if (text) return Profile::kText;
  if (style) return Profile::kStyle;
  return Profile::kLayout;
}

const std::vector<XmlAttribute>& xml_attributes() {
  static const std::vector<XmlAttribute> kTable = {
      {"id", "", {kL, kT, kS}, -1, true},
      {"name", "name", {kL, kT, kS}, -1, true},
      {"kind", "kind", {kL, kT, kS}, -1, true},
      {"x", "x", {kL}, 0, true},
      {"y", "y", {kL}, 0, true},
      {"w", "width", {kL}, 0, true},
      {"h", "height", {kL}, 0, true},
      {"rot", "rotation", {kL}, 0, false},
      {"visible", "visible", {kL}, -1, false},
      {"alt", "alt", {kL, kT, kS}, -1, true},
      {"text", "text", {kT}, -1, true},
      {"fit", "fit", {kL}, -1, false},
      {"focus-x", "focus_x", {kL}, 2, false},
      {"focus-y", "focus_y", {kL}, 2, false},
      {"opacity", "opacity", {kS}, 2, false},
      {"fill", "fill", {kS}, -1, false},
      {"stroke", "stroke_color", {kS}, -1, false},
      {"stroke-w", "stroke_width", {kS}, 1, false},
      {"radius", "corner_radius", {kS}, 0, false},
      {"font", "font_family", {kS}, -1, false},
      {"size", "font_size", {kL, kS}, 1, false},
      {"weight", "font_weight", {kS}, -1, false},
      {"italic", "font_style", {kS}, -1, false},
      {"color", "text_color", {kS}, -1, false},
      {"align", "align", {kS}, -1, false},
      {"lh", "line_height", {kS}, 2, false},
      {"ls", "letter_spacing", {kS}, 1, false},
      {"auto-fit", "auto_fit", {kS}, -1, false},
      {"shape", "shape", {kS}, -1, false},
      {"points", "points", {kS}, -1, false},
      {"inner", "inner_radius", {kS}, 2, false},
  };
  return kTable;
}

const XmlAttribute* find_xml_attribute(std::string_view name) {
  for (const XmlAttribute& a : xml_attributes()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::vector<const XmlAttribute*> attributes_for(BlockType type, Profile profile) {
  std::vector<const XmlAttribute*> out;
  for (const XmlAttribute& a : xml_attributes()) {
    if (!a.property.empty()) {
      const design::PropertyInfo* info = design::find_property(a.property);
      if (info == nullptr || !design::applies_to(*info, type)) continue;
    }
    const bool page_size = type == BlockType::kPage && (a.name == "w" || a.name == "h");
    if (page_size || in_profile(a, profile)) out.push_back(&a);
  }
  return out;
}

PropertyValue rounded_value(const XmlAttribute& a, const PropertyValue& value) {
  const double* d = std::get_if<double>(&value);
  if (d == nullptr || a.decimals < 0) return value;
  const double scale = std::pow(10.0, a.decimals);
  double r = std::round(*d * scale) / scale;
  if (r == 0) r = 0;  // no negative zero
  return r;
}

std::string format_xml_value(const XmlAttribute& a, const PropertyValue& value) {
  const PropertyValue r = rounded_value(a, value);
  if (a.name == "italic") {
    const std::string* s = std::get_if<std::string>(&r);
    return s != nullptr && *s == "italic" ? "true" : "false";
  }
  return design::format_property(r);
}

Result<PropertyValue> parse_xml_value(const XmlAttribute& a, std::string_view text) {
  if (a.name == "italic") {
    if (text == "true") return PropertyValue(std::string("italic"));
    if (text == "false") return PropertyValue(std::string("normal"));
    return invalid_argument("italic: expected true or false, got '" + std::string(text) + "'");
  }
  const design::PropertyInfo* info = design::find_property(a.property);
  if (info == nullptr) return invalid_argument(std::string(a.name) + " is not a property");
  auto parsed = design::parse_property(*info, text);
  if (!parsed.ok()) return invalid_argument(rename(parsed.status().message(), a.property, a.name));
  auto checked = design::check_property_value(*info, *parsed);
  if (!checked.ok()) return invalid_argument(rename(checked.status().message(), a.property, a.name));
  if (a.property == "fill") {
    if (const design::Color* c = std::get_if<design::Color>(&*checked); c != nullptr && c->a <= 0) {
      return PropertyValue(design::Color{0, 0, 0, 0});
    }
  }
  return checked;
}

std::string serialize(const design::Scene& scene, Profile profile) {
  std::string out = "<design";
  const Block* first = scene.pages.empty() ? nullptr : scene.find(scene.pages.front());
  if (first != nullptr) {
    const XmlAttribute* w = find_xml_attribute("w");
    const XmlAttribute* h = find_xml_attribute("h");
    out += " w=\"" + format_xml_value(*w, first->width) + "\" h=\"" + format_xml_value(*h, first->height) + "\"";
  }
  out += ">\n";
  for (design::BlockId id : scene.pages) {
    if (const Block* page = scene.find(id)) write_block(out, scene, *page, profile, 1);
  }
  out += "</design>\n";
  return out;
}

int estimate_tokens(std::string_view text) { return static_cast<int>((utf8_length(text) + 3) / 4); }

}  // namespace atelier::genai
