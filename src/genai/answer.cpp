#include "genai/answer.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <pugixml.hpp>
#include <set>
#include <string>

#include "core/text.h"
#include "design/properties.h"

namespace atelier::genai {

namespace {

using design::Block;
using design::BlockId;
using design::BlockType;
using design::PropertyValue;
using design::Scene;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The next "<design" start tag at or after `pos` (followed by a space, '>', '/' or the end).
std::size_t find_start(std::string_view s, std::size_t pos) {
  constexpr std::string_view kStart = "<design";
  while ((pos = s.find(kStart, pos)) != std::string_view::npos) {
    const std::size_t after = pos + kStart.size();
    if (after == s.size() || is_space(s[after]) || s[after] == '>' || s[after] == '/') return pos;
    pos = after;
  }
  return std::string_view::npos;
}

// The next "</design>" (spaces allowed before '>') at or after `pos`; `end` is set past it.
std::size_t find_close(std::string_view s, std::size_t pos, std::size_t& end) {
  constexpr std::string_view kClose = "</design";
  while ((pos = s.find(kClose, pos)) != std::string_view::npos) {
    std::size_t i = pos + kClose.size();
    while (i < s.size() && is_space(s[i])) ++i;
    if (i < s.size() && s[i] == '>') {
      end = i + 1;
      return pos;
    }
    pos += kClose.size();
  }
  return std::string_view::npos;
}

std::string shorten(std::string s, std::size_t limit = 40) {
  return s.size() <= limit ? s : utf8_prefix(s, limit) + "...";
}

std::string with_article(BlockType type) {
  const std::string name(design::to_string(type));
  return (type == BlockType::kImage ? "an " : "a ") + name;
}

std::string label(const pugi::xml_node& node) {
  std::string s = "<" + std::string(node.name());
  if (pugi::xml_attribute id = node.attribute("id")) s += " id=\"" + std::string(id.value()) + "\"";
  return s + ">";
}

std::optional<BlockId> parse_id(std::string_view text) {
  BlockId v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < 1 || v > design::kMaxBlockId) return std::nullopt;
  return v;
}

struct Box {
  double x = 0, y = 0, w = 0, h = 0;
};

// Whether the box no longer overlaps [0,W] on the axis: a zero-size box counts as inside
// when it lies within the page (lines), others need an overlap of positive length.
bool outside_axis(double pos, double size, double page) {
  if (size > 0) return pos >= page || pos + size <= 0;
  return pos < 0 || pos > page;
}

// The page the blocks being walked are on: its size before and after the answer.
struct PageSize {
  bool known = false;
  double old_w = 0, old_h = 0, new_w = 0, new_h = 0;
};

// Where the elements being walked live.
struct Parent {
  BlockId id = 0;         // 0: the <design> element
  bool root = true;       // the <design> element
  bool existing = true;   // the root, or a page/group of the sent scene (not a new one)
  bool valid = true;      // false when the parent itself was in error (its children skip structure checks)
  PageSize page;
  int depth = 0;          // pages: 1
};

class Checker {
 public:
  Checker(const Scene& sent, Profile profile) : sent_(sent), profile_(profile) {}

  Validation run(std::string_view document) {
    pugi::xml_document doc;
    const pugi::xml_parse_result parsed =
        doc.load_buffer(document.data(), document.size(), pugi::parse_default, pugi::encoding_utf8);
    if (!parsed) {
      out_.errors.push_back("invalid XML: " + std::string(parsed.description()) + " at offset " +
                            std::to_string(parsed.offset));
      return std::move(out_);
    }
    bool first = true;
    for (pugi::xml_node node : doc.children()) {
      if (node.type() != pugi::node_element) continue;
      if (!first) {
        error(node, "only one <design> element is allowed");
        continue;
      }
      first = false;
      if (std::string_view(node.name()) != "design") {
        error(node, "the document must be a <design> element");
        continue;
      }
      for (pugi::xml_attribute a : node.attributes()) {
        const std::string_view name = a.name();
        if (name != "w" && name != "h") error(node, "unknown attribute '" + std::string(name) + "'");
      }
      Parent root;
      walk_children(node, root);
      collect_removed();
    }
    if (first) out_.errors.push_back("the document has no <design> element");
    return std::move(out_);
  }

