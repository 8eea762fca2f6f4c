// The one table from a library status code to what each shell makes of it: the CLI's exit
// code, the HTTP status, and the error code word of a JSON error body
// (`{"error": {"code": "invalid_argument", ...}}`). Shells never map codes themselves.
//
//   invalid_argument 2/400   not_found 1/404    already_exists 1/409   permission_denied 1/403
//   resource_exhausted 1/413 (a limit)          failed_precondition 1/503 (not set up)
//   out_of_range 2/400       unimplemented 1/501 unavailable 1/503     data_loss 1/422 (corrupt input)
//   deadline_exceeded 1/504  cancelled 1/409     internal 1/500        unsupported 1/415
//   unauthenticated 1/401    overloaded 1/429 (retry later)
#pragma once

#include <string_view>

#include "core/status.h"

namespace atelier {

struct StatusMapping {
  StatusCode code;
  int exit_code;          // 0 ok, 1 failed, 2 usage (nothing was done)
  int http_status;        // 200 for kOk
  std::string_view word;  // "invalid_argument"
};

const StatusMapping& status_mapping(StatusCode code);
inline int exit_code_for(StatusCode code) { return status_mapping(code).exit_code; }
inline int http_status_for(StatusCode code) { return status_mapping(code).http_status; }
inline std::string_view error_word(StatusCode code) { return status_mapping(code).word; }

// The code whose word is `word` ("data_loss"), for clients that read a JSON error back
// (remote inference); kInternal for an unknown word.
StatusCode status_code_from_word(std::string_view word);

}  // namespace atelier
