#include "ops/option_spec.h"

#include <algorithm>

#include "core/parse.h"

namespace atelier::ops {
namespace {

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// The value as its option's type reads it, or the error without the option's name.
Status check_value(const OptionSpec& o, const std::string& value) {
  switch (o.type) {
    case ValueType::kFlag:
      if (value.empty() || value == "true" || value == "false" || value == "1" || value == "0") return {};
      return invalid_argument("expected true or false, got '" + value + "'");
    case ValueType::kInteger:
      return parse_integer(value, std::int64_t(o.min), std::int64_t(o.max)).status();
    case ValueType::kNumber:
      return parse_number(value, o.min, o.max).status();
    case ValueType::kChoice:
      if (std::find(o.choices.begin(), o.choices.end(), value) != o.choices.end()) return {};
      return invalid_argument("expected one of " + joined(o.choices) + ", got '" + value + "'");
    case ValueType::kText:
      return {};
  }
  return {};
}

}  // namespace

Status check_option_value(const OptionSpec& o, const std::string& value) { return check_value(o, value); }

namespace {

const char* json_type(ValueType t) {
  switch (t) {
    case ValueType::kFlag: return "boolean";
    case ValueType::kInteger: return "integer";
    case ValueType::kNumber: return "number";
    case ValueType::kText:
    case ValueType::kChoice: return "string";
  }
  return "string";
}

}  // namespace

OptionSpec flag(std::string name, std::string help) {
  OptionSpec o;
  o.name = std::move(name), o.type = ValueType::kFlag, o.help = std::move(help);
  return o;
}

OptionSpec integer(std::string name, std::string help, std::int64_t min, std::int64_t max,
                   std::optional<std::int64_t> default_value) {
  OptionSpec o;
  o.name = std::move(name), o.type = ValueType::kInteger, o.help = std::move(help);
  o.min = double(min), o.max = double(max);
  if (default_value) o.default_value = std::to_string(*default_value);
  return o;
}

OptionSpec number(std::string name, std::string help, double min, double max, std::optional<double> default_value) {
  OptionSpec o;
  o.name = std::move(name), o.type = ValueType::kNumber, o.help = std::move(help);
  o.min = min, o.max = max;
  if (default_value) o.default_value = format_number(*default_value);
  return o;
}

OptionSpec choice(std::string name, std::string help, std::vector<std::string> choices, std::string default_value) {
  OptionSpec o;
  o.name = std::move(name), o.type = ValueType::kChoice, o.help = std::move(help);
  o.choices = std::move(choices), o.default_value = std::move(default_value);
  return o;
}

OptionSpec text(std::string name, std::string help, std::string default_value) {
  OptionSpec o;
  o.name = std::move(name), o.type = ValueType::kText, o.help = std::move(help);
  o.default_value = std::move(default_value);
  return o;
}

OptionSpec repeated(OptionSpec option) {
  option.repeated = true;
  return option;
}

Status check_declaration(const OperationSpec& spec) {
  if (spec.name.empty() || spec.summary.empty()) return invalid_argument("an operation needs a name and a summary");
  for (std::size_t i = 0; i < spec.options.size(); ++i) {
    const OptionSpec& o = spec.options[i];
    const std::string where = spec.name + " option '" + o.name + "'";
    if (o.name.empty() || o.help.empty()) return invalid_argument(spec.name + ": an option needs a name and help");
    for (std::size_t j = 0; j < i; ++j)
      if (spec.options[j].name == o.name) return invalid_argument(where + ": declared twice");
    if ((o.type == ValueType::kInteger || o.type == ValueType::kNumber) && !(o.min <= o.max)) {
      return invalid_argument(where + ": min is above max");
    }
    if (o.type == ValueType::kChoice && o.choices.empty()) return invalid_argument(where + ": no choices");
    if (!o.default_value.empty()) {
      if (Status s = check_value(o, o.default_value); !s.ok()) return invalid_argument(where + " default: " + s.message());
    }
  }
  return {};
}

const OptionSpec* OperationSpec::find(std::string_view option) const {
  for (const OptionSpec& o : options)
    if (o.name == option) return &o;
  return nullptr;
}

bool OptionValues::has(std::string_view option) const { return values_.find(option) != values_.end(); }

const std::vector<std::string>& OptionValues::all(std::string_view option) const {
  static const std::vector<std::string> none;
  auto it = values_.find(option);
  return it == values_.end() ? none : it->second;
}

std::string OptionValues::text(std::string_view option) const {
  const auto& v = all(option);
  return v.empty() ? std::string() : v.front();
}

bool OptionValues::flag(std::string_view option) const {
  const std::string v = text(option);
  return has(option) && v != "false" && v != "0";
}

std::int64_t OptionValues::integer(std::string_view option) const {
  auto r = parse_integer(text(option), INT64_MIN, INT64_MAX);
  return r.ok() ? *r : 0;
}

double OptionValues::number(std::string_view option) const {
  auto r = parse_number(text(option), -1e308, 1e308);
  return r.ok() ? *r : 0;
}

Result<OptionValues> check_options(const OperationSpec& spec,
                                   const std::vector<std::pair<std::string, std::string>>& pairs) {
  OptionValues out;
  for (const auto& [name, value] : pairs) {
    const OptionSpec* o = spec.find(name);
    if (!o) {
      std::vector<std::string> names;
      for (const OptionSpec& s : spec.options) names.push_back(s.name);
      std::sort(names.begin(), names.end());
      return invalid_argument("unknown option '" + name + "' (" + spec.name + " takes: " + joined(names) + ")");
    }
    if (!o->repeated && out.has(name)) return invalid_argument(name + ": given more than once");
    if (Status s = check_value(*o, value); !s.ok()) return invalid_argument(name + ": " + s.message());
    out.add(name, o->type == ValueType::kFlag && value.empty() ? "true" : value);
  }
  for (const OptionSpec& o : spec.options) {
    if (!out.has(o.name) && !o.default_value.empty()) out.add(o.name, o.default_value);
  }
  return out;
}

nlohmann::json openapi_parameters(const OperationSpec& spec) {
  nlohmann::json params = nlohmann::json::array();
  for (const OptionSpec& o : spec.options) {
    nlohmann::json schema = {{"type", json_type(o.type)}};
    if (o.type == ValueType::kInteger) {
      schema["minimum"] = std::int64_t(o.min);
      schema["maximum"] = std::int64_t(o.max);
    } else if (o.type == ValueType::kNumber) {
      schema["minimum"] = o.min;
      schema["maximum"] = o.max;
    } else if (o.type == ValueType::kChoice) {
      schema["enum"] = o.choices;
    }
    if (!o.default_value.empty()) {  // in its type (check_declaration: it reads as one)
      const auto i = parse_integer(o.default_value, INT64_MIN, INT64_MAX);
      const auto n = parse_number(o.default_value, -1e308, 1e308);
      if (o.type == ValueType::kFlag) schema["default"] = o.default_value == "true" || o.default_value == "1";
      else if (o.type == ValueType::kInteger && i.ok()) schema["default"] = *i;
      else if (o.type == ValueType::kNumber && n.ok()) schema["default"] = *n;
      else schema["default"] = o.default_value;
    }
    if (o.repeated) schema = {{"type", "array"}, {"items", schema}};
    params.push_back({{"name", o.name}, {"in", "query"}, {"description", o.help}, {"required", false}, {"schema", schema}});
  }
  return params;
}

}  // namespace atelier::ops
