// Writes the seed corpora of the fuzz harnesses: OUT/<harness>/<name>, a few small valid
// inputs of each kind, all generated here (images by the project's encoder, ICC profiles by
// Little CMS, ONNX models by tests/support/onnx_builder.h, tarballs by tests/support/tarball.h, designs
// from examples/designs and the serializer). Usage: atelier_fuzz_seeds OUT_DIR
#include <lcms2.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "core/sha256.h"
#include "design/properties.h"
#include "fuzz_support.h"
#include "genai/grammar.h"
#include "genai/serializer.h"
#include "image/codec.h"
#include "ml/manifest.h"
#include "ml/onnx_convert.h"
#include "ml/v2_protocol.h"
#include "support/onnx_builder.h"
#include "support/tarball.h"
#include "vision/smart_crop.h"

namespace fs = std::filesystem;
using namespace atelier;
using Bytes = std::vector<std::uint8_t>;

namespace {

fs::path g_out;
int g_count = 0;

void put(const std::string& harness, const std::string& name, const Bytes& data) {
  fs::create_directories(g_out / harness);
  std::ofstream f(g_out / harness / name, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data.data()), std::streamsize(data.size()));
  if (!f) {
    std::fprintf(stderr, "make_seeds: cannot write %s/%s\n", harness.c_str(), name.c_str());
    std::exit(1);
  }
  ++g_count;
}
void put(const std::string& harness, const std::string& name, const std::string& text) {
  put(harness, name, Bytes(text.begin(), text.end()));
}

Bytes must(Result<Bytes> r, const char* what) {
  if (!r.ok()) {
    std::fprintf(stderr, "make_seeds: %s: %s\n", what, r.status().message().c_str());
    std::exit(1);
  }
  return std::move(r).value();
}

// ---- images -----------------------------------------------------------------------------

image::Image pattern(int w, int h, int type) {
  cv::Mat m(h, w, CV_8UC4);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      m.at<cv::Vec4b>(y, x) = {std::uint8_t(x * 255 / w), std::uint8_t(y * 255 / h), std::uint8_t((x ^ y) * 16),
                               std::uint8_t(x < w / 2 ? 255 : 128)};
    }
  }
  cv::Mat out;
  const int cn = CV_MAT_CN(type);
  if (cn == 1) cv::extractChannel(m, out, 0);
  else if (cn == 3) cv::cvtColor(m, out, cv::COLOR_BGRA2BGR);
  else out = m;
  const int depth = CV_MAT_DEPTH(type);
  if (depth == CV_16U) out.convertTo(out, type, 257.0);
  else if (depth == CV_32F) out.convertTo(out, type, 1.0 / 255);
  return image::Image(out);
}

Bytes encode(const image::Image& img, image::Format f, int quality = 90) {
  return must(image::encode_image(img, f, image::EncodeOptions{quality}), "encode");
}

void append_be16(Bytes& b, unsigned v) {
  b.push_back(std::uint8_t(v >> 8));
  b.push_back(std::uint8_t(v));
}
void append_be32(Bytes& b, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(std::uint8_t(v >> s));
}

// A TIFF-structured EXIF block with one IFD entry: Orientation (274) = `orientation`.
Bytes exif_block(int orientation, bool big_endian, bool with_prefix) {
  Bytes b;
  if (with_prefix) b = {'E', 'x', 'i', 'f', 0, 0};
  auto u16 = [&](unsigned v) {
    if (big_endian) append_be16(b, v);
    else { b.push_back(std::uint8_t(v)); b.push_back(std::uint8_t(v >> 8)); }
  };
  auto u32 = [&](std::uint32_t v) {
    if (big_endian) append_be32(b, v);
    else for (int s = 0; s < 32; s += 8) b.push_back(std::uint8_t(v >> s));
  };
  b.push_back(big_endian ? 'M' : 'I');
  b.push_back(big_endian ? 'M' : 'I');
  u16(42);
  u32(8);        // first IFD
  u16(1);        // one entry
  u16(274);      // Orientation
  u16(3);        // SHORT
  u32(1);        // count
  u16(unsigned(orientation));
  u16(0);
  u32(0);        // no next IFD
  return b;
}

