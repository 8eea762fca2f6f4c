#include "vision/analysis_cache.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include <xxhash.h>

#include <random>

namespace atelier::vision {

std::string image_key(const image::Image& img) {
  static const XXH64_hash_t seed = [] {
    std::random_device rd;
    return (XXH64_hash_t(rd()) << 32) ^ XXH64_hash_t(rd());
  }();
  XXH3_state_t* state = XXH3_createState();
  XXH3_128bits_reset_withSeed(state, seed);
  const cv::Mat& m = img.mat();
  const int header[3] = {m.type(), m.cols, m.rows};
  XXH3_128bits_update(state, header, sizeof header);
  const std::size_t row_bytes = std::size_t(m.cols) * m.elemSize();
  if (m.isContinuous()) {
    XXH3_128bits_update(state, m.data, row_bytes * std::size_t(m.rows));
  } else {
    for (int y = 0; y < m.rows; ++y) XXH3_128bits_update(state, m.ptr(y), row_bytes);
  }
  const XXH128_hash_t h = XXH3_128bits_digest(state);
  XXH3_freeState(state);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%016llx%016llx-%dx%d-%d", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64), m.cols, m.rows, m.type());
  return buf;
}

AnalysisCache& AnalysisCache::global() {
  static AnalysisCache cache;
  return cache;
}

std::optional<std::any> AnalysisCache::find(const std::string& key, const std::string& what) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  auto a = it->second.find(what);
  if (a == it->second.end()) return std::nullopt;
  order_.remove(key);
  order_.push_front(key);
  ++hits_;
  return a->second;
}

void AnalysisCache::store(const std::string& key, const std::string& what, std::any value) {
  std::lock_guard lock(mu_);
  entries_[key][what] = std::move(value);
  order_.remove(key);
  order_.push_front(key);
  while (order_.size() > capacity_) {
    entries_.erase(order_.back());
    order_.pop_back();
  }
}

void AnalysisCache::clear() {
  std::lock_guard lock(mu_);
  entries_.clear();
  order_.clear();
  hits_ = 0;
}

std::size_t AnalysisCache::images() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

int AnalysisCache::hits() const {
  std::lock_guard lock(mu_);
  return hits_;
}

}  // namespace atelier::vision