 private:
  void error(const pugi::xml_node& node, const std::string& message) {
    out_.errors.push_back(label(node) + ": " + message);
  }

  void walk_children(const pugi::xml_node& node, const Parent& parent) {
    std::vector<std::pair<BlockId, std::string>> order;  // existing children in answer order
    int index = 0;
    for (pugi::xml_node child : node.children()) {
      if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) {
        const std::string text = trim(child.value());
        if (!text.empty()) error(node, "unexpected text '" + shorten(text) + "'");
        continue;
      }
      if (child.type() != pugi::node_element) continue;  // comments, processing instructions
      const std::string tag = child.name();
      const std::optional<BlockType> type = design::parse_block_type(tag);
      if (!type) {
        error(child, "unknown element '" + tag + "'");
        continue;
      }
      if (parent.root && *type != BlockType::kPage) {
        error(child, "blocks must be inside a <page>");
        continue;
      }
      if (!parent.root && *type == BlockType::kPage) {
        error(child, "pages must be directly inside <design>");
        continue;
      }
      walk_block(child, *type, parent, index++, order);
    }
    if (!parent.valid || !parent.existing) return;
    const Block* sent_parent = parent.root ? nullptr : sent_.find(parent.id);
    const std::vector<BlockId>& sent_children = parent.root ? sent_.pages : sent_parent->children;
    std::set<BlockId> present;
    for (const auto& [id, l] : order) present.insert(id);
    std::vector<BlockId> expected;
    for (BlockId id : sent_children) {
      if (present.count(id) > 0) expected.push_back(id);
    }
    for (std::size_t i = 0; i < order.size() && i < expected.size(); ++i) {
      if (order[i].first != expected[i]) {
        out_.errors.push_back(order[i].second + ": " +
                              (parent.root ? "changing the page order is not supported"
                                           : "changing the stacking order is not supported"));
        break;
      }
    }
  }

