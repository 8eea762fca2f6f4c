#include "genai/grammar.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/text.h"
#include "design/properties.h"

namespace atelier::genai {

namespace detail {

struct Node {
  enum class Kind { kLiteral, kClass, kAny, kRef, kSeq, kAlt, kRepeat } kind = Kind::kSeq;
  std::u32string text;                                // literal
  std::vector<std::pair<char32_t, char32_t>> ranges;  // class
  bool negated = false;                               // class: [^...]
  int rule = -1;                                      // ref
  std::vector<int> items;                             // seq, alt; repeat: the one child
  int min = 0, max = -1;                              // repeat (max -1: unbounded)
};

struct Grammar {
  std::vector<Node> nodes;
  std::vector<std::string> rule_names;
  std::vector<int> rule_body;  // node index, -1 while undefined
  std::vector<std::size_t> first_use;  // offset of a rule's first reference (for errors)
  int root = -1;
};

}  // namespace detail

namespace {

using design::Block;
using design::BlockType;

// ---------------------------------------------------------------------------------------
// Generation

// A GBNF string literal: the same escapes as C's.
std::string gbnf_literal(std::string_view s) { return quoted(s); }

// The value rule of an attribute, and its definition.
std::pair<std::string, std::string> value_rule(const XmlAttribute& a) {
  static const std::string kDigits = "[0-9]+";
  if (a.name == "italic") return {"v-bool", "\"\\\"\" ( \"true\" | \"false\" ) \"\\\"\""};
  const design::PropertyInfo* info = design::find_property(a.property);
  const bool non_negative = info != nullptr && info->min < info->max && info->min >= 0;
  switch (info != nullptr ? info->type : design::PropertyType::kString) {
    case design::PropertyType::kNumber:
      if (non_negative) return {"v-unum", "\"\\\"\" [0-9]+ ( \".\" [0-9]+ )? \"\\\"\""};
      return {"v-num", "\"\\\"\" \"-\"? [0-9]+ ( \".\" [0-9]+ )? \"\\\"\""};
    case design::PropertyType::kInteger:
      if (non_negative) return {"v-uint", "\"\\\"\" [0-9]+ \"\\\"\""};
      return {"v-int", "\"\\\"\" \"-\"? [0-9]+ \"\\\"\""};
    case design::PropertyType::kBool: return {"v-bool", "\"\\\"\" ( \"true\" | \"false\" ) \"\\\"\""};
    case design::PropertyType::kString: return {"v-str", "\"\\\"\" [^\"<]* \"\\\"\""};
    case design::PropertyType::kColor:
      return {"v-color", "\"\\\"\" ( \"#\" hex hex hex hex hex hex ( hex hex )? | \"none\" ) \"\\\"\""};
    case design::PropertyType::kEnum: {
      std::string name = "v-";
      for (char c : info->name) name += c == '_' ? '-' : c;
      std::string def = "\"\\\"\" (";
      for (std::size_t i = 0; i < info->choices.size(); ++i) {
        def += i == 0 ? " " : " | ";
        def += gbnf_literal(info->choices[i]);
      }
      return {name, def + " ) \"\\\"\""};
    }
  }
  return {"v-str", "\"\\\"\" [^\"<]* \"\\\"\""};
}

class GrammarWriter {
 public:
  GrammarWriter(const design::Scene& scene, Profile profile) : scene_(scene), profile_(profile) {}

