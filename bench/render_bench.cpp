// Renderer speed on a busy 1080×1920 story page: 30 blocks — texts of several sizes and
// styles (wrapped, justified, shrink-to-fit, letter-spaced, rotated, on a filled box),
// four photos (skimage samples: cover with a focus point, contain, fill, rounded, rotated,
// half transparent), shapes of every kind, a half-transparent group.
//   render_bench [out.png]   (keeps the rendered page there)
// Prints JSON: median times over 20 runs (after a warm-up render that fills the font and
// image caches) of render_page() and of render_to_file(".png"); where the time goes
// (the page with only its shapes / texts / photos; cairo's drawing alone; premultiplied →
// straight RGBA; PNG encoding with the settings used and with the alternatives).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "timing.h"
#include "core/files.h"
#include "design/render_internal.h"
#include "design/renderer.h"

using namespace atelier;
using namespace atelier::design;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kSamples = "/usr/lib/python3/dist-packages/skimage/data/";

struct Builder {
  Scene scene;
  BlockId page_id = 0;

  Block& add(BlockId parent, BlockType type, double x, double y, double w, double h) {
    Block b;
    b.id = scene.next_id();
    b.type = type;
    b.parent = parent;
    b.x = x;
    b.y = y;
    b.width = w;
    b.height = h;
    scene.blocks[parent].children.push_back(b.id);
    return scene.blocks[b.id] = b;
  }
  Block& text(BlockId parent, double x, double y, double w, double h, const std::string& s, double size,
              TextAlign align = TextAlign::kLeft) {
    Block& b = add(parent, BlockType::kText, x, y, w, h);
    b.text.content = s;
    b.text.font_size = size;
    b.text.align = align;
    return b;
  }
  Block& photo(double x, double y, double w, double h, const std::string& file, ImageFit fit) {
    Block& b = add(page_id, BlockType::kImage, x, y, w, h);
    b.image.source = kSamples + file;
    b.image.fit = fit;
    return b;
  }
  Block& shape(BlockId parent, ShapeKind kind, double x, double y, double w, double h, Color fill) {
    Block& b = add(parent, BlockType::kShape, x, y, w, h);
    b.shape.shape = kind;
    b.fill = {true, fill};
    return b;
  }
};

