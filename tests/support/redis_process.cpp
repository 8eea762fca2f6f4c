#include "support/redis_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <thread>

#include "core/subprocess.h"
#include "server/redis_client.h"
#include "support/fake_llm_server.h"

namespace atelier::testing {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

RedisServer::RedisServer(std::vector<std::string> extra, int port) : dir_(std::move(TempDir::create()).value()) {
  const fs::path program = find_program("redis-server");
  if (program.empty()) {
    error_ = "redis-server not found: install it with scripts/install-deps (apt-get install redis-server)";
    return;
  }
  port_ = port ? port : unused_port();
  std::vector<std::string> args = {program.string(), "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                   "--save", "", "--appendonly", "no", "--dir", dir_.path().string()};
  args.insert(args.end(), extra.begin(), extra.end());
  const std::string log = (dir_.path() / "redis.log").string();
  pid_ = ::fork();
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) ::dup2(fd, 1), ::dup2(fd, 2);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  // Up when a PING is answered (a refused password still proves it listens).
  for (auto deadline = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < deadline;) {
    auto c = server::RedisClient::connect(url());
    if (c.ok() || c.status().code() == StatusCode::kUnauthenticated) return;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  std::ifstream in(log);
  error_ = "redis-server did not start: " + std::string(std::istreambuf_iterator<char>(in), {});
}

RedisServer::~RedisServer() { stop(); }

void RedisServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string RedisServer::url(const std::string& userinfo, const std::string& db) const {
  return "redis://" + userinfo + "127.0.0.1:" + std::to_string(port_) + db;
}

}  // namespace atelier::testing
