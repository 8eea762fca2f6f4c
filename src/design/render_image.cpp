// Image blocks: decoding (image_source.h: read_image_source) into cairo surfaces, a process-wide cache of
// decoded images, fitting (cover / contain / fill) and the missing-image placeholder.
//
// The cache holds decoded images already converted to cairo's premultiplied ARGB32, keyed
// by absolute path + modification time + size, and downscaled renditions of them (see
// draw_image), least recently used first out (at most kMaxEntries surfaces and kMaxBytes
// of pixels). A file that cannot be decoded is remembered with its reason (same key, which
// includes the decode limits), so a broken file is not decoded again at every render; a
// missing or unreadable file is not remembered (it may appear later). Decoding happens
// outside the lock.
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>

#include "design/image_source.h"
#include "design/render_internal.h"
#include "image/codec.h"

namespace atelier::design::render_detail {
namespace {

static_assert(std::endian::native == std::endian::little,
              "cairo ARGB32 is B,G,R,A in memory only on little-endian machines");

namespace fs = std::filesystem;

constexpr std::size_t kMaxEntries = 64;
constexpr std::size_t kMaxBytes = 512u << 20;

// Premultiplied ARGB32 surface of an 8/16-bit or float image with 1, 3 or 4 channels;
// nullptr when cairo cannot hold it.
SurfacePtr to_surface(const image::Image& img) {
  cv::Mat m = img.mat();
  if (m.empty()) return nullptr;
  if (m.depth() == CV_16U) {
    m.convertTo(m, CV_8U, 1.0 / 257.0);
  } else if (m.depth() == CV_32F) {
    m.convertTo(m, CV_8U, 255.0);
  } else if (m.depth() != CV_8U) {
    return nullptr;
  }
  SurfacePtr s(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, m.cols, m.rows));
  if (cairo_surface_status(s.get()) != CAIRO_STATUS_SUCCESS) return nullptr;
  cairo_surface_flush(s.get());
  cv::Mat dst(m.rows, m.cols, CV_8UC4, cairo_image_surface_get_data(s.get()),
              static_cast<std::size_t>(cairo_image_surface_get_stride(s.get())));
  cv::Mat out;  // written into dst's buffer (same size and type: no reallocation)
  switch (m.channels()) {
    case 1: out = dst; cv::cvtColor(m, out, cv::COLOR_GRAY2BGRA); break;
    case 3: out = dst; cv::cvtColor(m, out, cv::COLOR_RGB2BGRA); break;
    case 4: {
      cv::Mat premultiplied;
      cv::cvtColor(m, premultiplied, cv::COLOR_RGBA2mRGBA);
      out = dst;
      cv::cvtColor(premultiplied, out, cv::COLOR_RGBA2BGRA);
      break;
    }
    default: return nullptr;
  }
  if (out.data != dst.data) out.copyTo(dst);
  cairo_surface_mark_dirty(s.get());
  return s;
}

// A decoded image (or rendition) ready to draw, or why there is none.
struct Loaded {
  SurfacePtr surface;  // nullptr when `status` is an error
  Status status;
};

// Premultiplied surfaces keyed by file (path, mtime, size), the decode limits and, for
// downscaled renditions, the rendition's pixel size (0×0: the image as decoded).
class ImageCache {
 public:
  // A new reference to the decoded image at `path` (a regular file: the caller checked it
  // with check_image_source) — or, when `size` is not 0×0, to a rendition of it resized to
  // that many pixels — or the reason it cannot be drawn (image_source.h).
  Loaded get(const fs::path& path, const image::DecodeLimits& limits, cv::Size size = {}) {
    std::error_code ec;
    const auto mtime = fs::last_write_time(path, ec);
    const auto file_size = ec ? 0 : fs::file_size(path, ec);
    if (ec) return {nullptr, check_image_source(path.string(), {})};  // gone in between
    fs::path absolute = fs::absolute(path, ec);
    if (ec) absolute = path;
    const Key key{absolute.lexically_normal().string(), mtime, file_size, limits.max_pixels, limits.max_bytes, size};
    if (std::optional<Loaded> hit = find(key)) return std::move(*hit);
    Loaded loaded;
    if (size.area() == 0) {
      Result<image::Image> img = read_image_source(path.string(), {}, limits);
      if (img.ok()) {
        loaded.surface = to_surface(*img);
        if (!loaded.surface) {
          const std::string size = std::to_string(img->width()) + "x" + std::to_string(img->height());
          loaded.status = std::max(img->width(), img->height()) > 32767
                              ? resource_exhausted("image " + path.string() + ": too large to draw (" + size +
                                                   ", more than 32767 pixels a side)")
                              : invalid_argument("image " + path.string() + ": cannot be drawn (" + size +
                                                 ", unsupported pixel format)");
        }
      } else {
        loaded.status = img.status();
      }
    } else {
      loaded = get(path, limits);
      if (loaded.surface) {
        loaded.surface = resized(loaded.surface.get(), size);
        if (!loaded.surface) loaded.status = resource_exhausted("image " + path.string() + ": out of memory");
      }
    }
    // A missing or unreadable file is not remembered: it may appear (or be fixed) later.
    if (loaded.surface || (loaded.status.code() != StatusCode::kNotFound &&
                           loaded.status.code() != StatusCode::kPermissionDenied)) {
      insert(key, loaded);
    }
    return loaded;
  }

