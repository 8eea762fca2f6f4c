#include "ml/manifest.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace atelier::ml {
using nlohmann::json;

std::string manifest_to_json(const ModelManifest& m) {
  json j;
  j["format_version"] = m.format_version;
  j["name"] = m.name;
  j["task"] = m.task;
  j["file"] = m.file;
  j["sha256"] = m.sha256;
  j["bytes"] = m.bytes;
  j["license"] = m.license;
  if (!m.inference_url.empty()) j["inference_url"] = m.inference_url;
  json src = {{"kind", m.source.kind}, {"sha256", m.source.sha256}, {"bytes", m.source.bytes}};
  if (!m.source.package.empty()) src["package"] = m.source.package;
  if (!m.source.version.empty()) src["version"] = m.source.version;
  if (!m.source.resource.empty()) src["resource"] = m.source.resource;
  if (!m.source.path.empty()) src["path"] = m.source.path;
  j["source"] = src;
  j["input"] = {{"name", m.input},
                {"width", m.preprocess.width},
                {"height", m.preprocess.height},
                {"channel_order", m.preprocess.channel_order},
                {"resize", "bilinear-stretch"},
                {"sampling", image::sampling_name(m.preprocess.sampling)},
                {"mean", m.preprocess.mean},
                {"std", m.preprocess.std}};
  j["output"] = {{"name", m.postprocess.output},
                 {"activation", m.postprocess.activation},
                 {"minmax_normalize", m.postprocess.minmax_normalize}};
  if (!m.precision_checks.empty()) {
    json checks = json::array();
    for (const PrecisionCheck& c : m.precision_checks) {
      checks.push_back({{"precision", c.precision},
                        {"photos", c.photos},
                        {"mean_iou", c.mean_iou},
                        {"min_iou", c.min_iou},
                        {"mean_abs_alpha", c.mean_abs_alpha},
                        {"passed", meets_quality_bar(c)}});
    }
    j["precision_checks"] = checks;
  }
  if (!m.int8_calibration.empty()) {
    json ranges = json::object();
    for (const auto& [name, r] : m.int8_calibration.input_ranges) ranges[name] = {r.first, r.second};
    j["int8_calibration"] = {{"photos", m.int8_calibration.photos}, {"input_ranges", ranges}};
  }
  // Bytes that are not UTF-8 (a --license given in Latin-1) become U+FFFD, not an exception.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

namespace {
// An integer field: JSON integers only, in T's range. A float such as 1e54 is refused here:
// nlohmann's get<T>() would convert it to T, which is undefined behaviour out of range.
template <typename T>
T integer_field(const json& v, const char* key) {
  const bool fits = v.is_number_unsigned() ? v.get<std::uint64_t>() <= std::uint64_t(std::numeric_limits<T>::max())
                    : v.is_number_integer() ? v.get<std::int64_t>() >= std::int64_t(std::numeric_limits<T>::min()) &&
                                                  (v.get<std::int64_t>() < 0 ||
                                                   std::uint64_t(v.get<std::int64_t>()) <=
                                                       std::uint64_t(std::numeric_limits<T>::max()))
                                            : false;
  if (!fits) throw std::out_of_range(std::string(key) + " must be an integer in range");
  return v.is_number_unsigned() ? T(v.get<std::uint64_t>()) : T(v.get<std::int64_t>());
}

// Three finite numbers of moderate size (a mean or std in pixel units). nlohmann's
// get<float>() of a double beyond float's range is undefined behaviour, so the range is
// checked on the double first.
std::array<float, 3> float_triple(const json& v, const char* key) {
  constexpr double kMax = 1e6;
  const bool fits = v.is_array() && v.size() == 3 && std::all_of(v.begin(), v.end(), [](const json& x) {
    return x.is_number() && std::isfinite(x.get<double>()) && std::abs(x.get<double>()) <= kMax;
  });
  if (!fits) throw std::out_of_range(std::string(key) + " must be 3 numbers from -1e6 to 1e6");
  return {float(v[0].get<double>()), float(v[1].get<double>()), float(v[2].get<double>())};
}
// A finite number within [lo, hi] (checked as a double before anything converts it).
double number_field(const json& v, const char* key, double lo, double hi) {
  if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < lo || v.get<double>() > hi) {
    char range[64];
    std::snprintf(range, sizeof range, " must be a number from %g to %g", lo, hi);
    throw std::out_of_range(key + std::string(range));
  }
  return v.get<double>();
}

std::vector<PrecisionCheck> precision_checks(const json& v) {
  if (!v.is_array() || v.size() > 4) throw std::out_of_range("precision_checks must be a list of at most 4 checks");
  std::vector<PrecisionCheck> out;
  for (const json& e : v) {
    PrecisionCheck c;
    c.precision = e.at("precision").get<std::string>();
    if (c.precision != "bf16" && c.precision != "int8") {
      throw std::out_of_range("precision_checks: precision must be bf16 or int8");
    }
    for (const PrecisionCheck& seen : out) {
      if (seen.precision == c.precision) throw std::out_of_range("precision_checks: " + c.precision + " twice");
    }
    c.photos = integer_field<int>(e.at("photos"), "precision_checks.photos");
    if (c.photos < 1) throw std::out_of_range("precision_checks.photos must be at least 1");
    c.mean_iou = number_field(e.at("mean_iou"), "precision_checks.mean_iou", 0, 1);
    c.min_iou = number_field(e.at("min_iou"), "precision_checks.min_iou", 0, 1);
    c.mean_abs_alpha = number_field(e.at("mean_abs_alpha"), "precision_checks.mean_abs_alpha", 0, 255);
    c.passed = meets_quality_bar(c);
    out.push_back(c);
  }
  return out;
}
// At most 100000 convolutions, names of 1..1024 bytes, each range two finite numbers
// lo <= hi within ±1e30 (so that they are floats).
Int8Calibration int8_calibration(const json& v) {
  Int8Calibration c;
  c.photos = integer_field<int>(v.at("photos"), "int8_calibration.photos");
  if (c.photos < 1) throw std::out_of_range("int8_calibration.photos must be at least 1");
  const json& ranges = v.at("input_ranges");
  if (!ranges.is_object() || ranges.empty() || ranges.size() > 100000) {
    throw std::out_of_range("int8_calibration.input_ranges must be an object of 1 to 100000 ranges");
  }
  for (const auto& [name, r] : ranges.items()) {
    if (name.empty() || name.size() > 1024) throw std::out_of_range("int8_calibration: a name must be 1 to 1024 bytes");
    if (!r.is_array() || r.size() != 2) throw std::out_of_range("int8_calibration: '" + name + "' must be [lo, hi]");
    const double lo = number_field(r[0], "int8_calibration lo", -1e30, 1e30);
    const double hi = number_field(r[1], "int8_calibration hi", -1e30, 1e30);
    if (lo > hi) throw std::out_of_range("int8_calibration: '" + name + "' has lo > hi");
    c.input_ranges[name] = {float(lo), float(hi)};
  }
  return c;
}
}  // namespace

