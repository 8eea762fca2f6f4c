#include "design/scene_json.h"

#include <charconv>
#include <cstdint>
#include <map>
#include <span>
#include <system_error>

#include "core/files.h"
#include "design/image_source.h"
#include "design/json_doc.h"
#include "design/properties.h"

namespace atelier::design {

namespace {

namespace fs = std::filesystem;
using json::Position;

constexpr std::string_view kFormat = "atelier-scene";
constexpr int kVersion = 1;
constexpr std::uint64_t kMaxFileBytes = std::uint64_t{64} << 20;

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

// The number as written, for messages about numbers ("got 7.5"); other kinds by name.
std::string describe(const json::Value& v) {
  if (v.is_number()) return v.text;
  return std::string(json::kind_name(v.kind));
}

class Loader {
 public:
  Loader(std::string_view source, fs::path base_dir, LoadOptions options)
      : source_(source), base_dir_(std::move(base_dir)), options_(options) {}

  Result<LoadedScene> load(std::string_view text) {
    auto doc = json::parse(text);
    if (!doc.ok()) {
      const Status& s = doc.status();
      // Syntax errors start with "LINE:COLUMN: "; the size limit has no position.
      if (s.code() != StatusCode::kInvalidArgument) {
        return Status(s.code(), source_.empty() ? s.message() : source_ + ": " + s.message());
      }
      return Status(s.code(), prefix() + s.message());
    }
    ATELIER_TRY(read_top(*doc));
    Status check = check_scene(out_.scene);
    if (!check.ok()) return invalid_argument(prefix() + check.message());  // not expected after the checks above
    return std::move(out_);
  }

 private:
  std::string prefix() const { return source_.empty() ? std::string() : source_ + ":"; }

  Status error(Position p, const std::string& message) const {
    return invalid_argument(prefix() + json::to_string(p) + ": " + message);
  }

  // Reports a key that appears twice in one object. `where`: " at the top level", " in block 7".
  Status check_unique_key(std::map<std::string, Position>& seen, const json::Member& m, const std::string& where) {
    auto [it, inserted] = seen.emplace(m.key, m.key_pos);
    if (inserted) return Status::ok_status();
    return error(m.key_pos, "duplicate key " + in_quotes(m.key) + where + " (first at " + json::to_string(it->second) + ")");
  }

  Status read_top(const json::Value& root) {
    if (!root.is_object()) return error(root.pos, "expected an object at the top level, got " + describe(root));
    const json::Member* format = root.find("format");
    if (format == nullptr) return error(root.pos, "missing 'format' at the top level");
    if (!format->value.is_string()) {
      return error(format->value.pos, "format must be a string, got " + describe(format->value));
    }
    if (format->value.text != kFormat) {
      return error(format->value.pos, "unsupported format " + in_quotes(format->value.text) + " (expected '" +
                                          std::string(kFormat) + "')");
    }
    const json::Member* version = root.find("version");
    if (version == nullptr) return error(root.pos, "missing 'version' at the top level");
    if (!version->value.is_number() || !version->value.integer) {
      return error(version->value.pos, "version must be an integer, got " + describe(version->value));
    }
    if (version->value.text != std::to_string(kVersion)) {
      return error(version->value.pos, "unsupported version " + version->value.text + " (this build reads version " +
                                           std::to_string(kVersion) + ")");
    }
    out_.scene.version = kVersion;
    std::map<std::string, Position> seen;
    bool have_pages = false;
    for (const json::Member& m : root.members) {
      ATELIER_TRY(check_unique_key(seen, m, " at the top level"));
      if (m.key == "format" || m.key == "version") continue;
      if (m.key == "name") {
        if (!m.value.is_string()) return error(m.value.pos, "name must be a string, got " + describe(m.value));
        auto checked = check_property_value(*find_property("name"), m.value.text);
        if (!checked.ok()) return error(m.value.pos, checked.status().message());
        out_.scene.name = m.value.text;
      } else if (m.key == "pages") {
        if (!m.value.is_array()) return error(m.value.pos, "pages must be an array, got " + describe(m.value));
        have_pages = true;
        for (const json::Value& page : m.value.items) ATELIER_TRY(read_block(page, 0));
      } else {
        return error(m.key_pos, "unknown key " + in_quotes(m.key) + " at the top level");
      }
    }
    if (!have_pages) return error(root.pos, "missing 'pages' at the top level");
    return Status::ok_status();
  }

