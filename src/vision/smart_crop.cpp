#include "vision/smart_crop.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>

#include <opencv2/imgproc.hpp>

#include "vision/analysis_cache.h"

namespace atelier::vision {
namespace {

using Clock = std::chrono::steady_clock;

bool parse_number(std::string_view s, double& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() && std::isfinite(v) && v > 0 && v <= 100000;
}

// Bilinear interpolation of the table at a fractional map position.
double table_at(const cv::Mat& t, double x, double y) {
  x = std::clamp(x, 0.0, double(t.cols - 1));
  y = std::clamp(y, 0.0, double(t.rows - 1));
  const int x0 = std::min(int(x), t.cols - 2), y0 = std::min(int(y), t.rows - 2);  // tables are ≥ 2×2
  const int x1 = std::min(x0 + 1, t.cols - 1), y1 = std::min(y0 + 1, t.rows - 1);
  const double fx = x - x0, fy = y - y0;
  const double top = t.at<double>(y0, x0) + fx * (t.at<double>(y0, x1) - t.at<double>(y0, x0));
  const double bottom = t.at<double>(y1, x0) + fx * (t.at<double>(y1, x1) - t.at<double>(y1, x0));
  return top + fy * (bottom - top);
}

struct Scored {
  cv::Rect rect;
  double score, kept, centre_distance;
  int faces_cut;       // faces sliced
  double faces_inside; // area of the faces' cores kept whole (0 unless preferred)
};

// A face's core, the part a window must not slice: its box inside the photo, shrunk on each
// side by ⌈tolerance × its size⌉ pixels (at least its middle pixel).
cv::Rect face_core(const cv::Rect& face, cv::Size photo, double tolerance) {
  const cv::Rect f = face & cv::Rect(0, 0, photo.width, photo.height);
  if (f.empty()) return {};
  auto axis = [&](int start, int size, int& a, int& b) {
    const int t = int(std::ceil(std::clamp(tolerance, 0.0, 0.49) * size - 1e-4));  // tolerance is a float
    a = start + t;
    b = start + size - t;
    if (b <= a) {
      a = start + size / 2;
      b = a + 1;
    }
  };
  int x0, x1, y0, y1;
  axis(f.x, f.width, x0, x1);
  axis(f.y, f.height, y0, y1);
  return {x0, y0, x1 - x0, y1 - y0};
}

enum class FaceFit { kOutside, kInside, kSliced };

// Where `core` lies for the window at (x, y) of size `win`.
FaceFit fit(const cv::Rect& core, int x, int y, cv::Size win) {
  if (x + win.width <= core.x || x >= core.x + core.width || y + win.height <= core.y || y >= core.y + core.height) {
    return FaceFit::kOutside;
  }
  if (x <= core.x && x + win.width >= core.x + core.width && y <= core.y && y + win.height >= core.y + core.height) {
    return FaceFit::kInside;
  }
  return FaceFit::kSliced;
}

// The face rank of a position, compared before the score: fewer faces sliced, then (when
// preferred) more face area inside.
bool better_faces(const Scored& a, const Scored& b) {
  return a.faces_cut < b.faces_cut || (a.faces_cut == b.faces_cut && a.faces_inside > b.faces_inside + 0.5);
}

// Best position of a w×h window (photo pixels): `table` sums the map, `excess` sums its
// saliency above the map's mean (what a border slicing through a subject cuts; on a
// uniform map nothing is cut anywhere). Positions rank by faces first (better_faces on
// `cores`; the area inside counts when `prefer_inside`), then by score.
Scored best_position(const cv::Mat& table, const cv::Mat& excess, double total, cv::Size photo, cv::Size win,
                     float border_penalty, const std::vector<cv::Rect>& cores, bool prefer_inside) {
  const double sx = double(table.cols - 1) / photo.width, sy = double(table.rows - 1) / photo.height;
  // Candidate offsets: about one per map pixel along each free axis, the last one, the
  // centred one (where ties go), and those that put a window edge on a face core's edge.
  // The positions that slice no face form rectangles in offset space whose corners lie on
  // these edges (or 0 and the last offset), so if one exists, a candidate is one.
  auto offsets = [&](int range, double per_map_pixel, bool horizontal) {
    std::vector<int> v;
    const int step = std::max(1, int(std::floor(1.0 / per_map_pixel)));
    for (int o = 0; o <= range; o += step) v.push_back(o);
    if (v.back() != range) v.push_back(range);
    v.push_back(range / 2);
    const int w = horizontal ? win.width : win.height;
    for (const cv::Rect& c : cores) {
      const int a = horizontal ? c.x : c.y, b = a + (horizontal ? c.width : c.height);
      for (int o : {a, b - w, a - w, b}) v.push_back(std::clamp(o, 0, range));
    }
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
  };
  const std::vector<int> xs = offsets(photo.width - win.width, sx, true);
  const std::vector<int> ys = offsets(photo.height - win.height, sy, false);
  const double strip_x = 1.0, strip_y = 1.0;  // one map pixel
  Scored best{{0, 0, win.width, win.height}, -1e300, 0, 1e300, std::numeric_limits<int>::max(), 0};
  for (int y : ys) {
    for (int x : xs) {
      Scored here{{x, y, win.width, win.height}, 0, 0, 0, 0, 0};
      for (const cv::Rect& c : cores) {
        const FaceFit f = fit(c, x, y, win);
        here.faces_cut += f == FaceFit::kSliced;
        if (f == FaceFit::kInside && prefer_inside) here.faces_inside += c.area();
      }
      if (better_faces(best, here)) continue;
      const double x0 = x * sx, x1 = (x + win.width) * sx, y0 = y * sy, y1 = (y + win.height) * sy;
      const double inside = area_sum(table, x0, y0, x1, y1);
      double cut = 0;
      if (x > 0) cut += area_sum(excess, x0, y0, x0 + strip_x, y1);
      if (x + win.width < photo.width) cut += area_sum(excess, x1 - strip_x, y0, x1, y1);
      if (y > 0) cut += area_sum(excess, x0, y0, x1, y0 + strip_y);
      if (y + win.height < photo.height) cut += area_sum(excess, x0, y1 - strip_y, x1, y1);
      const double kept = inside / total;
      const double score = kept - border_penalty * cut / total;
      const double dc = std::hypot(x + win.width / 2.0 - photo.width / 2.0, y + win.height / 2.0 - photo.height / 2.0);
      const double tol = 1e-9;
      if (better_faces(here, best) || score > best.score + tol ||
          (score > best.score - tol && dc < best.centre_distance)) {
        here.score = score;
        here.kept = kept;
        here.centre_distance = dc;
        best = here;
      }
    }
  }
  return best;
}

}  // namespace

const std::vector<CropPreset>& crop_presets() {
  static const std::vector<CropPreset> kPresets = {
      {"instagram-square", 1080, 1080, "Instagram post, square"},
      {"instagram-portrait", 1080, 1350, "Instagram post, portrait 4:5"},
      {"instagram-story", 1080, 1920, "Instagram story / reel, 9:16"},
      {"tiktok", 1080, 1920, "TikTok video cover, 9:16"},
      {"youtube-thumbnail", 1280, 720, "YouTube thumbnail, 16:9"},
      {"facebook-cover", 820, 312, "Facebook page cover"},
      {"facebook-post", 1200, 630, "Facebook link / post image, 1.91:1"},
      {"linkedin-post", 1200, 627, "LinkedIn shared image"},
      {"x-post", 1600, 900, "X (Twitter) post image, 16:9"},
      {"pinterest", 1000, 1500, "Pinterest pin, 2:3"},
  };
  return kPresets;
}

Result<Aspect> parse_aspect(std::string_view text) {
  for (const auto& p : crop_presets()) {
    if (text == p.name) {
      const int g = std::gcd(p.width, p.height);
      return Aspect{p.width / g, p.height / g, p.name};
    }
  }
  auto bad = [&] {
    return invalid_argument("bad aspect '" + std::string(text) +
                            "' (expected W:H with positive numbers such as 16:9, or a preset name: atelier crop --list-presets)");
  };
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return bad();
  double w = 0, h = 0;
  if (!parse_number(text.substr(0, colon), w) || !parse_number(text.substr(colon + 1), h)) return bad();
  // Keep integers as they are; scale decimal ratios (1.91:1) to integers.
  int scale = 1;
  while ((std::abs(w * scale - std::round(w * scale)) > 1e-9 || std::abs(h * scale - std::round(h * scale)) > 1e-9) &&
         scale < 10000) {
    scale *= 10;
  }
  Aspect a{int(std::lround(w * scale)), int(std::lround(h * scale)), ""};
  if (a.width <= 0 || a.height <= 0 || a.ratio() > 100 || a.ratio() < 0.01) return bad();
  const int g = std::gcd(a.width, a.height);
  a.width /= g;
  a.height /= g;
  a.name = std::string(text.substr(0, colon)) + "x" + std::string(text.substr(colon + 1));
  return a;
}

cv::Size largest_window(cv::Size photo, const Aspect& a) {
  const double r = a.ratio();
  int w, h;
  if (double(photo.width) / photo.height > r) {
    h = photo.height;
    w = std::clamp(int(std::lround(h * r)), 1, photo.width);
  } else {
    w = photo.width;
    h = std::clamp(int(std::lround(w / r)), 1, photo.height);
  }
  return {w, h};
}

cv::Mat summed_area_table(const cv::Mat& map) {
  cv::Mat t;
  cv::integral(map, t, CV_64F);
  return t;
}

double area_sum(const cv::Mat& t, double x0, double y0, double x1, double y1) {
  return table_at(t, x1, y1) - table_at(t, x0, y1) - table_at(t, x1, y0) + table_at(t, x0, y0);
}

std::vector<CropWindow> find_windows(const cv::Mat& map, cv::Size photo, std::span<const Aspect> aspects,
                                     const CropOptions& opt, std::span<const cv::Rect> faces) {
  CV_Assert(map.type() == CV_32FC1 && !map.empty());
  const cv::Mat table = summed_area_table(map);
  const double total = std::max(table.at<double>(table.rows - 1, table.cols - 1), 1e-12);
  cv::Mat above = map - cv::mean(map)[0];
  cv::max(above, 0.0, above);
  const cv::Mat excess = summed_area_table(above);
  std::vector<cv::Rect> cores;
  if (opt.keep_faces_whole) {
    for (const cv::Rect& f : faces) {
      if (const cv::Rect c = face_core(f, photo, opt.face_tolerance); !c.empty()) cores.push_back(c);
    }
  }
  std::vector<CropWindow> out;
  for (const Aspect& a : aspects) {
    const cv::Size largest = largest_window(photo, a);
    Scored chosen = best_position(table, excess, total, photo, largest, opt.border_penalty, cores,
                                  opt.prefer_faces_inside);
    const Scored at_largest = chosen;
    if (opt.min_scale < 1.0f) {
      const double target = opt.keep * chosen.kept;
      const int steps = std::max(1, opt.scale_steps);
      for (int i = 1; i <= steps; ++i) {
        const double s = 1.0 - (1.0 - std::clamp(double(opt.min_scale), 0.05, 1.0)) * i / steps;
        cv::Size win(std::max(1, int(std::lround(largest.width * s))), 0);
        win.height = std::clamp(int(std::lround(win.width / a.ratio())), 1, photo.height);
        Scored tighter = best_position(table, excess, total, photo, win, opt.border_penalty, cores,
                                       opt.prefer_faces_inside);
        if (tighter.kept >= target && !better_faces(at_largest, tighter)) chosen = tighter;
      }
    }
    out.push_back({a, chosen.rect, chosen.score, chosen.kept, chosen.faces_cut});
  }
  return out;
}

Result<CropResult> smart_crop(const image::Image& photo, std::span<const Aspect> aspects, const CropOptions& opt) {
  if (aspects.empty()) return invalid_argument("no aspect ratio to crop to");
  if (photo.empty()) return invalid_argument("empty image");
  CropResult result;
  auto t = Clock::now();
  ATELIER_ASSIGN_OR_RETURN(result.saliency, cached_saliency(photo, opt.saliency, image_key(photo)));
  result.analysis_seconds = std::chrono::duration<double>(Clock::now() - t).count();
  t = Clock::now();
  result.windows = find_windows(result.saliency.map, result.saliency.image_size, aspects, opt, result.saliency.faces);
  result.search_seconds = std::chrono::duration<double>(Clock::now() - t).count();
  return result;
}

Result<image::Image> render_crop(const image::Image& photo, const CropWindow& window, std::optional<cv::Size> size,
                                 bool allow_upscale) {
  const cv::Rect r = window.rect & cv::Rect(0, 0, photo.width(), photo.height());
  if (r != window.rect || r.area() == 0) return invalid_argument("crop window outside the image");
  cv::Mat crop = photo.mat()(r).clone();
  if (!size) return image::Image(crop);
  if ((size->width > r.width || size->height > r.height) && !allow_upscale) {
    return invalid_argument("the " + window.aspect.name + " crop is " + std::to_string(r.width) + "x" +
                            std::to_string(r.height) + " pixels, smaller than " + std::to_string(size->width) + "x" +
                            std::to_string(size->height) + "; add --allow-upscale to enlarge it");
  }
  cv::Mat out;
  const bool down = size->width <= r.width && size->height <= r.height;
  cv::resize(crop, out, *size, 0, 0, down ? cv::INTER_AREA : cv::INTER_CUBIC);
  return image::Image(out);
}

image::Image explain_crop(const image::Image& photo, const CropResult& result) {
  cv::Mat rgb = image::to_rgb8(photo).mat().clone();
  cv::Mat heat8, heat;
  result.saliency.map.convertTo(heat8, CV_8U, 255.0);
  cv::resize(heat8, heat8, rgb.size(), 0, 0, cv::INTER_LINEAR);
  cv::applyColorMap(heat8, heat, cv::COLORMAP_JET);  // BGR
  cv::cvtColor(heat, heat, cv::COLOR_BGR2RGB);
  cv::addWeighted(rgb, 0.5, heat, 0.5, 0, rgb);
  const int thickness = std::max(2, std::max(rgb.cols, rgb.rows) / 300);
  const double font = std::max(0.5, std::max(rgb.cols, rgb.rows) / 1200.0);
  static const cv::Scalar kColours[] = {{255, 255, 255}, {0, 255, 0}, {255, 0, 255}, {0, 255, 255}, {255, 255, 0}};
  for (std::size_t i = 0; i < result.windows.size(); ++i) {
    const CropWindow& w = result.windows[i];
    const cv::Scalar c = kColours[i % 5];
    cv::rectangle(rgb, w.rect, c, thickness);
    char label[128];
    std::snprintf(label, sizeof label, "%s %.0f%%", w.aspect.name.c_str(), 100 * w.kept);
    cv::putText(rgb, label, w.rect.tl() + cv::Point(thickness * 2, int(30 * font) + thickness * (2 + 2 * int(i))),
                cv::FONT_HERSHEY_SIMPLEX, font, c, std::max(1, thickness / 2), cv::LINE_AA);
  }
  for (const cv::Rect& f : result.saliency.faces) cv::rectangle(rgb, f, cv::Scalar(255, 64, 64), thickness);
  return image::Image(rgb);
}

}  // namespace atelier::vision
