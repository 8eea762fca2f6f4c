#include "server/redis_client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <utility>

#include "core/text.h"

namespace atelier::server {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::int64_t kMaxBulkBytes = std::int64_t(512) << 20;  // Redis's proto-max-bulk-len
constexpr std::int64_t kMaxArrayElements = std::int64_t(1) << 28;
constexpr std::size_t kMaxLineBytes = std::size_t(1) << 20;     // a status or error line
constexpr std::size_t kReadChunk = 64 * 1024;

Status malformed(const std::string& why) { return data_loss("malformed Redis reply: " + why); }

// Reads one reply from `b` at `pos`. Returns true when complete (pos moves past it), false
// when `b` ends first.
class ReplyParser {
 public:
  explicit ReplyParser(std::string_view b) : b_(b) {}
  std::size_t pos() const { return pos_; }

  Result<bool> parse(RedisReply& r, int depth) {
    if (pos_ >= b_.size()) return false;
    const char type = b_[pos_++];
    switch (type) {
      case '+':
      case '-': {
        std::string_view text;
        ATELIER_ASSIGN_OR_RETURN(bool got, line(text));
        if (!got) return false;
        r.type = type == '+' ? RedisReply::Type::kStatus : RedisReply::Type::kError;
        r.str.assign(text);
        return true;
      }
      case ':': {
        std::int64_t v = 0;
        ATELIER_ASSIGN_OR_RETURN(bool got, number(v));
        if (!got) return false;
        r.type = RedisReply::Type::kInteger;
        r.integer = v;
        return true;
      }
      case '$': {
        std::int64_t n = 0;
        ATELIER_ASSIGN_OR_RETURN(Length got, length(n, kMaxBulkBytes, "bulk string", r));
        if (got != Length::kSome) return got == Length::kNil;
        if (b_.size() - pos_ < std::size_t(n) + 2) return false;
        if (b_[pos_ + std::size_t(n)] != '\r' || b_[pos_ + std::size_t(n) + 1] != '\n') {
          return malformed("bulk string of " + std::to_string(n) + " bytes without CRLF after it");
        }
        r.type = RedisReply::Type::kBulk;
        r.str.assign(b_.substr(pos_, std::size_t(n)));
        pos_ += std::size_t(n) + 2;
        return true;
      }
      case '*': {
        std::int64_t n = 0;
        ATELIER_ASSIGN_OR_RETURN(Length got, length(n, kMaxArrayElements, "array", r));
        if (got != Length::kSome) return got == Length::kNil;
        if (depth >= RedisReply::kMaxDepth) {
          return malformed("arrays nested deeper than " + std::to_string(RedisReply::kMaxDepth));
        }
        r.type = RedisReply::Type::kArray;
        r.elements.clear();
        r.elements.reserve(std::size_t(std::min<std::int64_t>(n, 1024)));
        for (std::int64_t i = 0; i < n; ++i) {
          ATELIER_ASSIGN_OR_RETURN(bool done, parse(r.elements.emplace_back(), depth + 1));
          if (!done) return false;
        }
        return true;
      }
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        const auto c = static_cast<unsigned char>(type);
        return malformed(std::string("unexpected type byte 0x") + kHex[c >> 4] + kHex[c & 15]);
      }
    }
  }

