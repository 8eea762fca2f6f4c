// Image sources of a design: where an image block's `source` points, and the one place
// that says why a source cannot be used. Scene loading (scene_json.h: a warning per
// unusable source) and the renderer (renderer.h: a warning per image block drawn as a
// placeholder) both go through these functions, so a source fails with the same words
// everywhere.
//
// Only regular files are read, through the image layer (image::read_image's decoders and
// limits). Device files, FIFOs, sockets and folders are refused from a stat() before any
// open; the open itself is O_NONBLOCK and checked again with fstat (core/files.h), so a
// file swapped for a FIFO in between cannot block. URLs are never fetched.
//
// Reasons (each message is "image PATH: REASON", PATH the resolved path as given):
//   "URLs are not fetched"          http://, https://, file://, data:... (any scheme)
//   "no such file"                  kNotFound
//   "permission denied"             kPermissionDenied
//   "not a regular file (a folder)" / "(a FIFO)" / "(a device)" / "(a socket)"
//   "not an image (empty file)", "not an image (expected JPEG, PNG, WebP, TIFF or BMP)"
//   "over the pixel limit (3600.0 MP, 60000x60000; the limit is 100.0 MP)"
//   "over the size limit (600.0 MB; the limit is 512.0 MB)"
//   "corrupt or truncated JPEG image (image data cut short)" and the decoders' other reasons
// Thread-safe: no shared state.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "design/scene.h"
#include "image/codec.h"
#include "image/image.h"

namespace atelier::design {

// True for "scheme:..." sources with a URL scheme of two or more letters ("http://x",
// "data:image/png;base64,..."); "C:/x" style one-letter drives are not URLs.
bool is_url(std::string_view source);

// `source` resolved against `base_dir` (the design's folder): absolute sources and an
// empty base_dir leave it as it is.
std::filesystem::path resolve_image_source(std::string_view source, const std::filesystem::path& base_dir);

struct ImageSource {
  BlockId block = 0;
  std::string source;           // as written in the design
  std::filesystem::path path;   // resolved; empty for a URL
  bool url = false;
};

// Every image block with a non-empty source, in block id order (what a shell checks its
// outputs against, core/file_plan.h).
std::vector<ImageSource> image_sources(const Scene& scene, const std::filesystem::path& base_dir);

// The checks that need no reading: URL, existence, file type, read permission. OK when the
// file can be opened for reading; else one of the reasons above.
Status check_image_source(std::string_view source, const std::filesystem::path& base_dir);

// check_image_source, then the file read (byte limit) and decoded (pixel limit) through
// image::decode_image. Errors as above.
Result<image::Image> read_image_source(std::string_view source, const std::filesystem::path& base_dir,
                                       const image::DecodeLimits& limits);

}  // namespace atelier::design
