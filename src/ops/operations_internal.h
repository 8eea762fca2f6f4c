// Shared pieces of the operations' implementations (operation.h). Internal to src/ops.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "design/renderer.h"
#include "design/scene.h"
#include "image/image.h"
#include "ops/operation.h"

namespace atelier::ops::detail {

inline constexpr std::uint64_t kMaxDesignBytes = 64ull << 20;  // as design::load_scene

Operation cutout_operation();
Operation crop_operation();
Operation saliency_operation();
Operation render_operation();
Operation edit_operation();

// The upload decoded within `limits`; errors start with its field name.
Result<image::Image> decode_upload(const Upload& u, const Limits& limits);
// `img` encoded in the format `name`'s extension names.
Result<OutputFile> encode_output(const image::Image& img, const std::string& name, int quality);
// kCancelled when the context says so.
Status check_cancelled(const RunContext& ctx);
void report_progress(const RunContext& ctx, double p);
// The quality option against an output format ("png", "jpg", "webp").
Status check_quality(const OptionValues& v, const std::string& format, const RunContext& ctx);

// The request's design (field "design"); kDataLoss with line and column for bad JSON.
Result<design::Scene> parse_design_upload(const std::vector<Upload>& uploads);
// Makes every image source of `scene` a file this process may read: an upload named like
// the source (relative, no "..") is written into `dir`, else a source inside
// ctx.assets_dir is resolved there; anything else is kInvalidArgument ("design: block 2:
// image /etc/passwd: not uploaded with the request ..."). Returns each changed block's
// original source.
Result<std::map<design::BlockId, std::string>> place_image_sources(design::Scene& scene,
                                                                   const std::vector<Upload>& uploads,
                                                                   const RunContext& ctx,
                                                                   const std::filesystem::path& dir);
// `scene` rendered in `format` (png, jpg, webp, pdf, svg) into dir/render.FORMAT and read
// back; `page` as design::render_to_file (nullopt: every page, PDF). Errors say "render: ...".
Result<OutputFile> render_design(const design::Scene& scene, const std::string& format, std::optional<int> page,
                                 design::RenderOptions options, const RunContext& ctx,
                                 const std::filesystem::path& dir);

}  // namespace atelier::ops::detail