  std::string write() {
    std::string out = "# The answer to an edit of design \"" + one_line(scene_.name) + "\" (profile " +
                      std::string(to_string(profile_)) +
                      "): one <design> document with the scene's elements and ids (each may be left out), "
                      "new elements without an id last in their page or group, the profile's attributes in a fixed "
                      "order (each optional).\n";
    out += "root ::= ws design ws\n";
    use_value("v-unum", "\"\\\"\" [0-9]+ ( \".\" [0-9]+ )? \"\\\"\"");
    std::string design = "design ::= \"<design\" ( ws1 \"w=\" v-unum )? ( ws1 \"h=\" v-unum )? ws \">\"";
    for (design::BlockId id : scene_.pages) {
      if (scene_.find(id) != nullptr) design += " ( ws " + rule_name(id) + " )?";
    }
    out += design + " ws \"</design>\"\n";
    for (design::BlockId id : scene_.pages) {
      if (const Block* page = scene_.find(id)) write_block(out, *page);
    }
    if (needs_new_block_) {  // additions: elements without an id, on top of their parent's blocks
      std::string def = "new-block ::=";
      const char* sep = " ";
      for (BlockType type : {BlockType::kText, BlockType::kImage, BlockType::kShape}) {
        const std::string tag(design::to_string(type));
        def += sep + gbnf_literal("<" + tag) + " " + attrs_rule(type) + " ws \"/>\"";
        sep = " | ";
      }
      out += def + "\n";
    }
    for (const auto& [type, def] : attrs_) out += def;
    for (const auto& [name, def] : values_) out += name + " ::= " + def + "\n";
    if (values_.count("v-color") > 0) out += "hex ::= [0-9A-Fa-f]\n";
    out += "ws ::= [ \\t\\n\\r]*\n";
    out += "ws1 ::= [ \\t\\n\\r]+\n";
    return out;
  }

 private:
  static std::string one_line(std::string_view s) {
    std::string out;
    for (char c : s) out += (c == '\n' || c == '\r') ? ' ' : c;
    return out;
  }
  static std::string rule_name(design::BlockId id) { return "block-" + std::to_string(id); }

  void use_value(const std::string& name, const std::string& def) { values_.emplace(name, def); }

  // The rule of a block type's optional attribute list (built once per type).
  std::string attrs_rule(BlockType type) {
    const std::string name = "attrs-" + std::string(design::to_string(type));
    if (attrs_.count(type) > 0) return name;
    std::string def = name + " ::=";
    for (const XmlAttribute* a : attributes_for(type, profile_)) {
      if (a->property.empty()) continue;  // id: written literally by the block's rule
      auto [value, value_def] = value_rule(*a);
      use_value(value, value_def);
      def += " ( ws1 " + gbnf_literal(std::string(a->name) + "=") + " " + value + " )?";
    }
    attrs_.emplace(type, def + "\n");
    return name;
  }

  void write_block(std::string& out, const Block& block) {
    const std::string tag(design::to_string(block.type));
    std::string def = rule_name(block.id) + " ::= " + gbnf_literal("<" + tag) + " ws1 " +
                      gbnf_literal("id=\"" + std::to_string(block.id) + "\"") + " " + attrs_rule(block.type) + " ws ";
    std::vector<const Block*> children;
    for (design::BlockId id : block.children) {
      if (const Block* child = scene_.find(id)) children.push_back(child);
    }
    if (block.type == BlockType::kPage || block.type == BlockType::kGroup) {
      def += "( \"/>\" | \">\"";
      for (const Block* child : children) def += " ( ws " + rule_name(child->id) + " )?";
      def += " ( ws new-block )* ws " + gbnf_literal("</" + tag + ">") + " )";
      needs_new_block_ = true;
    } else {
      def += "\"/>\"";
    }
    out += def + "\n";
    for (const Block* child : children) write_block(out, *child);
  }

