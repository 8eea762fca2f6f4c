#include "ml/model_fetch.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include <nlohmann/json.hpp>
#include <opencv2/dnn.hpp>

#include "core/files.h"
#include "core/sha256.h"
#include "core/subprocess.h"
#include "ml/onnx_convert.h"

namespace atelier::ml {
namespace fs = std::filesystem;

namespace {

void report(const ProgressFn& progress, const std::string& message) {
  if (progress) progress(message);
}

// libarchive's message for the last error; it has none for some damaged input (a
// truncated gzip header), and appending its nullptr to a string crashed (found by fuzzing).
std::string archive_message(archive* a) {
  const char* s = archive_error_string(a);
  return s ? s : "unreadable data";
}

// Calls `visit(name, archive)` for every regular file in a .tgz/.tar; `visit` may read the
// entry's data from the archive. Stops early when `visit` sets `stop`.
Status scan_archive(const fs::path& path,
                    const std::function<Status(const std::string&, std::int64_t, archive*, bool&)>& visit) {
  std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
  archive_read_support_filter_gzip(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 64 << 10) != ARCHIVE_OK) {
    return invalid_argument(path.string() + ": not an npm package tarball (" + archive_message(a.get()) + ")");
  }
  archive_entry* entry = nullptr;
  bool stop = false;
  while (!stop) {
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      return data_loss(path.string() + ": damaged tarball (" + archive_message(a.get()) + ")");
    }
    const char* name = archive_entry_pathname(entry);  // nullptr for an entry without a name
    if (archive_entry_filetype(entry) != AE_IFREG || name == nullptr) continue;
    ATELIER_TRY(visit(name, archive_entry_size(entry), a.get(), stop));
  }
  return {};
}

Status read_entry(archive* a, std::uint8_t* dst, std::int64_t size, const std::string& what) {
  std::int64_t got = 0;
  while (got < size) {
    la_ssize_t n = archive_read_data(a, dst + got, std::size_t(size - got));
    if (n < 0) return data_loss(what + ": damaged tarball (" + archive_message(a) + ")");
    if (n == 0) break;
    got += n;
  }
  if (got != size) return data_loss(what + ": tarball entry is truncated");
  return {};
}

Status npm_error(const FetchSource& src, const ProcessResult& r) {
  const std::string spec = src.package + "@" + src.version;
  std::string all = r.err + "\n" + r.out;
  for (const char* code : {"ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ETIMEDOUT", "ECONNRESET", "ENETUNREACH",
                           "EHOSTUNREACH", "ERR_SOCKET_TIMEOUT"}) {
    if (all.find(code) != std::string::npos) {
      return unavailable("cannot download " + spec + ": the npm registry cannot be reached (npm: " + code +
                         "); on a machine without network use --from-tarball FILE");
    }
  }
  if (all.find("ENOSPC") != std::string::npos) return resource_exhausted("disk full while downloading " + spec);
  if (all.find("E404") != std::string::npos || all.find("ETARGET") != std::string::npos) {
    return not_found("cannot download " + spec + ": the npm registry does not have it");
  }
  // npm names its reason on a line "npm error code EXXX" (npm 7+) or "npm ERR! code EXXX".
  std::string last;
  for (const char* marker : {"npm error code ", "npm ERR! code "}) {
    if (std::size_t at = r.err.find(marker); at != std::string::npos) {
      std::size_t end = r.err.find('\n', at);
      last = r.err.substr(at, end == std::string::npos ? std::string::npos : end - at);
      break;
    }
  }
  return unavailable("npm pack " + spec + " failed (exit " + std::to_string(r.exit_code) + ")" +
                     (last.empty() ? "" : ": " + last));
}

Result<fs::path> npm_pack(const FetchSource& src, const fs::path& dir, const FetchOptions& options) {
  if (find_program("npm").empty()) {
    return failed_precondition("npm not found: install Node.js and npm (scripts/install-deps does), or use "
                               "--from-tarball FILE with the tarball of `npm pack " + src.package + "@" + src.version + "`");
  }
  report(options.progress, "downloading " + src.package + "@" + src.version + " with npm pack");
  ProcessOptions po;
  po.working_dir = dir;
  po.timeout = options.timeout;
  ATELIER_ASSIGN_OR_RETURN(ProcessResult r, run_process({"npm", "pack", src.package + "@" + src.version,
                                                         "--pack-destination", dir.string(), "--loglevel", "error"}, po));
  if (r.exit_code != 0) return npm_error(src, r);
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".tgz") return e.path();
  }
  return unavailable("npm pack " + src.package + "@" + src.version + " produced no tarball");
}

