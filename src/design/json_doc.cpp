#include "design/json_doc.h"

#include <charconv>
#include <cstdint>
#include <system_error>

namespace atelier::design::json {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Parser {
 public:
  Parser(std::string_view text, const ParseOptions& options) : s_(text), options_(options) {
    if (s_.substr(0, 3) == "\xEF\xBB\xBF") origin_ = i_ = pos_off_ = 3;
  }

  Result<Value> run() {
    Value root;
    skip_ws();
    if (!parse_value(root, 0)) return error_;
    skip_ws();
    if (i_ < s_.size()) {
      fail(i_, at_comment() ? "comments are not allowed in JSON" : "expected end of input after the value");
      return error_;
    }
    return root;
  }

 private:
  // The position of byte offset `off`. Offsets are mostly asked in increasing order, so
  // the scan resumes where the last one stopped (linear overall, also on one long line).
  Position position(std::size_t off) {
    if (off < pos_off_) {
      pos_off_ = origin_;
      line_ = 1;
      col_ = 1;
    }
    for (; pos_off_ < off && pos_off_ < s_.size(); ++pos_off_) {
      const auto c = static_cast<unsigned char>(s_[pos_off_]);
      if (c == '\n') {
        ++line_;
        col_ = 1;
      } else if ((c & 0xC0) != 0x80) {
        ++col_;
      }
    }
    return {line_, col_};
  }

  bool fail(std::size_t off, const std::string& reason) {
    error_ = invalid_argument(to_string(position(off)) + ": " + reason);
    return false;
  }

  // "expected X" at the current character, or "unexpected end of input, expected X".
  bool expected(std::string_view what) {
    if (i_ >= s_.size()) return fail(i_, "unexpected end of input, expected " + std::string(what));
    if (at_comment()) return fail(i_, "comments are not allowed in JSON");
    return fail(i_, "expected " + std::string(what));
  }

  bool at_comment() const {
    return i_ + 1 < s_.size() && s_[i_] == '/' && (s_[i_ + 1] == '/' || s_[i_ + 1] == '*');
  }

  void skip_ws() {
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++i_;
    }
  }

  bool parse_value(Value& out, int depth) {
    if (i_ >= s_.size()) return expected("a value");
    out.pos = position(i_);
    switch (s_[i_]) {
      case '{': return parse_object(out, depth + 1);
      case '[': return parse_array(out, depth + 1);
      case '"':
        out.kind = Kind::kString;
        return parse_string(out.text);
      case 't': return parse_literal(out, "true", Kind::kBool, true);
      case 'f': return parse_literal(out, "false", Kind::kBool, false);
      case 'n': return parse_literal(out, "null", Kind::kNull, false);
      case '\'': return fail(i_, "strings must be in double quotes");
      default:
        if (s_[i_] == '-' || is_digit(s_[i_])) return parse_number(out);
        return expected("a value");
    }
  }

  bool parse_literal(Value& out, std::string_view word, Kind kind, bool value) {
    if (s_.substr(i_, word.size()) != word) return fail(i_, "invalid literal, expected '" + std::string(word) + "'");
    i_ += word.size();
    out.kind = kind;
    out.boolean = value;
    return true;
  }

  bool enter(int depth) {
    if (depth > options_.max_depth) {
      return fail(i_, "nesting deeper than " + std::to_string(options_.max_depth) + " levels");
    }
    return true;
  }

