// A redis-server of the test's own on 127.0.0.1 (scripts/install-deps installs it; a test
// that needs one fails rather than skips without it): a free port unless given, no
// persistence, its files in a temporary folder; killed by stop() or the destructor, and
// with the test process if that dies.
//
//   RedisServer redis;
//   ASSERT_TRUE(redis.error().empty()) << redis.error();
//   ... redis.url() == "redis://127.0.0.1:PORT" ...
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "core/files.h"

namespace atelier::testing {

class RedisServer {
 public:
  // Starts redis-server with `extra` arguments and waits (up to 10 s) for it to answer.
  explicit RedisServer(std::vector<std::string> extra = {}, int port = 0);
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  void stop();  // SIGKILL
  const std::string& error() const { return error_; }  // "" once it answers
  int port() const { return port_; }
  // "redis://USERINFO127.0.0.1:PORTDB", e.g. url(":secret@", "/2").
  std::string url(const std::string& userinfo = "", const std::string& db = "") const;

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string error_;
};

}  // namespace atelier::testing
