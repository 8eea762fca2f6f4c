#include "design/scene.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <set>
#include <utility>

#include "design/properties.h"

namespace atelier::design {

namespace {

template <typename E, std::size_t N>
std::optional<E> parse_enum(std::string_view s, const std::array<std::pair<E, std::string_view>, N>& names) {
  for (const auto& [value, name] : names) {
    if (name == s) return value;
  }
  return std::nullopt;
}

template <typename E, std::size_t N>
std::string_view enum_name(E v, const std::array<std::pair<E, std::string_view>, N>& names) {
  for (const auto& [value, name] : names) {
    if (value == v) return name;
  }
  return "?";
}

constexpr std::array<std::pair<BlockType, std::string_view>, 5> kBlockTypes = {{
    {BlockType::kPage, "page"},
    {BlockType::kText, "text"},
    {BlockType::kImage, "image"},
    {BlockType::kShape, "shape"},
    {BlockType::kGroup, "group"},
}};
constexpr std::array<std::pair<TextAlign, std::string_view>, 4> kTextAligns = {{
    {TextAlign::kLeft, "left"},
    {TextAlign::kCenter, "center"},
    {TextAlign::kRight, "right"},
    {TextAlign::kJustify, "justify"},
}};
constexpr std::array<std::pair<AutoFit, std::string_view>, 3> kAutoFits = {{
    {AutoFit::kNone, "none"},
    {AutoFit::kShrink, "shrink"},
    {AutoFit::kGrowHeight, "grow-height"},
}};
constexpr std::array<std::pair<ImageFit, std::string_view>, 3> kImageFits = {{
    {ImageFit::kCover, "cover"},
    {ImageFit::kContain, "contain"},
    {ImageFit::kFill, "fill"},
}};
constexpr std::array<std::pair<ShapeKind, std::string_view>, 5> kShapeKinds = {{
    {ShapeKind::kRect, "rect"},
    {ShapeKind::kEllipse, "ellipse"},
    {ShapeKind::kPolygon, "polygon"},
    {ShapeKind::kStar, "star"},
    {ShapeKind::kLine, "line"},
}};
constexpr std::array<std::pair<FontStyle, std::string_view>, 2> kFontStyles = {{
    {FontStyle::kNormal, "normal"},
    {FontStyle::kItalic, "italic"},
}};

int channel_8bit(float c) {
  if (!(c > 0.f)) return 0;  // also NaN
  if (c >= 1.f) return 255;
  return static_cast<int>(std::lround(c * 255.0));
}

std::string block_label(BlockId id) { return "block " + std::to_string(id); }

}  // namespace

std::string_view to_string(BlockType v) { return enum_name(v, kBlockTypes); }
std::string_view to_string(TextAlign v) { return enum_name(v, kTextAligns); }
std::string_view to_string(AutoFit v) { return enum_name(v, kAutoFits); }
std::string_view to_string(ImageFit v) { return enum_name(v, kImageFits); }
std::string_view to_string(ShapeKind v) { return enum_name(v, kShapeKinds); }
std::string_view to_string(FontStyle v) { return enum_name(v, kFontStyles); }

std::optional<BlockType> parse_block_type(std::string_view s) { return parse_enum(s, kBlockTypes); }
std::optional<TextAlign> parse_text_align(std::string_view s) { return parse_enum(s, kTextAligns); }
std::optional<AutoFit> parse_auto_fit(std::string_view s) { return parse_enum(s, kAutoFits); }
std::optional<ImageFit> parse_image_fit(std::string_view s) { return parse_enum(s, kImageFits); }
std::optional<ShapeKind> parse_shape_kind(std::string_view s) { return parse_enum(s, kShapeKinds); }
std::optional<FontStyle> parse_font_style(std::string_view s) { return parse_enum(s, kFontStyles); }

std::string color_to_hex(const Color& c) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  const int v[4] = {channel_8bit(c.r), channel_8bit(c.g), channel_8bit(c.b), channel_8bit(c.a)};
  std::string out = "#";
  const int n = v[3] == 255 ? 3 : 4;
  for (int i = 0; i < n; ++i) {
    out += kDigits[v[i] >> 4];
    out += kDigits[v[i] & 15];
  }
  return out;
}

Color quantize_color(const Color& c) {
  return {static_cast<float>(channel_8bit(c.r)) / 255.f, static_cast<float>(channel_8bit(c.g)) / 255.f,
          static_cast<float>(channel_8bit(c.b)) / 255.f, static_cast<float>(channel_8bit(c.a)) / 255.f};
}

const Block* Scene::find(BlockId id) const {
  auto it = blocks.find(id);
  return it == blocks.end() ? nullptr : &it->second;
}

Block* Scene::find(BlockId id) {
  auto it = blocks.find(id);
  return it == blocks.end() ? nullptr : &it->second;
}

BlockId Scene::next_id() const { return blocks.empty() ? 1 : std::max<BlockId>(blocks.rbegin()->first, 0) + 1; }

std::vector<BlockId> Scene::descendants(BlockId id) const {
  std::vector<BlockId> out;
  const Block* root = find(id);
  if (root == nullptr) return out;
  // Explicit stack of (block, next child index); `seen` guards against malformed cycles.
  std::vector<std::pair<const Block*, std::size_t>> stack{{root, 0}};
  std::set<BlockId> seen{id};
  while (!stack.empty()) {
    auto& [block, index] = stack.back();
    if (index >= block->children.size()) {
      stack.pop_back();
      continue;
    }
    const BlockId child_id = block->children[index++];
    const Block* child = find(child_id);
    if (child == nullptr || !seen.insert(child_id).second) continue;
    out.push_back(child_id);
    stack.emplace_back(child, 0);
  }
  return out;
}

