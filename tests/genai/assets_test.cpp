// The local asset library: index and file-name libraries, scoring, ordering, index errors.
#include "genai/assets.h"

#include <gtest/gtest.h>

#include <fstream>

#include "support/test_support.h"

namespace atelier::genai {
namespace {
namespace fs = std::filesystem;

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// A folder with empty stand-in image files (the library never decodes them).
TempDir folder_with(const std::vector<std::string>& files) {
  TempDir dir = testing::temp_dir();
  for (const std::string& f : files) write_text(dir.path() / f, "x");
  return dir;
}

std::vector<std::string> names(const std::vector<AssetMatch>& matches) {
  std::vector<std::string> out;
  for (const AssetMatch& m : matches) out.push_back(m.path.filename().string());
  return out;
}

TEST(Assets, IndexScoresTagsAboveCaptionWords) {
  TempDir dir = folder_with({"bike.jpg", "bike2.jpg", "car.jpg"});
  write_text(dir.path() / "assets.json", R"([
    {"file": "bike2.jpg", "caption": "a red bicycle"},
    {"file": "bike.jpg", "caption": "leaning against a wall", "tags": ["bicycle", "red", "street"]},
    {"file": "car.jpg", "caption": "a red car", "tags": ["car", "vehicle"]}
  ])");
  auto lib = open_asset_library(dir.path());
  ASSERT_TRUE(lib.ok()) << lib.status().message();
  std::vector<AssetMatch> m = (*lib)->search("A red bicycle", 10);
  ASSERT_EQ(names(m), (std::vector<std::string>{"bike.jpg", "bike2.jpg", "car.jpg"}));
  EXPECT_DOUBLE_EQ(m[0].score, 1.0);  // both words are tags
  EXPECT_DOUBLE_EQ(m[1].score, 0.8);  // both words in the caption only
  EXPECT_DOUBLE_EQ(m[2].score, 0.4);  // "red" in the caption: 0.8 / 2
  EXPECT_EQ(m[0].caption, "leaning against a wall");
  EXPECT_TRUE(m[0].path.is_absolute());
  EXPECT_EQ(m[0].path, fs::absolute(dir.path() / "bike.jpg").lexically_normal());
  // The limit.
  EXPECT_EQ(names((*lib)->search("red bicycle", 1)), (std::vector<std::string>{"bike.jpg"}));
  EXPECT_TRUE((*lib)->search("red bicycle", 0).empty());
}

TEST(Assets, AnIndexMayNameFilesElsewhereByAbsolutePath) {
  TempDir photos = folder_with({"moon.png"});
  TempDir dir = folder_with({});
  const fs::path moon = fs::absolute(photos.path() / "moon.png").lexically_normal();
  write_text(dir.path() / "assets.json", "[{\"file\": \"" + moon.string() + "\", \"tags\": [\"moon\"]}]");
  auto lib = open_asset_library(dir.path());
  ASSERT_TRUE(lib.ok()) << lib.status().message();
  std::vector<AssetMatch> m = (*lib)->search("the moon", 3);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].path, moon);
  EXPECT_DOUBLE_EQ(m[0].score, 1.0);
}

TEST(Assets, PluralsAndStopWordsAreIgnored) {
  TempDir dir = folder_with({"berries.jpg", "boxes.png", "cats.webp"});
  write_text(dir.path() / "assets.json", R"([
    {"file": "berries.jpg", "caption": "Fresh berries in a bowl"},
    {"file": "boxes.png", "tags": ["Boxes", "cardboard"]},
    {"file": "cats.webp", "caption": "two cats on the sofa"}
  ])");
  auto lib = open_asset_library(dir.path());
  ASSERT_TRUE(lib.ok()) << lib.status().message();
  // "a photo of the ..." are stop words; singular and plural match.
  auto m = (*lib)->search("A photo of a berry", 5);
  ASSERT_EQ(names(m), (std::vector<std::string>{"berries.jpg"}));
  EXPECT_DOUBLE_EQ(m[0].score, 0.8);
  m = (*lib)->search("a cardboard box", 5);
  ASSERT_EQ(names(m), (std::vector<std::string>{"boxes.png"}));
  EXPECT_DOUBLE_EQ(m[0].score, 1.0);
  EXPECT_EQ(m[0].caption, "boxes");  // no caption in the index: the file name's
  m = (*lib)->search("The cat", 5);
  ASSERT_EQ(names(m), (std::vector<std::string>{"cats.webp"}));
  EXPECT_DOUBLE_EQ(m[0].score, 0.8);
  EXPECT_TRUE((*lib)->search("a dog", 5).empty());
  EXPECT_TRUE((*lib)->search("the of a", 5).empty());  // only stop words
  EXPECT_TRUE((*lib)->search("", 5).empty());
}

