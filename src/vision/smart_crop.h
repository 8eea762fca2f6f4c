// Smart crop: for each aspect ratio asked for, the window of that ratio that keeps the
// most saliency (saliency.h). Windows are the largest of their ratio that fit the photo
// (optionally down to min_scale of it, for tighter crops); every position is scored in
// O(1) with a summed-area table, minus a penalty for above-average saliency on the window's
// inner borders (don't slice through the subject); ties go to the position nearest the
// centre.
// Faces are never sliced when that can be avoided: a window that cuts through a detected
// face (part of it inside, part outside) ranks below every window that keeps each face
// either wholly inside or wholly outside, whatever their scores; among those, a window
// that holds the faces whole beats one that leaves them out (see find_windows).
// Many ratios share one analysis. Windows are whole pixels inside the photo.
//
//   auto r = atelier::vision::smart_crop(photo, aspects, {});  // r->windows[i].rect
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <opencv2/core.hpp>

#include "core/status.h"
#include "image/image.h"
#include "vision/saliency.h"

namespace atelier::vision {

struct Aspect {
  int width = 1;  // the ratio width:height, e.g. 16:9
  int height = 1;
  std::string name;  // "16x9", or a preset's name
  double ratio() const { return double(width) / height; }
};

struct CropPreset {
  std::string name;  // "instagram-story"
  int width, height; // the recommended output size; the ratio is width:height
  std::string description;
};

// Named formats for social media, listed by `atelier crop --list-presets`.
const std::vector<CropPreset>& crop_presets();

// "16:9", "1.91:1" or a preset name. Errors (kInvalidArgument) name the text:
// "bad aspect '0:1' (expected W:H with positive numbers, or a preset name)".
Result<Aspect> parse_aspect(std::string_view text);

struct CropOptions {
  SaliencyOptions saliency;
  // Tighter crops: windows from the largest down to min_scale × its size are tried, and the
  // smallest that keeps at least `keep` of the best largest window's saliency wins.
  float min_scale = 1.0f;
  float keep = 0.9f;
  int scale_steps = 8;
  // Weight of the above-average saliency on the window's inner borders (those not on the
  // photo's edge), one map pixel wide, against the share of saliency kept.
  float border_penalty = 1.0f;
  // Faces (SaliencyMap::faces) are kept whole or left out whole when a window can: see
  // find_windows. Off, faces play no part in the search (only in the map's face prior).
  bool keep_faces_whole = true;
  // With keep_faces_whole: among the windows that slice no more faces, those with more face
  // area wholly inside come first, so a face that a window of the ratio can hold is shown
  // rather than left out even where the map would rather have more body in a wide banner.
  bool prefer_faces_inside = true;
  // A face's box is shrunk by ⌈face_tolerance × its width (height)⌉ pixels on each side
  // before these tests, because a cascade's box is a few per cent loose: a window may graze
  // the box's margin (hairline, chin) without counting as a cut.
  float face_tolerance = 0.05f;
};

struct CropWindow {
  Aspect aspect;
  cv::Rect rect;       // in photo pixels, inside the photo
  double score = 0;    // kept share minus the border penalty
  double kept = 0;     // share of the map's saliency inside the window
  int faces_cut = 0;   // faces the window slices (0 unless no window of its size avoids it,
                       // or keep_faces_whole is off, when faces are not looked at)
};

struct CropResult {
  std::vector<CropWindow> windows;  // one per aspect, in order
  SaliencyMap saliency;
  double analysis_seconds = 0, search_seconds = 0;
};

// Analysis (cached per image) + search. Errors: those of compute_saliency; an empty list of
// aspects is kInvalidArgument.
Result<CropResult> smart_crop(const image::Image& photo, std::span<const Aspect> aspects, const CropOptions& options);

// The search alone, on a map of any resolution covering a photo of `photo_size`.
// `faces` (photo pixels; smart_crop passes the saliency's faces) rank the windows before
// the score does. With keep_faces_whole, windows of one size are ordered by
//   1. the number of faces they slice (part inside, part outside), fewest first;
//   2. with prefer_faces_inside, the area of the faces they hold wholly inside, most first
//      (faces too far apart for one window: the biggest faces are kept, the others left out);
//   3. the score, then nearness to the centre.
// So the window returned never shows a sliced face when a window of its size can avoid
// it: it holds each face whole when it can, and a face that no window of the ratio can hold
// (taller than a wide banner) is left out whole rather than shown cut. Only when every
// window slices some face (a face spanning the window's free axis) is one cut, and then
// the best-scoring window with the fewest cuts wins. Candidate positions include those that
// put a window edge on a face's (shrunk) edge, so such windows are found whenever they
// exist, not only on the search grid. Zoom (min_scale < 1): a tighter window is chosen only
// when it ranks no worse on 1 and 2 than the largest window: zooming never cuts or drops a
// face that the largest window keeps. The cost: faces outrank saliency, so a false
// detection (rare with the cascade saliency.h uses: none on nus_scene50) moves the crop too.
std::vector<CropWindow> find_windows(const cv::Mat& map, cv::Size photo_size, std::span<const Aspect> aspects,
                                     const CropOptions& options, std::span<const cv::Rect> faces = {});

// The largest window of `aspect` inside `photo_size`, in whole pixels, ratio within one pixel.
cv::Size largest_window(cv::Size photo_size, const Aspect& aspect);

// The crop of `photo`, resized to `size` when given. Upscaling (a crop smaller than `size`)
// is an error unless allowed: "the 16x9 crop is 512x288 pixels, smaller than 1280x720; add
// --allow-upscale to enlarge it".
Result<image::Image> render_crop(const image::Image& photo, const CropWindow& window, std::optional<cv::Size> size,
                                 bool allow_upscale);

// The photo (8-bit RGB) with the saliency map as a heat map over it and each window drawn
// and labelled: what `atelier crop --explain` writes.
image::Image explain_crop(const image::Image& photo, const CropResult& result);

// Summed-area table of a CV_32F map: CV_64F of (rows+1)×(cols+1), s(y,x) = sum of map[0..y)×[0..x).
cv::Mat summed_area_table(const cv::Mat& map);
// Sum of the map over [x0,x1)×[y0,y1) (map pixels, fractional allowed) from its table.
double area_sum(const cv::Mat& table, double x0, double y0, double x1, double y1);

}  // namespace atelier::vision
