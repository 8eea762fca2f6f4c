// The design scene model: a design is a scene of uniquely numbered blocks — pages, texts,
// images, shapes and groups — with typed properties. Pages hold blocks; groups hold blocks;
// a block's position in its parent's `children` is its stacking order (first = bottom).
// Geometry is in design units (pixels at scale 1) relative to the page's top-left corner,
// also for blocks inside groups (groups do not transform their children). Rotation is in
// degrees clockwise about the block's centre. Colours are sRGB with straight alpha.
//
// The Scene is a plain value: copyable, comparable; the Engine (engine.h) edits it with
// transactions, undo and events; scene_json.h loads and saves it; renderer.h draws it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "image/composite.h"

namespace atelier::design {

using BlockId = std::int64_t;  // 1..kMaxBlockId, unique within a scene
// The largest block id, 2^53 − 1: ids stay exact as JSON numbers (and in JavaScript).
inline constexpr BlockId kMaxBlockId = 9007199254740991;
// How deep blocks may nest below their page (a page's children are at depth 1, a group's
// children one deeper): deeper scenes would exceed the JSON reader's nesting limit of 64.
inline constexpr int kMaxBlockDepth = 30;
using Color = image::Rgba;    // sRGB, straight alpha, each channel in [0,1]

enum class BlockType { kPage, kText, kImage, kShape, kGroup };
enum class TextAlign { kLeft, kCenter, kRight, kJustify };
enum class AutoFit { kNone, kShrink, kGrowHeight };
enum class ImageFit { kCover, kContain, kFill };
enum class ShapeKind { kRect, kEllipse, kPolygon, kStar, kLine };
enum class FontStyle { kNormal, kItalic };

std::string_view to_string(BlockType v);  // "page", "text", "image", "shape", "group"
std::string_view to_string(TextAlign v);  // "left", "center", "right", "justify"
std::string_view to_string(AutoFit v);    // "none", "shrink", "grow-height"
std::string_view to_string(ImageFit v);   // "cover", "contain", "fill"
std::string_view to_string(ShapeKind v);  // "rect", "ellipse", "polygon", "star", "line"
std::string_view to_string(FontStyle v);  // "normal", "italic"
// The inverse of to_string; nullopt for an unknown name.
std::optional<BlockType> parse_block_type(std::string_view s);
std::optional<TextAlign> parse_text_align(std::string_view s);
std::optional<AutoFit> parse_auto_fit(std::string_view s);
std::optional<ImageFit> parse_image_fit(std::string_view s);
std::optional<ShapeKind> parse_shape_kind(std::string_view s);
std::optional<FontStyle> parse_font_style(std::string_view s);

// "#RRGGBB" when opaque, else "#RRGGBBAA" (upper case); channels rounded to 8 bits.
std::string color_to_hex(const Color& c);
// `c` with each channel clamped to [0,1] and rounded to 8 bits: the colour color_to_hex
// saves. Property setters (properties.h) store colours this way, so saving is lossless.
Color quantize_color(const Color& c);

// The properties `fill` ("none" = disabled), `stroke_color` and `stroke_width` (0 =
// disabled) edit these. A disabled fill keeps the default colour (black) and a disabled
// stroke the default width (1): the setters store them so, since the file format does
// not save them (a disabled stroke's colour is saved: it is its own property).
struct Fill {
  bool enabled = false;
  Color color{0, 0, 0, 1};
  friend bool operator==(const Fill&, const Fill&) = default;
};

struct Stroke {
  bool enabled = false;
  Color color{0, 0, 0, 1};
  double width = 1;  // design units, centred on the outline
  friend bool operator==(const Stroke&, const Stroke&) = default;
};

struct TextProps {
  std::string content;                 // UTF-8; '\n' breaks lines
  std::string font_family = "DejaVu Sans";
  double font_size = 32;               // design units (px at scale 1)
  int font_weight = 400;               // 100..900
  FontStyle font_style = FontStyle::kNormal;
  Color color{0, 0, 0, 1};
  TextAlign align = TextAlign::kLeft;
  double line_height = 1.2;            // multiple of the font size
  double letter_spacing = 0;           // design units added between characters
  AutoFit auto_fit = AutoFit::kNone;
  friend bool operator==(const TextProps&, const TextProps&) = default;
};

struct ImageProps {
  std::string source;  // a path (absolute, or relative to the design file's folder)
  std::string alt;     // what the image shows (used by search and by the LLM editor)
  ImageFit fit = ImageFit::kCover;
  double focus_x = 0.5;  // the point of the image kept in view when cropping (cover), 0..1
  double focus_y = 0.5;
  friend bool operator==(const ImageProps&, const ImageProps&) = default;
};

struct ShapeProps {
  ShapeKind shape = ShapeKind::kRect;
  int points = 5;             // polygon sides / star points (3..64)
  double inner_radius = 0.5;  // star: inner radius as a share of the outer one (0..1)
  friend bool operator==(const ShapeProps&, const ShapeProps&) = default;
};

struct Block {
  BlockId id = 0;
  BlockType type = BlockType::kShape;
  std::string name;   // free, for people ("Hero photo")
  std::string kind;   // free tag for roles: logo, headline, body, cta, photo, background, ...
  BlockId parent = 0; // 0 for pages
  std::vector<BlockId> children;  // pages and groups: stacking order, bottom first

  double x = 0, y = 0, width = 100, height = 100;  // pages: x = y = 0, width/height = page size
  double rotation = 0;  // degrees, clockwise, about the centre
  double opacity = 1;   // 0..1
  bool visible = true;
  Fill fill;            // pages: the background
  Stroke stroke;
  double corner_radius = 0;  // rect shapes, images, text boxes' fill

  TextProps text;    // type text
  ImageProps image;  // type image
  ShapeProps shape;  // type shape

  friend bool operator==(const Block&, const Block&) = default;
};

struct Scene {
  int version = 1;
  std::string name;
  std::vector<BlockId> pages;       // in page order
  std::map<BlockId, Block> blocks;  // every block, pages included

  friend bool operator==(const Scene&, const Scene&) = default;

  const Block* find(BlockId id) const;
  Block* find(BlockId id);
  // The largest id in use + 1.
  BlockId next_id() const;
  // Blocks of a page (or group), depth-first in stacking order (bottom first), excluding it.
  std::vector<BlockId> descendants(BlockId id) const;
  // The page a block is on (itself for a page), 0 if none.
  BlockId page_of(BlockId id) const;
};

// An axis-aligned box on a page: (x0, y0) top left, (x1, y1) bottom right.
struct Bounds {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  double w() const { return x1 - x0; }
  double h() const { return y1 - y0; }
};
// The bounds of a block's box after its rotation about its centre (exact when unrotated).
Bounds rotated_bounds(const Block& b);
// The smallest box holding both.
Bounds unite(const Bounds& a, const Bounds& b);
// What a block covers on its page: its rotated box (a group's own box unrotated: groups
// draw nothing and do not rotate their members) united with every descendant's.
Bounds occupied_bounds(const Scene& scene, const Block& block);

// Structural checks every valid scene passes: version 1, ids unique and within
// 1..kMaxBlockId, parents and children agree, pages have no parent and are listed once in
// `pages`, every block is on a page (no cycles) at most kMaxBlockDepth below it, only
// pages and groups have children, every property of a block's type passes
// check_property_value (types, ranges, enums: sizes not negative, opacity in [0,1], ...),
// pages have a positive size, an enabled stroke has a positive width. The first problem
// found, naming the block ("block 7: width must not be negative, got -5").
Status check_scene(const Scene& scene);

}  // namespace atelier::design