 private:
  struct Key {
    std::string path;
    fs::file_time_type mtime;
    std::uintmax_t file_size = 0;
    std::uint64_t max_pixels = 0;
    std::uint64_t max_bytes = 0;
    cv::Size size;
    bool operator==(const Key&) const = default;
  };
  struct Entry {
    Key key;
    SurfacePtr surface;  // nullptr: the file could not be decoded (`status` says why)
    Status status;
    std::size_t bytes = 0;
  };

  std::optional<Loaded> find(const Key& key) {
    std::lock_guard lock(mu_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->key == key) {
        entries_.splice(entries_.begin(), entries_, it);
        return Loaded{it->surface ? SurfacePtr(cairo_surface_reference(it->surface.get())) : nullptr, it->status};
      }
    }
    return std::nullopt;
  }

  void insert(const Key& key, const Loaded& loaded) {
    const SurfacePtr& surface = loaded.surface;
    std::size_t bytes = 64;
    if (surface) {
      bytes += std::size_t(cairo_image_surface_get_stride(surface.get())) *
               std::size_t(cairo_image_surface_get_height(surface.get()));
    }
    if (bytes > kMaxBytes) return;
    std::lock_guard lock(mu_);
    // Older versions of the file (and their renditions) are of no more use.
    std::erase_if(entries_, [&](const Entry& e) {
      if (e.key.path != key.path || (e.key.mtime == key.mtime && e.key.file_size == key.file_size &&
                                     (e.key.size != key.size || e.key.max_pixels != key.max_pixels ||
                                      e.key.max_bytes != key.max_bytes))) {
        return false;
      }
      bytes_ -= e.bytes;
      return true;
    });
    entries_.push_front(
        Entry{key, surface ? SurfacePtr(cairo_surface_reference(surface.get())) : nullptr, loaded.status, bytes});
    bytes_ += bytes;
    while (entries_.size() > kMaxEntries || bytes_ > kMaxBytes) {
      bytes_ -= entries_.back().bytes;
      entries_.pop_back();
    }
  }

  // Area-averaged downscale of a premultiplied surface (resampling premultiplied pixels is
  // what keeps transparent edges from darkening).
  static SurfacePtr resized(cairo_surface_t* full, cv::Size size) {
    cairo_surface_flush(full);
    cv::Mat src(cairo_image_surface_get_height(full), cairo_image_surface_get_width(full), CV_8UC4,
                cairo_image_surface_get_data(full), std::size_t(cairo_image_surface_get_stride(full)));
    SurfacePtr s(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, size.width, size.height));
    if (cairo_surface_status(s.get()) != CAIRO_STATUS_SUCCESS) return nullptr;
    cv::Mat dst(size, CV_8UC4, cairo_image_surface_get_data(s.get()), std::size_t(cairo_image_surface_get_stride(s.get())));
    cv::Mat out = dst;
    cv::resize(src, out, size, 0, 0, cv::INTER_AREA);
    if (out.data != dst.data) out.copyTo(dst);
    cairo_surface_mark_dirty(s.get());
    return s;
  }

  std::mutex mu_;
  std::list<Entry> entries_;  // most recently used first
  std::size_t bytes_ = 0;
};

ImageCache& image_cache() {
  static ImageCache* cache = new ImageCache;  // never destroyed: usable during exit
  return *cache;
}

void stroke_frame(cairo_t* cr, const Block& b, double alpha) {
  if (!b.stroke.enabled || !(b.stroke.width > 0)) return;
  rounded_rect_path(cr, 0, 0, b.width, b.height, b.corner_radius);
  cairo_set_line_width(cr, b.stroke.width);
  set_color(cr, b.stroke.color, alpha);
  cairo_stroke(cr);
}

}  // namespace

void draw_placeholder(cairo_t* cr, double w, double h, double radius, double alpha) {
  cairo_save(cr);
  rounded_rect_path(cr, 0, 0, w, h, radius);
  cairo_clip_preserve(cr);
  cairo_set_source_rgba(cr, 0.80, 0.80, 0.80, alpha);
  cairo_fill(cr);
  cairo_move_to(cr, 0, 0);
  cairo_line_to(cr, w, h);
  cairo_move_to(cr, w, 0);
  cairo_line_to(cr, 0, h);
  cairo_set_line_width(cr, std::max(1.0, std::min(w, h) / 100));
  cairo_set_source_rgba(cr, 0.55, 0.55, 0.55, alpha);
  cairo_stroke(cr);
  cairo_restore(cr);
}

