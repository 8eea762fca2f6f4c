// FilePlan: outputs compared with inputs and with each other by file identity, and output
// folders checked, before any work.
#include "core/file_plan.h"

#include <gtest/gtest.h>

#include "support/test_support.h"

namespace atelier {
namespace {
namespace fs = std::filesystem;

struct Tree {
  TempDir dir = testing::temp_dir();
  fs::path root = dir.path();
  fs::path in = root / "in.png";
  Tree() {
    testing::write_bytes(in, {1, 2, 3});
    fs::create_directories(root / "sub");
  }
};

std::string check(const FilePlan& p) { return p.check().message(); }

TEST(FilePlan, AnOutputIsNeverAnInputUnderAnySpelling) {
  Tree t;
  fs::create_symlink(t.in, t.root / "link.png");
  fs::create_hard_link(t.in, t.root / "hard.png");
  fs::create_symlink(t.root / "sub", t.root / "sublink");
  const std::vector<fs::path> aliases = {t.in, t.root / "sub" / ".." / "in.png", t.root / "." / "in.png",
                                         t.root / "link.png", t.root / "hard.png", t.root / "sublink" / ".." / "in.png"};
  for (const auto& alias : aliases) {
    FilePlan p;
    p.add_input(t.in, "the input");
    p.add_output(alias, "-o");
    Status s = p.check();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << alias;
    const std::string suffix = alias == t.in ? "" : " " + t.in.string();
    EXPECT_EQ(s.message(), "-o " + alias.string() + ": refusing to overwrite the input" + suffix);
  }
}

TEST(FilePlan, TwoOutputsOfOneRunAreTwoFiles) {
  Tree t;
  FilePlan p;
  p.add_output(t.root / "a.png", "-o");
  p.add_output(t.root / "sub" / ".." / "a.png", "--explain");
  EXPECT_EQ(check(p), "--explain " + (t.root / "sub" / ".." / "a.png").string() + ": the same file as -o " +
                          (t.root / "a.png").string());
  FilePlan ok;
  ok.add_input(t.in, "the input");
  ok.add_output(t.root / "a.png", "-o");
  ok.add_output(t.root / "sub" / "a.png", "--explain");
  EXPECT_TRUE(ok.check().ok()) << ok.check().message();
}

TEST(FilePlan, OutputFoldersMustExistUnlessTheRunCreatesThem) {
  Tree t;
  FilePlan p;
  p.add_output(t.root / "nodir" / "x.png", "-o");
  EXPECT_EQ(check(p), "-o " + (t.root / "nodir" / "x.png").string() + ": folder " + (t.root / "nodir").string() +
                          " does not exist");
  FilePlan planned;
  planned.add_output_folder(t.root / "nodir", "-o");
  planned.add_output(t.root / "nodir" / "x.png", "-o");
  EXPECT_TRUE(planned.check().ok()) << planned.check().message();
  FilePlan under_file;
  under_file.add_output(t.in / "x.png", "-o");
  EXPECT_EQ(check(under_file), "-o " + (t.in / "x.png").string() + ": a parent is not a folder");
  FilePlan folder_file;
  folder_file.add_output_folder(t.in, "-o");
  EXPECT_EQ(check(folder_file), "-o " + t.in.string() + ": exists and is not a folder");
}

TEST(FilePlan, OnlyRegularFilesAreReplaced) {
  Tree t;
  FilePlan dir;
  dir.add_output(t.root / "sub", "-o");
  EXPECT_EQ(check(dir), "-o " + (t.root / "sub").string() + ": is a folder");
  FilePlan dev;
  dev.add_output("/dev/null", "-o");
  EXPECT_EQ(check(dev), "-o /dev/null: not a regular file (refusing to replace it)");
  FilePlan slash;
  slash.add_output(t.root.string() + "/x/", "-o");
  EXPECT_EQ(check(slash), "-o " + t.root.string() + "/x/: names a folder, expected a file");
}

TEST(FilePlan, EveryFileOfAnInputFolderCounts) {
  Tree t;
  testing::write_bytes(t.root / "sub" / "deep.png", {9});
  FilePlan p;
  p.add_input_folder(t.root / "sub", "a file of the asset folder");
  p.add_output(t.root / "sub" / "deep.png", "-o");
  EXPECT_EQ(check(p), "-o " + (t.root / "sub" / "deep.png").string() + ": refusing to overwrite a file of the asset folder");
  FilePlan fresh;
  fresh.add_input_folder(t.root / "sub", "a file of the asset folder");
  fresh.add_output(t.root / "sub" / "new.png", "-o");
  EXPECT_TRUE(fresh.check().ok());
}

}  // namespace
}  // namespace atelier