 private:
  enum class Length { kIncomplete, kNil, kSome };
  // The length after '$' or '*' into `n`; -1 makes `r` a nil reply.
  Result<Length> length(std::int64_t& n, std::int64_t max, const char* what, RedisReply& r) {
    ATELIER_ASSIGN_OR_RETURN(bool got, number(n));
    if (!got) return Length::kIncomplete;
    if (n == -1) {
      r.type = RedisReply::Type::kNil;
      return Length::kNil;
    }
    if (n < 0 || n > max) return malformed(std::string(what) + " length " + std::to_string(n));
    return Length::kSome;
  }
  Result<bool> line(std::string_view& out) {
    const std::size_t cr = b_.find('\r', pos_);
    if (cr == std::string_view::npos) {
      if (b_.size() - pos_ > kMaxLineBytes) return malformed("a line longer than 1 MiB");
      return false;
    }
    if (cr + 1 >= b_.size()) return false;
    if (b_[cr + 1] != '\n') return malformed("CR without LF");
    out = b_.substr(pos_, cr - pos_);
    pos_ = cr + 2;
    return true;
  }
  Result<bool> number(std::int64_t& v) {
    std::string_view text;
    ATELIER_ASSIGN_OR_RETURN(bool got, line(text));
    if (!got) return false;
    const char* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, v);
    if (text.empty() || ec != std::errc() || p != end) {
      return malformed("bad number " + atelier::quoted(utf8_prefix(text, 32)));
    }
    return true;
  }

  std::string_view b_;
  std::size_t pos_ = 0;
};

// "connection refused" (strerror, lower-case first letter, as the other messages).
std::string socket_error(int err) {
  std::string s = std::strerror(err);
  if (!s.empty()) s[0] = char(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

// Milliseconds left until `deadline` (0 when past).
int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : int(std::min<std::int64_t>(left, 1 << 30));
}

// 1: ready, 0: the deadline passed, -1: poll failed (errno).
int wait_fd(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n > 0) return 1;
    if (n == 0) return 0;
    if (errno != EINTR) return -1;
  }
}

Result<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    auto hex = [](char c) {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    if (i + 2 >= s.size()) return invalid_argument("a '%' without two hex digits");
    const int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0) return invalid_argument("a '%' without two hex digits");
    out += char(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// `url` with its password (or whole user-info part when it has no ':') shown as "***".
std::string redacted(std::string_view url) {
  const std::size_t scheme = url.find("://");
  const std::size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
  const std::size_t end = std::min(url.find_first_of("/?#", start), url.size());
  const std::size_t at = url.substr(0, end).rfind('@');
  if (at == std::string_view::npos || at < start) return std::string(url);
  const std::string_view info = url.substr(start, at - start);
  const std::size_t colon = info.find(':');
  const std::string shown = colon == std::string_view::npos ? "***" : std::string(info.substr(0, colon)) + ":***";
  return std::string(url.substr(0, start)) + shown + std::string(url.substr(at));
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 9 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

struct Connection {
  int fd = -1;
  std::string in;       // bytes received and not yet parsed
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    if (fd >= 0) ::close(fd);
  }
};

// An idle connection with nothing to read is still open; one the server closed reads as
// end of file (and stray bytes would mean a lost reply): neither is reused.
bool still_open(const Connection& c) {
  pollfd p{c.fd, short(POLLIN | POLLRDHUP), 0};
  int n;
  do n = ::poll(&p, 1, 0);
  while (n < 0 && errno == EINTR);
  return n == 0 && c.in.empty();
}

}  // namespace

Result<std::size_t> parse_redis_reply(std::string_view bytes, RedisReply& reply) {
  ReplyParser p(bytes);
  reply = RedisReply();
  ATELIER_ASSIGN_OR_RETURN(bool done, p.parse(reply, 0));
  if (!done) return std::size_t(0);
  return p.pos();
}

std::string encode_redis_command(const std::vector<std::string>& args) {
  std::size_t size = 16;
  for (const std::string& a : args) size += a.size() + 16;
  std::string out;
  out.reserve(size);
  out += '*';
  out += std::to_string(args.size());
  out += "\r\n";
  for (const std::string& a : args) {
    out += '$';
    out += std::to_string(a.size());
    out += "\r\n";
    out += a;
    out += "\r\n";
  }
  return out;
}

