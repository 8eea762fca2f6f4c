// `atelier serve`'s WebSocket /v1/events and its edit operation (issue 10), black-box: a
// job's states arrive in order ending with the final one; an edit job streams the model's
// answer as text messages that add up to exactly what the model sent; /v1/edit answers
// the edited design (image sources named as uploaded) and its rendering; bad messages,
// unknown jobs, a missing key and a plain GET get clear errors.
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "design/scene_json.h"
#include "genai/serializer.h"
#include "support/fake_llm_server.h"
#include "support/serve_process.h"
#include "support/test_support.h"

namespace atelier::testing {
namespace {
namespace beast = boost::beast;
namespace net = boost::asio;
using nlohmann::json;

const std::string kTitle =
    R"({"id": 2, "type": "text", "name": "Title", "x": 20, "y": 20, "width": 300, "height": 60, "text": "Old title",
     "font_size": 32})";
const std::string kHero =
    R"({"id": 3, "type": "image", "name": "Hero", "source": "hero.png", "x": 0, "y": 100, "width": 200, "height": 150})";
std::string design_with(const std::string& children) {
  return R"({"format": "atelier-scene", "version": 1, "pages": [{"id": 1, "type": "page", "width": 400, "height": 300,
  "children": [)" + children + "]}]}";
}
const std::string kDesign = design_with(kTitle + ", " + kHero);  // its image must be uploaded
const std::string kTextDesign = design_with(kTitle);

json body_json(const HttpReply& r) { return json::parse(r.body, nullptr, false); }

// The model's answer: the design as the text profile sends it, with the title reworded.
std::string answer(const std::string& design) {
  auto scene = design::parse_scene(design, "design", {}, {.check_image_sources = false});
  EXPECT_TRUE(scene.ok()) << scene.status().message();
  std::string xml = genai::serialize(scene->scene, genai::Profile::kText);
  const auto at = xml.find("Old title");
  EXPECT_NE(at, std::string::npos) << xml;
  return xml.replace(at, 9, "New title");
}