Scene story_page() {
  Builder s;
  Block page;
  page.id = 1;
  page.type = BlockType::kPage;
  page.width = 1080;
  page.height = 1920;
  page.fill = {true, Color{0.98f, 0.96f, 0.92f, 1}};
  s.scene.pages.push_back(1);
  s.scene.blocks[1] = page;
  s.page_id = 1;
  const BlockId p = 1;
  const Color ink{0.12f, 0.12f, 0.16f, 1}, accent{0.85f, 0.25f, 0.2f, 1}, teal{0.1f, 0.55f, 0.6f, 1};

  // Background decoration.
  s.shape(p, ShapeKind::kRect, 0, 0, 1080, 640, Color{0.93f, 0.88f, 0.8f, 1});                            // 1
  s.shape(p, ShapeKind::kEllipse, 760, -120, 460, 460, Color{0.98f, 0.8f, 0.5f, 0.6f});                  // 2
  // Photos.
  Block& hero = s.photo(60, 120, 960, 720, "astronaut.png", ImageFit::kCover);                           // 3
  hero.image.focus_y = 0.3;
  hero.corner_radius = 32;
  Block& cat = s.photo(60, 1180, 480, 360, "chelsea.png", ImageFit::kCover);                             // 4
  cat.rotation = -4;
  cat.stroke = {true, Color{1, 1, 1, 1}, 12};
  Block& coffee = s.photo(580, 1180, 440, 360, "coffee.png", ImageFit::kContain);                        // 5
  coffee.fill = {true, Color{1, 1, 1, 1}};
  Block& rocket = s.photo(820, 1580, 200, 300, "rocket.jpg", ImageFit::kFill);                           // 6
  rocket.opacity = 0.7;
  // Headline, subtitle, body.
  Block& h1 = s.text(p, 60, 880, 960, 130, "Space Market", 110, TextAlign::kCenter);              // 7
  h1.text.font_weight = 700;
  h1.text.color = ink;
  Block& h2 = s.text(p, 60, 1010, 960, 60, "Telescopes, coffee & cats — all day Saturday", 40,
                     TextAlign::kCenter);                                                                // 8
  h2.text.font_style = FontStyle::kItalic;
  h2.text.color = teal;
  Block& body = s.text(p, 60, 1590, 720, 200,
                       "Join us under the dome for a day of stargazing, talks and fresh coffee. Bring your "
                       "own telescope or borrow one of ours; volunteers will help you find Saturn's rings.\n"
                       "Doors open at 10 am. Free entry for children under twelve.",
                       28, TextAlign::kJustify);                                                          // 9
  body.text.color = ink;
  body.text.line_height = 1.4;
  Block& fit = s.text(p, 60, 1080, 960, 80,
                      "A long strap line that is far too long for its box and has to shrink to fit in two lines",
                      48, TextAlign::kCenter);                                                            // 10
  fit.text.auto_fit = AutoFit::kShrink;
  Block& spaced = s.text(p, 60, 60, 600, 50, "ISSUE 42 · JUNE", 24);                                     // 11
  spaced.text.letter_spacing = 8;
  spaced.text.font_weight = 600;
  Block& badge = s.text(p, 780, 760, 240, 64, "FREE ENTRY", 32, TextAlign::kCenter);                     // 12
  badge.fill = {true, accent};
  badge.corner_radius = 32;
  badge.text.color = Color{1, 1, 1, 1};
  badge.text.font_weight = 700;
  badge.rotation = 8;
  Block& cap1 = s.text(p, 60, 1548, 480, 30, "Chelsea, our resident cat", 18);                           // 13
  cap1.text.font_style = FontStyle::kItalic;
  s.text(p, 580, 1548, 440, 30, "Single origin, roasted on site", 18, TextAlign::kRight);                // 14
  Block& side = s.text(p, 1000, 1000, 600, 40, "www.example.org/space-market", 22, TextAlign::kCenter);  // 15
  side.rotation = 90;
  side.x = 1040 - 300;
  side.y = 1420 - 20;
  Block& footer = s.text(p, 60, 1866, 720, 40, "Observatory Hill · 10:00–22:00 · Tickets at the door", 24); // 16
  footer.text.auto_fit = AutoFit::kGrowHeight;
  // Shapes of every kind.
  Block& r = s.shape(p, ShapeKind::kRect, 40, 1160, 1000, 400, Color{0, 0, 0, 0});                       // 17
  r.fill.enabled = false;
  r.stroke = {true, teal, 3};
  r.corner_radius = 24;
  Block& star = s.shape(p, ShapeKind::kStar, 880, 40, 140, 140, accent);                                  // 18
  star.shape.points = 7;
  star.shape.inner_radius = 0.55;
  star.rotation = 12;
  Block& hex = s.shape(p, ShapeKind::kPolygon, 700, 40, 140, 140, teal);                                  // 19
  hex.shape.points = 6;
  hex.stroke = {true, Color{1, 1, 1, 1}, 6};
  hex.opacity = 0.8;
  Block& tri = s.shape(p, ShapeKind::kPolygon, 30, 830, 80, 70, accent);                                  // 20
  tri.shape.points = 3;
  Block& line1 = s.shape(p, ShapeKind::kLine, 60, 1170, 960, 0, ink);                                     // 21
  line1.y = 1168;
  line1.stroke = {true, ink, 2};
  Block& line2 = s.shape(p, ShapeKind::kLine, 800, 1590, 0, 300, ink);                                    // 22
  line2.stroke = {true, ink, 1};
  s.shape(p, ShapeKind::kEllipse, 950, 1840, 60, 60, teal);                                               // 23
  // A half-transparent group: a ribbon of dots and a label.
  Block& group = s.add(p, BlockType::kGroup, 60, 1800, 480, 60);                                          // 24
  group.opacity = 0.6;
  const BlockId g = group.id;
  for (int i = 0; i < 5; ++i) {                                                                            // 25-29
    s.shape(g, i % 2 ? ShapeKind::kEllipse : ShapeKind::kStar, 60 + i * 60, 1806, 48, 48, i % 2 ? teal : accent);
  }
  s.text(g, 380, 1810, 200, 40, "5 stars", 28).text.font_weight = 700;                                   // 30
  return std::move(s.scene);
}

