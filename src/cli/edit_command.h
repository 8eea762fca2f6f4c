// `atelier edit design.json "request" -o out.json`: natural-language design editing, the
// shell over genai/editor.h; and `atelier eval edit CASES.jsonl` (genai/eval_edit.h).
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace atelier::cli {

std::function<int()> add_edit_command(CLI::App& app);
// Adds `edit` under an existing `eval` command.
std::function<int()> add_eval_edit_command(CLI::App& eval);

}  // namespace atelier::cli
