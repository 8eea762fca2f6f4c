#include "image/opencv_codecs.h"

#include <dlfcn.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>

namespace atelier::image::detail {
namespace {

constexpr const char* kModule = "libatelier_opencv_codecs.so";

using DecodeFn = int (*)(const unsigned char*, std::size_t, cv::Mat*, std::string*);
using EncodeFn = int (*)(const char*, const cv::Mat*, const int*, std::size_t, std::vector<unsigned char>*, std::string*);

struct Module {
  DecodeFn decode = nullptr;
  EncodeFn encode = nullptr;
  std::string error;  // why it could not be loaded
};

std::filesystem::path executable_dir() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return {};
  return std::filesystem::path(std::string(buf, std::size_t(n))).parent_path();
}

const Module& module() {
  static Module m;
  static std::once_flag once;
  std::call_once(once, [] {
    std::vector<std::filesystem::path> candidates;
    if (auto dir = executable_dir(); !dir.empty()) candidates.push_back(dir / kModule);
#ifdef ATELIER_CODECS_MODULE
    candidates.emplace_back(ATELIER_CODECS_MODULE);  // the build tree's copy
#endif
    std::string why = "not found";
    for (const auto& path : candidates) {
      std::error_code ec;
      if (!std::filesystem::is_regular_file(path, ec)) continue;
      void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!handle) {
        const char* e = ::dlerror();
        why = e ? e : "dlopen failed";
        continue;
      }
      m.decode = reinterpret_cast<DecodeFn>(::dlsym(handle, "atelier_opencv_imdecode"));
      m.encode = reinterpret_cast<EncodeFn>(::dlsym(handle, "atelier_opencv_imencode"));
      if (m.decode && m.encode) return;  // kept open for the process's life
      why = path.string() + " lacks its entry points";
      m.decode = nullptr;
      m.encode = nullptr;
    }
    m.error = "OpenCV's image codecs (" + std::string(kModule) + ") could not be loaded: " + why;
  });
  return m;
}

}  // namespace

Result<cv::Mat> opencv_imdecode(std::span<const std::uint8_t> bytes) {
  const Module& m = module();
  if (!m.decode) return internal_error(m.error);
  cv::Mat out;
  std::string error;
  if (!m.decode(bytes.data(), bytes.size(), &out, &error)) return invalid_argument("decoder error");
  return out;
}

Result<std::vector<std::uint8_t>> opencv_imencode(const std::string& ext, const cv::Mat& img, const std::vector<int>& params) {
  const Module& m = module();
  if (!m.encode) return internal_error(m.error);
  std::vector<std::uint8_t> out;
  std::string error;
  if (!m.encode(ext.c_str(), &img, params.data(), params.size(), &out, &error)) {
    return internal_error(ext + " encoder failed" + (error.empty() ? "" : ": " + error));
  }
  return out;
}

}  // namespace atelier::image::detail
