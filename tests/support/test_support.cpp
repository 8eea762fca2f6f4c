#include "support/test_support.h"

#include "support/tarball.h"

#include <gtest/gtest.h>


#include <algorithm>
#include <cstring>
#include <cstdlib>
#include <fstream>

namespace atelier::testing {

std::filesystem::path sample(const std::string& name) {
  return std::filesystem::path(ATELIER_SAMPLES) / name;
}

std::filesystem::path atelier_binary() { return ATELIER_BINARY; }

TempDir temp_dir() {
  Result<TempDir> d = TempDir::create({}, "atelier-test-");
  if (!d.ok()) {
    ADD_FAILURE() << d.status().message();
    std::abort();
  }
  return std::move(d).value();
}

ProcessResult run_atelier(const std::vector<std::string>& args) {
  std::vector<std::string> argv{atelier_binary().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessOptions opt;
  opt.timeout = std::chrono::minutes(5);
  Result<ProcessResult> r = run_process(argv, opt);
  if (!r.ok()) {
    ADD_FAILURE() << r.status().message();
    return {};
  }
  return std::move(r).value();
}

LargeBuffer large_buffer(const std::vector<std::uint8_t>& bytes) {
  LargeBuffer b;
  b.resize(bytes.size());
  if (!bytes.empty()) std::memcpy(b.data(), bytes.data(), bytes.size());
  return b;
}

cv::Mat pattern_rgb(int w, int h) {
  cv::Mat m(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      m.at<cv::Vec3b>(y, x) = cv::Vec3b(std::uint8_t(x * 255 / std::max(1, w - 1)),
                                        std::uint8_t(y * 255 / std::max(1, h - 1)),
                                        std::uint8_t(((x / 8 + y / 8) % 2) ? 200 : 40));
    }
  }
  return m;
}

std::vector<std::string> listing(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

void write_bytes(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

void write_tarball(const std::filesystem::path& path, const std::vector<std::pair<std::string, std::string>>& files) {
  const std::vector<std::uint8_t> bytes = tarball_bytes(files);
  ASSERT_FALSE(bytes.empty()) << "cannot build the tarball " << path;
  write_bytes(path, bytes);
}

ScopedEnv::ScopedEnv(const char* name, const std::string& value) : name_(name) {
  if (const char* old = std::getenv(name)) {
    had_ = true;
    old_ = old;
  }
  ::setenv(name, value.c_str(), 1);
}

ScopedEnv::~ScopedEnv() {
  if (had_) ::setenv(name_.c_str(), old_.c_str(), 1);
  else ::unsetenv(name_.c_str());
}

}  // namespace atelier::testing
