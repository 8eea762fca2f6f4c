// Per-process cache of per-image analyses (subject maps, saliency maps, later depth and
// faces), keyed by the image's content: a 128-bit hash of its pixels, size and type. Heavy
// inference therefore runs once per image, whichever features ask (cutout, crop,
// saliency). Bounded: the least recently used images are dropped beyond `capacity`.
// Thread-safe; two threads asking for the same missing analysis may both compute it.
#pragma once

#include <any>
#include <cstddef>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/status.h"
#include "image/image.h"

namespace atelier::vision {

// Hex key of the image's type, size and pixel rows: XXH3-128 with a random per-process
// seed (~20 GB/s, 2 ms for 12 MP; not cryptographic, but without the seed nobody can
// prepare two images that collide).
std::string image_key(const image::Image& img);

class AnalysisCache {
 public:
  explicit AnalysisCache(std::size_t capacity = 8) : capacity_(capacity) {}
  // The process-wide cache the library's operations use.
  static AnalysisCache& global();

  // The analysis named `what` (e.g. "subject:<model sha256>") of the image with key
  // `key`, computed by `compute` on the first request. Errors are not cached.
  template <typename T>
  Result<T> get(const std::string& key, const std::string& what, const std::function<Result<T>()>& compute) {
    if (auto hit = find(key, what)) return std::any_cast<T>(*hit);
    Result<T> value = compute();
    if (value.ok()) store(key, what, std::any(*value));
    return value;
  }

  void clear();
  std::size_t images() const;
  int hits() const;

 private:
  std::optional<std::any> find(const std::string& key, const std::string& what);
  void store(const std::string& key, const std::string& what, std::any value);

  mutable std::mutex mu_;
  std::size_t capacity_;
  std::list<std::string> order_;  // most recently used first
  std::map<std::string, std::map<std::string, std::any>> entries_;
  int hits_ = 0;
};

}  // namespace atelier::vision
