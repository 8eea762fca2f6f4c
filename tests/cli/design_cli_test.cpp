// `atelier render` and `atelier design info|set` on the example designs.
#include <gtest/gtest.h>

#include "design/scene_json.h"
#include "image/codec.h"
#include "support/test_support.h"

namespace atelier {
namespace {
namespace fs = std::filesystem;
using testing::run_atelier;

fs::path example(const std::string& name) { return fs::path(ATELIER_SOURCE_DIR) / "examples" / "designs" / (name + ".json"); }

const char* kExamples[] = {"instagram-story", "youtube-thumbnail", "a4-event-poster",
                           "business-card",   "product-sale-banner", "linkedin-post"};

TEST(DesignCli, EveryExampleLoadsCleanAndIsCanonical) {
  for (const char* name : kExamples) {
    auto loaded = design::load_scene(example(name));
    ASSERT_TRUE(loaded.ok()) << name << ": " << loaded.status().message();
    EXPECT_TRUE(loaded->warnings.empty()) << name << ": " << loaded->warnings.front();
    // Named blocks with role tags: every example has a headline and a logo or photo.
    bool headline = false, logo_or_photo = false;
    for (const auto& [id, b] : loaded->scene.blocks) {
      EXPECT_FALSE(b.name.empty()) << name << " block " << id;
      headline |= b.kind == "headline";
      logo_or_photo |= b.kind == "logo" || b.kind == "photo";
    }
    EXPECT_TRUE(headline && logo_or_photo) << name;
    auto text = read_file(example(name), 1 << 20);
    ASSERT_TRUE(text.ok());
    EXPECT_EQ(std::string(text->begin(), text->end()), design::scene_to_json(loaded->scene)) << name << " is not canonical";
  }
}

TEST(DesignCli, RendersPngPdfAndSvgOfTheExpectedSizes) {
  TempDir dir = testing::temp_dir();
  struct Case {
    const char* name;
    int w, h;
  } cases[] = {{"instagram-story", 1080, 1920}, {"youtube-thumbnail", 1280, 720}, {"business-card", 1050, 600}};
  for (const auto& c : cases) {
    const fs::path png = dir.path() / (std::string(c.name) + ".png");
    ProcessResult r = run_atelier({"render", example(c.name).string(), "-o", png.string(), "--scale", "0.5", "-q"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto img = image::read_image(png);
    ASSERT_TRUE(img.ok());
    EXPECT_EQ(img->width(), c.w / 2) << c.name;
    EXPECT_EQ(img->height(), c.h / 2) << c.name;
  }
  const fs::path pdf = dir.path() / "poster.pdf";
  ProcessResult r = run_atelier({"render", example("a4-event-poster").string(), "-o", pdf.string(), "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto info = run_process({"pdfinfo", pdf.string()});
  ASSERT_TRUE(info.ok());
  EXPECT_NE(info->out.find("Pages:           1\n"), std::string::npos) << info->out;
  EXPECT_NE(info->out.find("595 x 842 pts (A4)"), std::string::npos) << info->out;
  const fs::path svg = dir.path() / "banner.svg";
  r = run_atelier({"render", example("product-sale-banner").string(), "-o", svg.string(), "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto text = read_file(svg, 64 << 20);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(std::string(text->begin(), text->end()).find("<svg"), std::string::npos);

  r = run_atelier({"render", example("business-card").string(), "-o", (dir.path() / "x.gif").string()});
  EXPECT_EQ(r.exit_code, 2);
  r = run_atelier({"render", example("business-card").string(), "-o", (dir.path() / "x.png").string(), "--page", "3"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "atelier: --page 3: " + example("business-card").string() + " has 1 page\n");
}

TEST(DesignCli, InfoListsBlocksAndSetEditsOne) {
  TempDir dir = testing::temp_dir();
  ProcessResult r = run_atelier({"design", "info", example("instagram-story").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Headline"), std::string::npos);
  EXPECT_NE(r.out.find("headline"), std::string::npos);
  EXPECT_NE(r.out.find("Reach for the stars"), std::string::npos);

  const fs::path out = dir.path() / "edited.json";
  r = run_atelier({"design", "set", example("instagram-story").string(), "8", "text=Reach for the Moon", "x=80",
                   "text_color=#FF0000", "-o", out.string(), "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto edited = design::load_scene(out);
  ASSERT_TRUE(edited.ok());
  const design::Block* b = edited->scene.find(8);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->text.content, "Reach for the Moon");
  EXPECT_EQ(b->x, 80);
  EXPECT_EQ(design::color_to_hex(b->text.color), "#FF0000");

  r = run_atelier({"design", "set", example("instagram-story").string(), "8", "opacity=2", "-o", out.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "atelier: " + example("instagram-story").string() + ": block 8: opacity must be within 0..1, got 2\n");
  r = run_atelier({"design", "set", example("instagram-story").string(), "999", "x=1", "-o", out.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "atelier: " + example("instagram-story").string() + ": no block 999\n");
  r = run_atelier({"design", "set", example("instagram-story").string(), "8", "colour=red", "-o", out.string()});
  EXPECT_EQ(r.err, "atelier: " + example("instagram-story").string() + ": block 8: unknown property 'colour'\n");
  // The failed edits left the earlier output as it was.
  EXPECT_EQ(design::load_scene(out)->scene.find(8)->text.content, "Reach for the Moon");
}

}  // namespace
}  // namespace atelier
