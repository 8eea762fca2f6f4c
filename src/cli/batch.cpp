#include "cli/batch.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>

#include "cli/common.h"
#include "core/files.h"
#include "core/progress.h"
#include "image/format.h"

namespace atelier::cli {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string format_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", s);
  return buf;
}

std::vector<BatchItem> expand_inputs(const std::vector<std::string>& inputs) {
  std::vector<BatchItem> items;
  for (const auto& in : inputs) {
    std::error_code ec;
    if (!fs::is_directory(in, ec)) {
      items.push_back({in, "", {}});
      continue;
    }
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(in, ec)) {
      const std::string name = e.path().filename().string();
      if (e.is_regular_file() && !name.empty() && name[0] != '.' &&
          image::format_from_extension(e.path()) != image::Format::kUnknown) {
        files.push_back(e.path());
      }
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) items.push_back({in, in + ": no images found in this folder", {}});
    for (auto& f : files) items.push_back({f, "", {}});
  }
  return items;
}

Result<OutputTarget> OutputTarget::plan(const std::string& output, const std::vector<std::string>& inputs,
                                        int outputs_per_input) {
  OutputTarget t;
  t.path_ = output;
  std::error_code ec;
  const bool folder_input = std::any_of(inputs.begin(), inputs.end(), [](const std::string& in) {
    std::error_code e;
    return fs::is_directory(in, e);
  });
  t.folder_ = inputs.size() != 1 || folder_input || outputs_per_input > 1 || fs::is_directory(t.path_, ec) ||
              output.empty() || output.back() == '/';
  // A folder is needed: an existing file, or a new name that looks like an image file, is
  // almost surely a mistake.
  const bool looks_like_file = image::format_from_extension(t.path_) != image::Format::kUnknown;
  if (t.folder_ && !fs::is_directory(t.path_, ec) && (fs::exists(t.path_, ec) || looks_like_file)) {
    return invalid_argument("-o " + output + ": must be a folder when there are several " +
                            (outputs_per_input > 1 ? "outputs per input" : "inputs or a folder input"));
  }
  return t;
}

fs::path OutputTarget::unique(const std::string& base, const std::string& ext) {
  std::string name = base + ext;
  for (int n = 2; !taken_.insert(name).second; ++n) name = base + "-" + std::to_string(n) + ext;
  return path_ / name;
}

void OutputTarget::add_to(FilePlan& plan, const std::string& flag) const {
  if (folder_) plan.add_output_folder(path_, flag);
}

Status OutputTarget::prepare() {
  if (!folder_) return {};
  std::error_code ec;
  const bool existed = fs::exists(path_, ec);
  ATELIER_TRY(ensure_directory(path_));
  created_ = !existed;
  return {};
}

void OutputTarget::remove_if_unused() const {
  std::error_code ec;
  if (created_ && fs::is_empty(path_, ec) && !ec) fs::remove(path_, ec);
}

namespace {
// False once stdout's reader has gone (EPIPE): the batch then stops quietly.
bool stdout_alive() {
  errno = 0;
  return std::fflush(stdout) == 0 || errno != EPIPE;
}
}  // namespace

int run_batch(const std::vector<BatchItem>& items, const BatchSettings& s,
              const std::function<ItemOutcome(const BatchItem&)>& work, const std::function<std::string()>& summary_extra) {
  const auto start = Clock::now();
  const bool verbose = !s.quiet;
  ProgressBar bar(int(items.size()), verbose && items.size() > 1);
  int done = 0, failed = 0;
  std::vector<double> times;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const BatchItem& item = items[i];
    bar.update(int(i), item.input.filename().string());
    const auto t0 = Clock::now();
    ItemOutcome out = item.error.empty() ? work(item) : ItemOutcome::failed(invalid_argument(item.error));
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count() - out.excluded_seconds;
    bar.clear();
    if (out.fatal) {
      print_error(out.status.message());
      return kExitFailed;
    }
    if (out.status.ok()) {
      ++done;
      times.push_back(secs);
    } else {
      ++failed;
      print_error(out.status.message());
    }
    if (s.json) {
      nlohmann::json line = out.json.is_object() ? out.json : nlohmann::json::object();
      set_json_path(line, "input", item.input.string());
      line["ok"] = out.status.ok();
      line["seconds"] = secs;
      if (!out.status.ok()) line["error"] = out.status.message();
      print_json(line, -1);
    } else if (verbose && out.status.ok() && !out.line.empty()) {
      std::printf("%s  %s%s\n", out.line.c_str(), format_seconds(secs).c_str(),
                  out.detail.empty() ? "" : (" (" + out.detail + ")").c_str());
    }
    if (!stdout_alive()) return failed ? kExitFailed : kExitOk;
  }
  bar.clear();
  if (verbose && !s.json) {
    const double total = std::chrono::duration<double>(Clock::now() - start).count();
    std::string extra = summary_extra ? summary_extra() : "";
    if (!times.empty()) {
      std::sort(times.begin(), times.end());
      extra += (extra.empty() ? "" : ", ") + std::string("median ") + format_seconds(times[times.size() / 2]) +
               " per image";
    }
    std::printf("%s: %d done, %d failed in %s%s\n", s.verb.c_str(), done, failed, format_seconds(total).c_str(),
                extra.empty() ? "" : (" (" + extra + ")").c_str());
    std::fflush(stdout);
  }
  return failed ? kExitFailed : kExitOk;
}

}  // namespace atelier::cli