  // A page (parent 0, from "pages") or a block inside a page or group.
  Status read_block(const json::Value& v, BlockId parent) {
    const bool want_page = parent == 0;
    const std::string what = want_page ? "page" : "block";
    if (!v.is_object()) return error(v.pos, "expected a " + what + " object, got " + describe(v));

    // id
    const json::Member* id_member = v.find("id");
    if (id_member == nullptr) return error(v.pos, "missing 'id' in a " + what);
    const json::Value& idv = id_member->value;
    BlockId id = 0;
    bool id_ok = idv.is_number() && idv.integer;
    if (id_ok) {
      auto [p, ec] = std::from_chars(idv.text.data(), idv.text.data() + idv.text.size(), id);
      id_ok = ec == std::errc() && p == idv.text.data() + idv.text.size() && id >= 1 && id <= kMaxBlockId;
    }
    if (!id_ok) {
      return error(idv.pos, "id must be an integer within 1.." + std::to_string(kMaxBlockId) + ", got " + describe(idv));
    }
    if (auto it = id_pos_.find(id); it != id_pos_.end()) {
      return error(idv.pos, "duplicate block id " + std::to_string(id) + " (first at " + json::to_string(it->second) + ")");
    }
    id_pos_.emplace(id, idv.pos);
    const std::string in_block = " in " + what + " " + std::to_string(id);

    // type
    const json::Member* type_member = v.find("type");
    if (type_member == nullptr) return error(v.pos, "missing 'type'" + in_block);
    const json::Value& tv = type_member->value;
    if (!tv.is_string()) return error(tv.pos, "type must be a string" + in_block + ", got " + describe(tv));
    const std::optional<BlockType> type = parse_block_type(tv.text);
    if (!type) return error(tv.pos, "unknown block type " + in_quotes(tv.text) + in_block);
    if (want_page && *type != BlockType::kPage) {
      return error(tv.pos, "expected a page in 'pages', got a " + tv.text + " block (block " + std::to_string(id) + ")");
    }
    if (!want_page && *type == BlockType::kPage) {
      return error(tv.pos, "a page cannot be inside another block (block " + std::to_string(id) + ")");
    }
    if (want_page) {
      for (const char* required : {"width", "height"}) {
        if (v.find(required) == nullptr) return error(v.pos, "missing '" + std::string(required) + "'" + in_block);
      }
    }

    Block fresh;
    fresh.id = id;
    fresh.type = *type;
    fresh.parent = parent;
    out_.scene.blocks.emplace(id, std::move(fresh));
    if (want_page) {
      out_.scene.pages.push_back(id);
    } else {
      out_.scene.blocks.at(parent).children.push_back(id);
    }

    std::map<std::string, Position> seen;
    for (const json::Member& m : v.members) {
      ATELIER_TRY(check_unique_key(seen, m, in_block));
      if (m.key == "id" || m.key == "type") continue;
      if (m.key == "children") {
        if (*type != BlockType::kPage && *type != BlockType::kGroup) {
          return error(m.key_pos, "block " + std::to_string(id) + " (" + tv.text + ") cannot have children");
        }
        if (!m.value.is_array()) return error(m.value.pos, "children must be an array" + in_block + ", got " + describe(m.value));
        for (const json::Value& child : m.value.items) ATELIER_TRY(read_block(child, id));
        continue;
      }
      ATELIER_TRY(read_property(out_.scene.blocks.at(id), m));
    }
    return Status::ok_status();
  }

  Status read_property(Block& block, const json::Member& m) {
    const PropertyInfo* info = find_property(m.key);
    if (info == nullptr) return error(m.key_pos, "unknown property " + in_quotes(m.key) + " in block " + std::to_string(block.id));
    if (!applies_to(*info, block.type)) {
      return error(m.key_pos, "block " + std::to_string(block.id) + " (" + std::string(to_string(block.type)) +
                                  ") has no property " + in_quotes(m.key));
    }
    const json::Value& v = m.value;
    PropertyValue value;
    switch (v.kind) {
      case json::Kind::kNumber: {
        long long i = 0;
        auto [p, ec] = std::from_chars(v.text.data(), v.text.data() + v.text.size(), i);
        if (v.integer && ec == std::errc() && p == v.text.data() + v.text.size()) value = i;
        else value = v.number;
        break;
      }
      case json::Kind::kBool: value = v.boolean; break;
      case json::Kind::kString:
        if (info->type == PropertyType::kColor) {
          auto parsed = parse_property(*info, v.text);
          if (!parsed.ok()) {
            return error(v.pos, "bad colour " + in_quotes(v.text) + " for " + m.key + " in block " + std::to_string(block.id));
          }
          value = *parsed;
        } else {
          value = v.text;
        }
        break;
      default:
        return error(v.pos, "block " + std::to_string(block.id) + ": " + m.key + " must be " + expected_kind(*info) +
                                ", got " + describe(v));
    }
    Status s = set_property(block, m.key, value);
    if (!s.ok()) return error(v.pos, s.message());
    if (m.key == "source") warn_if_unusable(block, v.pos);
    return Status::ok_status();
  }

