// A small JSON (RFC 8259) reader that records where every value and every object key
// starts, so that a format built on JSON (scene_json.h) can report semantic errors with a
// line and column ("design.json:12:5: unknown property 'colour' in block 7"), and a
// writer helper for string literals.
//
// Reading: objects keep their members in document order (duplicate keys are kept; the
// caller decides), strings are decoded to UTF-8 (escapes including \uXXXX and surrogate
// pairs; raw text must be valid UTF-8), numbers are kept as double plus the text as
// written. A UTF-8 byte-order mark at the start is skipped. Not accepted: comments,
// trailing commas, single quotes, NaN/Infinity, numbers beyond double's range, nesting
// deeper than ParseOptions::max_depth, documents larger than ParseOptions::max_bytes.
//
// Positions are 1-based; a line ends at '\n'; the column counts Unicode code points
// (not bytes) from the start of the line, as editors do; a tab counts as one column.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace atelier::design::json {

struct Position {
  int line = 1;
  int column = 1;
  friend bool operator==(const Position&, const Position&) = default;
};

// "LINE:COLUMN".
std::string to_string(Position p);

enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };

// "null", "a boolean", "a number", "a string", "an array", "an object" (for messages).
std::string_view kind_name(Kind kind);

struct Member;

struct Value {
  Kind kind = Kind::kNull;
  Position pos;                 // of the value's first character
  bool boolean = false;         // kBool
  double number = 0;            // kNumber
  bool integer = false;         // kNumber written without a fraction or an exponent ("12", "-3")
  std::string text;             // kString: the decoded string; kNumber: the number as written
  std::vector<Value> items;     // kArray
  std::vector<Member> members;  // kObject, in document order

  bool is_null() const { return kind == Kind::kNull; }
  bool is_bool() const { return kind == Kind::kBool; }
  bool is_number() const { return kind == Kind::kNumber; }
  bool is_string() const { return kind == Kind::kString; }
  bool is_array() const { return kind == Kind::kArray; }
  bool is_object() const { return kind == Kind::kObject; }
  // The first member named `key` (objects), else nullptr.
  const Member* find(std::string_view key) const;
};

struct Member {
  std::string key;
  Position key_pos;  // of the key's opening quote
  Value value;
};

struct ParseOptions {
  int max_depth = 64;                          // nested arrays/objects; the top level counts 1
  std::size_t max_bytes = std::size_t{64} << 20;  // 64 MiB
};

// Parses a whole document (one value, surrounded by optional whitespace).
// Errors: kInvalidArgument "LINE:COLUMN: reason", the first problem found, e.g.
//   "3:14: expected ',' or '}'", "1:1: unexpected end of input, expected a value",
//   "2:9: unterminated string", "4:2: trailing comma before ']'", "1:7: leading zeros are
//   not allowed", "5:1: nesting deeper than 64 levels" (docs/scene-format.md lists all);
// kResourceExhausted "document too large: N bytes (limit M)".
Result<Value> parse(std::string_view text, const ParseOptions& options = {});

// Appends `s` (UTF-8) as a JSON string literal: quotes, and escapes for '"', '\' and
// control characters (\n, \t, \r, \b, \f, else \u00XX); everything else as it is.
void append_string(std::string& out, std::string_view s);

}  // namespace atelier::design::json
