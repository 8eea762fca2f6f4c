#include "vision/background.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>

#include <opencv2/imgproc.hpp>

namespace atelier::vision {

bool Background::opaque() const {
  switch (kind) {
    case Kind::kTransparent: return false;
    case Kind::kColor: return color.a >= 1.f;
    case Kind::kImage: return !image.has_alpha();
    case Kind::kBlur: return true;
  }
  return false;
}

Result<Background> parse_background(std::string_view spec, const image::DecodeLimits& limits) {
  Background bg;
  if (spec.empty() || spec == "transparent" || spec == "none") return bg;
  if (spec == "blur" || spec.rfind("blur=", 0) == 0) {
    bg.kind = Background::Kind::kBlur;
    if (spec.size() > 5) {
      std::string_view v = spec.substr(5);
      float r = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), r);
      if (ec != std::errc() || p != v.data() + v.size() || !(r > 0) || r > 1000) {
        return invalid_argument("bad blur radius '" + std::string(v) + "' (expected a number of pixels in (0, 1000])");
      }
      bg.blur_radius = r;
    }
    return bg;
  }
  if (auto c = image::parse_color(spec); c.ok()) {
    bg.kind = Background::Kind::kColor;
    bg.color = *c;
    return bg;
  }
  std::error_code ec;
  if (!std::filesystem::exists(std::string(spec), ec) && (spec[0] == '#' || spec.find('.') == std::string_view::npos)) {
    return invalid_argument("bad background '" + std::string(spec) +
                            "' (expected transparent, #RRGGBB, a colour name, blur[=RADIUS] or an image file)");
  }
  ATELIER_ASSIGN_OR_RETURN(bg.image, image::read_image(std::string(spec), limits));
  bg.kind = Background::Kind::kImage;
  bg.source = std::string(spec);
  return bg;
}

namespace {

// `img` scaled to cover `size` (aspect kept), centred and cropped.
cv::Mat cover(const cv::Mat& img, cv::Size size) {
  const double s = std::max(double(size.width) / img.cols, double(size.height) / img.rows);
  cv::Size scaled(std::max(size.width, int(std::ceil(img.cols * s))), std::max(size.height, int(std::ceil(img.rows * s))));
  cv::Mat resized;
  cv::resize(img, resized, scaled, 0, 0, s < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  cv::Rect roi((scaled.width - size.width) / 2, (scaled.height - size.height) / 2, size.width, size.height);
  return resized(roi).clone();
}

// Normalised convolution: blur(I·(1−α)) / blur(1−α), computed at a reduced scale (a wide
// Gaussian is smooth) and upsampled.
cv::Mat blurred_without_subject(const image::Image& photo, const cv::Mat& alpha, float radius) {
  const cv::Size full(photo.width(), photo.height());
  const float sigma = radius > 0 ? radius : std::max(2.f, float(std::max(full.width, full.height)) / 50.f);
  const double f = std::max(1.0, sigma / 4.0);
  const cv::Size small(std::max(1, int(std::lround(full.width / f))), std::max(1, int(std::lround(full.height / f))));
  cv::Mat rgb(small, CV_32FC3), img_small, weight;
  cv::resize(photo.mat(), img_small, small, 0, 0, cv::INTER_AREA);
  for (int y = 0; y < small.height; ++y) image::read_rgb_row(img_small, y, rgb.ptr<float>(y));
  cv::resize(alpha, weight, small, 0, 0, cv::INTER_AREA);
  cv::subtract(1.0, weight, weight);
  const double s = sigma / f;
  cv::Mat num, den, plain;
  std::vector<cv::Mat> w3(3, weight);
  cv::Mat weight3;
  cv::merge(w3, weight3);
  cv::GaussianBlur(rgb.mul(weight3), num, cv::Size(), s, s, cv::BORDER_REFLECT);
  cv::GaussianBlur(weight, den, cv::Size(), s, s, cv::BORDER_REFLECT);
  cv::GaussianBlur(rgb, plain, cv::Size(), s, s, cv::BORDER_REFLECT);
  cv::Mat out(small, CV_32FC3);
  for (int y = 0; y < small.height; ++y) {
    const cv::Vec3f* n = num.ptr<cv::Vec3f>(y);
    const float* d = den.ptr<float>(y);
    const cv::Vec3f* p = plain.ptr<cv::Vec3f>(y);
    cv::Vec3f* o = out.ptr<cv::Vec3f>(y);
    for (int x = 0; x < small.width; ++x) {
      // Where the subject covers the whole neighbourhood, fall back to the plain blur.
      const float t = std::clamp(d[x] / 0.05f, 0.f, 1.f);
      o[x] = t * (n[x] / std::max(d[x], 1e-6f)) + (1.f - t) * p[x];
    }
  }
  cv::Mat up;
  cv::resize(out, up, full, 0, 0, cv::INTER_LINEAR);
  cv::Mat result;
  up.convertTo(result, photo.depth() == CV_16U ? CV_16U : CV_8U, photo.depth() == CV_16U ? 65535.0 : 255.0);
  return result;
}

}  // namespace

image::Backdrop make_backdrop(const Background& bg, const image::Image& photo, const cv::Mat& alpha) {
  image::Backdrop back;
  const cv::Size size(photo.width(), photo.height());
  switch (bg.kind) {
    case Background::Kind::kTransparent: back.color = {0, 0, 0, 0}; break;
    case Background::Kind::kColor: back.color = bg.color; break;
    case Background::Kind::kImage: {
      cv::Mat covered = cover(bg.image.mat(), size);
      if (bg.image.has_alpha()) {
        std::vector<cv::Mat> ch;
        cv::split(covered, ch);
        const double scale = covered.depth() == CV_16U ? 1.0 / 65535 : covered.depth() == CV_8U ? 1.0 / 255 : 1.0;
        ch[3].convertTo(back.alpha, CV_32F, scale);
        ch.pop_back();
        cv::merge(ch, covered);
      }
      back.image = covered;
      break;
    }
    case Background::Kind::kBlur: back.image = blurred_without_subject(photo, alpha, bg.blur_radius); break;
  }
  return back;
}

}  // namespace atelier::vision
