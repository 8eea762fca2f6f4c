// The CLI's flags for an operation's declared options (ops/option_spec.h): one --NAME per
// option, with the declaration's help, checked while parsing with the declaration's own
// check (so "--margin: must be at most 100000, got 200000" reads as the HTTP error does,
// with the CLI's dashes). The checked values, defaults filled in, come from values().
#pragma once

#include <set>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "ops/option_spec.h"

namespace atelier::cli {

class DeclaredOptions {
 public:
  // Adds every option of `spec` to `cmd` but those named in `skip`.
  DeclaredOptions(CLI::App& cmd, const ops::OperationSpec& spec, const std::set<std::string>& skip = {});
  DeclaredOptions(const DeclaredOptions&) = delete;
  DeclaredOptions& operator=(const DeclaredOptions&) = delete;

  // After parsing: the values given (flags as "true") plus the defaults, checked.
  Result<ops::OptionValues> values() const;

 private:
  const ops::OperationSpec& spec_;
  std::vector<std::pair<std::string, CLI::Option*>> flags_;
  std::vector<std::pair<std::string, std::string>> given_;  // filled by the option callbacks
};

}  // namespace atelier::cli