void draw_image(cairo_t* cr, const Block& b, double alpha, const RenderOptions& options) {
  const double w = b.width, h = b.height;
  if (!(w > 0) || !(h > 0)) return;
  if (b.fill.enabled) {  // behind the image: shows around a contained one
    rounded_rect_path(cr, 0, 0, w, h, b.corner_radius);
    set_color(cr, b.fill.color, alpha);
    cairo_fill(cr);
  }
  SurfacePtr surface;
  fs::path source_path;
  const image::DecodeLimits limits = image::decode_limits(options.limits);
  if (!b.image.source.empty()) {
    // Checked before the cache is asked: a source that became a FIFO or a folder is never
    // opened, and a missing one is reported as missing.
    Status usable = check_image_source(b.image.source, options.base_dir);
    if (usable.ok()) {
      source_path = resolve_image_source(b.image.source, options.base_dir);
      Loaded loaded = image_cache().get(source_path, limits);
      surface = std::move(loaded.surface);
      usable = loaded.status;
    }
    if (!usable.ok() && options.report != nullptr) {
      options.report->issues.push_back({b.id, "block " + std::to_string(b.id) + ": " + usable.message()});
    }
  }
  if (!surface) {
    draw_placeholder(cr, w, h, b.corner_radius, alpha);
    stroke_frame(cr, b, alpha);
    return;
  }
  const double iw = cairo_image_surface_get_width(surface.get());
  const double ih = cairo_image_surface_get_height(surface.get());
  // Image point (u, v) lands on box point (ox + sx·u, oy + sy·v).
  double sx = w / iw, sy = h / ih, ox = 0, oy = 0;
  switch (b.image.fit) {
    case ImageFit::kFill: break;
    case ImageFit::kContain:
      sx = sy = std::min(sx, sy);
      ox = (w - sx * iw) / 2;
      oy = (h - sy * ih) / 2;
      break;
    case ImageFit::kCover: {
      sx = sy = std::max(sx, sy);
      // The visible window (in image pixels) is centred on the focus point, then pushed
      // back inside the image.
      const double ww = w / sx, wh = h / sy;
      const double fx = std::clamp(b.image.focus_x, 0.0, 1.0), fy = std::clamp(b.image.focus_y, 0.0, 1.0);
      ox = -std::clamp(fx * iw - ww / 2, 0.0, iw - ww) * sx;
      oy = -std::clamp(fy * ih - wh / 2, 0.0, ih - wh) * sy;
      break;
    }
  }
  cairo_save(cr);
  rounded_rect_path(cr, 0, 0, w, h, b.corner_radius);
  cairo_clip(cr);
  if (b.image.fit == ImageFit::kContain) {
    cairo_rectangle(cr, ox, oy, sx * iw, sy * ih);
    cairo_clip(cr);
  }
  // Drawing onto pixels at less than one image pixel per output pixel: draw a rendition
  // resized to the output size instead (cached), so that cairo only interpolates at about
  // 1:1 — much faster than its downscaling filter, and a large photo is reduced once.
  // Vector output (PDF, SVG) keeps the full image.
  cairo_matrix_t m;
  cairo_get_matrix(cr, &m);
  const double dev_x = std::hypot(m.xx, m.yx) * sx, dev_y = std::hypot(m.xy, m.yy) * sy;
  if ((dev_x < 0.99 || dev_y < 0.99) && cairo_surface_get_type(cairo_get_group_target(cr)) == CAIRO_SURFACE_TYPE_IMAGE) {
    const cv::Size size(int(std::clamp(std::ceil(iw * dev_x), 1.0, iw)), int(std::clamp(std::ceil(ih * dev_y), 1.0, ih)));
    if (SurfacePtr rendition = image_cache().get(source_path, limits, size).surface; rendition) {
      surface = std::move(rendition);
      sx *= iw / size.width;
      sy *= ih / size.height;
    }
  }
  cairo_translate(cr, ox, oy);
  cairo_scale(cr, sx, sy);
  cairo_set_source_surface(cr, surface.get(), 0, 0);
  cairo_pattern_t* pattern = cairo_get_source(cr);
  // PAD: edge pixels continue to the clip instead of fading into transparency.
  cairo_pattern_set_extend(pattern, CAIRO_EXTEND_PAD);
  cairo_pattern_set_filter(pattern, CAIRO_FILTER_GOOD);
  if (alpha >= 1) {
    cairo_paint(cr);
  } else {
    cairo_paint_with_alpha(cr, alpha);
  }
  cairo_restore(cr);
  stroke_frame(cr, b, alpha);
}

}  // namespace atelier::design::render_detail
