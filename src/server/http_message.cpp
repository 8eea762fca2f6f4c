#include "server/http_message.h"

#include <cctype>

#include "core/status_table.h"
#include "core/text.h"

namespace atelier::server {
namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The value of `param` in a header like `form-data; name="x"; filename="y"`.
std::string header_param(std::string_view header, std::string_view param) {
  std::size_t pos = 0;
  while (pos < header.size()) {
    std::size_t semi = header.find(';', pos);
    if (semi == std::string_view::npos) semi = header.size();
    std::string_view item = header.substr(pos, semi - pos);
    pos = semi + 1;
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    if (lower(trim(item.substr(0, eq))) != param) continue;
    std::string value = trim(item.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    return value;
  }
  return {};
}

}  // namespace

Response json_response(int http_status, const nlohmann::json& body) {
  Response r;
  r.status = http_status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

std::vector<std::string> path_segments(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t pos = 1;
  while (pos <= path.size()) {
    std::size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    parts.emplace_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return parts;
}

Response error_response(int http_status, const std::string& word, const std::string& message) {
  return json_response(http_status, {{"error", {{"code", word}, {"message", message}}}});
}

Response error_response(const Status& status) {
  return error_response(http_status_for(status.code()), std::string(error_word(status.code())), status.message());
}

Result<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      const int h = i + 2 < text.size() ? hex(text[i + 1]) : -1;
      const int l = i + 2 < text.size() ? hex(text[i + 2]) : -1;
      if (h < 0 || l < 0) return invalid_argument("bad percent escape in the URL");
      out.push_back(char(h * 16 + l));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t pos = 0;
  while (pos <= query.size() && !query.empty()) {
    std::size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view item = query.substr(pos, amp - pos);
    pos = amp + 1;
    if (!item.empty()) {
      const std::size_t eq = item.find('=');
      ATELIER_ASSIGN_OR_RETURN(std::string name, percent_decode(item.substr(0, eq), true));
      std::string value;
      if (eq != std::string_view::npos) {
        ATELIER_ASSIGN_OR_RETURN(value, percent_decode(item.substr(eq + 1), true));
      }
      out.emplace_back(std::move(name), std::move(value));
    }
    if (amp == query.size()) break;
  }
  return out;
}

Result<std::vector<FormPart>> parse_multipart(std::string_view content_type, std::string_view body,
                                              std::size_t max_parts) {
  const std::string boundary = header_param(content_type, "boundary");
  if (boundary.empty() || boundary.size() > 200) return invalid_argument("multipart body: no boundary in Content-Type");
  const std::string delimiter = "--" + boundary;
  std::size_t pos = body.find(delimiter);
  if (pos == std::string_view::npos) return invalid_argument("multipart body: no opening boundary");
  std::vector<FormPart> parts;
  while (true) {
    pos += delimiter.size();
    if (body.substr(pos, 2) == "--") return parts;  // closing delimiter
    if (body.substr(pos, 2) != "\r\n") return invalid_argument("multipart body: malformed boundary line");
    pos += 2;
    const std::size_t head_end = body.find("\r\n\r\n", pos);
    if (head_end == std::string_view::npos) return invalid_argument("multipart body: a part without headers");
    FormPart part;
    std::string_view head = body.substr(pos, head_end - pos);
    std::string disposition;
    while (!head.empty()) {
      std::size_t eol = head.find("\r\n");
      std::string_view line = head.substr(0, eol);
      head = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      const std::string name = lower(trim(line.substr(0, colon)));
      const std::string value = trim(line.substr(colon + 1));
      if (name == "content-disposition") disposition = value;
      if (name == "content-type") part.content_type = value;
    }
    part.name = header_param(disposition, "name");
    const std::size_t fn = lower(disposition).find("filename=");
    part.is_file = fn != std::string::npos;
    part.filename = header_param(disposition, "filename");
    if (part.name.empty()) return invalid_argument("multipart body: a part without a name");
    const std::size_t data = head_end + 4;
    const std::size_t next = body.find("\r\n" + delimiter, data);
    if (next == std::string_view::npos) return invalid_argument("multipart body: no closing boundary");
    part.body = std::string(body.substr(data, next - data));
    parts.push_back(std::move(part));
    if (parts.size() > max_parts) {
      return invalid_argument("multipart body: more than " + std::to_string(max_parts) + " parts");
    }
    pos = next + 2;
  }
}

}  // namespace atelier::server