bool meets_quality_bar(const PrecisionCheck& c) {
  return c.photos > 0 && c.mean_iou >= 0.995 && c.min_iou >= 0.98 && c.mean_abs_alpha <= 1.0;
}

Result<ModelManifest> manifest_from_json(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return invalid_argument("bad manifest: not a JSON object");
  ModelManifest m;
  try {
    m.format_version = integer_field<int>(j.at("format_version"), "format_version");
    if (m.format_version != 1) {
      return invalid_argument("bad manifest: format_version " + std::to_string(m.format_version) + " is not supported");
    }
    m.name = j.at("name").get<std::string>();
    m.task = j.value("task", "segmentation");
    m.file = j.at("file").get<std::string>();
    m.sha256 = j.at("sha256").get<std::string>();
    m.bytes = integer_field<std::uint64_t>(j.at("bytes"), "bytes");
    m.license = j.value("license", "unknown");
    m.inference_url = j.value("inference_url", "");
    const json& s = j.at("source");
    m.source.kind = s.at("kind").get<std::string>();
    m.source.sha256 = s.value("sha256", "");
    m.source.bytes = s.contains("bytes") ? integer_field<std::uint64_t>(s.at("bytes"), "source.bytes") : 0;
    m.source.package = s.value("package", "");
    m.source.version = s.value("version", "");
    m.source.resource = s.value("resource", "");
    m.source.path = s.value("path", "");
    const json& in = j.at("input");
    m.input = in.at("name").get<std::string>();
    m.preprocess.width = integer_field<int>(in.at("width"), "input.width");
    m.preprocess.height = integer_field<int>(in.at("height"), "input.height");
    m.preprocess.channel_order = in.value("channel_order", "RGB");
    m.preprocess.mean = float_triple(in.at("mean"), "input.mean");
    m.preprocess.std = float_triple(in.at("std"), "input.std");
    auto sampling = image::parse_sampling(in.value("sampling", "half_pixel"));
    if (!sampling.ok()) return invalid_argument("bad manifest: " + sampling.status().message());
    m.preprocess.sampling = *sampling;
    const json& out = j.at("output");
    m.postprocess.output = out.at("name").get<std::string>();
    m.postprocess.activation = out.value("activation", "none");
    m.postprocess.minmax_normalize = out.value("minmax_normalize", false);
    if (j.contains("precision_checks")) m.precision_checks = precision_checks(j.at("precision_checks"));
    if (j.contains("int8_calibration")) m.int8_calibration = int8_calibration(j.at("int8_calibration"));
  } catch (const json::exception& e) {
    return invalid_argument(std::string("bad manifest: ") + e.what());
  } catch (const std::out_of_range& e) {
    return invalid_argument(std::string("bad manifest: ") + e.what());
  }
  if (m.file.find('/') != std::string::npos || m.file.find("..") != std::string::npos) {
    return invalid_argument("bad manifest: file must be a plain file name");
  }
  if (m.preprocess.width <= 0 || m.preprocess.height <= 0 || m.preprocess.width > 8192 || m.preprocess.height > 8192) {
    return invalid_argument("bad manifest: input size must be within 1..8192");
  }
  for (float s : m.preprocess.std) {
    if (s == 0.f) return invalid_argument("bad manifest: std must not be 0");
  }
  if (m.preprocess.channel_order != "RGB" && m.preprocess.channel_order != "BGR") {
    return invalid_argument("bad manifest: channel_order must be RGB or BGR");
  }
  if (m.postprocess.activation != "none" && m.postprocess.activation != "sigmoid") {
    return invalid_argument("bad manifest: output activation must be none or sigmoid");
  }
  return m;
}

