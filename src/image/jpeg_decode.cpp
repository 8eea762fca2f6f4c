#include "image/jpeg_decode.h"

// jpeglib.h needs FILE and size_t declared first.
#include <csetjmp>
#include <cstddef>
#include <cstdio>
#include <string>

#include <jerror.h>
#include <jpeglib.h>

namespace atelier::image::detail {
namespace {

// libjpeg's error manager extended with a jump target and the first damage it reported.
struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  int damage_code = 0;           // the first warning that means damaged data; 0 = none
  char message[JMSG_LENGTH_MAX];  // the fatal error's text
};

// A warning that means the image data is damaged (libjpeg then fills in grey). Others are
// harmless (an unknown JFIF version, an Adobe transform code, a bad ICC marker: the
// pixels are intact) and so is stray data before the end marker once the image is whole.
bool is_damage(const jpeg_error_mgr& e) {
  switch (e.msg_code) {
    case JWRN_HIT_MARKER:
    case JWRN_JPEG_EOF:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
    case JWRN_BOGUS_PROGRESSION:
      return true;
    case JWRN_EXTRANEOUS_DATA:  // msg_parm.i[1] is the marker that follows the stray bytes
      return e.msg_parm.i[1] != 0xD9;
    default:
      return false;
  }
}

void on_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

void on_message(j_common_ptr cinfo, int level) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  if (level >= 0) return;  // trace messages
  ++err->pub.num_warnings;
  if (err->damage_code == 0 && is_damage(err->pub)) err->damage_code = err->pub.msg_code;
}

std::string damage_text(int code) {
  switch (code) {
    case JWRN_HIT_MARKER: return "image data cut short";
    case JWRN_JPEG_EOF: return "image data ends early";
    case JWRN_HUFF_BAD_CODE: return "bad Huffman code";
    case JWRN_EXTRANEOUS_DATA: return "stray bytes inside the image data";
    case JWRN_BOGUS_PROGRESSION: return "bad progressive scan sequence";
    default: return "restart markers out of sequence";
  }
}

Status corrupt(const std::string& detail) {
  return data_loss("corrupt or truncated JPEG image (" + detail + ")");
}

// Inverted (Adobe) CMYK to RGB: R = C'·K' / 255, where C' = 255 - C as stored.
void cmyk_rows_to_rgb(const cv::Mat& cmyk, cv::Mat& rgb) {
  for (int y = 0; y < cmyk.rows; ++y) {
    const std::uint8_t* s = cmyk.ptr<std::uint8_t>(y);
    std::uint8_t* d = rgb.ptr<std::uint8_t>(y);
    for (int x = 0; x < cmyk.cols; ++x, s += 4, d += 3) {
      const unsigned k = s[3];
      d[0] = std::uint8_t((s[0] * k + 127) / 255);
      d[1] = std::uint8_t((s[1] * k + 127) / 255);
      d[2] = std::uint8_t((s[2] * k + 127) / 255);
    }
  }
}

// Everything between setjmp and a possible longjmp lives in `cinfo`, `err` and `out`,
// which belong to the caller: this frame holds only trivially destructible locals, so
// longjmp skips no destructor. Returns false after a fatal libjpeg error.
bool run(jpeg_decompress_struct& cinfo, ErrorManager& err, std::span<const std::uint8_t> bytes, cv::Mat& out) {
  if (setjmp(err.jump)) return false;
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);
  const int components = cinfo.num_components;
  if (components == 1) {
    cinfo.out_color_space = JCS_GRAYSCALE;
  } else if (components == 4) {
    cinfo.out_color_space = JCS_CMYK;  // libjpeg turns YCCK into CMYK
  } else {
    cinfo.out_color_space = JCS_RGB;
  }
  jpeg_start_decompress(&cinfo);
  out.create(int(cinfo.output_height), int(cinfo.output_width), CV_8UC(int(cinfo.output_components)));
  JSAMPROW rows[16];
  while (cinfo.output_scanline < cinfo.output_height) {
    const unsigned first = cinfo.output_scanline;
    unsigned n = 0;
    for (; n < 16 && first + n < cinfo.output_height; ++n) rows[n] = out.ptr<JSAMPLE>(int(first + n));
    if (jpeg_read_scanlines(&cinfo, rows, n) == 0) break;
  }
  jpeg_finish_decompress(&cinfo);
  return true;
}

}  // namespace

Result<cv::Mat> decode_jpeg(std::span<const std::uint8_t> bytes) {
  jpeg_decompress_struct cinfo{};
  ErrorManager err{};
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error;
  err.pub.emit_message = on_message;
  cv::Mat out;
  bool ok = false;
  try {
    ok = run(cinfo, err, bytes, out);
  } catch (const cv::Exception&) {  // the pixel buffer could not be allocated
    const std::string size = std::to_string(cinfo.output_width) + "x" + std::to_string(cinfo.output_height);
    jpeg_destroy_decompress(&cinfo);
    return resource_exhausted("out of memory for a " + size + " JPEG image");
  }
  jpeg_destroy_decompress(&cinfo);
  if (!ok) return corrupt(err.message);
  if (err.damage_code != 0) return corrupt(damage_text(err.damage_code));
  if (out.channels() == 4) {
    cv::Mat rgb(out.rows, out.cols, CV_8UC3);
    cmyk_rows_to_rgb(out, rgb);
    return rgb;
  }
  return out;
}

}  // namespace atelier::image::detail