BlockId Scene::page_of(BlockId id) const {
  const Block* b = find(id);
  // A chain longer than the number of blocks is a cycle in a malformed scene.
  for (std::size_t steps = 0; b != nullptr && steps <= blocks.size(); ++steps) {
    if (b->type == BlockType::kPage) return b->id;
    b = find(b->parent);
  }
  return 0;
}

Status check_scene(const Scene& scene) {
  if (scene.version != 1) {
    return invalid_argument("unsupported scene version " + std::to_string(scene.version) + " (expected 1)");
  }
  for (const auto& [id, b] : scene.blocks) {
    const std::string who = block_label(id);
    if (id <= 0 || id > kMaxBlockId) {
      return invalid_argument(who + ": ids must be within 1.." + std::to_string(kMaxBlockId));
    }
    if (b.id != id) return invalid_argument(who + ": stored under id " + std::to_string(id) + " but its id is " + std::to_string(b.id));
    if (b.type == BlockType::kPage) {
      if (b.parent != 0) return invalid_argument(who + ": a page cannot have a parent");
      if (std::count(scene.pages.begin(), scene.pages.end(), id) != 1) {
        return invalid_argument(who + ": a page must be listed once in the scene's pages");
      }
    } else {
      const Block* parent = scene.find(b.parent);
      if (parent == nullptr) {
        return invalid_argument(who + ": parent " + std::to_string(b.parent) + " does not exist");
      }
      if (std::count(parent->children.begin(), parent->children.end(), id) != 1) {
        return invalid_argument(who + ": its parent " + std::to_string(b.parent) + " must list it once among its children");
      }
    }
    if (!b.children.empty() && b.type != BlockType::kPage && b.type != BlockType::kGroup) {
      return invalid_argument(who + ": only pages and groups have children");
    }
    for (BlockId child : b.children) {
      const Block* c = scene.find(child);
      if (c == nullptr) return invalid_argument(who + ": child " + std::to_string(child) + " does not exist");
      if (c->parent != id) {
        return invalid_argument(who + ": child " + std::to_string(child) + " names " + std::to_string(c->parent) +
                                " as its parent");
      }
    }
    // Every property of its type, through the registry: type, finiteness, range, choices.
    for (const PropertyInfo* info : properties_of(b.type)) {
      auto value = get_property(b, info->name);
      if (!value.ok()) return value.status();
      auto checked = check_property_value(*info, *value);
      if (!checked.ok()) return invalid_argument(who + ": " + checked.status().message());
    }
    if (b.type == BlockType::kPage && (b.width <= 0 || b.height <= 0)) {
      return invalid_argument(who + ": a page's width and height must be positive");
    }
    if (b.stroke.enabled && !(b.stroke.width > 0)) {
      return invalid_argument(who + ": an enabled stroke must have a positive width");
    }
  }
  for (BlockId page : scene.pages) {
    const Block* p = scene.find(page);
    if (p == nullptr) return invalid_argument("page " + std::to_string(page) + " does not exist");
    if (p->type != BlockType::kPage) {
      return invalid_argument(block_label(page) + ": listed in the scene's pages but is a " + std::string(to_string(p->type)));
    }
  }
  // Parents and children agree; every block must also be reachable from a page (no cycles).
  std::size_t reachable = 0;
  std::set<BlockId> distinct_pages(scene.pages.begin(), scene.pages.end());
  for (BlockId page : distinct_pages) reachable += 1 + scene.descendants(page).size();
  if (reachable != scene.blocks.size()) {
    for (const auto& [id, b] : scene.blocks) {
      if (scene.page_of(id) == 0) return invalid_argument(block_label(id) + ": not on any page (a cycle of groups)");
    }
    return invalid_argument("some blocks are not reachable from a page");
  }
  for (const auto& [id, b] : scene.blocks) {
    int depth = 0;
    for (const Block* p = &b; p->type != BlockType::kPage; p = scene.find(p->parent)) ++depth;
    if (depth > kMaxBlockDepth) {
      return invalid_argument(block_label(id) + ": nested " + std::to_string(depth) + " levels deep (at most " +
                              std::to_string(kMaxBlockDepth) + ")");
    }
  }
  return Status::ok_status();
}

Bounds rotated_bounds(const Block& b) {
  const double r = std::fmod(b.rotation, 360.0);
  if (r == 0) return {b.x, b.y, b.x + b.width, b.y + b.height};
  const double rad = r * 3.14159265358979323846 / 180.0;
  const double c = std::abs(std::cos(rad)), s = std::abs(std::sin(rad));
  const double cx = b.x + b.width / 2, cy = b.y + b.height / 2;
  const double ex = (b.width * c + b.height * s) / 2, ey = (b.width * s + b.height * c) / 2;
  return {cx - ex, cy - ey, cx + ex, cy + ey};
}

Bounds unite(const Bounds& a, const Bounds& b) {
  return {std::min(a.x0, b.x0), std::min(a.y0, b.y0), std::max(a.x1, b.x1), std::max(a.y1, b.y1)};
}

Bounds occupied_bounds(const Scene& scene, const Block& block) {
  auto own = [](const Block& b) {
    return b.type == BlockType::kGroup ? Bounds{b.x, b.y, b.x + b.width, b.y + b.height} : rotated_bounds(b);
  };
  Bounds box = own(block);
  for (BlockId d : scene.descendants(block.id)) {
    if (const Block* m = scene.find(d)) box = unite(box, own(*m));
  }
  return box;
}

}  // namespace atelier::design