std::string RedisAddress::name() const {
  const bool v6 = host.find(':') != std::string::npos;
  return "redis://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<RedisAddress> parse_redis_url(std::string_view url) {
  auto bad = [&](const std::string& why) {
    return invalid_argument("bad Redis URL " + atelier::quoted(utf8_prefix(redacted(url), 200)) + ": " + why +
                            " (expected redis://[:password@]host:port[/db])");
  };
  constexpr std::string_view kScheme = "redis://";
  if (url.starts_with("rediss://")) return bad("TLS (rediss://) is not supported");
  if (!url.starts_with(kScheme)) return bad("it does not start with redis://");
  std::string_view rest = url.substr(kScheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos) return bad("query and fragment parts are not supported");
  if (std::any_of(rest.begin(), rest.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20; })) {
    return bad("spaces or control characters");
  }
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);

  RedisAddress a;
  const std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view info = authority.substr(0, at);
    const std::size_t colon = info.find(':');
    if (colon == std::string_view::npos) return bad("expected ':' before the password");
    Result<std::string> user = percent_decode(info.substr(0, colon));
    Result<std::string> pass = percent_decode(info.substr(colon + 1));
    if (!user.ok()) return bad("user name: " + user.status().message());
    if (!pass.ok()) return bad("password: " + pass.status().message());
    if (pass->empty()) return bad("empty password");
    a.username = std::move(user).value();
    a.password = std::move(pass).value();
    authority = authority.substr(at + 1);
  }
  std::string_view port_text;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("'[' without ']'");
    a.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("unexpected text after ']'");
      port_text = after.substr(1);
      if (port_text.empty()) return bad("empty port");
    }
  } else {
    const std::size_t colon = authority.find(':');
    a.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.find(':') != std::string_view::npos) return bad("an IPv6 address goes in brackets");
      if (port_text.empty()) return bad("empty port");
    }
  }
  if (a.host.empty()) return bad("no host");
  if (!port_text.empty()) {
    if (!all_digits(port_text)) return bad("port " + atelier::quoted(port_text) + " is not a number");
    a.port = std::stoi(std::string(port_text));
    if (a.port < 1 || a.port > 65535) return bad("port " + std::string(port_text) + " is not in 1..65535");
  }
  if (!path.empty()) {
    if (!all_digits(path)) return bad("database " + atelier::quoted(path) + " is not a number");
    a.db = std::stoi(std::string(path));
  }
  return a;
}

struct RedisClient::Impl {
  RedisAddress address;
  std::string name;
  RedisClientOptions options;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::unique_ptr<Connection>> idle;  // most recently used last
  int open = 0;                                   // idle + in use

  Status broken(const std::string& why) const { return unavailable(name + ": " + why); }