// `jpeg` with an APPn segment (marker 0xE0 + n) inserted after SOI.
Bytes jpeg_with_segment(Bytes jpeg, int n, const Bytes& payload) {
  Bytes seg{0xFF, std::uint8_t(0xE0 + n)};
  append_be16(seg, unsigned(payload.size() + 2));
  seg.insert(seg.end(), payload.begin(), payload.end());
  jpeg.insert(jpeg.begin() + 2, seg.begin(), seg.end());
  return jpeg;
}

// `png` with a chunk inserted after IHDR (8-byte signature + 25-byte IHDR chunk).
Bytes png_with_chunk(Bytes png, const std::string& type, const Bytes& data) {
  Bytes chunk;
  append_be32(chunk, std::uint32_t(data.size()));
  chunk.insert(chunk.end(), type.begin(), type.end());
  chunk.insert(chunk.end(), data.begin(), data.end());
  const uLong crc = crc32(crc32(0, nullptr, 0), chunk.data() + 4, uInt(chunk.size() - 4));
  append_be32(chunk, std::uint32_t(crc));
  png.insert(png.begin() + 33, chunk.begin(), chunk.end());
  return png;
}

Bytes save_profile(cmsHPROFILE p) {
  cmsUInt32Number n = 0;
  cmsSaveProfileToMem(p, nullptr, &n);
  Bytes b(n);
  cmsSaveProfileToMem(p, b.data(), &n);
  cmsCloseProfile(p);
  return b;
}

// A Display P3-like RGB profile (P3 primaries, D65, sRGB-like gamma 2.2).
Bytes p3_profile() {
  cmsCIExyY white;
  cmsWhitePointFromTemp(&white, 6504);
  const cmsCIExyYTRIPLE primaries = {{0.680, 0.320, 1}, {0.265, 0.690, 1}, {0.150, 0.060, 1}};
  cmsToneCurve* gamma = cmsBuildGamma(nullptr, 2.2);
  cmsToneCurve* curves[3] = {gamma, gamma, gamma};
  cmsHPROFILE p = cmsCreateRGBProfile(&white, &primaries, curves);
  cmsFreeToneCurve(gamma);
  return save_profile(p);
}
Bytes gray_profile() {
  cmsToneCurve* gamma = cmsBuildGamma(nullptr, 2.2);
  cmsHPROFILE p = cmsCreateGrayProfile(cmsD50_xyY(), gamma);
  cmsFreeToneCurve(gamma);
  return save_profile(p);
}

