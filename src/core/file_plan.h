// Every file a request reads and writes, checked together before any work starts, so that
// no run overwrites one of its own inputs, writes two outputs to one file, or finds out
// after minutes of inference that an output folder is missing.
//
// Files are compared by identity, not by spelling: an existing file by device and inode
// (so "./x.png", "../d/x.png", a symlink and a hard link to it are all the same file), a
// file still to be written by its path with every existing folder resolved. The shells
// (CLI, HTTP) fill one plan per request; nothing is created or written by the plan itself.
//
// Thread-compatible (no shared state); check() only reads the file system.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/status.h"

namespace atelier {

class FilePlan {
 public:
  // A file the request reads. `role` names it in messages, with its article: "the input",
  // "the --background image", "the design", "the image of block 7". Paths that do not exist
  // are kept (they cannot be overwritten; reading them fails later with its own reason).
  void add_input(const std::filesystem::path& path, std::string role);
  // Every regular file below `dir` (recursively, at most 10,000) counts as an input.
  void add_input_folder(const std::filesystem::path& dir, std::string role);
  // A file the request writes. `flag` names it in messages: "-o", "--explain", "--render".
  void add_output(const std::filesystem::path& path, std::string flag);
  // A folder the request creates before writing into it (a batch's -o folder): outputs
  // below it need no existing parent.
  void add_output_folder(const std::filesystem::path& dir, std::string flag);

  // OK, or kInvalidArgument with one line that starts with the output's flag and path:
  //   "-o x.png: refusing to overwrite the input x.png"
  //   "--explain a.png: the same file as -o a.png"
  //   "-o nodir/x.png: folder nodir does not exist"
  //   "-o out: is a folder"  /  "-o /dev/null: not a regular file"
  //   "-o out/x.png: cannot write in folder out: permission denied"
  //   "-o x.png/: a parent is not a folder"
  Status check() const;

 private:
  struct Entry {
    std::filesystem::path path;
    std::string label;  // role (inputs) or flag (outputs)
  };
  std::vector<Entry> inputs_;
  std::vector<Entry> outputs_;
  std::vector<Entry> output_folders_;
};

}  // namespace atelier
