// ml::decode_v2_request / decode_v2_response: KServe v2 bodies from the network (atelier
// serve's /v2/models/{name}/infer, and a remote server's answer to --inference-url). The
// first two bytes (big-endian) pick the Inference-Header-Content-Length: 0 none, else N - 1
// (capped at the body): that many bytes of JSON header, the rest its binary tensors.
#include <algorithm>
#include <optional>

#include "fuzz_support.h"
#include "ml/v2_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::string_view body = atelier::fuzz::text(data + 2, size - 2);
  const std::size_t n = std::size_t(data[0]) << 8 | data[1];
  std::optional<std::size_t> header;
  if (n != 0) header = std::min<std::size_t>(n - 1, body.size());
  (void)atelier::ml::decode_v2_request(body, header, 1 << 16);
  (void)atelier::ml::decode_v2_response(body, header, 1 << 16);
  (void)atelier::ml::parse_header_size(body.substr(0, 24), body.size());
  return 0;
}