void image_seeds() {
  using image::Format;
  const Bytes p3 = p3_profile();
  std::vector<std::pair<std::string, Bytes>> all;
  auto add = [&](const std::string& harness, const std::string& name, const Bytes& b) {
    put(harness, name, b);
    all.push_back({name, b});
  };
  const Bytes jpg = encode(pattern(16, 12, CV_8UC3), Format::kJpeg);
  add("decode_jpeg_fuzzer", "rgb.jpg", jpg);
  add("decode_jpeg_fuzzer", "gray.jpg", encode(pattern(9, 7, CV_8UC1), Format::kJpeg, 50));
  add("decode_jpeg_fuzzer", "exif6.jpg", jpeg_with_segment(jpg, 1, exif_block(6, true, true)));
  Bytes icc_payload{'I', 'C', 'C', '_', 'P', 'R', 'O', 'F', 'I', 'L', 'E', 0, 1, 1};
  icc_payload.insert(icc_payload.end(), p3.begin(), p3.end());
  add("decode_jpeg_fuzzer", "p3.jpg", jpeg_with_segment(jpg, 2, icc_payload));

  const Bytes png = encode(pattern(16, 12, CV_8UC3), Format::kPng);
  add("decode_png_fuzzer", "rgb.png", png);
  add("decode_png_fuzzer", "rgba.png", encode(pattern(7, 5, CV_8UC4), Format::kPng));
  add("decode_png_fuzzer", "gray.png", encode(pattern(5, 9, CV_8UC1), Format::kPng));
  add("decode_png_fuzzer", "rgb16.png", encode(pattern(6, 4, CV_16UC3), Format::kPng));
  add("decode_png_fuzzer", "exif8.png", png_with_chunk(png, "eXIf", exif_block(8, false, false)));
  {
    Bytes iccp{'p', '3', 0, 0};  // name, NUL, compression method 0, zlib data
    uLongf n = compressBound(uLong(p3.size()));
    Bytes z(n);
    compress(z.data(), &n, p3.data(), uLong(p3.size()));
    iccp.insert(iccp.end(), z.begin(), z.begin() + long(n));
    add("decode_png_fuzzer", "p3.png", png_with_chunk(png, "iCCP", iccp));
  }

  add("decode_webp_fuzzer", "lossy.webp", encode(pattern(16, 12, CV_8UC3), Format::kWebp, 60));
  add("decode_webp_fuzzer", "lossless.webp", encode(pattern(8, 6, CV_8UC3), Format::kWebp, 101));
  add("decode_webp_fuzzer", "alpha.webp", encode(pattern(8, 6, CV_8UC4), Format::kWebp, 101));

  add("decode_tiff_fuzzer", "rgb.tif", encode(pattern(8, 6, CV_8UC3), Format::kTiff));
  add("decode_tiff_fuzzer", "rgba16.tif", encode(pattern(5, 4, CV_16UC4), Format::kTiff));
  add("decode_tiff_fuzzer", "gray.tif", encode(pattern(6, 3, CV_8UC1), Format::kTiff));
  auto float_tif = image::encode_image(pattern(4, 4, CV_32FC3), Format::kTiff);
  if (float_tif.ok()) add("decode_tiff_fuzzer", "float.tif", *float_tif);

  add("decode_bmp_fuzzer", "rgb.bmp", encode(pattern(7, 5, CV_8UC3), Format::kBmp));
  add("decode_bmp_fuzzer", "gray.bmp", encode(pattern(6, 3, CV_8UC1), Format::kBmp));
  add("decode_bmp_fuzzer", "rgba.bmp", encode(pattern(4, 4, CV_8UC4), Format::kBmp));

  for (const auto& [name, b] : all) put("probe_image_fuzzer", name, b);

  for (int o = 1; o <= 8; ++o) {
    put("exif_orientation_fuzzer", "mm" + std::to_string(o), exif_block(o, true, o % 2 == 0));
    put("exif_orientation_fuzzer", "ii" + std::to_string(o), exif_block(o, false, o % 2 == 1));
  }

  put("convert_to_srgb_fuzzer", "srgb.icc", save_profile(cmsCreate_sRGBProfile()));
  put("convert_to_srgb_fuzzer", "p3.icc", p3);
  put("convert_to_srgb_fuzzer", "gray.icc", gray_profile());
  put("convert_to_srgb_fuzzer", "lab.icc", save_profile(cmsCreateLab4Profile(nullptr)));
}

// ---- designs, answers, grammars ---------------------------------------------------------

