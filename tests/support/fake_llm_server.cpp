#include "support/fake_llm_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <nlohmann/json.hpp>

namespace atelier::testing {

namespace {

using json = nlohmann::json;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "FakeLlmServer: %s: %s\n", what, std::strerror(errno));
  std::abort();
}

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(std::size_t(n));
  }
  return true;
}

std::string sse(const json& j) { return "data: " + j.dump() + "\n\n"; }

}  // namespace

// ---------------------------------------------------------------------------------------

FakeResponse FakeResponse::text(int status, std::string body, std::string content_type) {
  FakeResponse r;
  r.status = status;
  r.headers.emplace_back("Content-Type", std::move(content_type));
  r.chunks.push_back(std::move(body));
  return r;
}

FakeResponse FakeResponse::stream(std::vector<std::string> pieces, std::string content_type,
                                  std::chrono::milliseconds delay) {
  FakeResponse r;
  r.headers.emplace_back("Content-Type", std::move(content_type));
  r.chunks = std::move(pieces);
  r.chunk_delay = delay;
  r.framing = Framing::kChunked;
  return r;
}

FakeResponse FakeResponse::hang_forever() {
  FakeResponse r;
  r.hang = true;
  return r;
}

FakeResponse& FakeResponse::with_header(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

std::string RecordedRequest::header(const std::string& name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? std::string() : it->second;
}

// ---------------------------------------------------------------------------------------

FakeLlmServer::FakeLlmServer() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) die("socket");
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) die("bind");
  if (::listen(listen_fd_, 64) != 0) die("listen");
  socklen_t len = sizeof addr;
  if (::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) die("getsockname");
  port_ = ntohs(addr.sin_port);
  if (::pipe2(wake_, O_CLOEXEC) != 0) die("pipe2");
  acceptor_ = std::thread([this] { accept_loop(); });
}

FakeLlmServer::~FakeLlmServer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  // The pipe stays readable from now on: every poll() that includes it returns at once.
  const char byte = 1;
  while (::write(wake_[1], &byte, 1) < 0 && errno == EINTR) {
  }
  acceptor_.join();
  {
    std::lock_guard lock(mu_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  for (std::thread& t : workers_) t.join();
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

std::string FakeLlmServer::base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void FakeLlmServer::enqueue(FakeResponse response) {
  std::lock_guard lock(mu_);
  queue_.push_back(std::move(response));
}

std::vector<RecordedRequest> FakeLlmServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

std::size_t FakeLlmServer::request_count() const {
  std::lock_guard lock(mu_);
  return requests_.size();
}

bool FakeLlmServer::wait_or_stop(std::chrono::milliseconds d) {
  pollfd p{wake_[0], POLLIN, 0};
  const int timeout = d.count() < 0 ? -1 : int(std::min<std::int64_t>(d.count(), 1 << 30));
  int r;
  do {
    r = ::poll(&p, 1, timeout);
  } while (r < 0 && errno == EINTR);
  return r == 0;
}

void FakeLlmServer::accept_loop() {
  for (;;) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    int r = ::poll(p, 2, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 || (p[1].revents & POLLIN)) return;
    if (!(p[0].revents & POLLIN)) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock(mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    open_fds_.push_back(fd);
    workers_.emplace_back([this, fd] { serve(fd); });
  }
}

void FakeLlmServer::serve(int fd) {
  auto finish = [&] {
    {
      std::lock_guard lock(mu_);
      open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
    }
    ::close(fd);
  };

  // Read the head, then Content-Length bytes of body.
  std::string in;
  auto read_more = [&]() -> bool {
    pollfd p[2] = {{fd, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    for (;;) {
      int r = ::poll(p, 2, 10000);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0 || (p[1].revents & POLLIN)) return false;
      break;
    }
    char buf[16384];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    in.append(buf, std::size_t(n));
    return true;
  };
  std::size_t head_end;
  while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
    if (in.size() > (1u << 20) || !read_more()) return finish();
  }
  RecordedRequest req;
  {
    std::string head = in.substr(0, head_end);
    std::size_t line_end = head.find("\r\n");
    std::string request_line = head.substr(0, line_end);
    const auto sp1 = request_line.find(' ');
    const auto sp2 = request_line.find(' ', sp1 + 1);
    req.method = request_line.substr(0, sp1);
    req.path = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      std::size_t e = head.find("\r\n", pos);
      if (e == std::string::npos) e = head.size();
      std::string line = head.substr(pos, e - pos);
      pos = e + 2;
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      req.headers[lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
    }
  }
  if (lower(req.header("expect")) == "100-continue" && !send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n")) return finish();
  const std::size_t length = std::strtoull(req.header("content-length").c_str(), nullptr, 10);
  while (in.size() - head_end - 4 < length) {
    if (!read_more()) return finish();
  }
  req.body = in.substr(head_end + 4, length);

  FakeResponse resp;
  {
    std::lock_guard lock(mu_);
    requests_.push_back(req);
    if (queue_.empty()) {
      resp = FakeResponse::text(500, R"({"error":{"message":"no scripted response"}})");
    } else {
      resp = std::move(queue_.front());
      queue_.erase(queue_.begin());
    }
  }

  if (resp.hang && resp.chunks.empty()) {
    wait_or_stop(std::chrono::milliseconds(-1));
    return finish();
  }

  std::vector<std::string> pieces = resp.chunks;
  if (resp.split_bytes > 0) {
    std::string all;
    for (const std::string& p : pieces) all += p;
    pieces.clear();
    for (std::size_t i = 0; i < all.size(); i += resp.split_bytes) pieces.push_back(all.substr(i, resp.split_bytes));
  }
  std::size_t total = 0;
  for (const std::string& p : pieces) total += p.size();

  std::string head = "HTTP/1.1 " + std::to_string(resp.status) + " " + reason_phrase(resp.status) + "\r\n";
  for (const auto& [name, value] : resp.headers) head += name + ": " + value + "\r\n";
  switch (resp.framing) {
    case FakeResponse::Framing::kContentLength: head += "Content-Length: " + std::to_string(total) + "\r\n"; break;
    case FakeResponse::Framing::kChunked: head += "Transfer-Encoding: chunked\r\n"; break;
    case FakeResponse::Framing::kClose: break;
  }
  head += "Connection: close\r\n\r\n";
  if (!send_all(fd, head)) return finish();

  const bool chunked = resp.framing == FakeResponse::Framing::kChunked;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    if (resp.drop_after > 0 && i == resp.drop_after) {
      ::shutdown(fd, SHUT_RDWR);
      return finish();
    }
    if (i > 0 && resp.chunk_delay.count() > 0 && !wait_or_stop(resp.chunk_delay)) return finish();
    const std::string& p = pieces[i];
    if (p.empty()) continue;  // an empty HTTP chunk would end a chunked body
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", p.size());
    const std::string out = chunked ? std::string(size) + p + "\r\n" : p;
    if (!send_all(fd, out)) return finish();
  }
  if (resp.hang) {
    wait_or_stop(std::chrono::milliseconds(-1));
    return finish();
  }
  if (chunked && !send_all(fd, "0\r\n\r\n")) return finish();
  ::shutdown(fd, SHUT_WR);
  // Let the client read everything and close first (avoids a reset on unread input).
  pollfd p[2] = {{fd, POLLIN, 0}, {wake_[0], POLLIN, 0}};
  ::poll(p, 2, 1000);
  finish();
}

int unused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) die("bind");
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);  // bound, never listened: nothing accepts on this port now
  return ntohs(addr.sin_port);
}

