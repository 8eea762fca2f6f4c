// The positioned JSON reader: values, escapes, positions of values and keys, and every
// syntax error with its exact message.
#include "design/json_doc.h"

#include <string>

#include <gtest/gtest.h>

namespace atelier::design::json {
namespace {

Value ok(std::string_view text) {
  auto v = parse(text);
  EXPECT_TRUE(v.ok()) << text << ": " << v.status().message();
  return v.ok() ? *v : Value{};
}

std::string err(std::string_view text, const ParseOptions& options = {}) {
  auto v = parse(text, options);
  if (v.ok()) return "(parsed)";
  EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument) << text;
  return v.status().message();
}

TEST(JsonDoc, Scalars) {
  EXPECT_TRUE(ok("null").is_null());
  EXPECT_TRUE(ok("true").boolean);
  EXPECT_FALSE(ok(" false ").boolean);
  EXPECT_EQ(ok("false").kind, Kind::kBool);
  EXPECT_EQ(ok("\"hi\"").text, "hi");
  EXPECT_EQ(ok("\"\"").text, "");
}

TEST(JsonDoc, Numbers) {
  const Value zero = ok("0");
  EXPECT_EQ(zero.number, 0);
  EXPECT_TRUE(zero.integer);
  EXPECT_EQ(ok("-12").number, -12);
  EXPECT_TRUE(ok("-12").integer);
  EXPECT_EQ(ok("-12").text, "-12");
  EXPECT_EQ(ok("3.25").number, 3.25);
  EXPECT_FALSE(ok("3.25").integer);
  EXPECT_EQ(ok("1e3").number, 1000);
  EXPECT_FALSE(ok("1e3").integer);
  EXPECT_EQ(ok("1E+2").number, 100);
  EXPECT_EQ(ok("25e-2").number, 0.25);
  EXPECT_EQ(ok("-0.0").number, 0);
  EXPECT_EQ(ok("0.1").number, 0.1);
  EXPECT_EQ(ok("1.7976931348623157e308").number, 1.7976931348623157e308);
  EXPECT_EQ(ok("123456789012345678901234567890").number, 1.2345678901234568e29);
  EXPECT_EQ(ok("9007199254740993").text, "9007199254740993");  // kept as written
}

TEST(JsonDoc, ArraysAndObjectsKeepOrder) {
  const Value v = ok(R"({"b": [1, "two", [], {}], "a": {"x": null}, "b": true})");
  ASSERT_TRUE(v.is_object());
  ASSERT_EQ(v.members.size(), 3u);
  EXPECT_EQ(v.members[0].key, "b");
  EXPECT_EQ(v.members[1].key, "a");
  EXPECT_EQ(v.members[2].key, "b");  // duplicates kept; the caller decides
  EXPECT_EQ(v.find("b"), &v.members[0]);
  EXPECT_EQ(v.find("zzz"), nullptr);
  const Value& arr = v.members[0].value;
  ASSERT_EQ(arr.items.size(), 4u);
  EXPECT_EQ(arr.items[1].text, "two");
  EXPECT_TRUE(arr.items[2].is_array());
  EXPECT_TRUE(arr.items[2].items.empty());
  EXPECT_TRUE(arr.items[3].is_object());
  EXPECT_TRUE(v.members[1].value.find("x")->value.is_null());
  EXPECT_TRUE(ok("[]").items.empty());
  EXPECT_TRUE(ok(" { } ").members.empty());
}

TEST(JsonDoc, Escapes) {
  EXPECT_EQ(ok(R"("a\"b\\c\/d\be\ff\ng\rh\ti")").text, "a\"b\\c/d\be\ff\ng\rh\ti");
  EXPECT_EQ(ok(R"("\u0041\u00e9\u20AC")").text, "A\xC3\xA9\xE2\x82\xAC");  // A é €
  EXPECT_EQ(ok(R"("\u0000")").text, std::string(1, '\0'));
  EXPECT_EQ(ok(R"("\ud83d\ude00")").text, "\xF0\x9F\x98\x80");  // 😀 from a surrogate pair
  EXPECT_EQ(ok(R"("\uDBFF\uDFFF")").text, "\xF4\x8F\xBF\xBF");    // U+10FFFF
  EXPECT_EQ(ok("\"h\xC3\xA9llo \xF0\x9F\x98\x80\"").text, "h\xC3\xA9llo \xF0\x9F\x98\x80");  // raw UTF-8
  EXPECT_EQ(ok("\"\x7F\"").text, "\x7F");
}

TEST(JsonDoc, PositionsOfValuesAndKeys) {
  const std::string text = "{\n  \"a\": 1,\n  \"bb\" :  [true,\n\t\"x\"],\n  \"c\": {\"d\": null}\n}";
  const Value v = ok(text);
  EXPECT_EQ(v.pos, (Position{1, 1}));
  EXPECT_EQ(v.members[0].key_pos, (Position{2, 3}));
  EXPECT_EQ(v.members[0].value.pos, (Position{2, 8}));
  EXPECT_EQ(v.members[1].key_pos, (Position{3, 3}));
  EXPECT_EQ(v.members[1].value.pos, (Position{3, 11}));
  EXPECT_EQ(v.members[1].value.items[0].pos, (Position{3, 12}));
  EXPECT_EQ(v.members[1].value.items[1].pos, (Position{4, 2}));  // a tab is one column
  EXPECT_EQ(v.members[2].value.pos, (Position{5, 8}));
  EXPECT_EQ(v.members[2].value.members[0].key_pos, (Position{5, 9}));
  EXPECT_EQ(v.members[2].value.members[0].value.pos, (Position{5, 14}));
  EXPECT_EQ(to_string(Position{12, 5}), "12:5");
}

TEST(JsonDoc, ColumnsCountCodePointsAndSkipTheByteOrderMark) {
  // "é" is 2 bytes, "😀" 4 bytes: each one column.
  const Value v = ok("[\"\xC3\xA9\xF0\x9F\x98\x80\", 5]");
  EXPECT_EQ(v.items[1].pos, (Position{1, 8}));
  const Value bom = ok("\xEF\xBB\xBF{\"k\": 1}");
  EXPECT_EQ(bom.pos, (Position{1, 1}));
  EXPECT_EQ(bom.members[0].value.pos, (Position{1, 7}));
  EXPECT_EQ(ok("\r\n[\r\n 1]").items[0].pos, (Position{3, 2}));  // '\r' is a column like any other
}

TEST(JsonDoc, LongSingleLineDocumentsParseQuickly) {
  std::string text = "[";
  for (int i = 0; i < 200000; ++i) text += i == 0 ? "1" : ",1";
  text += "]";
  const Value v = ok(text);
  ASSERT_EQ(v.items.size(), 200000u);
  EXPECT_EQ(v.items.back().pos, (Position{1, 400000}));
}

TEST(JsonDoc, StructureErrors) {
  EXPECT_EQ(err(""), "1:1: unexpected end of input, expected a value");
  EXPECT_EQ(err("   \n  "), "2:3: unexpected end of input, expected a value");
  EXPECT_EQ(err("{"), "1:2: unexpected end of input, expected a string key");
  EXPECT_EQ(err("{\"a\""), "1:5: unexpected end of input, expected ':'");
  EXPECT_EQ(err("{\"a\":"), "1:6: unexpected end of input, expected a value");
  EXPECT_EQ(err("{\"a\": 1"), "1:8: unexpected end of input, expected ',' or '}'");
  EXPECT_EQ(err("[1"), "1:3: unexpected end of input, expected ',' or ']'");
  EXPECT_EQ(err("{\"a\": 1\n  \"b\": 2}"), "2:3: expected ',' or '}'");
  EXPECT_EQ(err("{\"a\" 1}"), "1:6: expected ':'");
  EXPECT_EQ(err("{a: 1}"), "1:2: expected a string key");
  EXPECT_EQ(err("{,}"), "1:2: expected a string key");
  EXPECT_EQ(err("{'a': 1}"), "1:2: strings must be in double quotes");
  EXPECT_EQ(err("['a']"), "1:2: strings must be in double quotes");
  EXPECT_EQ(err("[1 2]"), "1:4: expected ',' or ']'");
  EXPECT_EQ(err("[1,]"), "1:4: trailing comma before ']'");
  EXPECT_EQ(err("{\"a\": 1,\n}"), "2:1: trailing comma before '}'");
  EXPECT_EQ(err("[,1]"), "1:2: expected a value");
  EXPECT_EQ(err("[1,,2]"), "1:4: expected a value");
  EXPECT_EQ(err("]"), "1:1: expected a value");
  EXPECT_EQ(err("@"), "1:1: expected a value");
  EXPECT_EQ(err("{} {}"), "1:4: expected end of input after the value");
  EXPECT_EQ(err("1 2"), "1:3: expected end of input after the value");
  EXPECT_EQ(err("[1] // note"), "1:5: comments are not allowed in JSON");
  EXPECT_EQ(err("[/* c */ 1]"), "1:2: comments are not allowed in JSON");
  EXPECT_EQ(err("tru"), "1:1: invalid literal, expected 'true'");
  EXPECT_EQ(err("[nul]"), "1:2: invalid literal, expected 'null'");
  EXPECT_EQ(err("falsy"), "1:1: invalid literal, expected 'false'");
  EXPECT_EQ(err("truex"), "1:5: expected end of input after the value");
  EXPECT_EQ(err("NaN"), "1:1: expected a value");
  EXPECT_EQ(err("[Infinity]"), "1:2: expected a value");
}

TEST(JsonDoc, NumberErrors) {
  EXPECT_EQ(err("-"), "1:2: unexpected end of input, expected a digit after '-'");
  EXPECT_EQ(err("[-a]"), "1:3: expected a digit after '-'");
  EXPECT_EQ(err("[01]"), "1:2: leading zeros are not allowed");
  EXPECT_EQ(err("-007"), "1:1: leading zeros are not allowed");
  EXPECT_EQ(err("[1.]"), "1:4: expected a digit after '.'");
  EXPECT_EQ(err("[.5]"), "1:2: expected a value");
  EXPECT_EQ(err("[1e]"), "1:4: expected a digit in the exponent");
  EXPECT_EQ(err("[1e+]"), "1:5: expected a digit in the exponent");
  EXPECT_EQ(err("[+1]"), "1:2: expected a value");
  EXPECT_EQ(err("[1e400]"), "1:2: number out of range: 1e400");
  EXPECT_EQ(err("[-1e400]"), "1:2: number out of range: -1e400");
  EXPECT_EQ(err("[0x10]"), "1:3: expected ',' or ']'");
}

TEST(JsonDoc, StringErrors) {
  EXPECT_EQ(err("[\"abc"), "1:2: unterminated string");
  EXPECT_EQ(err("[\"abc\\"), "1:2: unterminated string");
  EXPECT_EQ(err("{\"a\": \"line\nbreak\"}"), "1:12: unescaped line break in string (missing '\"'?)");
  EXPECT_EQ(err("\"tab\there\""), "1:5: unescaped control character in string");
  EXPECT_EQ(err(R"("bad \q escape")"), "1:6: invalid escape '\\q'");
  EXPECT_EQ(err("\"bad \\\x01\""), "1:6: invalid escape");
  EXPECT_EQ(err(R"("\u12G4")"), "1:2: invalid \\u escape (expected 4 hex digits)");
  EXPECT_EQ(err(R"("\u12")"), "1:2: invalid \\u escape (expected 4 hex digits)");
  EXPECT_EQ(err(R"("x\uD83D")"), "1:3: unpaired surrogate \\uD83D");
  EXPECT_EQ(err(R"("x\uD83Dy")"), "1:3: unpaired surrogate \\uD83D");
  EXPECT_EQ(err(R"("x\uD83D\u0041")"), "1:3: unpaired surrogate \\uD83D");
  EXPECT_EQ(err(R"("x\ude00")"), "1:3: unpaired surrogate \\ude00");
  EXPECT_EQ(err("\"ab\xC3\""), "1:4: invalid UTF-8 in string");                 // truncated sequence
  EXPECT_EQ(err("\"\xC0\xAF\""), "1:2: invalid UTF-8 in string");              // overlong '/'
  EXPECT_EQ(err("\"\xED\xA0\x80\""), "1:2: invalid UTF-8 in string");          // an encoded surrogate
  EXPECT_EQ(err("\"\xF4\x90\x80\x80\""), "1:2: invalid UTF-8 in string");      // past U+10FFFF
  EXPECT_EQ(err("\"\xFF\""), "1:2: invalid UTF-8 in string");
  EXPECT_EQ(err("{\"k\xE9y\": 1}"), "1:4: invalid UTF-8 in string");          // Latin-1 in a key
}

TEST(JsonDoc, Limits) {
  std::string deep(64, '[');
  deep += std::string(64, ']');
  EXPECT_TRUE(parse(deep).ok());
  std::string deeper = "\n" + std::string(65, '[') + std::string(65, ']');
  EXPECT_EQ(err(deeper), "2:65: nesting deeper than 64 levels");
  EXPECT_EQ(err("{\"a\": {\"b\": [1]}}", ParseOptions{.max_depth = 2}), "1:13: nesting deeper than 2 levels");
  // Very deep input fails cleanly (no stack overflow).
  EXPECT_EQ(err(std::string(100000, '[')), "1:65: nesting deeper than 64 levels");

  auto big = parse("[1, 2, 3]", ParseOptions{.max_bytes = 8});
  EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(big.status().message(), "document too large: 9 bytes (limit 8)");
  EXPECT_TRUE(parse("[1, 2, 3]", ParseOptions{.max_bytes = 9}).ok());
}

TEST(JsonDoc, AppendStringEscapesWhatJsonNeeds) {
  std::string out;
  append_string(out, "a\"b\\c\nd\te\rf\bg\fh\x01i\x1Fj/é😀");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\nd\\te\\rf\\bg\\fh\\u0001i\\u001fj/é😀\"");
  // And the reader decodes it back.
  EXPECT_EQ(ok(out).text, "a\"b\\c\nd\te\rf\bg\fh\x01i\x1Fj/é😀");
  std::string nul;
  append_string(nul, std::string_view("\0", 1));
  EXPECT_EQ(nul, "\"\\u0000\"");
}

TEST(JsonDoc, KindNames) {
  EXPECT_EQ(kind_name(Kind::kNull), "null");
  EXPECT_EQ(kind_name(Kind::kBool), "a boolean");
  EXPECT_EQ(kind_name(Kind::kNumber), "a number");
  EXPECT_EQ(kind_name(Kind::kString), "a string");
  EXPECT_EQ(kind_name(Kind::kArray), "an array");
  EXPECT_EQ(kind_name(Kind::kObject), "an object");
}

}  // namespace
}  // namespace atelier::design::json