  // Writes `out`, then reads `n` replies into `replies`. `sent`: all of `out` was written.
  Status exchange(Connection& c, std::string_view out, std::size_t n, std::vector<RedisReply>& replies,
                  Clock::time_point deadline, int timeout_ms, bool& sent) const {
    sent = false;
    auto timed_out = [&] { return deadline_exceeded(name + ": no reply within " + std::to_string(timeout_ms) + " ms"); };
    std::size_t off = 0;
    while (off < out.size()) {
      const ssize_t k = ::send(c.fd, out.data() + off, out.size() - off, MSG_NOSIGNAL);
      if (k > 0) {
        off += std::size_t(k);
        continue;
      }
      if (k < 0 && errno == EINTR) continue;
      if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        const int w = wait_fd(c.fd, POLLOUT, deadline);
        if (w == 0) return timed_out();
        if (w < 0) return broken(socket_error(errno));
        continue;
      }
      return broken(socket_error(k < 0 ? errno : EPIPE));
    }
    sent = true;
    std::size_t parsed = 0;  // bytes of c.in already turned into replies
    Status result;
    while (replies.size() < n) {
      if (parsed < c.in.size()) {
        RedisReply r;
        Result<std::size_t> used = parse_redis_reply(std::string_view(c.in).substr(parsed), r);
        if (!used.ok()) {
          result = data_loss(name + ": " + used.status().message());
          break;
        }
        if (*used > 0) {
          parsed += *used;
          replies.push_back(std::move(r));
          continue;
        }
      }
      const int w = wait_fd(c.fd, POLLIN, deadline);
      if (w == 0) {
        result = timed_out();
        break;
      }
      if (w < 0) {
        result = broken(socket_error(errno));
        break;
      }
      char buf[kReadChunk];
      const ssize_t k = ::recv(c.fd, buf, sizeof buf, 0);
      if (k > 0) {
        c.in.append(buf, std::size_t(k));
      } else if (k == 0) {
        result = broken("connection closed by the server");
        break;
      } else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
        result = broken(socket_error(errno));
        break;
      }
    }
    c.in.erase(0, parsed);
    return result;
  }

  Result<RedisReply> roundtrip(Connection& c, const std::vector<std::string>& args, int timeout_ms) const {
    std::vector<RedisReply> replies;
    bool sent = false;
    ATELIER_TRY(exchange(c, encode_redis_command(args), 1, replies, Clock::now() + std::chrono::milliseconds(timeout_ms),
                         timeout_ms, sent));
    return std::move(replies.front());
  }

  Result<std::unique_ptr<Connection>> open_connection() const {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(address.port);
    const int gai = ::getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found);
    std::unique_ptr<addrinfo, void (*)(addrinfo*)> results(found, ::freeaddrinfo);
    if (gai != 0 || found == nullptr) {
      return unavailable(name + ": cannot resolve " + address.host + " (" + ::gai_strerror(gai) + ")");
    }
    const int timeout_ms = options.connect_timeout_ms;
    const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    Status last = broken("no address to connect to");
    auto c = std::make_unique<Connection>();
    for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
      const int fd = ::socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        last = broken("cannot create a socket: " + socket_error(errno));
        continue;
      }
      int err = 0;
      if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        err = errno;
        if (err == EINPROGRESS || err == EINTR) {
          const int w = wait_fd(fd, POLLOUT, deadline);
          if (w == 0) {
            ::close(fd);
            last = broken("no connection within " + std::to_string(timeout_ms) + " ms");
            break;  // the time is spent
          }
          socklen_t len = sizeof err;
          if (w < 0) err = errno;
          else if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        }
      }
      if (err != 0) {
        ::close(fd);
        last = broken(socket_error(err));
        continue;
      }
      int one = 1;
      (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      (void)::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
      c->fd = fd;
      break;
    }
    if (c->fd < 0) return last;

    auto setup = [&](const std::vector<std::string>& args) -> Status {
      ATELIER_ASSIGN_OR_RETURN(RedisReply r, roundtrip(*c, args, std::max(1, remaining_ms(deadline))));
      if (r.is_error()) return error_status(r);
      return {};
    };
    if (!address.password.empty()) {
      std::vector<std::string> auth = {"AUTH"};
      if (!address.username.empty()) auth.push_back(address.username);
      auth.push_back(address.password);
      ATELIER_TRY(setup(auth));
    }
    if (address.db != 0) ATELIER_TRY(setup({"SELECT", std::to_string(address.db)}));
    return c;
  }

  Status error_status(const RedisReply& r) const {
    const std::string& m = r.str;
    const std::string word = m.substr(0, m.find(' '));
    const std::string msg = name + ": " + m;
    if (word == "NOAUTH" || word == "WRONGPASS") return unauthenticated(msg);
    if (word == "OOM") return resource_exhausted(msg);
    if (word == "LOADING" || word == "BUSY" || word == "MASTERDOWN" || word == "TRYAGAIN" || word == "READONLY") {
      return unavailable(msg);
    }
    return internal_error(msg);
  }

  Result<std::unique_ptr<Connection>> acquire(Clock::time_point deadline, int timeout_ms) {
    std::unique_lock lock(mu);
    for (;;) {
      while (!idle.empty()) {
        std::unique_ptr<Connection> c = std::move(idle.back());
        idle.pop_back();
        if (still_open(*c)) return c;
        --open;  // closed by the server while idle (restart, client timeout): open another
      }
      if (open < options.max_connections) {
        ++open;
        lock.unlock();
        Result<std::unique_ptr<Connection>> c = open_connection();
        if (!c.ok()) {
          lock.lock();
          --open;
          cv.notify_one();
        }
        return c;
      }
      if (cv.wait_until(lock, deadline) == std::cv_status::timeout && idle.empty() && open >= options.max_connections) {
        return deadline_exceeded(name + ": all " + std::to_string(options.max_connections) +
                                 " connections stayed busy for " + std::to_string(timeout_ms) + " ms");
      }
    }
  }

  void release(std::unique_ptr<Connection> c, bool healthy) {
    {
      std::lock_guard lock(mu);
      if (healthy) {
        idle.push_back(std::move(c));
      } else {
        --open;
      }
    }
    c.reset();
    cv.notify_one();
  }

  // Sends `out` (n commands) and reads n replies. When the commands could not be written
  // (the connection broke first), once more on another connection: they did not run.
  Result<std::vector<RedisReply>> run(const std::string& out, std::size_t n, int timeout_ms) {
    if (timeout_ms < 0) timeout_ms = options.command_timeout_ms;
    for (int attempt = 0;; ++attempt) {
      const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
      ATELIER_ASSIGN_OR_RETURN(std::unique_ptr<Connection> c, acquire(deadline, timeout_ms));
      std::vector<RedisReply> replies;
      bool sent = false;
      Status s = exchange(*c, out, n, replies, deadline, timeout_ms, sent);
      release(std::move(c), s.ok());
      if (s.ok()) return replies;
      if (attempt == 0 && !sent && s.code() == StatusCode::kUnavailable) continue;
      return s;
    }
  }
};