// Loads the converted model in OpenCV DNN and runs one input of the declared size.
Status check_runs(const onnx::ModelProto& model, const ModelManifest& m) {
  ATELIER_ASSIGN_OR_RETURN(std::vector<std::uint8_t> converted, serialize_onnx(model));
  try {
    cv::dnn::Net net = cv::dnn::readNetFromONNX(converted);
    int dims[4] = {1, 3, m.preprocess.height, m.preprocess.width};
    net.setInput(cv::Mat(4, dims, CV_32F, cv::Scalar(0)), m.input);
    cv::Mat out = net.forward(m.postprocess.output);
    if (out.total() == 0) return invalid_argument("the model produced an empty output");
  } catch (const cv::Exception& e) {
    return invalid_argument("OpenCV DNN cannot run this model: " + e.err);
  }
  return {};
}

// The steps fetch and import share: convert, optionally check that it runs, install.
// Conversion and check errors are prefixed with `where` (the model's origin).
Result<InstalledModel> convert_and_install(ModelStore& store, onnx::ModelProto model, ModelManifest manifest,
                                           bool check, const std::string& where, const ProgressFn& progress) {
  report(progress, "converting to an fp32 ONNX model for OpenCV DNN");
  ConversionOptions co;
  co.keep_outputs = {manifest.postprocess.output};
  Result<ConversionReport> converted = convert_to_fp32(model, co);
  if (!converted.ok()) return converted.status().with_context(where);
  const ConversionReport& rep = *converted;
  report(progress, "converted: " + std::to_string(rep.initializers_upcast) + " initializers and " +
                       std::to_string(rep.constants_upcast) + " constants upcast, " +
                       std::to_string(rep.casts_removed + rep.casts_to_identity) + " casts removed, " +
                       std::to_string(rep.nodes_pruned) + " unused nodes pruned");
  if (check) {
    report(progress, "checking that OpenCV DNN runs it at " + std::to_string(manifest.preprocess.width) + "x" +
                         std::to_string(manifest.preprocess.height));
    if (Status s = check_runs(model, manifest); !s.ok()) return s.with_context(where);
  }
  return store.install(model, std::move(manifest));
}

}  // namespace

const std::vector<FetchSource>& fetch_sources() {
  static const std::vector<FetchSource> kSources = {{
      "isnet",
      "@imgly/background-removal-data",
      "1.4.5",
      "/models/medium",
      88188479,
      "b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb",
      "AGPL-3.0",
      "isnet",
      "ISNet (IS-Net/DIS) background removal, IMG.LY's fp16 'medium' export, 1024x1024",
  }};
  return kSources;
}

bool is_fetchable(const std::string& name) {
  const auto& s = fetch_sources();
  return std::any_of(s.begin(), s.end(), [&](const FetchSource& f) { return f.name == name; });
}

