// A small synchronous Redis client (RESP2 over TCP, POSIX sockets; no client library), for
// the Redis job store (redis_job_store.h). Commands are arrays of bulk strings, so every
// argument is binary-safe. A client is a pool of connections: each call takes an idle one
// (or opens one, up to max_connections), so a blocking command such as XREADGROUP … BLOCK
// holds only its own connection and never delays another thread's commands. Thread-safe.
//
// Errors are values: kInvalidArgument for a bad URL, kUnavailable when the server cannot be
// reached or the connection breaks ("redis://127.0.0.1:6390: connection refused"),
// kDeadlineExceeded when no reply came in time, kDataLoss for bytes that are not RESP2,
// kUnauthenticated when AUTH is refused. Messages name the server as redis://HOST:PORT and
// never contain the password.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace atelier::server {

// One RESP2 reply. An error reply ("-ERR …") is a value of type kError here, not a Status:
// RedisClient::call() turns it into one.
struct RedisReply {
  enum class Type { kNil, kStatus, kError, kInteger, kBulk, kArray };
  Type type = Type::kNil;        // kNil: "$-1" or "*-1"
  std::string str;               // kStatus, kError (without the '-') and kBulk
  std::int64_t integer = 0;      // kInteger
  std::vector<RedisReply> elements;  // kArray, nested to any depth up to kMaxDepth

  static constexpr int kMaxDepth = 32;
  bool is_nil() const { return type == Type::kNil; }
  bool is_error() const { return type == Type::kError; }
  bool is_array() const { return type == Type::kArray; }
  bool is_string() const { return type == Type::kBulk || type == Type::kStatus; }
};

// Parses the reply at the start of `bytes` into `reply`. Returns the bytes it took, or 0
// when `bytes` holds only the beginning of a reply (read more and call again). Bytes that
// are not RESP2: kDataLoss "malformed Redis reply: …" (unknown type byte, bad length,
// missing CRLF, nesting deeper than kMaxDepth, a bulk string over 512 MiB).
Result<std::size_t> parse_redis_reply(std::string_view bytes, RedisReply& reply);

// `args` as a RESP2 array of bulk strings ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n").
std::string encode_redis_command(const std::vector<std::string>& args);

// redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]; HOST may be [IPv6]; PORT defaults to 6379,
// DB to 0; USER and PASSWORD may be percent-encoded. Anything else: kInvalidArgument
// 'bad Redis URL "redis://…": REASON (expected redis://[:password@]host:port[/db])', with
// the password shown as "***".
struct RedisAddress {
  std::string host;
  int port = 6379;
  std::string username, password;  // empty: no AUTH (a password alone: AUTH PASSWORD)
  int db = 0;                      // SELECT when not 0
  std::string name() const;        // "redis://HOST:PORT" (IPv6 in brackets), for messages
};
Result<RedisAddress> parse_redis_url(std::string_view url);

struct RedisClientOptions {
  int connect_timeout_ms = 2000;  // TCP connect, and AUTH/SELECT on a new connection
  int command_timeout_ms = 5000;  // a command's reply, unless the call gives its own
  int max_connections = 16;       // a call waits (up to its timeout) when all are in use
};

class RedisClient {
 public:
  // Parses `url` and opens a first connection (so a wrong address or password fails here).
  static Result<std::unique_ptr<RedisClient>> connect(std::string_view url, RedisClientOptions options = {});
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Sends one command and returns its reply, error replies included. `timeout_ms` < 0: the
  // client's command timeout (a blocking command adds its own BLOCK time to it). A pooled
  // connection that the server closed while idle (a restart, its client timeout) is
  // replaced before sending, and a command that could not be written is sent once more
  // on a new connection; once it has been sent, a broken connection or a timeout is an
  // error (the command may have run), and that connection is closed, never reused.
  Result<RedisReply> command(const std::vector<std::string>& args, int timeout_ms = -1);

  // command(), with an error reply turned into a Status (error_status()).
  Result<RedisReply> call(const std::vector<std::string>& args, int timeout_ms = -1);

  // Sends every command on one connection, then reads their replies (error replies are
  // values, as in command()); reconnects as command() does.
  Result<std::vector<RedisReply>> pipeline(const std::vector<std::vector<std::string>>& commands,
                                           int timeout_ms = -1);

  // "redis://HOST:PORT: MESSAGE" with a code by the error's first word: NOAUTH, WRONGPASS
  // -> kUnauthenticated; OOM -> kResourceExhausted; LOADING, BUSY, MASTERDOWN, TRYAGAIN,
  // READONLY -> kUnavailable; others (ERR, WRONGTYPE, NOSCRIPT…) -> kInternal.
  Status error_status(const RedisReply& error) const;

  const RedisAddress& address() const;
  const std::string& name() const;  // address().name()

  struct Impl;

 private:
  explicit RedisClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace atelier::server
