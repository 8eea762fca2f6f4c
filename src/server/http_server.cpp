#include "server/http_server.h"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "server/event_session.h"

namespace atelier::server {
namespace {
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

std::string new_request_id() {
  static std::atomic<std::uint64_t> counter{0};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x%08llx", unsigned(std::chrono::system_clock::now().time_since_epoch().count()),
                static_cast<unsigned long long>(++counter));
  return buf;
}

bool sane_request_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

struct Shared {
  net::io_context& ioc;
  Service& service;
  const ServeConfig& config;
  std::atomic<int> connections{0};
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Shared& shared) : stream_(std::move(socket)), shared_(shared) { ++shared_.connections; }
  ~Session() { --shared_.connections; }

  void start() { read_header(); }

 private:
  const ServeConfig& config() const { return shared_.config; }

  void read_header() {
    parser_.emplace();
    parser_->header_limit(config().max_header);
    parser_->body_limit(config().max_body);
    stream_.expires_after(std::chrono::milliseconds(std::int64_t(config().read_timeout * 1000)));
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, std::size_t) {
    started_ = Clock::now();
    if (ec) return on_error(ec);
    auto& req = parser_->get();
    if (auto len = parser_->content_length(); len && *len > config().max_body) {
      return refuse(413, "resource_exhausted",
                    "request body is " + std::to_string(*len) + " bytes, more than the " +
                        std::to_string(config().max_body) + " byte limit (--max-body)");
    }
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, req.version());
      http::async_write(stream_, *cont, [self = shared_from_this(), cont](beast::error_code e, std::size_t) {
        if (e) return self->close();
        self->read_body();
      });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_error(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return refuse(413, "resource_exhausted",
                    "request body is more than the " + std::to_string(config().max_body) + " byte limit (--max-body)");
    }
    if (ec == http::error::header_limit) {
      return refuse(431, "header_too_large", "request headers are over the " + std::to_string(config().max_header) +
                                                 " byte limit");
    }
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == net::error::eof ||
        ec == net::error::connection_reset || ec == net::error::operation_aborted) {
      return close();  // gone, or too slow: cut off
    }
    refuse(400, "bad_request", "malformed HTTP request (" + ec.message() + ")");
  }

  void refuse(int status, const std::string& word, const std::string& message) {
    Request req;
    req.method = "-";
    req.id = new_request_id();
    Response r = error_response(status, word, message);
    r.route = "unmatched";
    close_after_ = true;
    write(std::move(req), std::move(r));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) return on_error(ec);
    stream_.expires_never();  // the service keeps its own deadline from here
    auto msg = parser_->release();
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    for (const auto& f : msg) {
      std::string name(f.name_string());
      for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
      req.headers[name] = std::string(f.value());
    }
    req.id = sane_request_id(req.header("x-request-id")) ? req.header("x-request-id") : new_request_id();
    req.body = std::move(msg.body());
    keep_alive_ = msg.keep_alive();
    const std::size_t q = req.target.find('?');
    auto path = percent_decode(std::string_view(req.target).substr(0, q), false);
    auto query = parse_query(q == std::string::npos ? std::string_view() : std::string_view(req.target).substr(q + 1));
    if (!path.ok() || !query.ok()) {
      Response r = error_response(400, "invalid_argument", "bad percent escape in the URL");
      r.route = "unmatched";
      return write(std::move(req), std::move(r));
    }
    req.path = *path;
    req.query = std::move(query).value();
    if (req.path == "/v1/events") return upgrade(std::move(req), std::move(msg));
    if (req.method == "OPTIONS" && !config().allow_origin.empty()) {
      Response r;
      r.status = 204;
      r.route = "preflight";
      r.headers = {{"Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS"},
                   {"Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, Idempotency-Key, X-Request-Id"},
                   {"Access-Control-Max-Age", "600"}};
      return write(std::move(req), std::move(r));
    }
    auto self = shared_from_this();
    auto shared_req = std::make_shared<Request>(req);
    shared_.service.handle(std::move(req), [self, shared_req](Response r) {
      net::post(self->stream_.get_executor(),
                [self, shared_req, r = std::move(r)]() mutable { self->write(std::move(*shared_req), std::move(r)); });
    });
  }

  // GET /v1/events: a WebSocket for job events (event_session.h), once authorised.
  void upgrade(Request req, http::request<http::string_body> msg) {
    if (!beast::websocket::is_upgrade(msg)) {
      Response r = error_response(426, "upgrade_required", "/v1/events is a WebSocket (send Upgrade: websocket)");
      r.headers.emplace_back("Upgrade", "websocket");
      r.route = "/v1/events";
      return write(std::move(req), std::move(r));
    }
    if (std::optional<Response> denied = shared_.service.authorize(req)) {
      denied->route = "/v1/events";
      close_after_ = true;
      return write(std::move(req), std::move(*denied));
    }
    Response accepted;
    accepted.status = 101;
    accepted.route = "/v1/events";
    shared_.service.log_request(req, accepted, 0, std::chrono::duration<double>(Clock::now() - started_).count());
    start_event_session(stream_.release_socket(), std::move(msg), shared_.service);
  }

  void write(Request req, Response r) {
    auto res = std::make_shared<http::response<http::string_body>>(http::status(r.status), 11);
    res->set(http::field::server, "atelier");
    if (r.status != 204) res->set(http::field::content_type, r.content_type);
    res->set("X-Request-Id", req.id);
    for (const auto& [k, v] : r.headers) res->set(k, v);
    const std::string origin = req.header("origin");
    if (!config().allow_origin.empty() && !origin.empty() &&
        (config().allow_origin == "*" || config().allow_origin == origin)) {
      res->set(http::field::access_control_allow_origin, config().allow_origin == "*" ? "*" : origin);
      res->set(http::field::vary, "Origin");
    }
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive_ && !close_after_);
    res->prepare_payload();
    const std::size_t bytes = res->body().size();
    auto log = std::make_shared<std::pair<Request, Response>>(std::move(req), std::move(r));
    stream_.expires_after(std::chrono::milliseconds(std::int64_t(config().read_timeout * 1000)));
    http::async_write(stream_, *res, [self = shared_from_this(), res, log, bytes](beast::error_code ec, std::size_t) {
      const double seconds = std::chrono::duration<double>(Clock::now() - self->started_).count();
      self->shared_.service.log_request(log->first, log->second, bytes, seconds);
      if (!ec && self->close_after_) return self->linger_close();
      if (ec || !res->keep_alive()) return self->close();
      self->read_header();
    });
  }

  // After a refusal sent before the body was read (413): stop sending, then read and drop
  // what the client still sends for up to 2 s (at most 64 MiB) before closing, so that
  // closing with unread data does not reset the connection before the client has read
  // the answer (as nginx's lingering close).
  void linger_close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(std::chrono::seconds(2));
    drain(std::make_shared<std::array<char, 16384>>(), 0);
  }
  void drain(std::shared_ptr<std::array<char, 16384>> scratch, std::size_t total) {
    stream_.async_read_some(net::buffer(*scratch), [self = shared_from_this(), scratch, total](beast::error_code ec,
                                                                                              std::size_t n) {
      if (ec || total + n > (64u << 20)) return self->close();
      self->drain(scratch, total + n);
    });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Shared& shared_;
  Clock::time_point started_ = Clock::now();
  bool keep_alive_ = true;
  bool close_after_ = false;
};

