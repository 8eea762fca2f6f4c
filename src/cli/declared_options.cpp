#include "cli/declared_options.h"

namespace atelier::cli {

DeclaredOptions::DeclaredOptions(CLI::App& cmd, const ops::OperationSpec& spec, const std::set<std::string>& skip)
    : spec_(spec) {
  for (const ops::OptionSpec& o : spec.options) {
    if (skip.count(o.name)) continue;
    const std::string flag = "--" + o.name;
    if (o.type == ops::ValueType::kFlag) {
      flags_.emplace_back(o.name, cmd.add_flag(flag, o.help));
      continue;
    }
    const ops::OptionSpec* declared = &o;
    auto check = [this, declared, flag](const std::string& text) {
      if (Status s = ops::check_option_value(*declared, text); !s.ok()) throw CLI::ValidationError(flag, s.message());
      given_.emplace_back(declared->name, text);
    };
    CLI::Option* opt = nullptr;
    if (o.repeated) {
      opt = cmd.add_option_function<std::vector<std::string>>(
          flag, [check](const std::vector<std::string>& texts) {
            for (const auto& t : texts) check(t);
          },
          o.help);
    } else {
      opt = cmd.add_option_function<std::string>(flag, check, o.help);
    }
    switch (o.type) {
      case ops::ValueType::kInteger: opt->type_name("INT"); break;
      case ops::ValueType::kNumber: opt->type_name("NUMBER"); break;
      default: opt->type_name("TEXT"); break;
    }
  }
}

Result<ops::OptionValues> DeclaredOptions::values() const {
  std::vector<std::pair<std::string, std::string>> pairs = given_;
  for (const auto& [name, opt] : flags_) {
    if (opt->count() > 0) pairs.emplace_back(name, "true");
  }
  return ops::check_options(spec_, pairs);
}

}  // namespace atelier::cli
