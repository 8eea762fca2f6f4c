#include "core/files.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

namespace atelier {
namespace fs = std::filesystem;

std::string errno_text(int err) {
  switch (err) {
    case ENOENT: return "no such file or directory";
    case EACCES:
    case EPERM: return "permission denied";
    case ENOSPC: return "disk full (no space left on device)";
    case EDQUOT: return "disk quota exceeded";
    case EROFS: return "read-only file system";
    case EISDIR: return "is a directory";
    case ENOTDIR: return "a parent is not a directory";
    case ENAMETOOLONG: return "file name too long";
    case EIO: return "input/output error";
    default: return std::strerror(err);
  }
}

namespace {

// Reads a regular file: all of it (up to `max_bytes`, larger is an error) or, with
// `prefix`, its first `max_bytes` bytes, into a Buffer (resize(n), data(), size()).
template <typename Buffer>
Result<Buffer> read_regular(const fs::path& path, std::uint64_t max_bytes, bool prefix) {
  const std::string name = path.string();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return not_found(name + ": no such file");
    if (err == EACCES || err == EPERM) return permission_denied(name + ": cannot read: permission denied");
    return invalid_argument(name + ": cannot open: " + errno_text(err));
  }
  struct Closer { int fd; ~Closer() { ::close(fd); } } closer{fd};
  struct stat st{};
  if (::fstat(fd, &st) != 0) return invalid_argument(name + ": cannot stat: " + errno_text(errno));
  if (S_ISDIR(st.st_mode)) return invalid_argument(name + ": is a directory");
  if (!S_ISREG(st.st_mode)) return invalid_argument(name + ": not a regular file");
  if (st.st_size == 0) return invalid_argument(name + ": empty file");
  if (!prefix && std::uint64_t(st.st_size) > max_bytes) {
    return resource_exhausted(name + ": file is " + format_bytes(std::uint64_t(st.st_size)) +
                              ", more than the " + format_bytes(max_bytes) + " limit");
  }
  Buffer data;
  data.resize(std::size_t(std::min<std::uint64_t>(std::uint64_t(st.st_size), max_bytes)));
  std::size_t got = 0;
  while (got < data.size()) {
    ssize_t n = ::read(fd, data.data() + got, data.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      if (err == EISDIR) return invalid_argument(name + ": is a directory");
      return invalid_argument(name + ": read error: " + errno_text(err));
    }
    if (n == 0) break;  // file shrank while reading
    got += std::size_t(n);
  }
  data.resize(got);
  if (data.size() == 0) return invalid_argument(name + ": empty file");
  return data;
}

}  // namespace

Result<std::vector<std::uint8_t>> read_file(const fs::path& path, std::uint64_t max_bytes) {
  return read_regular<std::vector<std::uint8_t>>(path, max_bytes, false);
}

Result<std::vector<std::uint8_t>> read_file_prefix(const fs::path& path, std::uint64_t max_bytes) {
  return read_regular<std::vector<std::uint8_t>>(path, max_bytes, true);
}

void LargeBuffer::resize(std::size_t n) {
  if (n <= capacity_) {
    size_ = n;
    return;
  }
  AlignedMemory grown = allocate_aligned(n);
  if (!grown) throw std::bad_alloc();
  if (size_ > 0) std::memcpy(grown.get(), data_.get(), size_);
  data_ = std::move(grown);
  capacity_ = n;
  size_ = n;
}

Result<LargeBuffer> read_large_file(const fs::path& path, std::uint64_t max_bytes) {
  try {
    return read_regular<LargeBuffer>(path, max_bytes, false);
  } catch (const std::bad_alloc&) {
    return resource_exhausted(path.string() + ": out of memory reading " + format_bytes(max_bytes) + " at most");
  }
}

// ---- temporary-file registry for signal cleanup ---------------------------------------

namespace {
constexpr int kSlots = 64;
constexpr std::size_t kPathMax = 4096;
std::array<std::atomic<bool>, kSlots> g_slot_used{};
std::array<std::array<char, kPathMax>, kSlots> g_slot_path{};

int register_temp(const fs::path& p) {
  const std::string s = p.string();
  if (s.size() >= kPathMax) return -1;
  for (int i = 0; i < kSlots; ++i) {
    bool expected = false;
    if (g_slot_used[i].compare_exchange_strong(expected, true)) {
      std::memcpy(g_slot_path[i].data(), s.c_str(), s.size() + 1);
      return i;
    }
  }
  return -1;
}

void unregister_temp(int slot) {
  if (slot >= 0) g_slot_used[slot].store(false);
}

extern "C" void cleanup_and_exit(int sig) {
  for (int i = 0; i < kSlots; ++i) {
    if (g_slot_used[i].load()) ::unlink(g_slot_path[i].data());
  }
  ::_exit(128 + sig);
}

std::string random_suffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}() ^ std::uint64_t(::getpid())};
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s(10, 'x');
  for (char& c : s) c = kChars[rng() % 36];
  return s;
}
}  // namespace

