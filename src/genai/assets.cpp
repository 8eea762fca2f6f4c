// The local asset library (assets.h): a folder of images, with or without an index of
// captions and tags, searched by word overlap.
#include "genai/assets.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iterator>
#include <cctype>
#include <set>
#include <system_error>

#include "core/files.h"

namespace atelier::genai {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kMaxIndexBytes = 16ull << 20;
constexpr double kTagWeight = 1.0;
constexpr double kIndexCaptionWeight = 0.8;  // a caption word in an index that also has tags
constexpr double kNameCaptionWeight = 1.0;   // a caption from a file name: the only text there is

// Words that say nothing about what an image shows.
constexpr std::string_view kStopWords[] = {
    "a",     "an",    "the",   "of",      "in",         "on",   "at",      "to",    "for",    "with",
    "and",   "or",    "by",    "from",    "into",       "onto", "over",    "under", "behind", "against",
    "near",  "next",  "is",    "are",     "was",        "be",   "this",    "that",  "these",  "those",
    "it",    "its",   "her",   "his",     "their",      "our",  "my",      "your",  "some",   "very",
    "as",    "who",   "which", "image",   "photo",      "picture", "photograph", "showing", "shows"};

bool is_stop_word(std::string_view w) {
  return std::find(std::begin(kStopWords), std::end(kStopWords), w) != std::end(kStopWords);
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Simple plural stripping (English): berries -> berry, glasses -> glass, boxes -> box,
// beaches -> beach, bicycles -> bicycle; words of 3 letters or fewer and words ending in
// "ss", "us", "is" are kept.
std::string singular(std::string w) {
  if (w.size() <= 3) return w;
  if (ends_with(w, "ies") && w.size() > 4) return w.substr(0, w.size() - 3) + "y";
  if (ends_with(w, "sses")) return w.substr(0, w.size() - 2);
  for (std::string_view es : {"shes", "ches", "xes", "zes"}) {
    if (ends_with(w, es)) return w.substr(0, w.size() - 2);
  }
  if (ends_with(w, "ss") || ends_with(w, "us") || ends_with(w, "is")) return w;
  if (ends_with(w, "s")) return w.substr(0, w.size() - 1);
  return w;
}

// Lower-case words (letters and digits; bytes of UTF-8 sequences count as letters), stop
// words and single letters dropped, plurals stripped; unique, sorted.
std::set<std::string> words(std::string_view text) {
  std::set<std::string> out;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) {
      const bool digits = std::all_of(cur.begin(), cur.end(), [](char c) { return c >= '0' && c <= '9'; });
      if ((cur.size() > 1 || digits) && !is_stop_word(cur)) out.insert(singular(cur));
      cur.clear();
    }
  };
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c >= 0x80) {
      cur.push_back(static_cast<char>(std::tolower(c)));
    } else {
      flush();
    }
  }
  flush();
  return out;
}

// "red-bicycle_2.jpg" -> "red bicycle 2"
std::string caption_from_name(const fs::path& file) {
  std::string s = file.stem().string();
  for (char& c : s) {
    if (c == '-' || c == '_' || c == '.') c = ' ';
  }
  return s;
}

bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  static const std::set<std::string> kImageExt = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp"};
  return kImageExt.count(ext) > 0;
}

struct Asset {
  fs::path path;
  std::string caption;
  std::set<std::string> caption_words, tag_words;
  double caption_weight = kNameCaptionWeight;
};

class LocalLibrary final : public AssetSearch {
 public:
  explicit LocalLibrary(std::vector<Asset> assets) : assets_(std::move(assets)) {}

  std::vector<AssetMatch> search(std::string_view description, int limit) const override {
    const std::set<std::string> query = words(description);
    if (query.empty() || limit <= 0) return {};
    struct Scored {
      const Asset* asset;
      double score, precision;
    };
    std::vector<Scored> scored;
    for (const Asset& a : assets_) {
      double sum = 0;
      for (const std::string& w : query) {
        if (a.tag_words.count(w)) {
          sum += kTagWeight;
        } else if (a.caption_words.count(w)) {
          sum += a.caption_weight;
        }
      }
      if (sum <= 0) continue;
      std::set<std::string> terms = a.caption_words;
      terms.insert(a.tag_words.begin(), a.tag_words.end());
      std::size_t matched = 0;
      for (const std::string& t : terms) matched += query.count(t);
      const double precision = terms.empty() ? 0 : double(matched) / double(terms.size());
      scored.push_back({&a, std::min(1.0, sum / double(query.size())), precision});
    }
    std::sort(scored.begin(), scored.end(), [](const Scored& x, const Scored& y) {
      if (x.score != y.score) return x.score > y.score;
      if (x.precision != y.precision) return x.precision > y.precision;
      return x.asset->path < y.asset->path;
    });
    std::vector<AssetMatch> out;
    for (const Scored& s : scored) {
      if (static_cast<int>(out.size()) >= limit) break;
      out.push_back({s.asset->path, s.asset->caption, s.score});
    }
    return out;
  }

