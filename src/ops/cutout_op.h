// cutout as an operation (operation.h): the declaration, and the library options its
// checked values stand for, which the CLI and the HTTP service both build through here.
#pragma once

#include "ops/operation.h"
#include "vision/cutout.h"

namespace atelier::ops {

// The vision options for checked cutout values (without the background image of an
// upload, which run() adds). Errors (kInvalidArgument) name the option:
// "--margin needs --trim", "--background: --mask writes the matte alone, without a
// background", "background: files are not read over HTTP (upload the image as form
// field 'background')" when !ctx.allow_paths.
Result<vision::CutoutOptions> cutout_options(const OptionValues& values, const RunContext& ctx);

}  // namespace atelier::ops
