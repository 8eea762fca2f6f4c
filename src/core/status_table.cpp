#include "core/status_table.h"

#include <array>

namespace atelier {
namespace {

constexpr std::array<StatusMapping, 17> kTable{{
    {StatusCode::kOk, 0, 200, "ok"},
    {StatusCode::kInvalidArgument, 2, 400, "invalid_argument"},
    {StatusCode::kNotFound, 1, 404, "not_found"},
    {StatusCode::kAlreadyExists, 1, 409, "already_exists"},
    {StatusCode::kPermissionDenied, 1, 403, "permission_denied"},
    {StatusCode::kResourceExhausted, 1, 413, "resource_exhausted"},
    {StatusCode::kFailedPrecondition, 1, 503, "failed_precondition"},
    {StatusCode::kOutOfRange, 2, 400, "out_of_range"},
    {StatusCode::kUnimplemented, 1, 501, "unimplemented"},
    {StatusCode::kUnavailable, 1, 503, "unavailable"},
    {StatusCode::kDataLoss, 1, 422, "data_loss"},
    {StatusCode::kDeadlineExceeded, 1, 504, "deadline_exceeded"},
    {StatusCode::kCancelled, 1, 409, "cancelled"},
    {StatusCode::kInternal, 1, 500, "internal"},
    {StatusCode::kUnsupported, 1, 415, "unsupported"},
    {StatusCode::kUnauthenticated, 1, 401, "unauthenticated"},
    {StatusCode::kOverloaded, 1, 429, "overloaded"},
}};

}  // namespace

const StatusMapping& status_mapping(StatusCode code) {
  for (const StatusMapping& m : kTable) {
    if (m.code == code) return m;
  }
  return kTable[13];  // kInternal: a code added without a row is a bug, shown as one
}

StatusCode status_code_from_word(std::string_view word) {
  for (const StatusMapping& m : kTable) {
    if (m.word == word) return m.code;
  }
  return StatusCode::kInternal;
}

}  // namespace atelier