Result<std::vector<std::uint8_t>> read_package_resource(const fs::path& tarball, const std::string& resource) {
  const std::string where = tarball.string();
  std::string index_text;
  ATELIER_TRY(scan_archive(tarball, [&](const std::string& name, std::int64_t size, archive* a, bool& stop) -> Status {
    if (name != "package/dist/resources.json") return {};
    if (size <= 0 || size > (8 << 20)) return data_loss(where + ": resources.json has a bad size");
    index_text.resize(std::size_t(size));
    stop = true;
    return read_entry(a, reinterpret_cast<std::uint8_t*>(index_text.data()), size, where);
  }));
  if (index_text.empty()) return invalid_argument(where + ": not the expected npm package (no dist/resources.json)");

  nlohmann::json index = nlohmann::json::parse(index_text, nullptr, false);
  if (index.is_discarded() || !index.contains(resource)) {
    return invalid_argument(where + ": dist/resources.json does not list " + resource);
  }
  struct Chunk { std::string hash; std::uint64_t begin, end; bool seen = false; std::vector<std::uint8_t> data; };
  std::map<std::string, Chunk> chunks;
  std::uint64_t total = 0;
  try {
    const auto& r = index.at(resource);
    total = r.at("size").get<std::uint64_t>();
    std::uint64_t expect_begin = 0;
    for (const auto& c : r.at("chunks")) {
      Chunk ch{c.at("hash").get<std::string>(), c.at("offsets").at(0).get<std::uint64_t>(),
               c.at("offsets").at(1).get<std::uint64_t>(), false, {}};
      if (ch.begin != expect_begin || ch.end <= ch.begin || ch.hash.size() != 64) {
        return data_loss(where + ": chunk list of " + resource + " is not contiguous");
      }
      expect_begin = ch.end;
      chunks[ch.hash] = ch;
    }
    if (expect_begin != total) {
      return data_loss(where + ": chunks of " + resource + " cover " + std::to_string(expect_begin) +
                       " bytes, resources.json says " + std::to_string(total));
    }
  } catch (const nlohmann::json::exception& e) {
    return invalid_argument(where + ": bad dist/resources.json (" + e.what() + ")");
  }
  if (total == 0 || total > (4ull << 30)) return data_loss(where + ": " + resource + " has a bad size");

  // Each chunk is read into its own buffer, sized by the tar entry that holds it, and the
  // whole resource is allocated only once every chunk has been found and checked: a small
  // tarball that declares a 4 GiB resource costs nothing.
  ATELIER_TRY(scan_archive(tarball, [&](const std::string& name, std::int64_t size, archive* a, bool&) -> Status {
    const std::string prefix = "package/dist/";
    if (name.rfind(prefix, 0) != 0) return {};
    auto it = chunks.find(name.substr(prefix.size()));
    if (it == chunks.end() || it->second.seen) return {};
    Chunk& ch = it->second;
    if (std::uint64_t(size) != ch.end - ch.begin) {
      return data_loss(where + ": chunk " + ch.hash + " of " + resource + " is " + std::to_string(size) +
                       " bytes, expected " + std::to_string(ch.end - ch.begin));
    }
    ch.data.resize(std::size_t(size));
    ATELIER_TRY(read_entry(a, ch.data.data(), size, where));
    std::string got = sha256_hex(ch.data);
    if (got != ch.hash) {
      return data_loss(where + ": chunk " + ch.hash + " of " + resource + " fails its SHA-256 check (got " + got + ")");
    }
    ch.seen = true;
    return {};
  }));
  for (const auto& [hash, ch] : chunks) {
    if (!ch.seen) return data_loss(where + ": chunk " + hash + " of " + resource + " is missing");
  }
  std::vector<std::uint8_t> out(total);
  for (auto& [hash, ch] : chunks) {
    std::copy(ch.data.begin(), ch.data.end(), out.begin() + std::ptrdiff_t(ch.begin));
    std::vector<std::uint8_t>().swap(ch.data);
  }
  return out;
}

Result<InstalledModel> fetch_model(ModelStore& store, const std::string& name, const FetchOptions& options) {
  auto it = std::find_if(fetch_sources().begin(), fetch_sources().end(), [&](const auto& s) { return s.name == name; });
  if (it == fetch_sources().end()) {
    std::string known;
    for (const auto& s : fetch_sources()) known += (known.empty() ? "" : ", ") + s.name;
    return not_found("no fetch source for model '" + name + "' (known: " + known +
                     "; other models: atelier models import FILE.onnx --name NAME)");
  }
  return fetch_from_source(store, *it, options);
}