Result<std::pair<Preprocess, Postprocess>> preset(std::string_view name) {
  if (name == "isnet") {
    return std::pair{Preprocess{1024, 1024, "RGB", {128, 128, 128}, {256, 256, 256}, image::Sampling::kAsymmetric},
                     Postprocess{"output", "none", false}};
  }
  if (name == "u2net") {
    return std::pair{Preprocess{320, 320, "RGB", {0.485f * 255, 0.456f * 255, 0.406f * 255},
                                {0.229f * 255, 0.224f * 255, 0.225f * 255}},
                     Postprocess{"", "none", true}};
  }
  return invalid_argument("unknown preset '" + std::string(name) + "' (known: isnet, u2net)");
}

std::vector<std::string> preset_names() { return {"isnet", "u2net"}; }

Status validate_model_name(std::string_view name) {
  auto ok_char = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'; };
  bool ok = !name.empty() && name.size() <= 64 && ok_char(name[0]) && name[0] != '.' && name[0] != '_' && name[0] != '-';
  for (char c : name) ok = ok && ok_char(c);
  if (!ok) {
    return invalid_argument("bad model name '" + std::string(name) +
                            "' (use 1-64 of a-z 0-9 . _ -, starting with a letter or digit)");
  }
  return {};
}

}  // namespace atelier::ml