// ---------------------------------------------------------------------------------------

std::vector<std::string> split_text(const std::string& text, std::size_t piece_bytes) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t end = std::min(text.size(), i + std::max<std::size_t>(1, piece_bytes));
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
    out.push_back(text.substr(i, end - i));
    i = end;
  }
  return out;
}

FakeResponse openai_sse(const std::string& text, const std::string& finish_reason, FakeUsage usage) {
  std::vector<std::string> events;
  auto chunk = [](json delta, json finish) {
    return json{{"id", "chatcmpl-1"},
                {"object", "chat.completion.chunk"},
                {"model", "fake"},
                {"choices", json::array({json{{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", std::move(finish)}}})}};
  };
  events.push_back(sse(chunk({{"role", "assistant"}, {"content", ""}}, nullptr)));
  for (const std::string& piece : split_text(text)) events.push_back(sse(chunk({{"content", piece}}, nullptr)));
  events.push_back(sse(chunk(json::object(), finish_reason)));
  events.push_back(sse({{"id", "chatcmpl-1"},
                        {"object", "chat.completion.chunk"},
                        {"choices", json::array()},
                        {"usage",
                         {{"prompt_tokens", usage.prompt_tokens},
                          {"completion_tokens", usage.completion_tokens},
                          {"total_tokens", usage.prompt_tokens + usage.completion_tokens}}}}));
  events.push_back("data: [DONE]\n\n");
  return FakeResponse::stream(std::move(events), "text/event-stream");
}

FakeResponse openai_json(const std::string& text, const std::string& finish_reason, FakeUsage usage) {
  json body = {{"id", "chatcmpl-1"},
               {"object", "chat.completion"},
               {"model", "fake"},
               {"choices", json::array({json{{"index", 0},
                                             {"message", {{"role", "assistant"}, {"content", text}}},
                                             {"finish_reason", finish_reason}}})},
               {"usage",
                {{"prompt_tokens", usage.prompt_tokens},
                 {"completion_tokens", usage.completion_tokens},
                 {"total_tokens", usage.prompt_tokens + usage.completion_tokens}}}};
  return FakeResponse::text(200, body.dump(2));
}

FakeResponse ollama_ndjson(const std::string& text, const std::string& done_reason, FakeUsage usage) {
  std::vector<std::string> lines;
  for (const std::string& piece : split_text(text)) {
    lines.push_back(json{{"model", "fake"},
                         {"created_at", "2024-01-01T00:00:00Z"},
                         {"message", {{"role", "assistant"}, {"content", piece}}},
                         {"done", false}}
                        .dump() +
                    "\n");
  }
  lines.push_back(json{{"model", "fake"},
                       {"created_at", "2024-01-01T00:00:01Z"},
                       {"message", {{"role", "assistant"}, {"content", ""}}},
                       {"done", true},
                       {"done_reason", done_reason},
                       {"total_duration", 1000},
                       {"prompt_eval_count", usage.prompt_tokens},
                       {"eval_count", usage.completion_tokens}}
                      .dump() +
                  "\n");
  return FakeResponse::stream(std::move(lines), "application/x-ndjson");
}

FakeResponse llamacpp_sse(const std::string& text, bool stopped_by_limit, FakeUsage usage) {
  std::vector<std::string> events;
  for (const std::string& piece : split_text(text)) {
    events.push_back(sse({{"content", piece}, {"stop", false}, {"id_slot", 0}}));
  }
  events.push_back(sse({{"content", ""},
                        {"stop", true},
                        {"stop_type", stopped_by_limit ? "limit" : "eos"},
                        {"stopped_limit", stopped_by_limit},
                        {"stopped_eos", !stopped_by_limit},
                        {"stopped_word", false},
                        {"tokens_evaluated", usage.prompt_tokens},
                        {"tokens_predicted", usage.completion_tokens},
                        {"truncated", false}}));
  return FakeResponse::stream(std::move(events), "text/event-stream");
}

}  // namespace atelier::testing