std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void design_seeds(const fs::path& source_dir) {
  put("parse_scene_fuzzer", "scene.json", std::string(fuzz::kSceneJson));
  put("json_parse_fuzzer", "scene.json", std::string(fuzz::kSceneJson));
  put("json_parse_fuzzer", "values.json",
      std::string(R"([null, true, false, 0, -1.5e3, "a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", {"k": []}, {}])"));
  for (const auto& e : fs::directory_iterator(source_dir / "examples" / "designs")) {
    if (e.path().extension() != ".json") continue;
    const std::string text = read_text(e.path());
    put("parse_scene_fuzzer", e.path().filename().string(), text);
    put("json_parse_fuzzer", e.path().filename().string(), text);
  }

  using genai::Profile;
  const design::Scene& scene = fuzz::scene();
  for (Profile p : {Profile::kLayout, Profile::kText, Profile::kStyle, Profile::kFull}) {
    const std::string xml = genai::serialize(scene, p);
    const std::string name = std::string(genai::to_string(p));
    put("validate_and_diff_fuzzer", name + ".xml", xml);
    put("extract_document_fuzzer", name + ".txt", "Here is the edited design:\n```xml\n" + xml + "\n```\nDone.");
    put("design_grammar_match_fuzzer", name + ".xml", xml);
  }
  // An edit, an addition and a removal.
  std::string xml = genai::serialize(scene, Profile::kFull);
  std::string edited = xml;
  if (auto at = edited.find("Spring sale"); at != std::string::npos) edited.replace(at, 11, "Summer sale");
  put("validate_and_diff_fuzzer", "edited.xml", edited);
  put("design_grammar_match_fuzzer", "edited.xml", edited);
  if (auto at = edited.rfind("</page>"); at != std::string::npos) {
    std::string added = edited;
    added.insert(at, "<text x=\"10\" y=\"10\" width=\"200\" height=\"40\" text=\"New\"/>");
    put("validate_and_diff_fuzzer", "added.xml", added);
    put("design_grammar_match_fuzzer", "added.xml", added);
  }
  put("extract_document_fuzzer", "two.txt", "<design/> and <design></design>");
  put("extract_document_fuzzer", "truncated.txt", "```xml\n<design><page id=\"1\">");

  const std::string grammar = genai::design_grammar(scene, Profile::kFull);
  put("gbnf_matches_fuzzer", "design", grammar + '\0' + xml);
  put("gbnf_matches_fuzzer", "alternation", std::string("root ::= \"cat\" | \"dog\" | \"cow\" \"boy\"\0cowboy", 43));
  put("gbnf_matches_fuzzer", "classes", std::string("root ::= [a-cX] [^0-9x] [\\-\\]] .\0a!-z", 37));
  put("gbnf_matches_fuzzer", "rules",
      std::string("# list\nroot ::= item (\",\" item)*\nitem ::= [0-9]+ | \"(\" root \")\"\n") + '\0' + "1,(2,3),45");
}

// ---- models and packages ----------------------------------------------------------------

void write_tar(const std::string& harness, const std::string& name, bool gzip,
               const std::vector<std::pair<std::string, std::string>>& files) {
  put(harness, name, atelier::testing::tarball_bytes(files, gzip));
}

void model_seeds() {
  const Bytes fp16 = testing::tiny_segmentation_bytes(8, true);
  put("onnx_import_fuzzer", "tiny-fp16.onnx", fp16);
  put("onnx_import_fuzzer", "tiny-fp32.onnx", testing::tiny_segmentation_bytes(4, false));
  {
    // graph input -> Cast -> graph output (becomes an Identity), an fp16 Constant.
    testing::Model m;
    m.b.input("x", testing::kF16, {1, 2});
    m.b.output("y", testing::kF32, {1, 2});
    m.b.output("c", testing::kF16, {2});
    m.b.cast("x", "y", testing::kF32, "cast");
    m.b.constant("c", testing::f16_tensor("cv", {2}, {1.5f, -2.f}), "const");
    put("onnx_import_fuzzer", "cast-const.onnx", must(ml::serialize_onnx(m.proto), "serialize_onnx"));
  }

  // npm package tarballs as `npm pack` writes them: the resource in two chunks.
  const std::string model(fp16.begin(), fp16.end());
  std::vector<std::pair<std::string, std::string>> files = {{"package/package.json", R"({"name":"fake"})"}};
  nlohmann::json chunks = nlohmann::json::array();
  const std::size_t half = model.size() / 2;
  for (auto [at, n] : {std::pair{std::size_t(0), half}, std::pair{half, model.size() - half}}) {
    const std::string part = model.substr(at, n);
    const std::string hash = sha256_hex(std::span(reinterpret_cast<const std::uint8_t*>(part.data()), part.size()));
    chunks.push_back({{"hash", hash}, {"offsets", {at, at + n}}});
    files.push_back({"package/dist/" + hash, part});
  }
  nlohmann::json index = {{"/models/medium", {{"chunks", chunks}, {"size", model.size()}, {"mime", "application/octet-stream"}}}};
  files.push_back({"package/dist/resources.json", index.dump()});
  write_tar("read_package_resource_fuzzer", "package.tgz", true, files);
  write_tar("read_package_resource_fuzzer", "package.tar", false, files);

  for (const std::string& preset : ml::preset_names()) {
    ml::ModelManifest m;
    m.name = preset;
    m.sha256 = std::string(64, 'a');
    m.bytes = 1234;
    m.license = "MIT";
    m.source = {"file", "", "", "", preset + ".onnx", std::string(64, 'b'), 4321};
    m.input = "input";
    auto pp = ml::preset(preset);
    if (pp.ok()) std::tie(m.preprocess, m.postprocess) = *pp;
    if (preset == "isnet") m.precision_checks = {{"bf16", 5, 0.9994, 0.9984, 0.055, true}};
    put("manifest_from_json_fuzzer", preset + ".json", ml::manifest_to_json(m));
  }
}