  static std::string expected_kind(const PropertyInfo& info) {
    switch (info.type) {
      case PropertyType::kNumber: return "a number";
      case PropertyType::kInteger: return "an integer";
      case PropertyType::kBool: return "true or false";
      case PropertyType::kString: return "a string";
      case PropertyType::kColor: return "a colour string";
      case PropertyType::kEnum: return "a string";
    }
    return "?";
  }

  void warn_if_unusable(const Block& block, Position pos) {
    if (!options_.check_image_sources || block.image.source.empty()) return;
    Status s = check_image_source(block.image.source, base_dir_);
    if (s.ok()) return;
    out_.warnings.push_back(prefix() + json::to_string(pos) + ": block " + std::to_string(block.id) + ": " + s.message());
  }

  std::string source_;
  fs::path base_dir_;
  LoadOptions options_;
  LoadedScene out_;
  std::map<BlockId, Position> id_pos_;
};

// ---- writing ----------------------------------------------------------------------------

void append_value(std::string& out, const PropertyValue& v) {
  if (std::holds_alternative<std::string>(v) || std::holds_alternative<Color>(v)) {
    json::append_string(out, format_property(v));
  } else {
    out += format_property(v);
  }
}

class Writer {
 public:
  explicit Writer(const Scene& scene) : scene_(scene) {}

  std::string write() {
    out_ = "{\n  \"format\": \"";
    out_ += kFormat;
    out_ += "\",\n  \"version\": " + std::to_string(kVersion) + ",\n";
    if (!scene_.name.empty()) {
      out_ += "  \"name\": ";
      json::append_string(out_, scene_.name);
      out_ += ",\n";
    }
    out_ += "  \"pages\": ";
    write_list(scene_.pages, 2);
    out_ += "\n}\n";
    return std::move(out_);
  }

 private:
  void indent(int n) { out_.append(static_cast<std::size_t>(n), ' '); }

  void write_list(const std::vector<BlockId>& ids, int level) {
    std::vector<const Block*> blocks;
    for (BlockId id : ids) {
      if (const Block* b = scene_.find(id)) blocks.push_back(b);
    }
    if (blocks.empty()) {
      out_ += "[]";
      return;
    }
    out_ += "[\n";
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      indent(level + 2);
      write_block(*blocks[i], level + 2);
      out_ += i + 1 < blocks.size() ? ",\n" : "\n";
    }
    indent(level);
    out_ += "]";
  }

  void write_block(const Block& b, int level) {
    Block defaults;
    defaults.type = b.type;
    out_ += "{\n";
    indent(level + 2);
    out_ += "\"id\": " + std::to_string(b.id) + ",\n";
    indent(level + 2);
    out_ += "\"type\": \"";
    out_ += to_string(b.type);
    out_ += "\"";
    for (const PropertyInfo* info : properties_of(b.type)) {
      auto value = get_property(b, info->name);
      if (!value.ok()) continue;
      const bool required = b.type == BlockType::kPage && (info->name == "width" || info->name == "height");
      if (!required && *value == *get_property(defaults, info->name)) continue;
      out_ += ",\n";
      indent(level + 2);
      json::append_string(out_, info->name);
      out_ += ": ";
      append_value(out_, *value);
    }
    if (b.type == BlockType::kPage || b.type == BlockType::kGroup) {
      out_ += ",\n";
      indent(level + 2);
      out_ += "\"children\": ";
      write_list(b.children, level + 2);
    }
    out_ += "\n";
    indent(level);
    out_ += "}";
  }

  const Scene& scene_;
  std::string out_;
};

}  // namespace

Result<LoadedScene> parse_scene(std::string_view json, std::string_view source_name, const fs::path& base_dir,
                                const LoadOptions& options) {
  return Loader(source_name, base_dir, options).load(json);
}

Result<LoadedScene> load_scene(const fs::path& path, const LoadOptions& options) {
  ATELIER_ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes, read_file(path, kMaxFileBytes));
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return parse_scene(text, path.string(), path.parent_path(), options);
}

std::string scene_to_json(const Scene& scene) { return Writer(scene).write(); }

Status save_scene(const fs::path& path, const Scene& scene) {
  Status check = check_scene(scene);
  if (!check.ok()) return check.with_context(path.string() + ": not saved");
  const std::string text = scene_to_json(scene);
  return write_file_atomic(path, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

}  // namespace atelier::design
