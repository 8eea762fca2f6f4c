#include "ops/operation.h"

#include <algorithm>
#include <cctype>

#include "core/files.h"
#include "image/codec.h"
#include "image/format.h"
#include "ops/operations_internal.h"

namespace atelier::ops {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "image/jpeg; charset=x" -> "image/jpeg".
std::string media_type(std::string_view content_type) {
  const auto semi = content_type.find(';');
  std::string t = lower(content_type.substr(0, semi));
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return t;
}

Status check_image_upload(const Upload& u, const Limits& limits) {
  const std::string type = media_type(u.content_type);
  // Clients that do not know send application/octet-stream; the bytes decide then.
  if (!type.empty() && type.rfind("image/", 0) != 0 && type != "application/octet-stream" &&
      type != "application/x-www-form-urlencoded") {  // what curl --data-binary says
    return unsupported(u.field + ": expected an image (JPEG, PNG, WebP, TIFF or BMP), got " + type);
  }
  if (u.bytes.empty()) return data_loss(u.field + ": empty file");
  if (u.bytes.size() > limits.max_input_bytes) {
    return resource_exhausted(u.field + ": file is " + format_bytes(u.bytes.size()) + ", more than the " +
                              format_bytes(limits.max_input_bytes) + " limit");
  }
  auto header = image::probe_image(u.bytes);
  if (!header.ok()) return header.status().with_context(u.field);
  const std::uint64_t px = std::uint64_t(header->width) * std::uint64_t(header->height);
  if (px > limits.max_input_pixels) {
    return resource_exhausted(u.field + ": image is " + format_pixels(px) + " (" + std::to_string(header->width) + "x" +
                              std::to_string(header->height) + "), more than the " +
                              format_pixels(limits.max_input_pixels) + " limit");
  }
  return {};
}

}  // namespace

const std::vector<Operation>& operations() {
  static const std::vector<Operation> all = [] {
    std::vector<Operation> v;
    v.push_back(detail::cutout_operation());
    v.push_back(detail::crop_operation());
    v.push_back(detail::saliency_operation());
    v.push_back(detail::render_operation());
    v.push_back(detail::edit_operation());
    return v;
  }();
  return all;
}

const Operation* find_operation(std::string_view name) {
  for (const Operation& op : operations())
    if (op.spec.name == name) return &op;
  return nullptr;
}

const Upload* find_upload(const std::vector<Upload>& uploads, std::string_view field) {
  for (const Upload& u : uploads)
    if (u.field == field) return &u;
  return nullptr;
}

Status check_upload(const Operation& op, const Upload& upload, const Limits& limits) {
  const bool main = upload.field == op.input_field;
  if (!main && !op.any_extra_field &&
      std::find(op.extra_fields.begin(), op.extra_fields.end(), upload.field) == op.extra_fields.end()) {
    std::string fields = op.input_field;
    for (const auto& f : op.extra_fields) fields += ", " + f;
    return invalid_argument("unknown form field '" + upload.field + "' (" + op.spec.name + " takes: " + fields + ")");
  }
  if (main && op.input == InputKind::kDesign) {
    const std::string type = media_type(upload.content_type);
    if (!type.empty() && type != "application/json" && type != "application/octet-stream") {
      return unsupported(upload.field + ": expected a design (application/json), got " + type);
    }
    if (upload.bytes.empty()) return data_loss(upload.field + ": empty file");
    if (upload.bytes.size() > detail::kMaxDesignBytes) {
      return resource_exhausted(upload.field + ": file is " + format_bytes(upload.bytes.size()) + ", more than the " +
                                format_bytes(detail::kMaxDesignBytes) + " limit");
    }
    return {};
  }
  return check_image_upload(upload, limits);
}

std::string content_type_for(std::string_view file_name) {
  const std::string name = lower(file_name);
  auto ends = [&](std::string_view ext) {
    return name.size() >= ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0;
  };
  if (ends(".png")) return "image/png";
  if (ends(".jpg") || ends(".jpeg")) return "image/jpeg";
  if (ends(".webp")) return "image/webp";
  if (ends(".tif") || ends(".tiff")) return "image/tiff";
  if (ends(".bmp")) return "image/bmp";
  if (ends(".pdf")) return "application/pdf";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".json")) return "application/json";
  return "application/octet-stream";
}

namespace detail {

Result<image::Image> decode_upload(const Upload& u, const Limits& limits) {
  auto img = image::decode_image(u.bytes, image::decode_limits(limits));
  if (!img.ok()) return img.status().with_context(u.field);
  return img;
}

Result<OutputFile> encode_output(const image::Image& img, const std::string& name, int quality) {
  const image::Format f = image::format_from_extension(name);
  ATELIER_ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes, image::encode_image(img, f, {.quality = quality}));
  OutputFile out;
  out.name = name;
  out.content_type = content_type_for(name);
  out.bytes = std::move(bytes);
  return out;
}

Status check_cancelled(const RunContext& ctx) {
  if (ctx.cancelled && ctx.cancelled()) return Status(StatusCode::kCancelled, "cancelled");
  return {};
}

void report_progress(const RunContext& ctx, double p) {
  if (ctx.progress) ctx.progress(p);
}

Status check_quality(const OptionValues& v, const std::string& format, const RunContext& ctx) {
  if (!v.has("quality")) return {};
  if (v.integer("quality") == 101 && format != "webp") {
    return invalid_argument(ctx.option("quality") + " 101 (lossless) is for WebP only; " + format + " takes 1-100");
  }
  if (format != "jpg" && format != "webp") {
    return invalid_argument(ctx.option("quality") + ": only JPEG and WebP outputs have a quality; " + format +
                            " is lossless");
  }
  return {};
}

}  // namespace detail
}  // namespace atelier::ops
