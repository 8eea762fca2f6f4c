#include "image/codec.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <cstdio>
#include <string>

#include <opencv2/imgcodecs.hpp>  // the IMWRITE_* constants only: the codecs are opened on use
#include <opencv2/imgproc.hpp>

#include "core/files.h"
#include "core/limits.h"
#include "image/color_profile.h"
#include "image/jpeg_decode.h"
#include "image/opencv_codecs.h"
#include "image/png_encode.h"
#include "image/webp_decode.h"

namespace atelier::image {
namespace {

// OpenCV BGR(A) <-> our RGB(A); other channel counts are returned as they are.
cv::Mat swap_red_blue(const cv::Mat& m) {
  cv::Mat out;
  if (m.channels() == 3) cv::cvtColor(m, out, cv::COLOR_BGR2RGB);
  else if (m.channels() == 4) cv::cvtColor(m, out, cv::COLOR_BGRA2RGBA);
  else out = m;
  return out;
}

std::atomic<bool> g_decoder_messages{true};
std::mutex g_stderr_mu;

// Points fd 2 at /dev/null for its lifetime when decoder messages are off.
class MutedStderr {
 public:
  MutedStderr() {
    if (g_decoder_messages.load()) return;
    lock_ = std::unique_lock(g_stderr_mu);
    int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null_fd < 0) return;
    saved_ = ::dup(2);
    if (saved_ >= 0) ::dup2(null_fd, 2);
    ::close(null_fd);
  }
  ~MutedStderr() {
    if (saved_ >= 0) {
      ::dup2(saved_, 2);
      ::close(saved_);
    }
  }
  MutedStderr(const MutedStderr&) = delete;
  MutedStderr& operator=(const MutedStderr&) = delete;

 private:
  std::unique_lock<std::mutex> lock_;
  int saved_ = -1;
};

}  // namespace

void set_decoder_messages(bool enabled) { g_decoder_messages.store(enabled); }

DecodeLimits decode_limits(const Limits& limits) {
  return DecodeLimits{.max_pixels = limits.max_input_pixels, .max_bytes = limits.max_input_bytes};
}

Image apply_orientation(const Image& img, int orientation) {
  const cv::Mat& m = img.mat();
  cv::Mat out;
  switch (orientation) {
    case 2: cv::flip(m, out, 1); break;
    case 3: cv::flip(m, out, -1); break;
    case 4: cv::flip(m, out, 0); break;
    case 5: cv::transpose(m, out); break;
    case 6: cv::transpose(m, out); cv::flip(out, out, 1); break;
    case 7: cv::transpose(m, out); cv::flip(out, out, -1); break;
    case 8: cv::transpose(m, out); cv::flip(out, out, 0); break;
    default: return img;
  }
  return Image(out);
}

Result<Image> decode_image(std::span<const std::uint8_t> bytes, const DecodeLimits& limits) {
  if (bytes.empty()) return data_loss("empty file");
  if (bytes.size() > limits.max_bytes) {
    return resource_exhausted("file is " + format_bytes(bytes.size()) + ", more than the " +
                              format_bytes(limits.max_bytes) + " limit");
  }
  ATELIER_ASSIGN_OR_RETURN(ImageHeader header, probe_image(bytes));
  const std::uint64_t px = std::uint64_t(header.width) * std::uint64_t(header.height);
  if (px > limits.max_pixels) {
    return resource_exhausted("image is " + format_pixels(px) + " (" + std::to_string(header.width) + "x" +
                              std::to_string(header.height) + "), more than the " +
                              format_pixels(limits.max_pixels) + " limit");
  }
  const std::string kind(format_name(header.format));
  cv::Mat decoded;
  bool rgb_order = false;  // OpenCV decodes to BGR(A); decode_jpeg and decode_webp to RGB(A)
  if (header.format == Format::kJpeg) {
    ATELIER_ASSIGN_OR_RETURN(decoded, detail::decode_jpeg(bytes));
    rgb_order = true;
  } else if (header.format == Format::kWebp) {
    ATELIER_ASSIGN_OR_RETURN(decoded, detail::decode_webp(bytes));
    rgb_order = true;
  } else {
    // PNG, TIFF and BMP: OpenCV picks its decoder by the same magic bytes probe_image
    // checked, so these bytes never reach another decoder.
    Result<cv::Mat> opencv = [&] {
      MutedStderr muted;
      return detail::opencv_imdecode(bytes);
    }();
    if (!opencv.ok()) {
      if (opencv.status().code() != StatusCode::kInvalidArgument) return opencv.status();  // no module
      return data_loss("corrupt or truncated " + kind + " image (decoder error)");
    }
    decoded = std::move(*opencv);
  }
  if (decoded.empty()) return data_loss("corrupt or truncated " + kind + " image (decoder failed)");
  if (decoded.cols != header.width || decoded.rows != header.height) {
    return data_loss("corrupt " + kind + " image (decoded size differs from the header)");
  }
  switch (decoded.depth()) {
    case CV_8U:
    case CV_16U:
    case CV_32F: break;
    case CV_64F: decoded.convertTo(decoded, CV_32F); break;
    default: return unsupported("unsupported " + kind + " sample format (signed integers)");
  }
  if (decoded.channels() == 2) {  // gray + alpha
    std::vector<cv::Mat> ga;
    cv::split(decoded, ga);
    cv::merge(std::vector<cv::Mat>{ga[0], ga[0], ga[0], ga[1]}, decoded);
  } else if (decoded.channels() > 4) {
    return unsupported("unsupported " + kind + " image with " + std::to_string(decoded.channels()) + " channels");
  }
  Image img = convert_to_srgb(Image(rgb_order ? decoded : swap_red_blue(decoded)), header.icc_profile);
  return apply_orientation(img, header.orientation);
}