// The page with only the blocks `keep` accepts (groups kept when any child is).
Scene only(const Scene& scene, const std::function<bool(const Block&)>& keep) {
  Scene out = scene;
  for (auto& [id, b] : out.blocks) {
    if (b.type != BlockType::kPage && b.type != BlockType::kGroup && !keep(b)) b.visible = false;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const Scene scene = story_page();
  int blocks = 0;
  for (const auto& [id, b] : scene.blocks) blocks += b.type != BlockType::kPage;
  Result<TempDir> tmp = TempDir::create();
  if (!tmp.ok()) return std::fprintf(stderr, "%s\n", tmp.status().message().c_str()), 1;
  const std::filesystem::path out = argc > 1 ? std::filesystem::path(argv[1]) : tmp->path() / "page.png";

  auto t0 = Clock::now();
  Result<image::Image> first = render_page(scene, 0);  // warm-up: fonts, images
  const double first_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  if (!first.ok()) return std::fprintf(stderr, "%s\n", first.status().message().c_str()), 1;
  if (Status st = render_to_file(scene, out, 0); !st.ok()) return std::fprintf(stderr, "%s\n", st.message().c_str()), 1;

  const double page_ms = bench::median_ms([&] { (void)render_page(scene, 0); });
  const double png_ms = bench::median_ms([&] {
    if (Status st = render_to_file(scene, out, 0); !st.ok()) std::fprintf(stderr, "%s\n", st.message().c_str());
  });
  const double draw_ms = bench::median_ms([&] { (void)render_detail::render_page_surface(scene, 0, {}); });

  const Scene shapes = only(scene, [](const Block& b) { return b.type == BlockType::kShape; });
  const Scene texts = only(scene, [](const Block& b) { return b.type == BlockType::kText; });
  const Scene photos = only(scene, [](const Block& b) { return b.type == BlockType::kImage; });
  const Scene empty = only(scene, [](const Block&) { return false; });
  const double shapes_ms = bench::median_ms([&] { (void)render_detail::render_page_surface(shapes, 0, {}); });
  const double texts_ms = bench::median_ms([&] { (void)render_detail::render_page_surface(texts, 0, {}); });
  const double photos_ms = bench::median_ms([&] { (void)render_detail::render_page_surface(photos, 0, {}); });
  const double empty_ms = bench::median_ms([&] { (void)render_detail::render_page_surface(empty, 0, {}); });

  // PNG encoders on the same drawn page (nothing is re-drawn). OpenCV's (libpng) needs
  // straight BGR(A) pixels: its times include that conversion from the rendered RGBA page.
  auto surface = render_detail::render_page_surface(scene, 0, {});
  if (!surface.ok()) return 1;
  cairo_surface_t* s = surface->get();
  std::size_t bytes_used = 0, bytes_cairo = 0, bytes_cv1 = 0, bytes_cvfast = 0;
  auto ours_ms = [&](int level, std::size_t* size) {
    return bench::median_ms([&] {
      auto bytes = render_detail::encode_png(s, level);
      if (size != nullptr && bytes.ok()) *size = bytes->size();
    });
  };
  const cv::Mat rgba = first->mat();
  auto opencv_ms = [&](std::vector<int> params, std::size_t* size) {
    return bench::median_ms([&] {
      cv::Mat bgr;
      cv::cvtColor(rgba, bgr, cv::COLOR_RGBA2BGR);  // the page is opaque
      std::vector<std::uint8_t> bytes;
      cv::imencode(".png", bgr, bytes, params);
      if (size != nullptr) *size = bytes.size();
    });
  };
  const double enc_used = ours_ms(image::kPngLevel, &bytes_used);
  const double cv_l1 = opencv_ms({cv::IMWRITE_PNG_COMPRESSION, 1}, &bytes_cv1);
  const double cv_fast = opencv_ms({}, &bytes_cvfast);
  const double enc_cairo = bench::median_ms([&] {
    std::vector<std::uint8_t> v;
    cairo_surface_write_to_png_stream(
        s,
        [](void* c, const unsigned char* d, unsigned int n) {
          auto* out = static_cast<std::vector<std::uint8_t>*>(c);
          out->insert(out->end(), d, d + n);
          return CAIRO_STATUS_SUCCESS;
        },
        &v);
    bytes_cairo = v.size();
  });

  std::printf(
      "{\"page\": \"1080x1920\", \"blocks\": %d, \"runs\": %d, \"first_render_ms\": %.1f,\n"
      " \"render_page_ms\": %.2f, \"render_to_file_png_ms\": %.2f,\n"
      " \"breakdown\": {\"draw_ms\": %.2f, \"to_rgba_ms\": %.2f, \"png_encode_ms\": %.2f, \"write_ms\": %.2f},\n"
      " \"draw_only\": {\"background_ms\": %.2f, \"shapes_ms\": %.2f, \"texts_ms\": %.2f, \"photos_ms\": %.2f},\n"
      " \"png_encode_ms\": {\"atelier_level_%d\": %.2f, "
      "\"opencv_level_1\": %.2f, \"opencv_fastest\": %.2f, \"cairo\": %.2f},\n"
      " \"png_bytes\": {\"atelier\": %zu, \"opencv_level_1\": %zu, \"opencv_fastest\": %zu, \"cairo\": %zu},\n"
      " \"out\": \"%s\"}\n",
      blocks, bench::kRuns, first_ms, page_ms, png_ms, draw_ms, page_ms - draw_ms, enc_used, png_ms - draw_ms - enc_used,
      empty_ms, shapes_ms, texts_ms, photos_ms, image::kPngLevel, enc_used, cv_l1, cv_fast,
      enc_cairo, bytes_used, bytes_cv1, bytes_cvfast, bytes_cairo, argc > 1 ? out.c_str() : "(temporary)");
  return 0;
}
