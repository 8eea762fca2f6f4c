// Prometheus text-format metrics of the service (exposition format 0.0.4): requests by
// route and status, latency histograms by route, inference seconds by model, and gauges
// read when scraped (queue depth, in flight, jobs by state). Thread-safe.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace atelier::server {

class Metrics {
 public:
  void record_request(const std::string& route, int status, double seconds);
  void record_inference(const std::string& model, double seconds);
  // A gauge or counter computed at scrape time: name, help, type ("gauge"), and the
  // samples as label text ("state=\"queued\"", may be empty) -> value.
  using Sampler = std::function<std::vector<std::pair<std::string, double>>()>;
  void add_sampled(std::string name, std::string help, std::string type, Sampler sampler);
  std::string render() const;

  static constexpr std::array<double, 12> kBuckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

 private:
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> counts{};
    std::uint64_t count = 0;
    double sum = 0;
    void add(double v);
  };
  struct Sampled {
    std::string name, help, type;
    Sampler sampler;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  std::map<std::string, Histogram> inference_;
  std::vector<Sampled> sampled_;
};

}  // namespace atelier::server
