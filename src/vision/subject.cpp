#include "vision/subject.h"

#include "ml/preprocess.h"
#include "vision/analysis_cache.h"

namespace atelier::vision {

Result<SubjectMap> predict_subject(const image::Image& photo, ml::Session& session) {
  if (photo.empty()) return invalid_argument("empty image");
  const ml::ModelManifest& m = session.manifest();
  ml::Tensor input = ml::make_input_tensor(photo, m.preprocess);
  ATELIER_ASSIGN_OR_RETURN(ml::Tensor output, session.run(input));
  ATELIER_ASSIGN_OR_RETURN(cv::Mat map, ml::output_to_map(output, m.postprocess));
  return SubjectMap(std::move(map), m.preprocess.sampling);
}

Result<SubjectMap> cached_subject(const image::Image& photo, ml::Session& session, const std::string& key) {
  return AnalysisCache::global().get<SubjectMap>(key, "subject:" + session.manifest().sha256,
                                                 [&] { return predict_subject(photo, session); });
}

}  // namespace atelier::vision
