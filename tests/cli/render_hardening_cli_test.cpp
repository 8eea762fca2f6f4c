// `atelier render` and `atelier design set` on hostile designs (issue 8): image sources
// that are not images, outputs that are the design's own files, sizes over the limits,
// page numbers, cut text. Every refusal is checked for its exact message, its exit code
// and that no file appeared or changed.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include <opencv2/imgcodecs.hpp>

#include "core/sha256.h"
#include "design/renderer.h"
#include "design/scene_json.h"
#include "image/codec.h"
#include "support/test_support.h"

namespace atelier {
namespace {
namespace fs = std::filesystem;
using testing::run_atelier;

// A one-page design whose image blocks (ids 2, 3, ...) show `sources`, and a text block 20.
std::string design_json(const std::vector<std::string>& sources, const std::string& text = "Hello",
                        double page_w = 200, double page_h = 100) {
  std::string children;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    children += "{\"id\": " + std::to_string(i + 2) + ", \"type\": \"image\", \"x\": " + std::to_string(i * 10) +
                ", \"width\": 10, \"height\": 10, \"source\": \"" + sources[i] + "\"},\n";
  }
  children += "{\"id\": 20, \"type\": \"text\", \"y\": 50, \"width\": 100, \"height\": 30, \"font_size\": 20, \"text\": \"" +
              text + "\"}";
  return "{\"format\": \"atelier-scene\", \"version\": 1, \"pages\": [{\"id\": 1, \"type\": \"page\", \"width\": " +
         std::to_string(page_w) + ", \"height\": " + std::to_string(page_h) + ", \"children\": [\n" + children + "]}]}\n";
}

void write_text(const fs::path& p, const std::string& s) { testing::write_bytes(p, std::vector<std::uint8_t>(s.begin(), s.end())); }

std::string hash(const fs::path& p) {
  auto bytes = read_file(p, 1 << 26);
  EXPECT_TRUE(bytes.ok()) << p;
  return bytes.ok() ? sha256_hex(*bytes) : "";
}

// A folder with d.json and photo.png (block 2's source).
struct Fixture {
  TempDir dir = testing::temp_dir();
  fs::path design = dir.path() / "d.json";
  fs::path photo = dir.path() / "photo.png";
  Fixture() {
    EXPECT_TRUE(image::write_image(photo, image::Image(testing::pattern_rgb(40, 30))).ok());
    write_text(design, design_json({"photo.png"}));
  }
  std::vector<std::string> files() const { return testing::listing(dir.path()); }
};

TEST(RenderHardeningCli, UnusableImageSourcesWarnWithTheReason) {
  TempDir dir = testing::temp_dir();
  const fs::path d = dir.path();
  fs::create_directories(d / "folder");
  ASSERT_EQ(::mkfifo((d / "pipe.png").c_str(), 0600), 0);
  std::vector<std::uint8_t> jpg;
  ASSERT_TRUE(cv::imencode(".jpg", testing::pattern_rgb(64, 64), jpg));
  std::vector<std::uint8_t> cut(jpg.begin(), jpg.begin() + jpg.size() / 2);
  cut.insert(cut.end(), {0xFF, 0xD9});
  testing::write_bytes(d / "cut.jpg", cut);
  const std::vector<std::string> sources = {"/etc/passwd", "/dev/zero", "/proc/self/environ", "folder",
                                            "pipe.png",    "http://127.0.0.1:9/a.png", "cut.jpg", "gone.png"};
  const fs::path design = d / "d.json";
  write_text(design, design_json(sources));
  const std::string p = d.string() + "/";
  const std::string w = "atelier: warning: " + design.string() + ": block ";
  const std::string expected = w + "2: image /etc/passwd: not an image (expected JPEG, PNG, WebP, TIFF or BMP)\n" +
                               w + "3: image /dev/zero: not a regular file (a device)\n" +
                               w + "4: image /proc/self/environ: not an image (empty file)\n" +
                               w + "5: image " + p + "folder: not a regular file (a folder)\n" +
                               w + "6: image " + p + "pipe.png: not a regular file (a FIFO)\n" +
                               w + "7: image http://127.0.0.1:9/a.png: URLs are not fetched\n" +
                               w + "8: image " + p + "cut.jpg: corrupt or truncated JPEG image (image data cut short)\n" +
                               w + "9: image " + p + "gone.png: no such file\n";
  const std::string before = hash(design);
  const fs::path out = d / "out.png";
  ProcessResult r = run_atelier({"render", design.string(), "-o", out.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, expected);
  EXPECT_TRUE(image::read_image(out).ok());
  fs::remove(out);

  // --strict: the same lines as errors, nothing written, exit 1.
  r = run_atelier({"render", design.string(), "-o", out.string(), "--strict"});
  EXPECT_EQ(r.exit_code, 1);
  std::string as_errors;
  for (std::size_t at = 0, nl; (nl = expected.find('\n', at)) != std::string::npos; at = nl + 1) {
    as_errors += "atelier: " + expected.substr(at + std::string("atelier: warning: ").size(), nl + 1 - at - 18);
  }
  EXPECT_EQ(r.err, as_errors + "atelier: " + out.string() + ": not written (--strict: 8 problems)\n");
  EXPECT_EQ(testing::listing(d), (std::vector<std::string>{"cut.jpg", "d.json", "folder", "pipe.png"}));
  EXPECT_EQ(hash(design), before);

  // -q: errors only.
  r = run_atelier({"render", design.string(), "-o", out.string(), "-q"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
  // design info names the reasons found without reading (no decoding).
  r = run_atelier({"design", "info", design.string()});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.err.find(": block 6: image " + p + "pipe.png: not a regular file (a FIFO)\n"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("/etc/passwd"), std::string::npos) << r.err;
}

TEST(RenderHardeningCli, OutputOntoTheDesignOrItsImagesIsRefused) {
  Fixture f;
  const fs::path d = f.dir.path();
  // A design whose name is also a render format: -o onto it passes the format check.
  const fs::path svg_design = d / "d.svg";
  fs::copy_file(f.design, svg_design);
  fs::create_directories(d / "sub");
  fs::create_symlink(f.photo, d / "link.png");
  fs::create_hard_link(f.photo, d / "hard.png");
  const std::string design_hash = hash(f.design), photo_hash = hash(f.photo);
  const auto files = f.files();
  struct Case {
    fs::path output;
    std::string message;
  } cases[] = {
      {svg_design, "-o " + svg_design.string() + ": refusing to overwrite the design"},
      {d / "sub" / ".." / "d.svg", "-o " + (d / "sub" / ".." / "d.svg").string() + ": refusing to overwrite the design " + svg_design.string()},
      {d / "." / "photo.png", "-o " + (d / "." / "photo.png").string() + ": refusing to overwrite the image of block 2 " + f.photo.string()},
      {d / "link.png", "-o " + (d / "link.png").string() + ": refusing to overwrite the image of block 2 " + f.photo.string()},
      {d / "hard.png", "-o " + (d / "hard.png").string() + ": refusing to overwrite the image of block 2 " + f.photo.string()},
      {d / "nodir" / "x.png", "-o " + (d / "nodir" / "x.png").string() + ": folder " + (d / "nodir").string() + " does not exist"},
  };
  for (const Case& c : cases) {
    ProcessResult r = run_atelier({"render", svg_design.string(), "-o", c.output.string()});
    EXPECT_EQ(r.exit_code, 2) << c.output;
    EXPECT_EQ(r.err, "atelier: " + c.message + "\n");
    EXPECT_EQ(r.out, "");
  }
  EXPECT_EQ(f.files(), files);
  EXPECT_EQ(hash(svg_design), design_hash);
  EXPECT_EQ(hash(f.photo), photo_hash);

  // design set: -o onto an image source is refused; -o onto the design itself is allowed
  // (it is what design set does without -o).
  ProcessResult r = run_atelier({"design", "set", f.design.string(), "20", "text=Hi", "-o", (d / "link.png").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "atelier: -o " + (d / "link.png").string() + ": refusing to overwrite the image of block 2 " +
                       f.photo.string() + "\n");
  // ... also when the edit itself points the block at the output.
  r = run_atelier({"design", "set", f.design.string(), "2", "source=new.png", "-o", (d / "new.png").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "atelier: -o " + (d / "new.png").string() + ": refusing to overwrite the image of block 2\n");
  r = run_atelier({"design", "set", f.design.string(), "20", "text=Hi", "-o", (d / "nodir" / "e.json").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "atelier: -o " + (d / "nodir" / "e.json").string() + ": folder " + (d / "nodir").string() +
                       " does not exist\n");
  EXPECT_EQ(f.files(), files);
  EXPECT_EQ(hash(f.design), design_hash);
  EXPECT_EQ(hash(f.photo), photo_hash);
  r = run_atelier({"design", "set", f.design.string(), "20", "text=Hi", "-o", f.design.string(), "-q"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(design::load_scene(f.design)->scene.find(20)->text.content, "Hi");
  EXPECT_EQ(hash(f.photo), photo_hash);
}

TEST(RenderHardeningCli, PagesCountFromOneAndSizesAreChecked) {
  Fixture f;
  const fs::path d = f.dir.path();
  const auto files = f.files();
  ProcessResult r = run_atelier({"render", f.design.string(), "-o", (d / "x.png").string(), "--page", "0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "atelier: --page: pages are counted from 1\n");
  r = run_atelier({"render", f.design.string(), "-o", (d / "x.png").string(), "--page", "2"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "atelier: --page 2: " + f.design.string() + " has 1 page\n");

  const fs::path big = d / "big.json";
  write_text(big, design_json({}, "Hello", 10000, 10000));
  r = run_atelier({"render", big.string(), "-o", (d / "x.png").string(), "--scale", "2"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "atelier: " + big.string() + ": page 1 would be 400.0 MP (20000x20000), more than the 100.0 MP limit\n");
  const fs::path wide = d / "wide.json";
  write_text(wide, design_json({}, "Hello", 30000, 100));
  r = run_atelier({"render", wide.string(), "-o", (d / "x.jpg").string(), "--scale", "1.2"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "atelier: " + wide.string() +
                       ": page 1 would be 36000x120, more than 32767 pixels a side (the renderer's limit)\n");
  auto with = files;
  with.insert(with.begin(), "big.json");
  with.push_back("wide.json");
  EXPECT_EQ(f.files(), with);

  // Extensions are case-insensitive.
  for (const char* name : {"r.PNG", "r.Pdf", "r.JPEG"}) {
    r = run_atelier({"render", f.design.string(), "-o", (d / name).string(), "-q"});
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
    EXPECT_TRUE(fs::is_regular_file(d / name)) << name;
  }
  EXPECT_TRUE(image::read_image(d / "r.PNG").ok());
  r = run_atelier({"render", f.design.string(), "-o", (d / "r.GIF").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "atelier: " + (d / "r.GIF").string() + ": unknown output format (use .png, .pdf, .svg, .jpg or .webp)\n");
}

TEST(RenderHardeningCli, DesignSetErrorsNameTheDesign) {
  Fixture f;
  const std::string before = hash(f.design);
  const std::string n = f.design.string();
  struct Case {
    std::vector<std::string> args;
    std::string err;
  } cases[] = {
      {{"20", "colour=red"}, n + ": block 20: unknown property 'colour'"},
      {{"20", "opacity=2"}, n + ": block 20: opacity must be within 0..1, got 2"},
      {{"20", "x=abc"}, n + ": block 20: x: expected a number, got 'abc'"},
      {{"20", "fit=cover"}, n + ": block 20 (text) has no property 'fit'"},
      {{"99", "x=1"}, n + ": no block 99"},
      {{"20", "x"}, n + ": expected PROPERTY=VALUE, got 'x'"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args{"design", "set", n};
    args.insert(args.end(), c.args.begin(), c.args.end());
    ProcessResult r = run_atelier(args);
    EXPECT_EQ(r.exit_code, 2) << c.err;
    EXPECT_EQ(r.err, "atelier: " + c.err + "\n");
  }
  EXPECT_EQ(hash(f.design), before);
}

TEST(RenderHardeningCli, CutTextIsReported) {
  Fixture f;
  const std::string n = f.design.string();
  const std::string long_text = "one two three four five six seven eight nine ten eleven twelve";
  ProcessResult r = run_atelier({"design", "set", n, "20", "text=" + long_text});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto loaded = design::load_scene(f.design);
  ASSERT_TRUE(loaded.ok());
  auto fit = design::fit_text(*loaded->scene.find(20));
  ASSERT_TRUE(fit.ok());
  ASSERT_TRUE(fit->cut());
  const std::string line = n + ": block 20: text does not fit its box (" + std::to_string(fit->lines_shown) + " of " +
                           std::to_string(fit->lines) + " lines shown)";
  EXPECT_EQ(r.err, "atelier: warning: " + line + "\n");
  EXPECT_EQ(r.out, n + ": block 20 updated -> " + n + "\n");

  const fs::path out = f.dir.path() / "out.png";
  r = run_atelier({"render", n, "-o", out.string()});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "atelier: warning: " + line + "\n");
  fs::remove(out);
  r = run_atelier({"render", n, "-o", out.string(), "--strict"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "atelier: " + line + "\natelier: " + out.string() + ": not written (--strict: 1 problem)\n");
  EXPECT_FALSE(fs::exists(out));
  // Grown to fit: no warning.
  r = run_atelier({"design", "set", n, "20", "auto_fit=grow-height"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
  r = run_atelier({"render", n, "-o", out.string(), "--strict"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
}

}  // namespace
}  // namespace atelier