  bool parse_object(Value& out, int depth) {
    out.kind = Kind::kObject;
    if (!enter(depth)) return false;
    ++i_;  // '{'
    skip_ws();
    if (i_ < s_.size() && s_[i_] == '}') {
      ++i_;
      return true;
    }
    while (true) {
      if (i_ >= s_.size() || s_[i_] != '"') {
        if (!out.members.empty() && i_ < s_.size() && s_[i_] == '}') return fail(i_, "trailing comma before '}'");
        if (i_ < s_.size() && s_[i_] == '\'') return fail(i_, "strings must be in double quotes");
        return expected("a string key");
      }
      Member& m = out.members.emplace_back();
      m.key_pos = position(i_);
      if (!parse_string(m.key)) return false;
      skip_ws();
      if (i_ >= s_.size() || s_[i_] != ':') return expected("':'");
      ++i_;
      skip_ws();
      if (!parse_value(m.value, depth)) return false;
      skip_ws();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        skip_ws();
        continue;
      }
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        return true;
      }
      return expected("',' or '}'");
    }
  }

  bool parse_array(Value& out, int depth) {
    out.kind = Kind::kArray;
    if (!enter(depth)) return false;
    ++i_;  // '['
    skip_ws();
    if (i_ < s_.size() && s_[i_] == ']') {
      ++i_;
      return true;
    }
    while (true) {
      if (!out.items.empty() && i_ < s_.size() && s_[i_] == ']') return fail(i_, "trailing comma before ']'");
      if (!parse_value(out.items.emplace_back(), depth)) return false;
      skip_ws();
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        skip_ws();
        continue;
      }
      if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
        return true;
      }
      return expected("',' or ']'");
    }
  }

  // Four hex digits at s_[at..at+4), or -1.
  long hex4(std::size_t at) const {
    if (at + 4 > s_.size()) return -1;
    long v = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const int d = hex_digit(s_[at + k]);
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    return v;
  }

  bool parse_string(std::string& out) {
    const std::size_t start = i_;
    ++i_;  // '"'
    while (true) {
      if (i_ >= s_.size()) return fail(start, "unterminated string");
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c == '\\') {
        if (!parse_escape(out, start)) return false;
        continue;
      }
      if (c == '\n' || c == '\r') return fail(i_, "unescaped line break in string (missing '\"'?)");
      if (c < 0x20) return fail(i_, "unescaped control character in string");
      if (c < 0x80) {
        out += static_cast<char>(c);
        ++i_;
        continue;
      }
      const std::size_t n = utf8_sequence_length(i_);
      if (n == 0) return fail(i_, "invalid UTF-8 in string");
      out.append(s_.substr(i_, n));
      i_ += n;
    }
  }

  bool parse_escape(std::string& out, std::size_t string_start) {
    const std::size_t at = i_;
    if (at + 1 >= s_.size()) return fail(string_start, "unterminated string");
    const char e = s_[at + 1];
    i_ += 2;
    switch (e) {
      case '"': out += '"'; return true;
      case '\\': out += '\\'; return true;
      case '/': out += '/'; return true;
      case 'b': out += '\b'; return true;
      case 'f': out += '\f'; return true;
      case 'n': out += '\n'; return true;
      case 'r': out += '\r'; return true;
      case 't': out += '\t'; return true;
      case 'u': break;
      default:
        if (e > 0x20 && e < 0x7F) return fail(at, std::string("invalid escape '\\") + e + "'");
        return fail(at, "invalid escape");
    }
    const long u = hex4(at + 2);
    if (u < 0) return fail(at, "invalid \\u escape (expected 4 hex digits)");
    i_ = at + 6;
    const std::string written(s_.substr(at, 6));
    if (u >= 0xDC00 && u <= 0xDFFF) return fail(at, "unpaired surrogate " + written);
    if (u >= 0xD800 && u <= 0xDBFF) {
      const long low = (i_ + 1 < s_.size() && s_[i_] == '\\' && s_[i_ + 1] == 'u') ? hex4(i_ + 2) : -1;
      if (low < 0xDC00 || low > 0xDFFF) return fail(at, "unpaired surrogate " + written);
      i_ += 6;
      append_utf8(out, 0x10000 + ((static_cast<std::uint32_t>(u) - 0xD800) << 10) +
                           (static_cast<std::uint32_t>(low) - 0xDC00));
      return true;
    }
    append_utf8(out, static_cast<std::uint32_t>(u));
    return true;
  }

  // The length of a well-formed UTF-8 sequence (no overlongs, surrogates or code points
  // past U+10FFFF) starting at `at`, or 0.
  std::size_t utf8_sequence_length(std::size_t at) const {
    const auto c = static_cast<unsigned char>(s_[at]);
    std::size_t n = 0;
    unsigned lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c == 0xE0) n = 3, lo = 0xA0;
    else if (c == 0xED) n = 3, hi = 0x9F;
    else if (c >= 0xE1 && c <= 0xEF) n = 3;
    else if (c == 0xF0) n = 4, lo = 0x90;
    else if (c == 0xF4) n = 4, hi = 0x8F;
    else if (c >= 0xF1 && c <= 0xF3) n = 4;
    else return 0;
    if (at + n > s_.size()) return 0;
    for (std::size_t k = 1; k < n; ++k) {
      const auto d = static_cast<unsigned char>(s_[at + k]);
      if (k == 1 ? (d < lo || d > hi) : (d & 0xC0) != 0x80) return 0;
    }
    return n;
  }

  bool digits(std::string_view what) {
    if (i_ >= s_.size() || !is_digit(s_[i_])) return expected(what);
    while (i_ < s_.size() && is_digit(s_[i_])) ++i_;
    return true;
  }

  bool parse_number(Value& out) {
    const std::size_t start = i_;
    bool integer = true;
    if (s_[i_] == '-') ++i_;
    if (i_ < s_.size() && s_[i_] == '0') {
      ++i_;
      if (i_ < s_.size() && is_digit(s_[i_])) return fail(start, "leading zeros are not allowed");
    } else if (!digits("a digit after '-'")) {
      return false;
    }
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      integer = false;
      if (!digits("a digit after '.'")) return false;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      integer = false;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (!digits("a digit in the exponent")) return false;
    }
    out.kind = Kind::kNumber;
    out.text = std::string(s_.substr(start, i_ - start));
    out.integer = integer;
    const char* first = s_.data() + start;
    const char* last = s_.data() + i_;
    auto [p, ec] = std::from_chars(first, last, out.number);
    if (ec != std::errc() || p != last) return fail(start, "number out of range: " + out.text);
    return true;
  }

  std::string_view s_;
  ParseOptions options_;
  std::size_t i_ = 0;
  Status error_;
  std::size_t origin_ = 0;
  std::size_t pos_off_ = 0;
  int line_ = 1, col_ = 1;
};

}  // namespace

std::string to_string(Position p) { return std::to_string(p.line) + ":" + std::to_string(p.column); }

std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::kNull: return "null";
    case Kind::kBool: return "a boolean";
    case Kind::kNumber: return "a number";
    case Kind::kString: return "a string";
    case Kind::kArray: return "an array";
    case Kind::kObject: return "an object";
  }
  return "?";
}

const Member* Value::find(std::string_view key) const {
  for (const Member& m : members) {
    if (m.key == key) return &m;
  }
  return nullptr;
}

Result<Value> parse(std::string_view text, const ParseOptions& options) {
  if (text.size() > options.max_bytes) {
    return resource_exhausted("document too large: " + std::to_string(text.size()) + " bytes (limit " +
                              std::to_string(options.max_bytes) + ")");
  }
  return Parser(text, options).run();
}

void append_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

}  // namespace atelier::design::json
