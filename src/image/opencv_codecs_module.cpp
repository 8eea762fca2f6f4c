// The module image/opencv_codecs.h opens: OpenCV's imdecode and imencode behind two C
// entry points, exceptions turned into return values (none cross the dlopen boundary).
#include <cstddef>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>

extern "C" {

// 1 on success (out may be empty: declined), 0 when OpenCV threw (error says what).
__attribute__((visibility("default"))) int atelier_opencv_imdecode(const unsigned char* data, std::size_t size,
                                                                   cv::Mat* out, std::string* error) {
  try {
    const cv::Mat buf(1, int(size), CV_8U, const_cast<unsigned char*>(data));
    *out = cv::imdecode(buf, cv::IMREAD_UNCHANGED);
    return 1;
  } catch (const cv::Exception& e) {
    *error = e.err;
    return 0;
  }
}

// 1 when encoded, 0 when the encoder failed or threw (error says what, when it threw).
__attribute__((visibility("default"))) int atelier_opencv_imencode(const char* ext, const cv::Mat* img, const int* params,
                                                                   std::size_t n_params, std::vector<unsigned char>* out,
                                                                   std::string* error) {
  try {
    return cv::imencode(ext, *img, *out, std::vector<int>(params, params + n_params)) ? 1 : 0;
  } catch (const cv::Exception& e) {
    *error = e.err;
    return 0;
  }
}

}  // extern "C"
