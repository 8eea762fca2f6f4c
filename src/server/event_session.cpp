#include "server/event_session.h"

#include <chrono>
#include <deque>
#include <map>
#include <memory>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "core/status_table.h"

namespace atelier::server {
namespace {
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using nlohmann::json;

constexpr std::size_t kMaxSubscriptions = 64;
constexpr std::size_t kMaxMessage = 4096;
constexpr auto kPollInterval = std::chrono::milliseconds(100);

class EventSession : public std::enable_shared_from_this<EventSession> {
 public:
  EventSession(tcp::socket socket, Service& service) : ws_(std::move(socket)), timer_(ws_.get_executor()), service_(service) {}

  void run(http::request<http::string_body> upgrade) {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.read_message_max(kMaxMessage);
    ws_.text(true);
    ws_.async_accept(upgrade, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->read();
      self->tick();
    });
  }

 private:
  struct Subscription {
    std::string last;       // the last job message sent
    std::size_t text = 0;   // characters of streamed text sent
  };

  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->stop();
      const std::string text = beast::buffers_to_string(self->buffer_.data());
      self->buffer_.consume(self->buffer_.size());
      self->on_message(text);
      self->read();
    });
  }

  void error(const Status& s) {
    send(json({{"type", "error"}, {"error", {{"code", std::string(error_word(s.code()))}, {"message", s.message()}}}}));
  }

  void on_message(const std::string& text) {
    const json m = json::parse(text, nullptr, false);
    if (!m.is_object() || m.size() != 1 || !(m.contains("subscribe") || m.contains("unsubscribe")) ||
        !m.begin()->is_string()) {
      return error(invalid_argument(R"(expected {"subscribe": "<job id>"} or {"unsubscribe": "<job id>"})"));
    }
    const std::string id = m.begin()->get<std::string>();
    if (m.contains("unsubscribe")) {
      subscriptions_.erase(id);
      return;
    }
    if (subscriptions_.count(id)) return;
    if (subscriptions_.size() >= kMaxSubscriptions) {
      return error(resource_exhausted("at most " + std::to_string(kMaxSubscriptions) + " subscriptions per socket"));
    }
    auto event = service_.job_event(id);
    if (!event.ok()) return error(event.status());
    subscriptions_[id] = Subscription{};
    poll(id);
  }

  // Sends what changed for `id`; drops the subscription once the job is final.
  void poll(const std::string& id) {
    auto it = subscriptions_.find(id);
    if (it == subscriptions_.end()) return;
    Subscription& sub = it->second;
    std::string text = service_.job_text(id, sub.text);
    if (!text.empty()) {
      sub.text += text.size();
      send(json({{"type", "text"}, {"id", id}, {"text", std::move(text)}}));
    }
    auto event = service_.job_event(id);
    if (!event.ok()) {
      error(event.status());
      subscriptions_.erase(it);
      return;
    }
    std::string message = json({{"type", "job"}, {"job", *event}}).dump();
    if (message != sub.last) {
      sub.last = message;
      queue_.push_back(std::move(message));
      flush();
    }
    const std::string status = event->value("status", "");
    if (status == "succeeded" || status == "failed" || status == "cancelled") subscriptions_.erase(id);
  }

  void tick() {
    timer_.expires_after(kPollInterval);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->stopped_) return;
      std::vector<std::string> ids;
      for (const auto& [id, sub] : self->subscriptions_) ids.push_back(id);
      for (const std::string& id : ids) self->poll(id);
      self->tick();
    });
  }

  void send(const json& j) {
    queue_.push_back(j.dump(-1, ' ', false, json::error_handler_t::replace));
    flush();
  }

  void flush() {
    if (writing_ || queue_.empty() || stopped_) return;
    if (queue_.size() > 256) return stop();  // a client that does not read
    writing_ = true;
    ws_.async_write(net::buffer(queue_.front()), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->writing_ = false;
      if (ec) return self->stop();
      self->queue_.pop_front();
      self->flush();
    });
  }

  void stop() {
    if (stopped_) return;
    stopped_ = true;
    timer_.cancel();
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);  // a client that stopped reading is dropped
  }

  websocket::stream<beast::tcp_stream> ws_;
  net::steady_timer timer_;
  Service& service_;
  beast::flat_buffer buffer_;
  std::map<std::string, Subscription> subscriptions_;
  std::deque<std::string> queue_;
  bool writing_ = false;
  bool stopped_ = false;
};

}  // namespace

void start_event_session(tcp::socket socket, http::request<http::string_body> upgrade, Service& service) {
  std::make_shared<EventSession>(std::move(socket), service)->run(std::move(upgrade));
}

}  // namespace atelier::server