// A synchronous WebSocket client with a receive timeout.
class EventsClient {
 public:
  EventsClient(int port, const std::string& key = "") : ws_(ioc_) {
    ws_.next_layer().connect({net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
    timeval tv{20, 0};
    setsockopt(ws_.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ws_.set_option(beast::websocket::stream_base::decorator([key](beast::websocket::request_type& req) {
      if (!key.empty()) req.set(beast::http::field::authorization, "Bearer " + key);
    }));
    ws_.handshake("127.0.0.1:" + std::to_string(port), "/v1/events", ec_);
  }
  beast::error_code handshake_error() const { return ec_; }
  void send(const std::string& text) { ws_.write(net::buffer(text)); }
  json next() {
    beast::flat_buffer b;
    beast::error_code ec;
    ws_.read(b, ec);
    if (ec) return json({{"type", "closed"}, {"why", ec.message()}});
    return json::parse(beast::buffers_to_string(b.data()), nullptr, false);
  }
  // Messages until `id`'s job is final (or the socket fails).
  std::vector<json> until_final(const std::string& id) {
    std::vector<json> all;
    for (int i = 0; i < 10000; ++i) {
      json m = next();
      all.push_back(m);
      if (m["type"] == "closed") break;
      if (m["type"] == "job" && m["job"]["id"] == id) {
        const std::string s = m["job"]["status"];
        if (s == "succeeded" || s == "failed" || s == "cancelled") break;
      }
    }
    return all;
  }

 private:
  net::io_context ioc_;
  beast::websocket::stream<net::ip::tcp::socket> ws_;
  beast::error_code ec_;
};

std::string create_job(const ServeProcess& server, const std::string& query, const std::string& body,
                       const std::vector<std::string>& headers) {
  HttpReply r = http_call("POST", server.url("/v1/jobs?" + query), body, headers);
  EXPECT_EQ(r.status, 202) << r.body;
  return body_json(r).value("id", "");
}

TEST(ServeEvents, AJobsStatesArriveInOrderEndingWithTheFinalOne) {
  ServeProcess server;
  const std::string id =
      create_job(server, "op=cutout", read_all(sample("astronaut.png")), {"Content-Type: image/png"});
  EventsClient ws(server.port());
  ASSERT_FALSE(ws.handshake_error()) << ws.handshake_error().message();
  ws.send(json({{"subscribe", id}}).dump());
  std::vector<json> events = ws.until_final(id);
  ASSERT_FALSE(events.empty());
  const json& last = events.back();
  ASSERT_EQ(last["type"], "job") << last.dump();
  EXPECT_EQ(last["job"]["status"], "succeeded");
  EXPECT_EQ(last["job"]["progress"], 1.0);
  EXPECT_EQ(last["job"]["result"], "/v1/jobs/" + id + "/result");
  // States never go back, and progress never falls while running.
  const std::vector<std::string> order = {"queued", "running", "succeeded"};
  std::size_t at = 0;
  double progress = 0;
  for (const json& e : events) {
    ASSERT_EQ(e["type"], "job") << e.dump();
    const auto pos = std::find(order.begin(), order.end(), e["job"]["status"].get<std::string>()) - order.begin();
    EXPECT_GE(std::size_t(pos), at) << e.dump();
    at = std::size_t(pos);
    if (e["job"]["status"] == "running") {
      EXPECT_GE(e["job"]["progress"].get<double>(), progress);
      progress = e["job"]["progress"];
    }
  }
  // Subscribing to a finished job gives its final state at once.
  ws.send(json({{"subscribe", id}}).dump());
  json again = ws.next();
  EXPECT_EQ(again["job"]["status"], "succeeded") << again.dump();
  // Bad messages and unknown jobs are errors on the socket, which stays open.
  ws.send("hello");
  json bad = ws.next();
  EXPECT_EQ(bad["type"], "error");
  EXPECT_EQ(bad["error"]["code"], "invalid_argument");
  ws.send(json({{"subscribe", "0123456789abcdef0123456789abcdef"}}).dump());
  json unknown = ws.next();
  EXPECT_EQ(unknown["error"]["code"], "not_found") << unknown.dump();
  EXPECT_NE(unknown["error"]["message"].get<std::string>().find("not found"), std::string::npos);
  ws.send(json({{"subscribe", id}}).dump());
  EXPECT_EQ(ws.next()["job"]["status"], "succeeded");
  // Not a WebSocket: 426.
  HttpReply plain = http_call("GET", server.url("/v1/events"));
  EXPECT_EQ(plain.status, 426);
  EXPECT_EQ(body_json(plain)["error"]["code"], "upgrade_required");
}

class ServeEdit : public ::testing::Test {
 protected:
  std::vector<std::string> llm_env() const {
    return {"ATELIER_LLM=openai:gpt-4o", "ATELIER_LLM_BASE_URL=" + llm_.base_url() + "/v1",
            "ATELIER_LLM_API_KEY=test-key", "no_proxy=127.0.0.1,localhost", "http_proxy=", "HTTP_PROXY="};
  }
  FakeLlmServer llm_;
};

TEST_F(ServeEdit, AnEditJobStreamsTheModelsAnswerOverTheSocket) {
  const std::string text = answer(kTextDesign);
  FakeResponse slow = openai_sse(text);
  slow.chunk_delay = std::chrono::milliseconds(15);  // long enough for several socket messages
  llm_.enqueue(slow);
  ServeProcess server({}, {}, llm_env());
  const std::string id =
      create_job(server, "op=edit&profile=text&request=Reword%20the%20title", kTextDesign,
                 {"Content-Type: application/json"});
  EventsClient ws(server.port());
  ASSERT_FALSE(ws.handshake_error());
  ws.send(json({{"subscribe", id}}).dump());
  std::vector<json> events = ws.until_final(id);
  std::string streamed;
  int pieces = 0;
  for (const json& e : events) {
    if (e["type"] == "text") streamed += e["text"].get<std::string>(), ++pieces;
  }
  EXPECT_EQ(events.back()["job"]["status"], "succeeded") << events.back().dump();
  EXPECT_EQ(streamed, text);
  EXPECT_GT(pieces, 1) << "the answer should arrive in several messages while it streams";
  HttpReply result = http_call("GET", server.url("/v1/jobs/" + id + "/result"));
  ASSERT_EQ(result.status, 200) << result.body;
  EXPECT_EQ(result.header("content-type"), "application/json");
  EXPECT_NE(result.body.find("New title"), std::string::npos) << result.body;
  EXPECT_EQ(llm_.requests()[0].header("authorization"), "Bearer test-key");
}

TEST_F(ServeEdit, TheSyncRouteAnswersTheDesignAndItsRendering) {
  llm_.enqueue(openai_sse(answer(kDesign)));
  ServeProcess server({}, {}, llm_env());
  HttpReply r = http_form(server.url("/v1/edit?render=png&profile=text"),
                          {{"design", kDesign, "d.json", "application/json"},
                           {"hero.png", read_all(sample("astronaut.png")), "hero.png", "image/png"},
                           {"request", "Reword the title", "", ""}});
  ASSERT_EQ(r.status, 200) << r.body;  // two files: JSON with URLs
  const json j = body_json(r);
  EXPECT_EQ(j["profile"], "text");
  EXPECT_EQ(j["rounds"], 1);
  ASSERT_EQ(j["files"].size(), 2u) << r.body;
  HttpReply edited = http_call("GET", server.url(j["output"].get<std::string>()));
  ASSERT_EQ(edited.status, 200);
  auto scene = design::parse_scene(edited.body, "edited", {}, {.check_image_sources = false});
  ASSERT_TRUE(scene.ok()) << scene.status().message();
  EXPECT_EQ(scene->scene.blocks.at(2).text.content, "New title");
  EXPECT_EQ(scene->scene.blocks.at(3).image.source, "hero.png");  // as uploaded, not a server path
  HttpReply png = http_call("GET", server.url(j["render"].get<std::string>()));
  EXPECT_EQ(png.header("content-type"), "image/png");
  EXPECT_EQ(png.body.substr(1, 3), "PNG");
  // Up-front checks: no request; a design source that was not uploaded.
  HttpReply missing = http_call("POST", server.url("/v1/edit"), kDesign, {"Content-Type: application/json"});
  EXPECT_EQ(missing.status, 400);
  EXPECT_NE(missing.body.find("request: say what to change"), std::string::npos) << missing.body;
  HttpReply no_image = http_call("POST", server.url("/v1/edit?request=x"), kDesign, {"Content-Type: application/json"});
  EXPECT_EQ(no_image.status, 400);
  EXPECT_NE(no_image.body.find("image hero.png: not uploaded with the request"), std::string::npos) << no_image.body;
  EXPECT_EQ(llm_.request_count(), 1u);  // neither reached the model
}

TEST(ServeEditNoModel, EditNeedsAConfiguredModelAndTheSocketAKey) {
  auto t = temp_dir();
  write_bytes(t.path() / "keys", {'k', '1', '\n'});
  ServeProcess server({"--api-keys", (t.path() / "keys").string()}, {}, {"ATELIER_LLM="});
  HttpReply r = http_call("POST", server.url("/v1/edit?request=x"), kDesign,
                          {"Content-Type: application/json", "Authorization: Bearer k1"});
  EXPECT_EQ(body_json(r)["error"]["code"], "failed_precondition") << r.body;
  EXPECT_NE(r.body.find("no language model is configured here"), std::string::npos) << r.body;
  EventsClient anonymous(server.port());
  EXPECT_TRUE(anonymous.handshake_error()) << "a socket without a key was accepted";
  EventsClient keyed(server.port(), "k1");
  EXPECT_FALSE(keyed.handshake_error()) << keyed.handshake_error().message();
}

}  // namespace
}  // namespace atelier::testing
