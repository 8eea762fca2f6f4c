// Black-box helpers for `atelier serve`: the real binary started on 127.0.0.1 with
// --port 0 (its first stdout line names the port), and a small libcurl client.
//
//   ServeProcess server({"--workers", "1"});   // waits for /readyz 200
//   HttpReply r = http_call("POST", server.url("/v1/cutout"), bytes, {"Content-Type: image/png"});
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace atelier::testing {

struct HttpReply {
  long status = 0;  // 0: no answer (connection refused or cut)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& name) const;
};

struct FormField {
  std::string name, data, filename, content_type;  // a file when filename is set
};

HttpReply http_call(const std::string& method, const std::string& url, const std::string& body = "",
                    const std::vector<std::string>& headers = {}, double timeout_s = 60);
HttpReply http_form(const std::string& url, const std::vector<FormField>& fields,
                    const std::vector<std::string>& headers = {});

class ServeProcess {
 public:
  // Starts `atelier serve --port 0 --data-dir DATA_DIR ARGS...` (a fresh data folder unless
  // given) with `env` added; waits up to 60 s for the listening line and, when `wait_ready`,
  // for /readyz to answer 200. Fails the test (and stops) otherwise.
  explicit ServeProcess(std::vector<std::string> args = {}, std::filesystem::path data_dir = {},
                        std::vector<std::string> env = {}, bool wait_ready = true);
  ~ServeProcess();  // SIGTERM, then SIGKILL after 20 s
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  std::string url(const std::string& path) const;
  int port() const { return port_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  // Sends `signal` and waits for the exit; returns the exit status (128+N when killed).
  int stop(int signal);
  std::string stderr_text() const;  // what it logged so far

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::filesystem::path data_dir_, own_dir_, err_file_;
};

// The built binary's cutout of `photo` (the golden the service must match), as bytes.
std::string read_all(const std::filesystem::path& path);

}  // namespace atelier::testing
