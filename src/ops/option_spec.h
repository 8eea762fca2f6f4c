// One declaration per operation (name, summary, typed options with defaults, ranges,
// choices and help), so that every shell parses and documents it the same way: the CLI's
// flags, an HTTP route's query parameters or form fields, and the OpenAPI document are
// all generated from it (as libvips declares each argument once). This module checks
// name=value pairs against a declaration; filling an operation's library options from the
// checked values is the operation's own code.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace atelier::ops {

enum class ValueType { kFlag, kInteger, kNumber, kText, kChoice };

struct OptionSpec {
  std::string name;  // "margin": --margin on the command line, margin= over HTTP
  ValueType type = ValueType::kText;
  std::string help;
  std::string default_value;         // as text; empty: none (flags: false)
  double min = 0, max = 0;           // kInteger, kNumber: the inclusive range
  std::vector<std::string> choices;  // kChoice
  bool repeated = false;             // may be given more than once (crop's aspect)
};

// Declarations read as a list of these (a plain aggregate initializer would have to
// spell every field): flag("mask", "Write the matte alone"), integer("margin", "...", 0,
// 100000, 0), choice("format", "...", {"png", "webp"}, "png"), text("background", "...").
OptionSpec flag(std::string name, std::string help);
OptionSpec integer(std::string name, std::string help, std::int64_t min, std::int64_t max,
                   std::optional<std::int64_t> default_value = std::nullopt);
OptionSpec number(std::string name, std::string help, double min, double max,
                  std::optional<double> default_value = std::nullopt);
OptionSpec choice(std::string name, std::string help, std::vector<std::string> choices,
                  std::string default_value = "");
OptionSpec text(std::string name, std::string help, std::string default_value = "");
// The same option, allowed more than once.
OptionSpec repeated(OptionSpec option);

struct OperationSpec {
  std::string name, summary;
  std::vector<OptionSpec> options;
  const OptionSpec* find(std::string_view option) const;  // null when not declared
};

// Whether a declaration is sound: a name and summary, unique option names with help,
// min <= max, choices for kChoice, and defaults that pass their own option's check.
// Every operation's declaration is checked by a test. Error: "cutout option 'margin'
// default: must be at least 0, got -1".
Status check_declaration(const OperationSpec& spec);

// The checked values of one request, by option name: the texts given, or the default.
class OptionValues {
 public:
  bool has(std::string_view option) const;                            // given or defaulted
  const std::vector<std::string>& all(std::string_view option) const;  // empty when absent
  std::string text(std::string_view option) const;                     // the first value, or ""
  bool flag(std::string_view option) const;                            // false when absent
  std::int64_t integer(std::string_view option) const;                 // 0 when absent
  double number(std::string_view option) const;                        // 0 when absent

  void add(const std::string& option, std::string value) { values_[option].push_back(std::move(value)); }

 private:
  std::map<std::string, std::vector<std::string>, std::less<>> values_;
};

// One value against its option's type, range and choices; the error without the name:
// "must be at most 100000, got 200000", "expected one of png, webp, jpg, got 'gif'".
Status check_option_value(const OptionSpec& option, const std::string& value);

// Checks name=value pairs (an HTTP query or form, in order) against `spec` and fills in
// the defaults. Flags take true/false/1/0, or an empty value for true. Errors
// (kInvalidArgument) are one line naming the option: "unknown option 'x' (cutout takes:
// background, format, ...)", "margin: must be at most 100000, got 200000" (core/parse.h),
// "format: expected one of png, webp, jpg, got 'gif'", "margin: given more than once",
// "mask: expected true or false, got 'yes please'".
Result<OptionValues> check_options(const OperationSpec& spec,
                                   const std::vector<std::pair<std::string, std::string>>& pairs);

// OpenAPI 3.1 parameter objects, one per option ("in": "query"), with a JSON Schema of its
// type, range, choices and default; repeated options are arrays of it.
nlohmann::json openapi_parameters(const OperationSpec& spec);

}  // namespace atelier::ops
