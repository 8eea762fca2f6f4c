// The operations' declarations and their up-front checks (ops/operation.h): what the HTTP
// service runs before a request may cost a worker, and the CLI before any file is read.
#include "ops/operation.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "ops/analysis_ops.h"
#include "ops/cutout_op.h"
#include "support/test_support.h"

namespace atelier::ops {
namespace {

OptionValues values(const Operation& op, const std::vector<std::pair<std::string, std::string>>& pairs) {
  auto v = check_options(op.spec, pairs);
  EXPECT_TRUE(v.ok()) << v.status().message();
  return v.ok() ? *v : OptionValues();
}

RunContext http_context() { return RunContext(); }

Upload jpeg_upload(int w, int h) {
  std::vector<std::uint8_t> bytes;
  cv::imencode(".jpg", testing::pattern_rgb(w, h), bytes);
  return {"image", "image/jpeg", "p.jpg", bytes};
}

TEST(Operations, EveryDeclarationIsSoundAndFindable) {
  ASSERT_EQ(operations().size(), 5u);
  for (const Operation& op : operations()) {
    EXPECT_TRUE(check_declaration(op.spec).ok()) << check_declaration(op.spec).message();
    EXPECT_EQ(find_operation(op.spec.name), &op);
    EXPECT_TRUE(op.check && op.run && op.models) << op.spec.name;
  }
  EXPECT_EQ(find_operation("nope"), nullptr);
  EXPECT_EQ(find_operation("render")->input, InputKind::kDesign);
  EXPECT_EQ(find_operation("edit")->input, InputKind::kDesign);
}

TEST(Operations, CutoutCombinationsNameTheOptionsAsTheShellSpellsThem) {
  const Operation& op = *find_operation("cutout");
  RunContext cli;
  cli.option_prefix = "--";
  cli.allow_paths = true;
  EXPECT_EQ(op.check(values(op, {{"margin", "4"}}), cli).message(), "--margin needs --trim");
  EXPECT_EQ(op.check(values(op, {{"margin", "4"}}), http_context()).message(), "margin needs trim");
  EXPECT_EQ(op.check(values(op, {{"mask", ""}, {"background", "white"}}), http_context()).message(),
            "background: mask writes the matte alone, without a background");
  EXPECT_EQ(op.check(values(op, {{"format", "jpg"}}), http_context()).message(),
            "format jpg: JPEG cannot store transparency (use png or webp, or an opaque background)");
  EXPECT_TRUE(op.check(values(op, {{"format", "jpg"}, {"background", "white"}}), http_context()).ok());
  EXPECT_EQ(op.check(values(op, {{"quality", "101"}, {"format", "png"}}), http_context()).message(),
            "quality 101 (lossless) is for WebP only; png takes 1-100");
  EXPECT_EQ(op.check(values(op, {{"quality", "80"}}), http_context()).message(),
            "quality: only JPEG and WebP outputs have a quality; png is lossless");
  // A server never reads a file a request names.
  const Status file = op.check(values(op, {{"background", "/etc/passwd"}}), http_context());
  EXPECT_EQ(file.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(file.message().find("files are not read from the server"), std::string::npos) << file.message();
  auto opt = cutout_options(values(op, {{"trim", "true"}, {"margin", "7"}, {"background", "blur=3"}}), http_context());
  ASSERT_TRUE(opt.ok()) << opt.status().message();
  EXPECT_TRUE(opt->trim);
  EXPECT_EQ(opt->margin, 7);
  EXPECT_EQ(opt->background.kind, vision::Background::Kind::kBlur);
  EXPECT_FLOAT_EQ(opt->background.blur_radius, 3.0f);
}

TEST(Operations, CropPlansAspectsThenSizes) {
  const Operation& op = *find_operation("crop");
  auto plan = crop_plan(values(op, {{"aspect", "9:16"}, {"size", "640x480"}, {"aspect", "1:1"}}), http_context());
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  ASSERT_EQ(plan->targets.size(), 3u);
  EXPECT_EQ(plan->targets[0].aspect.width, 9);
  EXPECT_EQ(plan->targets[1].aspect.width, 1);
  EXPECT_EQ(plan->targets[2].size, cv::Size(640, 480));
  EXPECT_EQ(op.check(values(op, {}), http_context()).message(), "crop: give at least one aspect or size");
  EXPECT_EQ(op.check(values(op, {{"size", "12x"}}), http_context()).message(),
            "size: expected WxH such as 1280x720, got '12x'");
  EXPECT_EQ(op.check(values(op, {{"aspect", "1:1"}, {"allow-upscale", ""}}), http_context()).message(),
            "allow-upscale: only with size");
  EXPECT_EQ(op.check(values(op, {{"aspect", "1:1"}, {"zoom", "0"}}), http_context()).message(),
            "zoom: expected a scale in (0, 1]");
}

// Each refusal carries the code the status table turns into 415, 422 or 413.
TEST(Operations, UploadsAreCheckedFromTheirHeaderAlone) {
  const Operation& cutout = *find_operation("cutout");
  Limits limits;
  Upload good = jpeg_upload(64, 48);
  EXPECT_TRUE(check_upload(cutout, good, limits).ok());
  Upload text = good;
  text.content_type = "text/plain";
  EXPECT_EQ(check_upload(cutout, text, limits),
            Status(StatusCode::kUnsupported, "image: expected an image (JPEG, PNG, WebP, TIFF or BMP), got text/plain"));
  Upload gif = good;
  gif.bytes = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0, 0, 0};
  EXPECT_EQ(check_upload(cutout, gif, limits).code(), StatusCode::kUnsupported);
  Upload cut = good;
  cut.bytes.resize(cut.bytes.size() / 2);
  const Status truncated = check_upload(cutout, cut, limits);
  EXPECT_EQ(truncated.code(), StatusCode::kDataLoss) << truncated.message();
  EXPECT_EQ(truncated.message().rfind("image: corrupt or truncated JPEG image", 0), 0u) << truncated.message();
  Upload empty = good;
  empty.bytes.clear();
  EXPECT_EQ(check_upload(cutout, empty, limits), Status(StatusCode::kDataLoss, "image: empty file"));
  limits.max_input_pixels = 64 * 48 - 1;
  EXPECT_EQ(check_upload(cutout, good, limits),
            Status(StatusCode::kResourceExhausted, "image: image is 3072 pixels (64x48), more than the 3071 pixels limit"));
  Upload stray = good;
  stray.field = "photo";
  EXPECT_EQ(check_upload(cutout, stray, Limits()).message(), "unknown form field 'photo' (cutout takes: image, background)");
  const Operation& render = *find_operation("render");
  Upload design{"design", "image/png", "", {'{', '}'}};
  EXPECT_EQ(check_upload(render, design, Limits()).code(), StatusCode::kUnsupported);
}

TEST(Operations, ContentTypesFollowTheExtension) {
  EXPECT_EQ(content_type_for("cutout.png"), "image/png");
  EXPECT_EQ(content_type_for("a.JPG"), "image/jpeg");
  EXPECT_EQ(content_type_for("x.webp"), "image/webp");
  EXPECT_EQ(content_type_for("r.pdf"), "application/pdf");
  EXPECT_EQ(content_type_for("r.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("r"), "application/octet-stream");
}

}  // namespace
}  // namespace atelier::ops
