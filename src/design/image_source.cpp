#include "design/image_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

#include "core/files.h"
#include "core/limits.h"
#include "image/format.h"

namespace atelier::design {
namespace fs = std::filesystem;

namespace {

Status problem(StatusCode code, const fs::path& path, const std::string& reason) {
  return Status(code, "image " + path.string() + ": " + reason);
}

// The reason of a core/files.h or image-layer message, without the "PATH: " it starts with.
std::string strip_path(const std::string& message, const fs::path& path) {
  const std::string prefix = path.string() + ": ";
  return message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message;
}

}  // namespace

bool is_url(std::string_view source) {
  const auto colon = source.find(':');
  if (colon == std::string_view::npos || colon < 2) return false;
  if (!std::isalpha(static_cast<unsigned char>(source[0]))) return false;
  for (std::size_t i = 1; i < colon; ++i) {
    const unsigned char c = static_cast<unsigned char>(source[i]);
    if (!std::isalnum(c) && c != '+' && c != '-' && c != '.') return false;
  }
  const std::string_view rest = source.substr(colon + 1);
  std::string scheme(source.substr(0, colon));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return rest.rfind("//", 0) == 0 || scheme == "data";
}

fs::path resolve_image_source(std::string_view source, const fs::path& base_dir) {
  fs::path p{std::string(source)};
  if (p.is_relative() && !base_dir.empty()) p = base_dir / p;
  return p;
}

std::vector<ImageSource> image_sources(const Scene& scene, const fs::path& base_dir) {
  std::vector<ImageSource> out;
  for (const auto& [id, b] : scene.blocks) {  // std::map: id order
    if (b.type != BlockType::kImage || b.image.source.empty()) continue;
    ImageSource s;
    s.block = id;
    s.source = b.image.source;
    s.url = is_url(b.image.source);
    if (!s.url) s.path = resolve_image_source(b.image.source, base_dir);
    out.push_back(std::move(s));
  }
  return out;
}

Status check_image_source(std::string_view source, const fs::path& base_dir) {
  if (is_url(source)) return invalid_argument("image " + std::string(source) + ": URLs are not fetched");
  const fs::path path = resolve_image_source(source, base_dir);
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT) return problem(StatusCode::kNotFound, path, "no such file");
    if (err == EACCES || err == EPERM) return problem(StatusCode::kPermissionDenied, path, "permission denied");
    if (err == ENOTDIR) return problem(StatusCode::kNotFound, path, "no such file (a parent is not a folder)");
    return problem(StatusCode::kInvalidArgument, path, errno_text(err));
  }
  if (!S_ISREG(st.st_mode)) {
    const char* what = S_ISDIR(st.st_mode)                          ? "a folder"
                       : S_ISFIFO(st.st_mode)                       ? "a FIFO"
                       : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                       : S_ISSOCK(st.st_mode)                       ? "a socket"
                                                                    : "a special file";
    return problem(StatusCode::kInvalidArgument, path, std::string("not a regular file (") + what + ")");
  }
  if (::access(path.c_str(), R_OK) != 0) return problem(StatusCode::kPermissionDenied, path, "permission denied");
  return {};
}

Result<image::Image> read_image_source(std::string_view source, const fs::path& base_dir,
                                       const image::DecodeLimits& limits) {
  ATELIER_TRY(check_image_source(source, base_dir));
  const fs::path path = resolve_image_source(source, base_dir);
  // read_file opens with O_NONBLOCK and checks the type again with fstat.
  Result<std::vector<std::uint8_t>> bytes = read_file(path, limits.max_bytes);
  if (!bytes.ok()) {
    const Status& s = bytes.status();
    const std::string reason = strip_path(s.message(), path);
    switch (s.code()) {
      case StatusCode::kNotFound: return problem(s.code(), path, "no such file");
      case StatusCode::kPermissionDenied: return problem(s.code(), path, "permission denied");
      case StatusCode::kResourceExhausted: {
        struct stat st{};
        const std::uint64_t size = ::stat(path.c_str(), &st) == 0 ? std::uint64_t(st.st_size) : 0;
        return problem(s.code(), path, "over the size limit (" + format_bytes(size) + "; the limit is " +
                                           format_bytes(limits.max_bytes) + ")");
      }
      default:
        if (reason == "empty file") return problem(s.code(), path, "not an image (empty file)");
        return problem(s.code(), path, reason);
    }
  }
  Result<image::ImageHeader> header = image::probe_image(*bytes);
  if (!header.ok()) {
    const std::string m = header.status().message();
    const std::string unsupported = "unsupported image format (";
    if (m.rfind(unsupported, 0) == 0 && image::detect_format(*bytes) == image::Format::kUnknown) {
      return problem(StatusCode::kInvalidArgument, path, "not an image (" + m.substr(unsupported.size()));
    }
    return problem(header.status().code(), path, m);
  }
  const std::uint64_t px = std::uint64_t(header->width) * std::uint64_t(header->height);
  if (px > limits.max_pixels) {
    return problem(StatusCode::kResourceExhausted, path,
                   "over the pixel limit (" + format_pixels(px) + ", " + std::to_string(header->width) + "x" +
                       std::to_string(header->height) + "; the limit is " + format_pixels(limits.max_pixels) + ")");
  }
  Result<image::Image> img = image::decode_image(*bytes, limits);
  if (!img.ok()) return problem(img.status().code(), path, img.status().message());
  return img;
}

}  // namespace atelier::design