  const design::Scene& scene_;
  Profile profile_;
  std::map<BlockType, std::string> attrs_;
  std::map<std::string, std::string> values_;
  bool needs_new_block_ = false;
};

// ---------------------------------------------------------------------------------------
// Parsing GBNF

constexpr int kMaxParenDepth = 200;  // nested parentheses in the grammar

using detail::Grammar;
using detail::Node;

// One code point from UTF-8 at `s[i]` (advancing i); a bad byte is taken as U+FFFD.
char32_t decode_utf8(std::string_view s, std::size_t& i) {
  const auto c = static_cast<unsigned char>(s[i]);
  int n = 0;
  char32_t cp = 0;
  if (c < 0x80) {
    ++i;
    return c;
  }
  if (c >= 0xC2 && c <= 0xDF) n = 1, cp = c & 0x1F;
  else if (c >= 0xE0 && c <= 0xEF) n = 2, cp = c & 0x0F;
  else if (c >= 0xF0 && c <= 0xF4) n = 3, cp = c & 0x07;
  else {
    ++i;
    return 0xFFFD;
  }
  if (i + static_cast<std::size_t>(n) >= s.size()) {  // truncated sequence
    ++i;
    return 0xFFFD;
  }
  for (int k = 1; k <= n; ++k) {
    const auto d = static_cast<unsigned char>(s[i + k]);
    if ((d & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (d & 0x3F);
  }
  i += n + 1;
  return cp;
}

std::u32string decode_all(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) out += decode_utf8(s, i);
  return out;
}

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

class Parser {
 public:
  explicit Parser(std::string_view src) : src_(src) {}

  Result<Grammar> parse() {
    skip_space(true);
    while (!failed() && pos_ < src_.size()) {
      const std::size_t at = pos_;
      const std::string name = parse_name();
      if (name.empty()) {
        fail(at, "expected a rule name, got '" + std::string(1, src_[at]) + "'");
        break;
      }
      skip_space(false);
      if (src_.substr(pos_, 3) != "::=") {
        fail(pos_, "expected '::=' after rule name '" + name + "'");
        break;
      }
      pos_ += 3;
      const int body = parse_alternatives(0);
      if (failed()) break;
      const int rule = rule_index(name, at);
      if (g_.rule_body[rule] >= 0) {
        fail(at, "rule '" + name + "' defined twice");
        break;
      }
      g_.rule_body[rule] = body;
      skip_space(true);
    }
    if (failed()) return status_;
    for (std::size_t r = 0; r < g_.rule_names.size(); ++r) {
      if (g_.rule_body[r] < 0) return error_at(g_.first_use[r], "undefined rule '" + g_.rule_names[r] + "'");
    }
    auto root = names_.find("root");
    if (root == names_.end()) return invalid_argument("grammar: no rule 'root'");
    g_.root = root->second;
    return std::move(g_);
  }

 private:
  bool failed() const { return !status_.ok(); }

  Status error_at(std::size_t offset, const std::string& message) const {
    int line = 1;
    for (std::size_t i = 0; i < offset && i < src_.size(); ++i) line += src_[i] == '\n';
    return invalid_argument("grammar: line " + std::to_string(line) + ": " + message);
  }
  void fail(std::size_t offset, const std::string& message) {
    if (!failed()) status_ = error_at(offset, message);
  }

  // Spaces and comments; newlines too when `newlines`.
  void skip_space(bool newlines) {
    while (pos_ < src_.size()) {
      const char c = src_[pos_];
      if (c == ' ' || c == '\t' || (newlines && (c == '\n' || c == '\r'))) {
        ++pos_;
      } else if (c == '#' && newlines) {
        while (pos_ < src_.size() && src_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  std::string parse_name() {
    const std::size_t start = pos_;
    while (pos_ < src_.size() && is_word_char(src_[pos_])) ++pos_;
    return std::string(src_.substr(start, pos_ - start));
  }

  // Whether a new rule ("name ::=") starts here.
  bool at_rule_start() {
    const std::size_t save = pos_;
    const bool named = !parse_name().empty();
    skip_space(false);
    const bool yes = named && src_.substr(pos_, 3) == "::=";
    pos_ = save;
    return yes;
  }

  int add(Node n) {
    g_.nodes.push_back(std::move(n));
    return static_cast<int>(g_.nodes.size()) - 1;
  }

  int rule_index(const std::string& name, std::size_t offset) {
    auto [it, inserted] = names_.emplace(name, static_cast<int>(g_.rule_names.size()));
    if (inserted) {
      g_.rule_names.push_back(name);
      g_.rule_body.push_back(-1);
      g_.first_use.push_back(offset);
    }
    return it->second;
  }

  int parse_alternatives(int depth) {
    std::vector<int> alts{parse_sequence(depth)};
    while (!failed()) {
      skip_space(true);
      if (pos_ >= src_.size() || src_[pos_] != '|') break;
      ++pos_;
      alts.push_back(parse_sequence(depth));
    }
    if (alts.size() == 1) return alts[0];
    Node n;
    n.kind = Node::Kind::kAlt;
    n.items = std::move(alts);
    return add(std::move(n));
  }

  int parse_sequence(int depth) {
    Node seq;
    seq.kind = Node::Kind::kSeq;
    while (!failed()) {
      skip_space(true);
      if (pos_ >= src_.size() || src_[pos_] == '|' || src_[pos_] == ')') break;
      if (at_rule_start()) break;
      int item = parse_primary(depth);
      if (failed()) break;
      while (true) {
        skip_space(false);
        if (pos_ >= src_.size()) break;
        const char c = src_[pos_];
        if (c != '*' && c != '+' && c != '?') break;
        ++pos_;
        Node rep;
        rep.kind = Node::Kind::kRepeat;
        rep.items = {item};
        rep.min = c == '+' ? 1 : 0;
        rep.max = c == '?' ? 1 : -1;
        item = add(std::move(rep));
      }
      seq.items.push_back(item);
    }
    if (seq.items.size() == 1) return seq.items[0];
    return add(std::move(seq));
  }

  // One character of a literal or class, with escapes.
  std::optional<char32_t> parse_char() {
    if (src_[pos_] != '\\') return decode_utf8(src_, pos_);
    const std::size_t at = pos_;
    if (pos_ + 1 >= src_.size()) {
      fail(at, "unfinished escape at the end of the grammar");
      return std::nullopt;
    }
    const char e = src_[pos_ + 1];
    pos_ += 2;
    switch (e) {
      case 'n': return U'\n';
      case 't': return U'\t';
      case 'r': return U'\r';
      case '\\': return U'\\';
      case '"': return U'"';
      case '[': return U'[';
      case ']': return U']';
      case '-': return U'-';
      case '^': return U'^';
      case 'x':
      case 'u':
      case 'U': {
        const std::size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        char32_t v = 0;
        for (std::size_t k = 0; k < digits; ++k) {
          const char h = pos_ + k < src_.size() ? src_[pos_ + k] : '\0';
          int d = -1;
          if (h >= '0' && h <= '9') d = h - '0';
          else if (h >= 'a' && h <= 'f') d = h - 'a' + 10;
          else if (h >= 'A' && h <= 'F') d = h - 'A' + 10;
          if (d < 0) {
            fail(at, "bad escape '\\" + std::string(1, e) + "' (expected " + std::to_string(digits) + " hex digits)");
            return std::nullopt;
          }
          v = v * 16 + static_cast<char32_t>(d);
        }
        pos_ += digits;
        return v;
      }
      default: fail(at, "unknown escape '\\" + std::string(1, e) + "'"); return std::nullopt;
    }
  }

  int parse_primary(int depth) {
    const std::size_t at = pos_;
    const char c = src_[pos_];
    if (c == '"') {
      ++pos_;
      Node lit;
      lit.kind = Node::Kind::kLiteral;
      while (true) {
        if (pos_ >= src_.size() || src_[pos_] == '\n') {
          fail(at, "unterminated string literal");
          return -1;
        }
        if (src_[pos_] == '"') break;
        auto ch = parse_char();
        if (!ch) return -1;
        lit.text += *ch;
      }
      ++pos_;
      return add(std::move(lit));
    }
    if (c == '[') {
      ++pos_;
      Node cls;
      cls.kind = Node::Kind::kClass;
      if (pos_ < src_.size() && src_[pos_] == '^') {
        cls.negated = true;
        ++pos_;
      }
      while (true) {
        if (pos_ >= src_.size() || src_[pos_] == '\n') {
          fail(at, "unterminated character class");
          return -1;
        }
        if (src_[pos_] == ']') break;
        auto lo = parse_char();
        if (!lo) return -1;
        char32_t hi = *lo;
        if (pos_ + 1 < src_.size() && src_[pos_] == '-' && src_[pos_ + 1] != ']') {
          ++pos_;
          auto h = parse_char();
          if (!h) return -1;
          hi = *h;
          if (hi < *lo) {
            fail(at, "bad range in character class (end before start)");
            return -1;
          }
        }
        cls.ranges.emplace_back(*lo, hi);
      }
      ++pos_;
      return add(std::move(cls));
    }
    if (c == '(') {
      if (depth >= kMaxParenDepth) {
        fail(at, "parentheses nested deeper than " + std::to_string(kMaxParenDepth));
        return -1;
      }
      ++pos_;
      const int inner = parse_alternatives(depth + 1);
      if (failed()) return -1;
      skip_space(true);
      if (pos_ >= src_.size() || src_[pos_] != ')') {
        fail(at, "expected ')' to close the '(' here");
        return -1;
      }
      ++pos_;
      return inner;
    }
    if (c == '.') {
      ++pos_;
      Node any;
      any.kind = Node::Kind::kAny;
      return add(std::move(any));
    }
    if (is_word_char(c)) {
      const std::string name = parse_name();
      Node ref;
      ref.kind = Node::Kind::kRef;
      ref.rule = rule_index(name, at);
      return add(std::move(ref));
    }
    if (c == '{') {
      fail(at, "repetition counts {m,n} are not supported");
      return -1;
    }
    fail(at, "unexpected character '" + std::string(1, c) + "'");
    return -1;
  }

  std::string_view src_;
  std::size_t pos_ = 0;
  Grammar g_;
  std::map<std::string, int> names_;
  Status status_;
};

// ---------------------------------------------------------------------------------------
// Matching: for (node, position) the set of positions where a match can end, with rule
// results memoized per position (a packrat-style parser that keeps every alternative, so
// no backtracking is exponential). Results are appended to the caller's vector (no vector
// per node visit) and kept as sorted sets; sorting counts as steps, so the step limit
// bounds the whole work, not only the node visits.

class Matcher {
 public:
  Matcher(const Grammar& g, std::u32string text, const GbnfLimits& limits)
      : g_(g), text_(std::move(text)), limits_(limits) {}

  Result<bool> matches() {
    std::vector<int> ends;
    rule_ends(g_.root, 0, ends);
    if (!failure_.ok()) return failure_;
    return std::binary_search(ends.begin(), ends.end(), static_cast<int>(text_.size()));
  }

 private:
  bool charge(long long work) {
    if (!failure_.ok()) return false;
    steps_ += work;
    if (steps_ > limits_.max_steps) {
      failure_ = resource_exhausted("grammar: matching gave up after " + std::to_string(limits_.max_steps) + " steps");
      return false;
    }
    return true;
  }
  bool step() { return charge(1); }

  // Sorts `v` and drops duplicates.
  bool make_set(std::vector<int>& v) {
    if (v.size() > 1) {
      if (!charge(static_cast<long long>(v.size()))) return false;
      std::sort(v.begin(), v.end());
      v.erase(std::unique(v.begin(), v.end()), v.end());
    }
    return true;
  }

  // Appends the end positions of `rule` from `pos` (a sorted set) to `out`.
  void rule_ends(int rule, int pos, std::vector<int>& out) {
    if (!step()) return;
    const std::uint64_t key = static_cast<std::uint64_t>(rule) * (text_.size() + 1) + static_cast<std::uint64_t>(pos);
    if (auto it = memo_.find(key); it != memo_.end()) {
      if (charge(static_cast<long long>(it->second.size()))) out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
    if (!active_.insert(key).second) {
      failure_ = invalid_argument("grammar: rule '" + g_.rule_names[static_cast<std::size_t>(rule)] +
                                  "' is left-recursive (it reaches itself without consuming text)");
      return;
    }
    if (++depth_ > limits_.max_depth) {
      failure_ = resource_exhausted("grammar: rules nested deeper than " + std::to_string(limits_.max_depth) +
                                    " levels while matching");
      return;
    }
    std::vector<int> ends;
    node_ends(g_.rule_body[static_cast<std::size_t>(rule)], pos, ends);
    --depth_;
    active_.erase(key);
    if (!make_set(ends)) return;
    out.insert(out.end(), ends.begin(), ends.end());
    memo_.emplace(key, std::move(ends));
  }

  bool class_matches(const Node& n, char32_t c) const {
    bool in = false;
    for (const auto& [lo, hi] : n.ranges) {
      if (c >= lo && c <= hi) {
        in = true;
        break;
      }
    }
    return in != n.negated;
  }

  // Appends the end positions of node `index` from `pos` to `out` (duplicates possible:
  // callers make a set of what they collect).
  void node_ends(int index, int pos, std::vector<int>& out) {
    if (!step()) return;
    const Node& n = g_.nodes[static_cast<std::size_t>(index)];
    const std::size_t p = static_cast<std::size_t>(pos);
    switch (n.kind) {
      case Node::Kind::kLiteral:
        if (p + n.text.size() <= text_.size() && text_.compare(p, n.text.size(), n.text) == 0) {
          out.push_back(pos + static_cast<int>(n.text.size()));
        }
        return;
      case Node::Kind::kClass:
        if (p < text_.size() && class_matches(n, text_[p])) out.push_back(pos + 1);
        return;
      case Node::Kind::kAny:
        if (p < text_.size()) out.push_back(pos + 1);
        return;
      case Node::Kind::kRef: rule_ends(n.rule, pos, out); return;
      case Node::Kind::kSeq: {
        std::vector<int> current{pos}, next;
        for (int item : n.items) {
          next.clear();
          for (int at : current) {
            node_ends(item, at, next);
            if (!failure_.ok()) return;
          }
          if (!make_set(next) || next.empty()) return;
          current.swap(next);
        }
        out.insert(out.end(), current.begin(), current.end());
        return;
      }
      case Node::Kind::kAlt:
        for (int item : n.items) {
          node_ends(item, pos, out);
          if (!failure_.ok()) return;
        }
        return;
      case Node::Kind::kRepeat: {
        // Breadth-first over the repetition count; a position reached once is not expanded
        // again (the sets of later counts from it are the same).
        std::vector<bool> reached(text_.size() + 1, false);
        if (!charge(static_cast<long long>(text_.size() / 64 + 1))) return;
        if (n.min == 0) {
          out.push_back(pos);
          reached[p] = true;
        }
        std::vector<int> frontier{pos}, next;
        for (int count = 1; !frontier.empty() && (n.max < 0 || count <= n.max); ++count) {
          next.clear();
          for (int at : frontier) {
            node_ends(n.items[0], at, next);
            if (!failure_.ok()) return;
          }
          if (!make_set(next)) return;
          frontier.clear();
          for (int e : next) {
            if (!reached[static_cast<std::size_t>(e)]) {
              reached[static_cast<std::size_t>(e)] = true;
              out.push_back(e);
              frontier.push_back(e);
            }
          }
        }
        return;
      }
    }
  }

  const Grammar& g_;
  std::u32string text_;
  GbnfLimits limits_;
  std::unordered_map<std::uint64_t, std::vector<int>> memo_;
  std::unordered_set<std::uint64_t> active_;
  long long steps_ = 0;
  int depth_ = 0;
  Status failure_;
};

}  // namespace

std::string design_grammar(const design::Scene& scene, Profile profile) { return GrammarWriter(scene, profile).write(); }

Result<GbnfGrammar> GbnfGrammar::parse(std::string_view grammar) {
  ATELIER_ASSIGN_OR_RETURN(detail::Grammar g, Parser(grammar).parse());
  return GbnfGrammar(std::make_shared<const detail::Grammar>(std::move(g)));
}

Result<bool> gbnf_matches(const GbnfGrammar& grammar, std::string_view text, const GbnfLimits& limits) {
  return Matcher(*grammar.g_, decode_all(text), limits).matches();
}

Result<bool> gbnf_matches(std::string_view grammar, std::string_view text, const GbnfLimits& limits) {
  ATELIER_ASSIGN_OR_RETURN(GbnfGrammar g, GbnfGrammar::parse(grammar));
  return gbnf_matches(g, text, limits);
}

}  // namespace atelier::genai