RedisClient::RedisClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RedisClient::~RedisClient() = default;

Result<std::unique_ptr<RedisClient>> RedisClient::connect(std::string_view url, RedisClientOptions options) {
  auto impl = std::make_unique<Impl>();
  ATELIER_ASSIGN_OR_RETURN(impl->address, parse_redis_url(url));
  impl->name = impl->address.name();
  options.connect_timeout_ms = std::max(1, options.connect_timeout_ms);
  options.command_timeout_ms = std::max(1, options.command_timeout_ms);
  options.max_connections = std::max(1, options.max_connections);
  impl->options = options;
  std::unique_ptr<RedisClient> client(new RedisClient(std::move(impl)));
  // The first connection, checked with PING: a wrong address or password fails here.
  ATELIER_ASSIGN_OR_RETURN(RedisReply pong, client->call({"PING"}, client->impl_->options.connect_timeout_ms));
  if (!(pong.type == RedisReply::Type::kStatus && pong.str == "PONG")) {
    return data_loss(client->name() + ": PING was not answered with PONG (is this a Redis server?)");
  }
  return client;
}

Result<RedisReply> RedisClient::command(const std::vector<std::string>& args, int timeout_ms) {
  ATELIER_ASSIGN_OR_RETURN(std::vector<RedisReply> replies, impl_->run(encode_redis_command(args), 1, timeout_ms));
  return std::move(replies.front());
}

Result<RedisReply> RedisClient::call(const std::vector<std::string>& args, int timeout_ms) {
  ATELIER_ASSIGN_OR_RETURN(RedisReply r, command(args, timeout_ms));
  if (r.is_error()) return impl_->error_status(r);
  return r;
}

Result<std::vector<RedisReply>> RedisClient::pipeline(const std::vector<std::vector<std::string>>& commands,
                                                      int timeout_ms) {
  if (commands.empty()) return std::vector<RedisReply>();
  std::string out;
  for (const auto& args : commands) out += encode_redis_command(args);
  return impl_->run(out, commands.size(), timeout_ms);
}

Status RedisClient::error_status(const RedisReply& error) const { return impl_->error_status(error); }
const RedisAddress& RedisClient::address() const { return impl_->address; }
const std::string& RedisClient::name() const { return impl_->name; }

}  // namespace atelier::server
