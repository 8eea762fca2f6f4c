#include "vision/analysis_cache.h"

#include <algorithm>
#include <cstring>

#include "core/sha256.h"

namespace atelier::vision {

std::string image_key(const image::Image& img) {
  Sha256 h;
  const cv::Mat& m = img.mat();
  const int header[3] = {m.type(), m.cols, m.rows};
  h.update(std::span(reinterpret_cast<const std::uint8_t*>(header), sizeof header));
  const std::size_t row_bytes = std::size_t(m.cols) * m.elemSize();
  for (int y = 0; y < m.rows; ++y) h.update(std::span(m.ptr<std::uint8_t>(y), row_bytes));
  return h.finish_hex();
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
