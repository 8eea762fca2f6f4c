// Smart-crop search speed with the analysis cached: five ratios on a (12 MP) photo.
//   crop_bench [photo]   (default: a 4000×3000 enlargement of skimage's coffee.png)
// Prints JSON: the analysis time (first call: model + spectral residual + faces), the
// median time of a cached smart_crop() call (content hash + cache lookup + search) and of
// the search alone (find_windows), over 50 runs each.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "image/codec.h"
#include "timing.h"
#include "vision/smart_crop.h"

using namespace atelier;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  image::Image photo;
  if (argc > 1) {
    auto r = image::read_image(argv[1]);
    if (!r.ok()) return std::fprintf(stderr, "%s\n", r.status().message().c_str()), 1;
    photo = std::move(r).value();
  } else {
    auto r = image::read_image("/usr/lib/python3/dist-packages/skimage/data/coffee.png");
    if (!r.ok()) return std::fprintf(stderr, "%s\n", r.status().message().c_str()), 1;
    cv::Mat big;
    cv::resize(r->mat(), big, cv::Size(4000, 3000), 0, 0, cv::INTER_CUBIC);
    photo = image::Image(big);
  }
  std::vector<vision::Aspect> aspects;
  for (const char* a : {"1:1", "9:16", "16:9", "4:5", "1.91:1"}) aspects.push_back(*vision::parse_aspect(a));
  vision::CropOptions opt;
  auto t = Clock::now();
  auto first = vision::smart_crop(photo, aspects, opt);
  const double analysis = std::chrono::duration<double>(Clock::now() - t).count();
  if (!first.ok()) return std::fprintf(stderr, "%s\n", first.status().message().c_str()), 1;
  std::vector<double> cached, search;
  for (int i = 0; i < 50; ++i) {
    t = Clock::now();
    auto r = vision::smart_crop(photo, aspects, opt);
    cached.push_back(std::chrono::duration<double>(Clock::now() - t).count());
    t = Clock::now();
    auto w = vision::find_windows(first->saliency.map, first->saliency.image_size, aspects, opt);
    search.push_back(std::chrono::duration<double>(Clock::now() - t).count());
    if (!r.ok() || w.size() != aspects.size()) return 1;
  }
  std::printf("{\"photo\": \"%dx%d\", \"ratios\": %zu, \"saliency\": \"%s\", \"analysis_ms\": %.1f, "
              "\"cached_crop_ms\": %.3f, \"search_ms\": %.3f}\n",
              photo.width(), photo.height(), aspects.size(), first->saliency.source.c_str(), analysis * 1e3,
              bench::median(cached) * 1e3, bench::median(search) * 1e3);
  return 0;
}