Result<InstalledModel> fetch_from_source(ModelStore& store, const FetchSource& src, const FetchOptions& options) {
  ATELIER_TRY(validate_model_name(src.name));
  ATELIER_ASSIGN_OR_RETURN(auto pre_post, preset(src.preset));
  if (!options.force) {
    // Kept when the same source is installed intact and described as this version would.
    if (auto installed = store.find(src.name); installed.ok() && installed->manifest.source.sha256 == src.sha256 &&
                                               installed->manifest.preprocess == pre_post.first &&
                                               installed->manifest.postprocess == pre_post.second) {
      report(options.progress, "checking the installed copy");
      auto sha = sha256_file_hex(installed->model_path());
      if (sha.ok() && *sha == installed->manifest.sha256) {
        report(options.progress, "already installed: " + installed->dir.string());
        return installed;
      }
    }
  }

  ATELIER_TRY(ensure_directory(store.home()));
  ATELIER_ASSIGN_OR_RETURN(TempDir download, TempDir::create(store.home(), ".download-"));
  fs::path tarball = options.from_tarball;
  if (tarball.empty()) {
    ATELIER_ASSIGN_OR_RETURN(tarball, npm_pack(src, download.path(), options));
  }
  report(options.progress, "verifying the chunks of " + src.resource);
  ATELIER_ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes, read_package_resource(tarball, src.resource));
  if (bytes.size() != src.bytes) {
    return data_loss(tarball.string() + ": " + src.resource + " is " + std::to_string(bytes.size()) +
                     " bytes, expected " + std::to_string(src.bytes) + " (not " + src.package + "@" + src.version + "?)");
  }
  std::string sha = sha256_hex(bytes);
  if (sha != src.sha256) {
    return data_loss(tarball.string() + ": " + src.resource + " fails its SHA-256 check (got " + sha + ", expected " +
                     src.sha256 + ")");
  }
  ATELIER_ASSIGN_OR_RETURN(onnx::ModelProto model, parse_onnx(bytes));
  bytes = {};

  ModelManifest m;
  m.name = src.name;
  m.license = src.license;
  m.source = {"npm", src.package, src.version, src.resource, "", src.sha256, src.bytes};
  m.input = model.graph().input(0).name();
  m.preprocess = pre_post.first;
  m.postprocess = pre_post.second;
  return convert_and_install(store, std::move(model), std::move(m), /*check=*/false,
                             src.package + "@" + src.version + src.resource, options.progress);
}

Result<InstalledModel> import_model(ModelStore& store, const ImportOptions& options) {
  ATELIER_TRY(validate_model_name(options.name));
  ATELIER_ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes, read_file(options.file, 4ull << 30));
  const std::string where = options.file.string();
  Result<onnx::ModelProto> parsed = parse_onnx(bytes);
  if (!parsed.ok()) return parsed.status().with_context(where);
  onnx::ModelProto model = std::move(parsed).value();

  // The image input: the graph input that is not an initializer, 4-D NCHW with 3 channels.
  std::set<std::string> initializers;
  for (const auto& t : model.graph().initializer()) initializers.insert(t.name());
  std::vector<const onnx::ValueInfoProto*> inputs;
  for (const auto& in : model.graph().input()) {
    if (!initializers.count(in.name())) inputs.push_back(&in);
  }
  if (inputs.size() != 1) {
    return invalid_argument(where + ": expected one image input, the model has " + std::to_string(inputs.size()));
  }
  const auto& shape = inputs[0]->type().tensor_type().shape();
  if (shape.dim_size() != 4) return invalid_argument(where + ": the input '" + inputs[0]->name() + "' is not 4-D (NCHW)");
  if (shape.dim(1).has_dim_value() && shape.dim(1).dim_value() != 3) {
    return invalid_argument(where + ": the input '" + inputs[0]->name() + "' does not have 3 channels");
  }

  ModelManifest m;
  m.name = options.name;
  m.license = options.license;
  m.source = {"file", "", "", "", options.file.filename().string(), sha256_hex(bytes), bytes.size()};
  m.input = inputs[0]->name();
  m.preprocess = options.preprocess;
  m.postprocess = options.postprocess;
  bytes = {};
  for (int axis : {2, 3}) {
    int& size = axis == 2 ? m.preprocess.height : m.preprocess.width;
    if (size == 0 && shape.dim(axis).has_dim_value() && shape.dim(axis).dim_value() > 0) {
      size = int(shape.dim(axis).dim_value());
    }
    if (size == 0) size = axis == 2 ? options.fallback_height : options.fallback_width;
    if (size <= 0) return invalid_argument(where + ": the input size is not fixed in the model; give --size WxH");
    if (shape.dim(axis).has_dim_value() && shape.dim(axis).dim_value() != size) {
      return invalid_argument(where + ": the model's input is " + std::to_string(shape.dim(3).dim_value()) + "x" +
                              std::to_string(shape.dim(2).dim_value()) + ", not the requested " +
                              std::to_string(m.preprocess.width) + "x" + std::to_string(m.preprocess.height));
    }
  }
  if (m.postprocess.output.empty()) {
    if (model.graph().output_size() == 0) return invalid_argument(where + ": the model has no outputs");
    m.postprocess.output = model.graph().output(0).name();
  }

  return convert_and_install(store, std::move(model), std::move(m), /*check=*/true, where, options.progress);
}

}  // namespace atelier::ml
