// The operations every shell offers (cutout, crop, saliency, render, edit), each as one
// declaration (option_spec.h) plus two library calls on in-memory input: `check`, every
// check that needs no decoding (option values and combinations, output formats), and
// `run`, the work itself on the request's files, returning result files and the JSON
// object `--json` prints. The HTTP service calls these directly; the CLI reads its flags
// through the same declarations and the same checks, and adds only its file handling.
//
// Messages name options as the shell spells them: RunContext::option_prefix is "--" in
// the CLI ("--margin needs --trim") and "" over HTTP ("margin needs trim").
//
// Thread-safety: operations are immutable; run() may be called from several threads at
// once (model sessions serialize their own inference, ml/inference.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/limits.h"
#include "core/status.h"
#include "ml/inference.h"
#include "ops/option_spec.h"

namespace atelier::ops {

// A file a request brings: the body, or one part of a multipart form.
struct Upload {
  std::string field;         // "image", "design", "background"
  std::string content_type;  // as the client sent it ("image/jpeg"); may be empty
  std::string filename;      // from the form, for messages; may be empty
  std::vector<std::uint8_t> bytes;
};

struct OutputFile {
  std::string name;          // "cutout.png", "crop-9x16.jpg"
  std::string content_type;  // "image/png"
  std::vector<std::uint8_t> bytes;
};

struct OperationResult {
  nlohmann::json json;            // the object --json prints; result files by name under "files"
  std::vector<OutputFile> files;  // the results, in order (at least one)
};

struct RunContext {
  Limits limits;
  ml::BackendOptions backend;
  std::string option_prefix;  // "--" (CLI) or "" (HTTP), for messages
  // Whether option values may name files of this machine (a --background FILE): true in
  // the CLI, false over HTTP, where files come with the request as uploads.
  bool allow_paths = false;
  // render: the one folder image sources may be read from besides the uploads (empty: none).
  std::filesystem::path assets_dir;
  std::function<bool()> cancelled;        // polled between stages; true stops with kCancelled
  std::function<void(double)> progress;   // 0..1 as stages finish (may be empty)
  // Text the operation produces while it runs (edit: the model's answer as it streams);
  // may be empty.
  std::function<void(std::string_view)> text;

  std::string option(std::string_view name) const { return option_prefix + std::string(name); }
};

enum class InputKind { kImage, kDesign };

struct Operation {
  OperationSpec spec;
  InputKind input = InputKind::kImage;
  std::string input_field;                // "image" or "design": the form field of the main input
  std::vector<std::string> extra_fields;  // other files it accepts ("background"; render: any)
  bool any_extra_field = false;           // render: image sources uploaded under their names
  // Option checks that need no input. kInvalidArgument, one line naming the option.
  std::function<Status(const OptionValues&, const RunContext&)> check;
  std::function<Result<OperationResult>(const std::vector<Upload>&, const OptionValues&, const RunContext&)> run;
  // The models a run with these options loads (to warm them up), possibly none.
  std::function<std::vector<std::string>(const OptionValues&)> models;
};

// Every operation, in the order help lists them; each declaration passes check_declaration.
const std::vector<Operation>& operations();
// Null when there is no such operation.
const Operation* find_operation(std::string_view name);

// Checks an upload before any work, from its header alone: the main input's media type
// (kUnsupported "image: expected an image (JPEG, PNG, WebP, TIFF or BMP), got text/plain"),
// its format and completeness (kDataLoss "image: corrupt or truncated JPEG image (...)"),
// its size and pixel count against `limits` (kResourceExhausted). Designs: JSON syntax and
// size only.
Status check_upload(const Operation& op, const Upload& upload, const Limits& limits);

// The upload for `field`, or null.
const Upload* find_upload(const std::vector<Upload>& uploads, std::string_view field);

// "image/png" for Format::kPng etc., from a file name's extension ("x.webp"); the
// extension for a format option value ("jpg" -> ".jpg").
std::string content_type_for(std::string_view file_name);

}  // namespace atelier::ops