  void walk_block(const pugi::xml_node& node, BlockType type, const Parent& parent, int index,
                  std::vector<std::pair<BlockId, std::string>>& order) {
    // Identity and structure.
    const pugi::xml_attribute id_attr = node.attribute("id");
    const Block* old = nullptr;
    bool id_error = false;
    if (id_attr) {
      const std::optional<BlockId> id = parse_id(id_attr.value());
      if (!id) {
        error(node, "bad id '" + std::string(id_attr.value()) + "'");
        id_error = true;
      } else if (sent_.find(*id) == nullptr) {
        error(node, "unknown id " + std::to_string(*id));
        id_error = true;
      } else if (!seen_.insert(*id).second) {
        error(node, "id " + std::to_string(*id) + " appears more than once");
        id_error = true;
      } else if (const Block* b = sent_.find(*id); b->type != type) {
        error(node, "id " + std::to_string(*id) + " is " + with_article(b->type) + ", not " + with_article(type));
        id_error = true;
      } else {
        old = b;
        if (parent.valid && (!parent.existing || b->parent != parent.id)) {
          error(node, "moving blocks between pages or groups is not supported");
          id_error = true;
        } else if (parent.valid) {
          order.emplace_back(*id, label(node));
        }
      }
    }

    // Attributes: known, for this type, in the profile, well-formed and in range.
    const std::vector<const XmlAttribute*> allowed = attributes_for(type, profile_);
    const std::vector<const XmlAttribute*> of_type = attributes_for(type, Profile::kFull);
    std::map<std::string, PropertyValue, std::less<>> values;  // XML name -> checked value
    std::set<std::string, std::less<>> written;                 // every attribute name written
    for (pugi::xml_attribute attr : node.attributes()) {
      const std::string name = attr.name();
      if (!written.insert(name).second) {
        error(node, "duplicate attribute '" + name + "'");
        continue;
      }
      if (name == "id") continue;
      const XmlAttribute* a = find_xml_attribute(name);
      if (a == nullptr) {
        error(node, "unknown attribute '" + name + "'");
        continue;
      }
      if (std::find(of_type.begin(), of_type.end(), a) == of_type.end()) {
        error(node, with_article(type) + " has no attribute '" + name + "'");
        continue;
      }
      if (std::find(allowed.begin(), allowed.end(), a) == allowed.end()) {
        error(node, "attribute '" + name + "' is not in the " + std::string(to_string(profile_)) + " profile");
        continue;
      }
      auto value = parse_xml_value(*a, attr.value());
      if (!value.ok()) {
        error(node, value.status().message());
        continue;
      }
      if (type == BlockType::kPage && (name == "w" || name == "h") && !(std::get<double>(*value) > 0)) {
        error(node, name + " must be positive, got " + design::format_property(*value));
        continue;
      }
      values.emplace(name, *value);
    }
    auto number = [&](std::string_view name, double fallback) {
      auto it = values.find(name);
      return it != values.end() ? std::get<double>(it->second) : fallback;
    };

    // The page's size for the blocks on it.
    PageSize page = parent.page;
    if (type == BlockType::kPage) {
      page = {};
      if (old != nullptr) {
        page = {true, old->width, old->height, number("w", old->width), number("h", old->height)};
      }
    }

    // Changes of an existing block, by property name.
    if (old != nullptr && !id_error) {
      std::vector<PropertyChange> changes;
      for (const XmlAttribute* a : allowed) {
        if (a->property.empty()) continue;
        PropertyValue new_value;
        if (auto it = values.find(a->name); it != values.end()) {
          new_value = it->second;
        } else if (a->kept_when_absent || written.count(a->name) > 0) {
          continue;  // left out (kept), or written with an error reported above
        } else {
          new_value = design::default_property_value(type, a->property);
        }
        auto old_value = design::get_property(*old, a->property);
        if (!old_value.ok()) continue;
        if (new_value != rounded_value(*a, *old_value)) {
          changes.push_back({old->id, std::string(a->property), *old_value, new_value});
        }
      }
      std::sort(changes.begin(), changes.end(),
                [](const PropertyChange& l, const PropertyChange& r) { return l.property < r.property; });
      for (PropertyChange& c : changes) out_.changes.modified.push_back(std::move(c));
    }

    // A new block.
    if (!id_attr) {
      if (type == BlockType::kPage) {
        error(node, "adding pages is not supported");
      } else if (!parent.existing) {
        error(node, "new blocks can only be added to existing pages and groups");
      } else if (parent.valid) {
        AddedBlock added;
        added.type = type;
        added.parent = parent.id;
        added.index = index;
        for (const XmlAttribute& a : xml_attributes()) {
          if (auto it = values.find(a.name); it != values.end()) added.properties.emplace_back(a.property, it->second);
        }
        out_.changes.added.push_back(std::move(added));
      }
    }

    // Off the page.
    if (type != BlockType::kPage && page.known && (old != nullptr || !id_attr)) {
      const Block defaults;
      const Block& base = old != nullptr ? *old : defaults;
      const Box now{number("x", base.x), number("y", base.y), number("w", base.width), number("h", base.height)};
      const bool was_outside = old != nullptr && (outside_axis(old->x, old->width, page.old_w) ||
                                                  outside_axis(old->y, old->height, page.old_h));
      if (!was_outside) {
        auto fmt = [](double v) { return design::format_property(v); };
        if (outside_axis(now.x, now.w, page.new_w)) {
          const bool left = now.x < page.new_w && now.w > 0;
          error(node, "x=" + fmt(now.x) + (left ? " w=" + fmt(now.w) : "") + " puts it outside the page (0.." +
                          fmt(page.new_w) + ")");
        } else if (outside_axis(now.y, now.h, page.new_h)) {
          const bool top = now.y < page.new_h && now.h > 0;
          error(node, "y=" + fmt(now.y) + (top ? " h=" + fmt(now.h) : "") + " puts it outside the page (0.." +
                          fmt(page.new_h) + ")");
        }
      }
    }

    // Children.
    const bool container = type == BlockType::kPage || type == BlockType::kGroup;
    if (!container) {
      for (pugi::xml_node child : node.children()) {
        if (child.type() == pugi::node_element) {
          error(node, "only pages and groups can contain blocks");
          break;
        }
        if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) {
          const std::string text = trim(child.value());
          if (!text.empty()) {
            error(node, "unexpected text '" + shorten(text) + "'");
            break;
          }
        }
      }
      return;
    }
    Parent inner;
    inner.root = false;
    inner.id = old != nullptr ? old->id : 0;
    inner.existing = old != nullptr;
    inner.valid = !id_error && parent.valid;
    inner.page = page;
    inner.depth = parent.depth + 1;
    if (inner.depth > design::kMaxBlockDepth) {
      error(node, "nesting deeper than " + std::to_string(design::kMaxBlockDepth) + " levels");
      return;
    }
    walk_children(node, inner);
  }

  // Blocks of the sent scene the answer left out: the topmost of each missing subtree.
  void collect_removed() {
    std::vector<BlockId> stack(sent_.pages.rbegin(), sent_.pages.rend());
    while (!stack.empty()) {
      const BlockId id = stack.back();
      stack.pop_back();
      const Block* b = sent_.find(id);
      if (b == nullptr) continue;
      if (seen_.count(id) == 0) {
        out_.changes.removed.push_back(id);
        continue;
      }
      for (auto it = b->children.rbegin(); it != b->children.rend(); ++it) stack.push_back(*it);
    }
  }

  const Scene& sent_;
  Profile profile_;
  Validation out_;
  std::set<BlockId> seen_;  // ids of the sent scene found in the answer
};

}  // namespace

