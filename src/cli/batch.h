// What every batch command shares (cutout, crop, saliency): expanding folders into image
// files, deciding whether -o names a file or a folder, unique output names, and the loop
// that runs one item at a time with a progress bar on a terminal, one error line per
// failed item (the batch goes on), per-item lines or JSON lines, a summary line, and the
// exit code (0 all done, 1 something failed).
#pragma once

#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/file_plan.h"
#include "core/status.h"

namespace atelier::cli {

struct BatchItem {
  std::filesystem::path input;
  std::string error;              // set for a folder that holds no images
  std::filesystem::path output;   // planned by the command (may stay empty)
};

// Folders become their image files (by extension; sorted; not recursive; hidden files
// skipped); everything else is kept as given, to fail later with its own reason.
std::vector<BatchItem> expand_inputs(const std::vector<std::string>& inputs);

// -o names a file only for one input that is not a folder and gives one output, when it is
// not an existing folder and does not end in '/'; otherwise it is a folder, created by
// prepare().
class OutputTarget {
 public:
  // Errors (usage): "-o X: must be a folder when there are several inputs or a folder input"
  // (or "... several outputs per input").
  static Result<OutputTarget> plan(const std::string& output, const std::vector<std::string>& inputs,
                                   int outputs_per_input = 1);
  bool is_folder() const { return folder_; }
  const std::filesystem::path& path() const { return path_; }
  // folder/<base><ext>, or <base>-2<ext>, -3, ... when that name is taken already.
  std::filesystem::path unique(const std::string& base, const std::string& ext);
  // Adds the target to a request's file plan: the folder (to be created) for a folder
  // target; file outputs are added by the command, one per planned output.
  void add_to(FilePlan& plan, const std::string& flag) const;
  // Creates the folder (no-op for a file target).
  Status prepare();
  // Removes the folder again when prepare() created it and nothing was written into it
  // (every input failed), so a failed run leaves no trace.
  void remove_if_unused() const;

 private:
  std::filesystem::path path_;
  bool folder_ = false;
  bool created_ = false;
  std::set<std::string> taken_;
};

struct ItemOutcome {
  static ItemOutcome failed(Status s) {
    ItemOutcome o;
    o.status = std::move(s);
    return o;
  }
  // Stops the batch: nothing else can succeed (e.g. no model).
  static ItemOutcome stop(Status s) {
    ItemOutcome o = failed(std::move(s));
    o.fatal = true;
    return o;
  }
  Status status;
  // Shown on success when not quiet and not --json: "<line>  1.23 s (<detail>)".
  std::string line;
  std::string detail;
  nlohmann::json json;       // fields added to the item's JSON line
  double excluded_seconds = 0;  // one-time work not charged to this item (model load)
  bool fatal = false;        // stop the batch (e.g. no model: nothing else can succeed)
};

struct BatchSettings {
  std::string verb;  // "cutout", in the summary line
  bool quiet = false;
  bool json = false;
};

// Runs `work` for each item; `summary_extra` adds to the summary's parentheses. When the
// reader of stdout goes away (`--json | head`), the batch stops quietly after the item in
// progress (SIGPIPE is ignored by main; EPIPE is the signal) and returns kExitOk unless an
// item failed before.
int run_batch(const std::vector<BatchItem>& items, const BatchSettings& settings,
              const std::function<ItemOutcome(const BatchItem&)>& work,
              const std::function<std::string()>& summary_extra = {});

// "1.23 s"
std::string format_seconds(double s);

}  // namespace atelier::cli
