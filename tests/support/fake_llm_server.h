// A scripted HTTP/1.1 server on 127.0.0.1 for testing HTTP clients (the LLM providers):
// it listens on an ephemeral port, serves each connection on its own thread, records every
// request and answers from a queue of scripted responses. POSIX sockets only.
//
//   FakeLlmServer server;
//   server.enqueue(openai_sse("Hello", "stop", {12, 3}));
//   ... point the client at server.base_url() ...
//   server.requests()[0].header("authorization"), .body ...
//
// One request per connection (responses carry "Connection: close"). With the queue empty
// the server answers 500 "no scripted response".
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace atelier::testing {

struct FakeResponse {
  enum class Framing {
    kContentLength,  // one Content-Length body (the chunks are still written one by one)
    kChunked,        // Transfer-Encoding: chunked, one HTTP chunk per piece
    kClose,          // no length: the body ends when the connection closes
  };

  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Type etc.
  std::vector<std::string> chunks;           // the body, written piece by piece
  std::chrono::milliseconds chunk_delay{0};  // pause before each piece after the first
  Framing framing = Framing::kContentLength;
  // Re-cut the body into pieces of this many bytes before sending (0: keep `chunks`), to
  // split lines and events at awkward places.
  std::size_t split_bytes = 0;
  // Never finish: send nothing at all when `chunks` is empty (accept and never answer),
  // otherwise the head and the chunks, then keep the connection open until the server stops.
  bool hang = false;
  // Close the connection abruptly after this many pieces (0: send them all), without
  // finishing the body (the terminating chunk or the rest of Content-Length).
  std::size_t drop_after = 0;

  // A complete body in one piece.
  static FakeResponse text(int status, std::string body, std::string content_type = "application/json");
  // A streamed body: chunked transfer encoding, `delay` between pieces.
  static FakeResponse stream(std::vector<std::string> pieces, std::string content_type,
                             std::chrono::milliseconds delay = std::chrono::milliseconds(2));
  // Accepts the connection and never answers.
  static FakeResponse hang_forever();
  FakeResponse& with_header(std::string name, std::string value);
};

struct RecordedRequest {
  std::string method;
  std::string path;                            // request target, e.g. "/v1/chat/completions"
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  // A header's value ("" when absent); `name` in any case.
  std::string header(const std::string& name) const;
};

class FakeLlmServer {
 public:
  FakeLlmServer();  // binds 127.0.0.1:0 and starts serving; aborts the test binary on failure
  ~FakeLlmServer();  // stops: closes every connection (hanging ones too) and joins the threads
  FakeLlmServer(const FakeLlmServer&) = delete;
  FakeLlmServer& operator=(const FakeLlmServer&) = delete;

  int port() const { return port_; }
  std::string base_url() const;  // "http://127.0.0.1:PORT"

  void enqueue(FakeResponse response);
  std::vector<RecordedRequest> requests() const;
  std::size_t request_count() const;

 private:
  void accept_loop();
  void serve(int fd);
  bool wait_or_stop(std::chrono::milliseconds d);  // false when stopping

  int listen_fd_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};  // self-pipe: readable once stopping
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<FakeResponse> queue_;
  std::vector<RecordedRequest> requests_;
  std::vector<int> open_fds_;
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

// A local port where nothing listens (connections are refused).
int unused_port();

struct FakeUsage {
  int prompt_tokens = 0;
  int completion_tokens = 0;
};

// The answer `text` cut into small pieces on UTF-8 boundaries (the streamed deltas).
std::vector<std::string> split_text(const std::string& text, std::size_t piece_bytes = 5);

// OpenAI Chat Completions streaming: a role delta, content deltas, a final delta with
// `finish_reason`, a usage event (choices: []) and "data: [DONE]".
FakeResponse openai_sse(const std::string& text, const std::string& finish_reason = "stop", FakeUsage usage = {});
// A non-streamed Chat Completions response ({"choices":[{"message":…}],"usage":…}).
FakeResponse openai_json(const std::string& text, const std::string& finish_reason = "stop", FakeUsage usage = {});
// Ollama /api/chat NDJSON: message pieces, then {"done":true,"done_reason":…,
// "prompt_eval_count":…,"eval_count":…}.
FakeResponse ollama_ndjson(const std::string& text, const std::string& done_reason = "stop", FakeUsage usage = {});
// llama.cpp /completion SSE: {"content":…,"stop":false} pieces, then a stop event with
// stop_type "limit" (stopped_limit true) or "eos", tokens_evaluated / tokens_predicted.
FakeResponse llamacpp_sse(const std::string& text, bool stopped_by_limit = false, FakeUsage usage = {});

}  // namespace atelier::testing