// ---- dictionaries (OUT/dict/<harness>.dict, libFuzzer's format) ------------------------

void put_dict(const std::string& harness, const std::vector<std::string>& words) {
  std::string text;
  for (const std::string& w : words) {
    text += '"';
    for (unsigned char c : w) {
      if (c == '"' || c == '\\' || c < 0x20 || c > 0x7e) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02X", c);
        text += buf;
      } else {
        text += char(c);
      }
    }
    text += "\"\n";
  }
  fs::create_directories(g_out / "dict");
  std::ofstream(g_out / "dict" / (harness + ".dict"), std::ios::binary | std::ios::trunc) << text;
}

void dictionaries() {
  const std::vector<std::string> json = {"{", "}", "[", "]", ",", ":", "\"", "true", "false", "null", "-", "0", "1e-7",
                                         ".5", "\\u", "\\ud83d", "\\udc00", "\\n", "\xEF\xBB\xBF"};
  put_dict("json_parse_fuzzer", json);
  std::vector<std::string> scene = json;
  for (const char* k : {"format", "atelier-scene", "version", "pages", "children", "id", "type", "page", "text", "image",
                        "shape", "group"}) {
    scene.push_back("\"" + std::string(k) + "\"");
  }
  for (const auto& p : design::properties()) {
    scene.push_back("\"" + std::string(p.name) + "\"");
    for (auto c : p.choices) scene.push_back("\"" + std::string(c) + "\"");
  }
  put_dict("parse_scene_fuzzer", scene);
  std::vector<std::string> xml = {"<design>", "</design>", "<design/>", "<page", "</page>", "<text", "</text>", "<image",
                                  "<shape", "<group", "</group>", "/>", ">", "=\"", "\"", "&amp;", "&lt;", "&#x",
                                  "<![CDATA[", "]]>", "<!--", "-->", "<?xml", "```xml", "```"};
  for (const auto& a : genai::xml_attributes()) xml.push_back(" " + std::string(a.name) + "=\"");
  put_dict("validate_and_diff_fuzzer", xml);
  put_dict("extract_document_fuzzer", xml);
  put_dict("design_grammar_match_fuzzer", xml);
  put_dict("gbnf_matches_fuzzer", {"::=", "root", "|", "*", "+", "?", "(", ")", "[", "]", "[^", "\"", ".", "#", "\\x",
                                   "\\u", "\\n", "\\\\", std::string(1, '\0'), "\n"});
}

// ---- option values ----------------------------------------------------------------------

