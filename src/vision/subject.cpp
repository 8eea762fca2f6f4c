#include "vision/subject.h"

#include "ml/preprocess.h"

namespace atelier::vision {

Result<SubjectMap> predict_subject(const image::Image& photo, ml::Session& session) {
  if (photo.empty()) return invalid_argument("empty image");
  const ml::ModelManifest& m = session.manifest();
  ml::Tensor input = ml::make_input_tensor(photo, m.preprocess);
  ATELIER_ASSIGN_OR_RETURN(ml::Tensor output, session.backend().run(m.input, input, m.postprocess.output));
  ATELIER_ASSIGN_OR_RETURN(cv::Mat map, ml::output_to_map(output, m.postprocess));
  return SubjectMap(std::move(map), m.preprocess.sampling);
}

}  // namespace atelier::vision
