// File-system helpers with the project's error conventions: every error message names
// the path and the reason in plain words, and outputs are atomic (written to a temporary
// sibling, then renamed) so a failure never leaves a partial file behind.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/aligned_memory.h"
#include "core/status.h"

namespace atelier {

// strerror-like text for an errno value, in words users understand ("disk full").
std::string errno_text(int err);

// Reads a whole regular file. Errors: kNotFound "no such file", kInvalidArgument
// "is a directory"/"not a regular file"/"empty file", kPermissionDenied, and
// kResourceExhausted when the file is larger than max_bytes. Messages start with the path.
Result<std::vector<std::uint8_t>> read_file(const std::filesystem::path& path,
                                            std::uint64_t max_bytes);

// Bytes in memory that is not zero-filled first and is backed by 2 MiB pages where the
// kernel allows (aligned_memory.h: a model's hundreds of MB fault in 512× fewer pages).
class LargeBuffer {
 public:
  const std::uint8_t* data() const { return static_cast<const std::uint8_t*>(data_.get()); }
  std::uint8_t* data() { return static_cast<std::uint8_t*>(data_.get()); }
  std::size_t size() const { return size_; }
  void resize(std::size_t n);  // new bytes are uninitialised; throws std::bad_alloc

 private:
  AlignedMemory data_;
  std::size_t size_ = 0, capacity_ = 0;
};
// read_file's contract, into a LargeBuffer (kResourceExhausted when memory runs out).
Result<LargeBuffer> read_large_file(const std::filesystem::path& path, std::uint64_t max_bytes);

// The first `max_bytes` bytes (fewer when the file is shorter) of a regular file, with
// read_file's errors (an empty file is an error). Never blocks on a FIFO or device.
Result<std::vector<std::uint8_t>> read_file_prefix(const std::filesystem::path& path, std::uint64_t max_bytes);

// An output file that appears under its final name only on commit(). Until then data goes
// to a hidden temporary file in the same directory; destroying an uncommitted AtomicFile
// (or a SIGINT/SIGTERM, see install_cleanup_signal_handlers) removes it. Move-only.
class AtomicFile {
 public:
  static Result<AtomicFile> create(const std::filesystem::path& path);
  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  AtomicFile(const AtomicFile&) = delete;
  ~AtomicFile();

  Status write(std::span<const std::uint8_t> data);
  // fsync, close and rename over the final path.
  Status commit();
  const std::filesystem::path& temp_path() const { return temp_; }

 private:
  AtomicFile(std::filesystem::path final_path, std::filesystem::path temp, int fd);
  void abandon();
  std::filesystem::path final_;
  std::filesystem::path temp_;
  int fd_ = -1;
  int slot_ = -1;
};

// Writes `data` to `path` atomically.
Status write_file_atomic(const std::filesystem::path& path, std::span<const std::uint8_t> data);

// Removes registered temporary files on SIGINT/SIGTERM/SIGHUP, then exits with 128+signal.
// Call once from main().
void install_cleanup_signal_handlers();

// A directory removed (recursively) on destruction.
class TempDir {
 public:
  // Creates a fresh directory under `parent` (default: $TMPDIR or /tmp).
  static Result<TempDir> create(const std::filesystem::path& parent = {},
                                const std::string& prefix = "atelier-");
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempDir(const TempDir&) = delete;
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  // Keeps the directory (ownership moves to the caller).
  std::filesystem::path release() { return std::exchange(path_, {}); }

 private:
  explicit TempDir(std::filesystem::path p) : path_(std::move(p)) {}
  std::filesystem::path path_;
};

// Creates `dir` and its parents; errors name the directory.
Status ensure_directory(const std::filesystem::path& dir);

// Human-readable byte count: "84.1 MB".
std::string format_bytes(std::uint64_t bytes);

}  // namespace atelier
