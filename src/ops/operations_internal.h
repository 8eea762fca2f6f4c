// Shared pieces of the operations' implementations (operation.h). Internal to src/ops.
#pragma once

#include <string>

#include "image/image.h"
#include "ops/operation.h"

namespace atelier::ops::detail {

inline constexpr std::uint64_t kMaxDesignBytes = 64ull << 20;  // as design::load_scene

Operation cutout_operation();
Operation crop_operation();
Operation saliency_operation();
Operation render_operation();

// The upload decoded within `limits`; errors start with its field name.
Result<image::Image> decode_upload(const Upload& u, const Limits& limits);
// `img` encoded in the format `name`'s extension names.
Result<OutputFile> encode_output(const image::Image& img, const std::string& name, int quality);
// kCancelled when the context says so.
Status check_cancelled(const RunContext& ctx);
void report_progress(const RunContext& ctx, double p);
// The quality option against an output format ("png", "jpg", "webp").
Status check_quality(const OptionValues& v, const std::string& format, const RunContext& ctx);

}  // namespace atelier::ops::detail