void option_seeds() {
  auto each = [](const std::string& harness, std::initializer_list<const char*> values) {
    int i = 0;
    for (const char* v : values) put(harness, std::to_string(i++), std::string(v));
  };
  each("parse_pixel_count_fuzzer", {"100M", "12000000", "0.5M", "1", "1e3m"});
  each("parse_size_fuzzer", {"1280x720", "1x1", "100000x100000", "64X48"});
  each("parse_number_fuzzer", {"0", "256", "-7", "+3", "0.5", "1e-3", "99999999999999999999", "nan"});
  each("parse_format_fuzzer", {"1280x720", "youtube-thumbnail", "instagram-story", "1x1"});
  each("parse_color_fuzzer", {"#1B3A4B", "#1B3A4B80", "e07a5f", "white", "transparent", "gray"});
  each("parse_background_fuzzer", {"transparent", "#FF000080", "white", "blur", "blur=12", "missing.png"});
  each("parse_sampling_fuzzer", {"half_pixel", "asymmetric"});
  std::vector<std::string> aspects = {"16:9", "1.91:1", "4:5"};
  for (const auto& p : vision::crop_presets()) aspects.push_back(p.name);
  for (std::size_t i = 0; i < aspects.size(); ++i) put("parse_aspect_fuzzer", std::to_string(i), aspects[i]);
  const auto& props = design::properties();
  for (std::size_t i = 0; i < props.size() && i < 256; ++i) {
    const auto& p = props[i];
    std::string value;
    switch (p.type) {
      case design::PropertyType::kNumber: value = "12.5"; break;
      case design::PropertyType::kInteger: value = "12"; break;
      case design::PropertyType::kBool: value = "true"; break;
      case design::PropertyType::kString: value = "hello"; break;
      case design::PropertyType::kColor: value = "#1B3A4B"; break;
      case design::PropertyType::kEnum: value = p.choices.empty() ? "" : std::string(p.choices[0]); break;
    }
    put("parse_property_fuzzer", std::string(p.name), std::string(1, char(i)) + value);
  }
}

// Network protocols: KServe v2 bodies (JSON and binary, first byte the header size as
// v2_protocol_fuzzer reads it) and RESP2 replies as Redis sends them.
void protocol_seeds() {
  ml::V2Request r;
  r.id = "seed";
  ml::V2Tensor t;
  t.name = "input";
  t.shape = {1, 3, 2, 2};
  t.data = {0.5f, -1, 2, 0, 1, 1, 1, 1, 0.25f, 3, -2, 7};
  r.inputs.push_back(t);
  r.outputs = {"output"};
  for (bool binary : {false, true}) {
    r.binary_output = binary;
    // Two bytes, big-endian: 0 (JSON only) or the header size + 1.
    auto prefix = [](const ml::V2Message& m) {
      const std::size_t n = m.header_size ? m.header_size + 1 : 0;
      return std::string{char(n >> 8), char(n & 0xff)};
    };
    const ml::V2Message m = ml::encode_v2_request(r, binary);
    put("v2_protocol_fuzzer", binary ? "request.bin" : "request.json", prefix(m) + m.body);
    const ml::V2Message answer = ml::encode_v2_response("isnet", "seed", {t}, binary);
    put("v2_protocol_fuzzer", binary ? "response.bin" : "response.json", prefix(answer) + answer.body);
  }
  put("redis_reply_fuzzer", "simple.resp", std::string("+OK\r\n:42\r\n-ERR no\r\n$-1\r\n*-1\r\n"));
  put("redis_reply_fuzzer", "nested.resp",
      std::string("*2\r\n$5\r\n0-1-2\r\n*2\r\n*2\r\n$2\r\nid\r\n$32\r\n0123456789abcdef0123456789abcdef\r\n"
                  "*0\r\n"));
  put("redis_reply_fuzzer", "bulk.resp", std::string("$6\r\na\r\nb\0c\r\n", 13));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
    return 2;
  }
  g_out = argv[1];
  image_seeds();
  design_seeds(ATELIER_SOURCE_DIR);
  model_seeds();
  option_seeds();
  protocol_seeds();
  dictionaries();
  std::printf("make_seeds: %d seed files in %s\n", g_count, g_out.c_str());
  return 0;
}