Result<Image> read_image(const std::filesystem::path& path, const DecodeLimits& limits) {
  ATELIER_ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes, read_file(path, limits.max_bytes));
  Result<Image> img = decode_image(bytes, limits);
  if (!img.ok()) return img.status().with_context(path.string());
  return img;
}

Result<std::vector<std::uint8_t>> encode_image(const Image& img, Format format, const EncodeOptions& options) {
  if (img.empty()) return invalid_argument("cannot encode an empty image");
  cv::Mat m = img.mat();
  const bool keeps_16 = format == Format::kPng || format == Format::kTiff;
  if (m.depth() == CV_32F) {
    m.convertTo(m, keeps_16 ? CV_16U : CV_8U, keeps_16 ? 65535.0 : 255.0);
  } else if (m.depth() == CV_16U && !keeps_16) {
    m.convertTo(m, CV_8U, 1.0 / 257.0);
  }
  std::vector<int> params;
  std::string ext;
  switch (format) {
    case Format::kJpeg:
      if (img.has_alpha()) return invalid_argument("JPEG cannot store transparency (use PNG or WebP, or an opaque background)");
      ext = ".jpg";
      params = {cv::IMWRITE_JPEG_QUALITY, std::clamp(options.quality, 1, 100)};
      break;
    case Format::kPng: ext = ".png"; params = {cv::IMWRITE_PNG_COMPRESSION, 3}; break;
    case Format::kWebp: ext = ".webp"; params = {cv::IMWRITE_WEBP_QUALITY, std::clamp(options.quality, 1, 101)}; break;
    case Format::kTiff: ext = ".tiff"; break;
    case Format::kBmp:
      if (m.depth() != CV_8U) m.convertTo(m, CV_8U, 1.0 / 257.0);
      ext = ".bmp";
      break;
    case Format::kUnknown: return invalid_argument("unknown output format (use .png, .webp, .jpg, .tif or .bmp)");
  }
  if (format == Format::kPng && m.depth() == CV_8U) {  // 8-bit: the fast encoder (png_encode.h)
    PngRows rows;
    rows.width = m.cols;
    rows.height = m.rows;
    rows.channels = m.channels();
    const std::size_t row_bytes = std::size_t(m.cols) * std::size_t(m.channels());
    rows.row = [&m, row_bytes](int y, std::uint8_t* dst) { std::memcpy(dst, m.ptr<std::uint8_t>(y), row_bytes); };
    return encode_png(rows, kPngLevel);
  }
  return detail::opencv_imencode(ext, swap_red_blue(m), params);
}

Status write_image(const std::filesystem::path& path, const Image& img, const EncodeOptions& options) {
  Format f = format_from_extension(path);
  if (f == Format::kUnknown) {
    return invalid_argument(path.string() + ": unknown output format (use .png, .webp, .jpg, .tif or .bmp)");
  }
  Result<std::vector<std::uint8_t>> bytes = encode_image(img, f, options);
  if (!bytes.ok()) return bytes.status().with_context(path.string());
  return write_file_atomic(path, *bytes);
}

}  // namespace atelier::image
