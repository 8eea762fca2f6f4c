#include "image/webp_decode.h"

#include <string>

#include <webp/decode.h>

namespace atelier::image::detail {
namespace {

const char* status_text(VP8StatusCode code) {
  switch (code) {
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "bitstream error";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported feature";
    case VP8_STATUS_SUSPENDED: return "decoding suspended";
    case VP8_STATUS_USER_ABORT: return "decoding aborted";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "image data ends early";
    case VP8_STATUS_OK: break;
  }
  return "decoder failed";
}

Status corrupt(const std::string& why) { return data_loss("corrupt or truncated WebP image (" + why + ")"); }

}  // namespace

Result<cv::Mat> decode_webp(std::span<const std::uint8_t> bytes) {
  WebPDecoderConfig config;
  if (!WebPInitDecoderConfig(&config)) return internal_error("libwebp version mismatch");
  if (WebPGetFeatures(bytes.data(), bytes.size(), &config.input) != VP8_STATUS_OK) {
    return corrupt("bad bitstream header");
  }
  const WebPBitstreamFeatures& f = config.input;
  if (f.has_animation) return unsupported("unsupported image format (animated WebP)");
  if (f.width <= 0 || f.height <= 0) return corrupt("bad bitstream header");
  const int channels = f.has_alpha ? 4 : 3;
  cv::Mat out(f.height, f.width, CV_MAKETYPE(CV_8U, channels));
  config.output.colorspace = f.has_alpha ? MODE_RGBA : MODE_RGB;
  config.output.is_external_memory = 1;
  config.output.u.RGBA.rgba = out.data;
  config.output.u.RGBA.stride = int(out.step[0]);
  config.output.u.RGBA.size = out.total() * out.elemSize();
  const VP8StatusCode status = WebPDecode(bytes.data(), bytes.size(), &config);
  WebPFreeDecBuffer(&config.output);  // external memory: frees nothing of ours
  if (status != VP8_STATUS_OK) return corrupt(status_text(status));
  return out;
}

}  // namespace atelier::image::detail
