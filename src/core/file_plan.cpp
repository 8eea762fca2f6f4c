#include "core/file_plan.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

#include "core/files.h"

namespace atelier {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kMaxFolderFiles = 10'000;

// Who a path is: device and inode when it exists, else its path with every existing
// folder resolved (symlinks, "..", ".").
struct Identity {
  bool exists = false;
  dev_t dev = 0;
  ino_t ino = 0;
  std::string resolved;
  bool same_as(const Identity& o) const {
    if (exists && o.exists) return dev == o.dev && ino == o.ino;
    if (exists != o.exists) return false;
    return resolved == o.resolved;
  }
};

std::string resolve(const fs::path& p) {
  std::error_code ec;
  fs::path abs = fs::absolute(p, ec);
  if (ec) abs = p;
  fs::path r = fs::weakly_canonical(abs, ec);
  return (ec ? abs.lexically_normal() : r).string();
}

Identity identify(const fs::path& p) {
  Identity id;
  struct stat st{};
  if (::stat(p.c_str(), &st) == 0) {
    id.exists = true;
    id.dev = st.st_dev;
    id.ino = st.st_ino;
  }
  id.resolved = resolve(p);
  return id;
}

// True when `path` (resolved) is `dir` or lies below it.
bool is_within(const std::string& path, const std::string& dir) {
  if (path == dir) return true;
  if (path.size() <= dir.size() || path.compare(0, dir.size(), dir) != 0) return false;
  return dir.back() == '/' || path[dir.size()] == '/';
}

std::string name_of(const std::string& label, const fs::path& p) { return label + " " + p.string(); }

}  // namespace

void FilePlan::add_input(const fs::path& path, std::string role) { inputs_.push_back({path, std::move(role)}); }

void FilePlan::add_input_folder(const fs::path& dir, std::string role) {
  std::error_code ec;
  std::size_t n = 0;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator() && n < kMaxFolderFiles; it.increment(ec)) {
    std::error_code e2;
    if (it->is_regular_file(e2)) {
      inputs_.push_back({it->path(), role});
      ++n;
    }
  }
}

void FilePlan::add_output(const fs::path& path, std::string flag) { outputs_.push_back({path, std::move(flag)}); }

void FilePlan::add_output_folder(const fs::path& dir, std::string flag) {
  output_folders_.push_back({dir, std::move(flag)});
}

Status FilePlan::check() const {
  std::vector<Identity> in_ids;
  in_ids.reserve(inputs_.size());
  for (const auto& in : inputs_) in_ids.push_back(identify(in.path));

  std::vector<std::string> folders;
  for (const auto& f : output_folders_) {
    struct stat st{};
    if (::stat(f.path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
      return invalid_argument(name_of(f.label, f.path) + ": exists and is not a folder");
    }
    folders.push_back(resolve(f.path));
  }

  std::vector<Identity> out_ids;
  for (const auto& out : outputs_) {
    const std::string who = name_of(out.label, out.path);
    const std::string text = out.path.string();
    if (text.empty()) return invalid_argument(out.label + ": empty file name");
    if (text.back() == '/') return invalid_argument(who + ": names a folder, expected a file");
    struct stat st{};
    if (::stat(out.path.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) return invalid_argument(who + ": is a folder");
      if (!S_ISREG(st.st_mode)) return invalid_argument(who + ": not a regular file (refusing to replace it)");
    } else if (errno == ENOTDIR) {
      return invalid_argument(who + ": a parent is not a folder");
    }
    Identity id = identify(out.path);
    for (std::size_t i = 0; i < inputs_.size(); ++i) {
      if (id.same_as(in_ids[i])) {
        std::string msg = who + ": refusing to overwrite " + inputs_[i].label;
        if (inputs_[i].path != out.path) msg += " " + inputs_[i].path.string();
        return invalid_argument(msg);
      }
    }
    for (std::size_t j = 0; j < out_ids.size(); ++j) {
      if (id.same_as(out_ids[j])) {
        return invalid_argument(who + ": the same file as " + name_of(outputs_[j].label, outputs_[j].path));
      }
    }
    // The folder it goes into: one the request creates, or one that exists and is writable.
    const fs::path parent = fs::path(id.resolved).parent_path();
    bool planned = false;
    for (const auto& f : folders) planned = planned || is_within(parent.string(), f);
    if (!planned) {
      const fs::path shown = out.path.has_parent_path() ? out.path.parent_path() : fs::path(".");
      struct stat ps{};
      if (::stat(parent.c_str(), &ps) != 0) {
        return invalid_argument(who + ": folder " + shown.string() + " does not exist");
      }
      if (!S_ISDIR(ps.st_mode)) return invalid_argument(who + ": a parent is not a folder");
      if (::access(parent.c_str(), W_OK | X_OK) != 0) {
        return invalid_argument(who + ": cannot write in folder " + shown.string() + ": " + errno_text(errno));
      }
    }
    out_ids.push_back(std::move(id));
  }
  return {};
}

}  // namespace atelier