void accept_loop(tcp::acceptor& acceptor, Shared& shared) {
  // Each connection on its own strand: a WebSocket's reads, writes and timer never run at once.
  acceptor.async_accept(net::make_strand(shared.ioc), [&acceptor, &shared](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) {
      if (shared.connections.load() >= shared.config.max_connections) {
        beast::error_code ignored;
        socket.close(ignored);  // over the limit: refused at once, never queued
      } else {
        std::make_shared<Session>(std::move(socket), shared)->start();
      }
    }
    accept_loop(acceptor, shared);
  });
}

}  // namespace

Status run_http_server(Service& service) {
  const ServeConfig& config = service.config();
  net::io_context ioc(config.threads);
  beast::error_code ec;
  const auto address = net::ip::make_address(config.host, ec);
  if (ec) return invalid_argument("--host " + config.host + ": not an IP address");
  tcp::acceptor acceptor(ioc);
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(config.port));
  const std::string where = config.host + ":" + std::to_string(config.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return unavailable(where + ": " + ec.message());
  const auto bound = acceptor.local_endpoint();
  const std::string host = bound.address().is_v6() ? "[" + bound.address().to_string() + "]" : bound.address().to_string();
  std::printf("listening on http://%s:%u\n", host.c_str(), unsigned(bound.port()));
  std::fflush(stdout);

  Shared shared{ioc, service, config};
  // A session waiting for its answer has no operation pending: without the guard the
  // network threads would return while workers still have answers to write.
  auto guard = net::make_work_guard(ioc);
  accept_loop(acceptor, shared);
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  std::thread stopper;
  signals.async_wait([&](beast::error_code, int) {
    acceptor.close();
    // Draining waits on workers; the network threads keep writing answers meanwhile.
    stopper = std::thread([&] {
      service.shutdown(config.timeout);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // last writes
      ioc.stop();
    });
  });
  std::vector<std::thread> threads;
  for (int i = 1; i < config.threads; ++i) threads.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : threads) t.join();
  if (stopper.joinable()) stopper.join();
  return {};
}

}  // namespace atelier::server