Result<std::string> extract_document(std::string_view answer) {
  std::vector<std::pair<std::size_t, std::size_t>> documents;  // [begin, end)
  std::size_t open = std::string_view::npos;                   // the last unmatched start tag
  std::size_t pos = 0;
  while (pos < answer.size()) {
    std::size_t close_end = 0;
    const std::size_t start = find_start(answer, pos);
    const std::size_t close = find_close(answer, pos, close_end);
    if (start == std::string_view::npos && close == std::string_view::npos) break;
    if (start != std::string_view::npos && (close == std::string_view::npos || start < close)) {
      // A start tag: self-closing ("<design/>") is a whole document; otherwise the latest
      // start before a close begins the document (prose may mention "<design>" before it).
      const std::size_t gt = answer.find('>', start);
      if (gt != std::string_view::npos && answer[gt - 1] == '/' && (close == std::string_view::npos || gt < close)) {
        documents.emplace_back(start, gt + 1);
        open = std::string_view::npos;
        pos = gt + 1;
      } else {
        open = start;
        pos = start + 1;
      }
      continue;
    }
    if (open != std::string_view::npos) {
      documents.emplace_back(open, close_end);
      open = std::string_view::npos;
    }
    pos = close_end;
  }
  // A start without its end (a truncated answer) is the document when there is no other:
  // parsing it then names what is missing.
  if (documents.empty() && open != std::string_view::npos) documents.emplace_back(open, answer.size());
  if (documents.empty()) return invalid_argument("the answer contains no <design> document");
  if (documents.size() > 1) {
    return invalid_argument("the answer contains " + std::to_string(documents.size()) + " <design> documents");
  }
  return std::string(answer.substr(documents[0].first, documents[0].second - documents[0].first));
}

Validation validate_and_diff(std::string_view document, const Scene& sent, Profile profile) {
  return Checker(sent, profile).run(document);
}

}  // namespace atelier::genai
