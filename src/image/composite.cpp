#include "image/composite.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <string>
#include <vector>

#include "image/image.h"
#include "image/runs.h"

namespace atelier::image {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = char(std::tolower(static_cast<unsigned char>(c)));
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// v in [0,1] (clamped) to 0..scale, rounded half up: lround without the libm call (for
// non-negative values they agree, up to the float rounding of v·scale + 0.5 within 2⁻²⁴
// of a half).
template <typename T>
T to_int(float v, float scale) {
  return T(std::clamp(v, 0.f, 1.f) * scale + 0.5f);
}

template <typename T>
void store(T* px, const Rgba& c, int channels, float scale) {
  px[0] = to_int<T>(c.r, scale);
  px[1] = to_int<T>(c.g, scale);
  px[2] = to_int<T>(c.b, scale);
  if (channels == 4) px[3] = to_int<T>(c.a, scale);
}

template <typename T>
void composite_rows(const cv::Mat& fg, const cv::Mat& alpha, const Backdrop& back, cv::Mat& out, float scale) {
  const int channels = out.channels();
  // Over a solid colour with an RGB foreground of the output's depth, opaque pixels are the
  // foreground's own values and transparent ones the backdrop's: both copied, not computed
  // (the arithmetic gives exactly these values).
  const bool copy_ends = back.image.empty() && fg.channels() == 3 && fg.depth() == out.depth();
  T clear[4] = {};
  store(clear, over({0, 0, 0, 0}, back.color), channels, scale);
  const T opaque = T(scale);
  cv::parallel_for_(cv::Range(0, fg.rows), [&](const cv::Range& rows) {
    std::vector<float> frow(std::size_t(fg.cols) * 3), brow(back.image.empty() ? 0 : std::size_t(fg.cols) * 3);
    for (int y = rows.start; y < rows.end; ++y) {
      const float* a = alpha.ptr<float>(y);
      T* o = out.ptr<T>(y);
      if (copy_ends) {
        const T* src = fg.ptr<T>(y);
        auto blend_run = [&](int x0, int x1) {
          read_rgb_row(fg, y, frow.data(), x0, x1);
          for (int x = x0; x < x1; ++x) {
            const float ax = std::clamp(a[x], 0.f, 1.f);
            if (ax <= 0.f || ax >= 1.f) continue;
            const Rgba front{frow[3 * std::size_t(x)], frow[3 * std::size_t(x) + 1], frow[3 * std::size_t(x) + 2], ax};
            store(o + channels * x, over(front, back.color), channels, scale);
          }
        };
        for (int x = 0; x < fg.cols; ++x) {
          T* px = o + channels * x;
          if (a[x] >= 1.f) {
            px[0] = src[3 * x], px[1] = src[3 * x + 1], px[2] = src[3 * x + 2];
            if (channels == 4) px[3] = opaque;
          } else if (a[x] <= 0.f) {
            std::copy_n(clear, channels, px);
          }
        }
        for_each_run(fg.cols, [&](int x) { return !(a[x] >= 1.f) && !(a[x] <= 0.f); }, 32, blend_run);
        continue;
      }
      read_rgb_row(fg, y, frow.data());
      const float* f = frow.data();
      const float* bi = nullptr;
      if (!back.image.empty()) {
        read_rgb_row(back.image, y, brow.data());
        bi = brow.data();
      }
      const float* ba = back.alpha.empty() ? nullptr : back.alpha.ptr<float>(y);
      for (int x = 0; x < fg.cols; ++x) {
        Rgba front{f[3 * x], f[3 * x + 1], f[3 * x + 2], std::clamp(a[x], 0.f, 1.f)};
        Rgba behind = back.color;
        if (bi) behind = Rgba{bi[3 * x], bi[3 * x + 1], bi[3 * x + 2], ba ? ba[x] : 1.f};
        store(o + channels * x, over(front, behind), channels, scale);
      }
    }
  });
}

}  // namespace

Result<Rgba> parse_color(std::string_view text) {
  static const std::array<std::pair<std::string_view, Rgba>, 7> kNames = {{
      {"white", {1, 1, 1, 1}}, {"black", {0, 0, 0, 1}}, {"transparent", {0, 0, 0, 0}},
      {"red", {1, 0, 0, 1}}, {"green", {0, 128.f / 255, 0, 1}}, {"blue", {0, 0, 1, 1}},
      {"gray", {128.f / 255, 128.f / 255, 128.f / 255, 1}},
  }};
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  for (const auto& [name, c] : kNames) {
    if (lower == name) return c;
  }
  std::string_view h = text;
  if (!h.empty() && h[0] == '#') h.remove_prefix(1);
  auto bad = [&] {
    return invalid_argument("bad colour '" + std::string(text) + "' (expected #RRGGBB, #RRGGBBAA or a name such as white)");
  };
  if (h.size() != 6 && h.size() != 8) return bad();
  float v[4] = {0, 0, 0, 1};
  for (std::size_t i = 0; i < h.size() / 2; ++i) {
    int hi = hex_value(h[2 * i]), lo = hex_value(h[2 * i + 1]);
    if (hi < 0 || lo < 0) return bad();
    v[i] = float(hi * 16 + lo) / 255.f;
  }
  return Rgba{v[0], v[1], v[2], v[3]};
}

Rgba over(const Rgba& f, const Rgba& b) {
  const float keep = b.a * (1.f - f.a);  // share of the back layer that shows through
  const float a = f.a + keep;
  if (a <= 0.f) return {0, 0, 0, 0};
  return {(f.r * f.a + b.r * keep) / a, (f.g * f.a + b.g * keep) / a, (f.b * f.a + b.b * keep) / a, a};
}

cv::Mat composite_over(const cv::Mat& fg, const cv::Mat& alpha, const Backdrop& back, int out_depth, bool opaque_out) {
  CV_Assert(alpha.type() == CV_32FC1 && fg.size() == alpha.size());
  CV_Assert(back.image.empty() || back.image.size() == fg.size());
  CV_Assert(back.alpha.empty() || (back.alpha.type() == CV_32FC1 && back.alpha.size() == fg.size()));
  const int channels = opaque_out ? 3 : 4;
  cv::Mat out(fg.size(), CV_MAKETYPE(out_depth, channels));
  if (out_depth == CV_16U) composite_rows<std::uint16_t>(fg, alpha, back, out, 65535.f);
  else composite_rows<std::uint8_t>(fg, alpha, back, out, 255.f);
  return out;
}

}  // namespace atelier::image