void install_cleanup_signal_handlers() {
  struct sigaction sa{};
  sa.sa_handler = cleanup_and_exit;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
}

AtomicFile::AtomicFile(fs::path final_path, fs::path temp, int fd)
    : final_(std::move(final_path)), temp_(std::move(temp)), fd_(fd) {
  slot_ = register_temp(temp_);
}

AtomicFile::AtomicFile(AtomicFile&& o) noexcept
    : final_(std::move(o.final_)), temp_(std::move(o.temp_)), fd_(o.fd_), slot_(o.slot_) {
  o.fd_ = -1;
  o.slot_ = -1;
  o.temp_.clear();
}

AtomicFile::~AtomicFile() { abandon(); }

void AtomicFile::abandon() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!temp_.empty()) ::unlink(temp_.c_str());
  temp_.clear();
  unregister_temp(slot_);
  slot_ = -1;
}

Result<AtomicFile> AtomicFile::create(const fs::path& path) {
  const std::string name = path.string();
  fs::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  auto st = fs::status(dir, ec);
  if (ec || !fs::exists(st)) return not_found(name + ": cannot write: directory " + dir.string() + " does not exist");
  if (!fs::is_directory(st)) return invalid_argument(name + ": cannot write: " + dir.string() + " is not a directory");
  if (fs::is_directory(fs::status(path, ec))) return invalid_argument(name + ": cannot write: is a directory");
  fs::path temp = dir / ("." + path.filename().string() + ".tmp-" + random_suffix());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    int err = errno;
    if (err == EACCES || err == EPERM || err == EROFS) return permission_denied(name + ": cannot write: " + errno_text(err));
    return invalid_argument(name + ": cannot write: " + errno_text(err));
  }
  return AtomicFile(path, temp, fd);
}

Status AtomicFile::write(std::span<const std::uint8_t> data) {
  if (fd_ < 0) return internal_error(final_.string() + ": write after commit");
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      Status s = (err == ENOSPC || err == EDQUOT) ? resource_exhausted(final_.string() + ": cannot write: " + errno_text(err))
                                                   : invalid_argument(final_.string() + ": cannot write: " + errno_text(err));
      abandon();
      return s;
    }
    done += std::size_t(n);
  }
  return {};
}

Status AtomicFile::commit() {
  if (fd_ < 0) return internal_error(final_.string() + ": commit without an open file");
  if (::fsync(fd_) != 0 && errno != EINVAL) {
    int err = errno;
    abandon();
    return resource_exhausted(final_.string() + ": cannot write: " + errno_text(err));
  }
  if (::close(fd_) != 0) {
    int err = errno;
    fd_ = -1;
    abandon();
    return resource_exhausted(final_.string() + ": cannot write: " + errno_text(err));
  }
  fd_ = -1;
  if (::rename(temp_.c_str(), final_.c_str()) != 0) {
    int err = errno;
    abandon();
    return invalid_argument(final_.string() + ": cannot write: " + errno_text(err));
  }
  temp_.clear();
  unregister_temp(slot_);
  slot_ = -1;
  return {};
}

Status write_file_atomic(const fs::path& path, std::span<const std::uint8_t> data) {
  ATELIER_ASSIGN_OR_RETURN(AtomicFile f, AtomicFile::create(path));
  ATELIER_TRY(f.write(data));
  return f.commit();
}

Result<TempDir> TempDir::create(const fs::path& parent, const std::string& prefix) {
  fs::path base = parent;
  if (base.empty()) {
    const char* t = std::getenv("TMPDIR");
    base = (t && *t) ? fs::path(t) : fs::path("/tmp");
  }
  std::string tmpl = (base / (prefix + "XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return invalid_argument(base.string() + ": cannot create a temporary directory: " + errno_text(errno));
  }
  return TempDir(fs::path(tmpl));
}

TempDir::~TempDir() {
  if (!path_.empty()) {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
}

Status ensure_directory(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return {};
  fs::create_directories(dir, ec);
  if (ec) return invalid_argument(dir.string() + ": cannot create directory: " + errno_text(ec.value()));
  return {};
}

std::string format_bytes(std::uint64_t bytes) {
  char buf[32];
  if (bytes < 1000) {
    std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(bytes));
  } else if (bytes < 1000ull * 1000) {
    std::snprintf(buf, sizeof buf, "%.1f kB", double(bytes) / 1e3);
  } else if (bytes < 1000ull * 1000 * 1000) {
    std::snprintf(buf, sizeof buf, "%.1f MB", double(bytes) / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f GB", double(bytes) / 1e9);
  }
  return buf;
}

}  // namespace atelier
