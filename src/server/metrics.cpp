#include "server/metrics.h"

#include <cstdio>

namespace atelier::server {
namespace {

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string escape(const std::string& label) {
  std::string out;
  for (char c : label) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

void Metrics::Histogram::add(double v) {
  for (std::size_t i = 0; i < kBuckets.size(); ++i)
    if (v <= kBuckets[i]) ++counts[i];
  ++count;
  sum += v;
}

void Metrics::record_request(const std::string& route, int status, double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[{route, status}];
  latency_[route].add(seconds);
}

void Metrics::record_inference(const std::string& model, double seconds) {
  std::lock_guard lock(mu_);
  inference_[model].add(seconds);
}

void Metrics::add_sampled(std::string name, std::string help, std::string type, Sampler sampler) {
  std::lock_guard lock(mu_);
  sampled_.push_back({std::move(name), std::move(help), std::move(type), std::move(sampler)});
}

std::string Metrics::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  out += "# HELP atelier_http_requests_total HTTP requests answered, by route and status.\n";
  out += "# TYPE atelier_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    out += "atelier_http_requests_total{route=\"" + escape(key.first) + "\",status=\"" + std::to_string(key.second) +
           "\"} " + std::to_string(n) + "\n";
  }
  auto histograms = [&](const std::string& name, const std::string& help, const std::string& label,
                        const std::map<std::string, Histogram>& h) {
    out += "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
    for (const auto& [key, hist] : h) {
      const std::string l = label + "=\"" + escape(key) + "\"";
      for (std::size_t i = 0; i < kBuckets.size(); ++i) {
        out += name + "_bucket{" + l + ",le=\"" + number(kBuckets[i]) + "\"} " + std::to_string(hist.counts[i]) + "\n";
      }
      out += name + "_bucket{" + l + ",le=\"+Inf\"} " + std::to_string(hist.count) + "\n";
      out += name + "_sum{" + l + "} " + number(hist.sum) + "\n";
      out += name + "_count{" + l + "} " + std::to_string(hist.count) + "\n";
    }
  };
  histograms("atelier_http_request_duration_seconds", "Time from the whole request read to the response ready.",
             "route", latency_);
  histograms("atelier_inference_duration_seconds", "Model inference time per call, by model.", "model", inference_);
  for (const Sampled& s : sampled_) {
    out += "# HELP " + s.name + " " + s.help + "\n# TYPE " + s.name + " " + s.type + "\n";
    for (const auto& [labels, v] : s.sampler()) {
      out += s.name + (labels.empty() ? "" : "{" + labels + "}") + " " + number(v) + "\n";
    }
  }
  return out;
}

}  // namespace atelier::server
