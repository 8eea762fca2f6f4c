// The service's view of one HTTP exchange, independent of the transport (Beast): what
// routes read and what they answer. Header names are lower case.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace atelier::server {

struct Request {
  std::string method;  // "GET"
  std::string target;  // "/v1/cutout?mask=true"
  std::string path;    // "/v1/cutout", percent-decoded
  std::vector<std::pair<std::string, std::string>> query;  // in order, decoded
  std::map<std::string, std::string> headers;             // lower-case names
  std::string body;
  std::string id;  // the request id (X-Request-Id when the client sent a sane one)

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string route;  // the route that answered ("/v1/cutout", "unmatched"), for logs and metrics
};

// {"error": {"code": WORD, "message": MESSAGE}} with the status the status table gives.
Response error_response(const Status& status);
// The same with an explicit status and word (routing: 404 not_found, 405 method_not_allowed).
Response error_response(int http_status, const std::string& word, const std::string& message);
Response json_response(int http_status, const nlohmann::json& body);

// "/v1/jobs/ID" -> {"v1", "jobs", "ID"} (a trailing slash gives an empty last segment).
std::vector<std::string> path_segments(std::string_view path);

// Splits "a=1&b=%20x" into decoded pairs ('+' is a space). Error for bad percent escapes.
Result<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view query);
Result<std::string> percent_decode(std::string_view text, bool plus_is_space);

struct FormPart {
  std::string name, filename, content_type;
  std::string body;
  bool is_file = false;  // had a filename: a file, not a field
};
// multipart/form-data (RFC 7578) with the boundary from `content_type`. At most
// `max_parts` parts. Errors (kInvalidArgument) name what is wrong ("multipart body: no
// closing boundary").
Result<std::vector<FormPart>> parse_multipart(std::string_view content_type, std::string_view body,
                                              std::size_t max_parts = 64);

}  // namespace atelier::server
