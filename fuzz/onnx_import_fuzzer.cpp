// The ONNX importer: ml::parse_onnx, then ml::convert_to_fp32 (fp16 upcast, Cast removal,
// pruning) on whatever parses, as `models import` and `models fetch` run them.
#include "fuzz_support.h"
#include "ml/onnx_convert.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto model = atelier::ml::parse_onnx(atelier::fuzz::bytes(data, size));
  if (!model.ok()) return 0;
  (void)atelier::ml::convert_to_fp32(*model);
  return 0;
}
