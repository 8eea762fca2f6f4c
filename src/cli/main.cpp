// atelier: the command-line shell. Parse, dispatch, map errors to exit codes
// (0 ok, 1 failed, 2 usage); the commands themselves live beside this file.
#include <csignal>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <opencv2/core/utils/logger.hpp>

#include "cli/common.h"
#include "cli/crop_command.h"
#include "cli/cutout_command.h"
#include "cli/design_command.h"
#include "cli/edit_command.h"
#include "cli/eval_command.h"
#include "cli/models_command.h"
#include "cli/serve_command.h"
#include "core/files.h"
#include "core/huge_page_new.h"
#include "image/codec.h"
#include "image/huge_page_mats.h"

int main(int argc, char** argv) {
  using namespace atelier::cli;
  atelier::image::use_huge_pages_for_large_buffers();
  atelier::keep_freed_blocks_for_reuse();
  atelier::install_cleanup_signal_handlers();
  // A reader that goes away (`atelier ... --json | head`) is an EPIPE on write, handled
  // where output is written (cli/batch.h), never a death by signal with files half done.
  std::signal(SIGPIPE, SIG_IGN);
  atelier::image::set_decoder_messages(false);
  cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);

  CLI::App app{"atelier: AI-assisted photo and design editing"};
  app.set_version_flag("--version", std::string("atelier ") + ATELIER_VERSION);
  app.require_subcommand(1);
  auto models = add_models_command(app);
  auto cutout = add_cutout_command(app);
  auto crop = add_crop_command(app);
  auto saliency = add_saliency_command(app);
  auto eval = add_eval_command(app);
  auto render = add_render_command(app);
  auto design = add_design_command(app);
  auto edit = add_edit_command(app);
  auto serve = add_serve_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    print_error(what + " (see atelier --help)");
    return kExitUsage;
  }
  try {
    if (app.got_subcommand("models")) return models();
    if (app.got_subcommand("cutout")) return cutout();
    if (app.got_subcommand("crop")) return crop();
    if (app.got_subcommand("saliency")) return saliency();
    if (app.got_subcommand("eval")) return eval();
    if (app.got_subcommand("render")) return render();
    if (app.got_subcommand("design")) return design();
    if (app.got_subcommand("edit")) return edit();
    if (app.got_subcommand("serve")) return serve();
  } catch (const std::exception& e) {
    print_error(std::string("internal error: ") + e.what());
    return kExitFailed;
  }
  return kExitUsage;
}