 private:
  std::vector<Asset> assets_;
};

Result<std::vector<Asset>> read_index(const fs::path& dir, const fs::path& index) {
  const std::string where = index.string();
  ATELIER_ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes, read_file(index, kMaxIndexBytes));
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(bytes.begin(), bytes.end());
  } catch (const nlohmann::json::parse_error& e) {
    return invalid_argument(where + ": not valid JSON (at byte " + std::to_string(e.byte) + ")");
  }
  if (!doc.is_array()) {
    return invalid_argument(where + ": expected an array of {\"file\", \"caption\", \"tags\"} objects, got " +
                            std::string(doc.type_name()));
  }
  std::vector<Asset> assets;
  int n = 0;
  for (const nlohmann::json& e : doc) {
    ++n;
    const std::string entry = where + ": entry " + std::to_string(n);
    if (!e.is_object()) return invalid_argument(entry + ": expected an object, got " + std::string(e.type_name()));
    auto file = e.find("file");
    if (file == e.end()) return invalid_argument(entry + ": missing 'file'");
    if (!file->is_string() || file->get_ref<const std::string&>().empty()) {
      return invalid_argument(entry + ": 'file' must be a non-empty string");
    }
    const fs::path rel = fs::path(file->get<std::string>());
    Asset a;
    a.path = (rel.is_absolute() ? rel : dir / rel).lexically_normal();
    std::error_code ec;
    if (!fs::is_regular_file(a.path, ec)) return not_found(entry + ": file not found: " + rel.string());
    auto caption = e.find("caption");
    if (caption != e.end() && !caption->is_string()) return invalid_argument(entry + ": 'caption' must be a string");
    a.caption = caption != e.end() ? caption->get<std::string>() : caption_from_name(rel);
    a.caption_words = words(a.caption);
    auto tags = e.find("tags");
    if (tags != e.end()) {
      if (!tags->is_array()) return invalid_argument(entry + ": 'tags' must be an array of strings");
      for (const nlohmann::json& t : *tags) {
        if (!t.is_string()) return invalid_argument(entry + ": 'tags' must be an array of strings");
        std::set<std::string> w = words(t.get<std::string>());
        a.tag_words.insert(w.begin(), w.end());
      }
    }
    a.caption_weight = kIndexCaptionWeight;
    assets.push_back(std::move(a));
  }
  return assets;
}

}  // namespace

Result<std::unique_ptr<AssetSearch>> open_asset_library(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return not_found(dir.string() + ": no such folder");
  if (!fs::is_directory(dir, ec)) return invalid_argument(dir.string() + ": not a folder");
  fs::path root = fs::absolute(dir, ec);
  if (ec) root = dir;
  root = root.lexically_normal();
  if (!root.has_filename() && root.has_parent_path()) root = root.parent_path();  // drop a trailing '/'
  const fs::path index = root / "assets.json";
  std::vector<Asset> assets;
  if (fs::exists(index, ec)) {
    ATELIER_ASSIGN_OR_RETURN(assets, read_index(root, index));
  } else {
    fs::directory_iterator it(root, ec);
    if (ec) return permission_denied(dir.string() + ": cannot list the folder: " + ec.message());
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) return permission_denied(dir.string() + ": cannot list the folder: " + ec.message());
      std::error_code fec;
      if (!it->is_regular_file(fec) || !is_image_file(it->path())) continue;
      Asset a;
      a.path = it->path();
      a.caption = caption_from_name(a.path.filename());
      a.caption_words = words(a.caption);
      a.caption_weight = kNameCaptionWeight;
      assets.push_back(std::move(a));
    }
    std::sort(assets.begin(), assets.end(), [](const Asset& x, const Asset& y) { return x.path < y.path; });
  }
  return std::unique_ptr<AssetSearch>(std::make_unique<LocalLibrary>(std::move(assets)));
}

}  // namespace atelier::genai
