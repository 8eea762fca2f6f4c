#include "image/color_profile.h"

#include <lcms2.h>

#include <cstring>
#include <memory>
#include <string>

namespace atelier::image {
namespace {

struct ProfileCloser {
  void operator()(void* p) const { cmsCloseProfile(p); }
};
struct TransformCloser {
  void operator()(void* t) const { cmsDeleteTransform(t); }
};
using Profile = std::unique_ptr<void, ProfileCloser>;
using Transform = std::unique_ptr<void, TransformCloser>;

bool describes_srgb(cmsHPROFILE p) {
  char desc[256] = {0};
  cmsGetProfileInfoASCII(p, cmsInfoDescription, "en", "US", desc, sizeof desc);
  return std::strstr(desc, "sRGB") != nullptr;
}

cmsUInt32Number lcms_format(const cv::Mat& m) {
  const bool alpha = m.channels() == 4;
  switch (m.depth()) {
    case CV_8U: return alpha ? TYPE_RGBA_8 : TYPE_RGB_8;
    case CV_16U: return alpha ? TYPE_RGBA_16 : TYPE_RGB_16;
    default: return alpha ? TYPE_RGBA_FLT : TYPE_RGB_FLT;
  }
}

}  // namespace

Image convert_to_srgb(const Image& img, std::span<const std::uint8_t> icc) {
  if (icc.empty() || img.empty() || (img.channels() != 3 && img.channels() != 4)) return img;
  cmsSetLogErrorHandler([](cmsContext, cmsUInt32Number, const char*) {});  // broken profiles are ignored
  Profile source(cmsOpenProfileFromMem(icc.data(), cmsUInt32Number(icc.size())));
  if (!source || cmsGetColorSpace(source.get()) != cmsSigRgbData || describes_srgb(source.get())) return img;
  Profile srgb(cmsCreate_sRGBProfile());
  const cmsUInt32Number format = lcms_format(img.mat());
  Transform t(cmsCreateTransform(source.get(), format, srgb.get(), format, INTENT_RELATIVE_COLORIMETRIC,
                                 cmsFLAGS_COPY_ALPHA));
  if (!t) return img;
  cv::Mat out(img.mat().size(), img.mat().type());
  cv::parallel_for_(cv::Range(0, out.rows), [&](const cv::Range& rows) {
    for (int y = rows.start; y < rows.end; ++y) {
      cmsDoTransform(t.get(), img.mat().ptr(y), out.ptr(y), cmsUInt32Number(out.cols));
    }
  });
  return Image(out);
}

}  // namespace atelier::image
