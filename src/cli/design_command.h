// `atelier render design.json -o out.png|pdf|svg` and `atelier design info|set`: the shell
// over the design layer (scene_json.h, engine.h, renderer.h).
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace atelier::cli {

std::function<int()> add_render_command(CLI::App& app);
std::function<int()> add_design_command(CLI::App& app);

}  // namespace atelier::cli