TEST(Assets, TiesGoToTheMoreSpecificAssetThenThePath) {
  TempDir dir = folder_with({"b-sunset.jpg", "a-sunset.jpg", "sunset-beach-palm-tree.jpg", "sunset.jpg"});
  auto lib = open_asset_library(dir.path());  // no index: names are the captions
  ASSERT_TRUE(lib.ok()) << lib.status().message();
  auto m = (*lib)->search("sunset", 10);
  // All score 1; "sunset.jpg" is all sunset, then the one-letter prefixes (dropped as
  // single letters) tie with it and go by path, the long name last.
  EXPECT_EQ(names(m), (std::vector<std::string>{"a-sunset.jpg", "b-sunset.jpg", "sunset.jpg", "sunset-beach-palm-tree.jpg"}));
  for (const auto& x : m) EXPECT_DOUBLE_EQ(x.score, 1.0);
  // Deterministic: the same answer every time.
  EXPECT_EQ(names((*lib)->search("sunset", 10)), names(m));
}

TEST(Assets, FileNamesWithoutAnIndex) {
  TempDir dir = folder_with({"red-bicycle.JPG", "blue_car.png", "notes.txt", "mountain.lake.tiff"});
  fs::create_directory(dir.path() / "sub");
  write_text(dir.path() / "sub" / "red-bicycle-2.jpg", "x");  // not searched: only DIR itself
  auto lib = open_asset_library(dir.path());
  ASSERT_TRUE(lib.ok()) << lib.status().message();
  auto m = (*lib)->search("a red bicycle", 10);
  ASSERT_EQ(names(m), (std::vector<std::string>{"red-bicycle.JPG"}));
  EXPECT_EQ(m[0].caption, "red bicycle");
  EXPECT_DOUBLE_EQ(m[0].score, 1.0);
  m = (*lib)->search("lake in the mountains", 10);
  ASSERT_EQ(names(m), (std::vector<std::string>{"mountain.lake.tiff"}));
  EXPECT_EQ(m[0].caption, "mountain lake");
  EXPECT_TRUE((*lib)->search("notes", 10).empty());  // not an image
  m = (*lib)->search("red car", 10);
  EXPECT_EQ(names(m), (std::vector<std::string>{"blue_car.png", "red-bicycle.JPG"}));  // 0.5 each; precision 1/2 each; path
}

TEST(Assets, EmptyFolderFindsNothing) {
  TempDir dir = testing::temp_dir();
  auto lib = open_asset_library(dir.path());
  ASSERT_TRUE(lib.ok());
  EXPECT_TRUE((*lib)->search("anything", 3).empty());
}

TEST(Assets, BadIndexesAreErrorsNamingTheFile) {
  struct Case {
    const char* json;
    const char* expect;
  } cases[] = {
      {"[{\"file\": \"a.jpg\"", "not valid JSON"},
      {"{\"file\": \"a.jpg\"}", "expected an array"},
      {"[3]", "entry 1: expected an object"},
      {"[{\"file\": \"a.jpg\"}, {\"caption\": \"x\"}]", "entry 2: missing 'file'"},
      {"[{\"file\": 5}]", "entry 1: 'file' must be a non-empty string"},
      {"[{\"file\": \"missing.jpg\"}]", "entry 1: file not found: missing.jpg"},
      {"[{\"file\": \"/nonexistent/a.jpg\"}]", "entry 1: file not found: /nonexistent/a.jpg"},
      {"[{\"file\": \"a.jpg\", \"tags\": \"red\"}]", "entry 1: 'tags' must be an array of strings"},
      {"[{\"file\": \"a.jpg\", \"tags\": [1]}]", "entry 1: 'tags' must be an array of strings"},
      {"[{\"file\": \"a.jpg\", \"caption\": 7}]", "entry 1: 'caption' must be a string"},
  };
  for (const Case& c : cases) {
    TempDir dir = folder_with({"a.jpg"});
    write_text(dir.path() / "assets.json", c.json);
    auto lib = open_asset_library(dir.path());
    ASSERT_FALSE(lib.ok()) << c.json;
    EXPECT_NE(lib.status().message().find("assets.json: "), std::string::npos) << lib.status().message();
    EXPECT_NE(lib.status().message().find(c.expect), std::string::npos) << lib.status().message();
  }
  TempDir dir = folder_with({});
  write_text(dir.path() / "assets.json", "");
  auto lib = open_asset_library(dir.path());
  ASSERT_FALSE(lib.ok());
  EXPECT_NE(lib.status().message().find("assets.json"), std::string::npos) << lib.status().message();
}

TEST(Assets, MissingFolderIsNotFound) {
  TempDir dir = testing::temp_dir();
  auto lib = open_asset_library(dir.path() / "nope");
  ASSERT_FALSE(lib.ok());
  EXPECT_EQ(lib.status().code(), StatusCode::kNotFound);
  EXPECT_NE(lib.status().message().find("nope"), std::string::npos);
  write_text(dir.path() / "file.jpg", "x");
  lib = open_asset_library(dir.path() / "file.jpg");
  ASSERT_FALSE(lib.ok());
  EXPECT_EQ(lib.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace atelier::genai
