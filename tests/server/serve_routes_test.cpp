// `atelier serve` as a black box (issue 10): the real binary on 127.0.0.1 with --port 0,
// every synchronous route, the golden cutout against the CLI's, each error status with its
// JSON body, auth, limits, a burst against a small queue, a slow client, CORS, shutdown.
#include <arpa/inet.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "support/serve_process.h"
#include "support/test_support.h"

namespace atelier::testing {
namespace {

const std::string kPng = "Content-Type: image/png";

std::string photo() { return read_all(sample("astronaut.png")); }

nlohmann::json body_json(const HttpReply& r) { return nlohmann::json::parse(r.body, nullptr, false); }

// The JSON error body the service promises: {"error": {"code", "message"}}.
void expect_error(const HttpReply& r, long status, const std::string& code, const std::string& message_part) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json");
  const auto j = body_json(r);
  ASSERT_TRUE(j.is_object() && j.contains("error")) << r.body;
  EXPECT_EQ(j["error"]["code"], code) << r.body;
  EXPECT_NE(j["error"]["message"].get<std::string>().find(message_part), std::string::npos) << r.body;
}

TEST(ServeRoutes, HealthReadinessAndTheGoldenCutoutMatchTheCli) {
  ServeProcess server;
  EXPECT_EQ(http_call("GET", server.url("/healthz")).status, 200);
  EXPECT_EQ(http_call("GET", server.url("/readyz")).body, R"({"status":"ready"})");
  auto t = temp_dir();
  const auto golden = t.path() / "golden.png";
  ASSERT_EQ(run_atelier({"cutout", sample("astronaut.png").string(), "-o", golden.string(), "-q"}).exit_code, 0);
  HttpReply r = http_call("POST", server.url("/v1/cutout"), photo(), {kPng});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "image/png");
  EXPECT_FALSE(r.header("x-request-id").empty());
  EXPECT_TRUE(r.body == read_all(golden)) << "the service's cutout differs from the CLI's";
  // The same as a multipart form, with options as form fields, and as JSON with a URL.
  HttpReply mask = http_form(server.url("/v1/cutout"), {{"image", photo(), "a.png", "image/png"}, {"mask", "true", "", ""}});
  ASSERT_EQ(mask.status, 200) << mask.body;
  const auto cli_mask = t.path() / "mask.png";
  ASSERT_EQ(run_atelier({"cutout", sample("astronaut.png").string(), "-o", cli_mask.string(), "--mask", "-q"}).exit_code, 0);
  EXPECT_TRUE(mask.body == read_all(cli_mask));
  HttpReply j = http_call("POST", server.url("/v1/cutout?format=webp&background=white"), photo(),
                          {kPng, "Accept: application/json"});
  ASSERT_EQ(j.status, 200) << j.body;
  const auto info = body_json(j);
  EXPECT_EQ(info["width"], 512);
  const std::string url = info["output"];
  EXPECT_EQ(url.rfind("/v1/results/", 0), 0u) << url;
  HttpReply file = http_call("GET", server.url(url));
  EXPECT_EQ(file.status, 200);
  EXPECT_EQ(file.header("content-type"), "image/webp");
  EXPECT_EQ(file.body.substr(8, 4), "WEBP");
  expect_error(http_call("GET", server.url("/v1/results/0123456789abcdef0123456789abcdef/x.png")), 404, "not_found", "");
}

TEST(ServeRoutes, CropSaliencyAndRender) {
  ServeProcess server;
  HttpReply crop = http_call("POST", server.url("/v1/crop?aspect=1:1&aspect=9:16&saliency=fast"), photo(), {kPng});
  ASSERT_EQ(crop.status, 200) << crop.body;  // several results: JSON with URLs
  const auto j = body_json(crop);
  ASSERT_EQ(j["crops"].size(), 2u);
  EXPECT_EQ(j["crops"][0]["rect"][2], 512);
  EXPECT_EQ(j["crops"][1]["rect"][2], 288);  // 9:16 in a 512x512 photo
  EXPECT_EQ(j["crops"][1]["rect"][3], 512);
  HttpReply second = http_call("GET", server.url(j["crops"][1]["output"].get<std::string>()));
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.header("content-type"), "image/png");
  HttpReply sal = http_call("POST", server.url("/v1/saliency?saliency=fast"), photo(), {kPng});
  EXPECT_EQ(sal.status, 200);
  EXPECT_EQ(sal.header("content-type"), "image/png");
  const std::string design = R"({"format": "atelier-scene", "version": 1, "pages": [{"id": 1, "type": "page",
    "width": 40, "height": 30, "fill": "#FF0000", "children": []}]})";
  HttpReply png = http_call("POST", server.url("/v1/render?scale=2"), design, {"Content-Type: application/json"});
  ASSERT_EQ(png.status, 200) << png.body;
  EXPECT_EQ(png.header("content-type"), "image/png");
  // IHDR: 80x60 at scale 2.
  ASSERT_GT(png.body.size(), 24u);
  EXPECT_EQ((unsigned char)png.body[19], 80);
  EXPECT_EQ((unsigned char)png.body[23], 60);
  HttpReply pdf = http_call("POST", server.url("/v1/render?format=pdf"), design, {"Content-Type: application/json"});
  EXPECT_EQ(pdf.body.substr(0, 5), "%PDF-");
  // A design may not read the server's files.
  const std::string with_image = R"({"format": "atelier-scene", "version": 1, "pages": [{"id": 1, "type": "page",
    "width": 40, "height": 30, "children": [{"id": 2, "type": "image", "source": "/etc/passwd"}]}]})";
  expect_error(http_call("POST", server.url("/v1/render"), with_image, {"Content-Type: application/json"}), 400,
               "invalid_argument", "block 2: image /etc/passwd: not uploaded with the request");
  // ... but may use an image uploaded under its source's name.
  const std::string uploaded = R"({"format": "atelier-scene", "version": 1, "pages": [{"id": 1, "type": "page",
    "width": 40, "height": 30, "children": [{"id": 2, "type": "image", "source": "hero.png", "width": 40, "height": 30}]}]})";
  HttpReply ok = http_form(server.url("/v1/render?strict=true"),
                           {{"design", uploaded, "d.json", "application/json"}, {"hero.png", photo(), "hero.png", "image/png"}});
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST(ServeRoutes, EveryErrorHasItsStatusAndJsonBody) {
  ServeProcess server({"--max-body", "2000000", "--max-pixels", "200000"});
  expect_error(http_call("POST", server.url("/v1/cutout?colour=red"), photo(), {kPng}), 400, "invalid_argument",
               "unknown option 'colour' (cutout takes: background, format, margin, mask, model, no-decontaminate, "
               "no-refine, quality, trim)");
  expect_error(http_call("POST", server.url("/v1/cutout?margin=5"), photo(), {kPng}), 400, "invalid_argument",
               "margin needs trim");
  expect_error(http_call("POST", server.url("/v1/cutout?margin=200000&trim=1"), photo(), {kPng}), 400,
               "invalid_argument", "margin: must be at most 100000, got 200000");
  expect_error(http_call("POST", server.url("/v1/cutout"), "", {kPng}), 400, "invalid_argument", "image: nothing to work on");
  expect_error(http_call("POST", server.url("/v1/nope"), photo(), {kPng}), 404, "not_found", "no operation 'nope'");
  expect_error(http_call("GET", server.url("/nowhere")), 404, "not_found", "no route /nowhere");
  HttpReply get = http_call("GET", server.url("/v1/cutout"));
  expect_error(get, 405, "method_not_allowed", "use POST");
  EXPECT_EQ(get.header("allow"), "POST");
  expect_error(http_call("POST", server.url("/v1/cutout"), std::string(2000001, 'x'), {kPng}), 413,
               "resource_exhausted", "more than the 2000000 byte limit (--max-body)");
  // 1024x768 PNG header: over the 200000-pixel limit before any decoding.
  cv::Mat m = pattern_rgb(1024, 768);
  auto t = temp_dir();
  const auto big_path = t.path() / "big.png";
  ASSERT_TRUE(cv::imwrite(big_path.string(), m));
  expect_error(http_call("POST", server.url("/v1/cutout"), read_all(big_path), {kPng}), 413, "resource_exhausted",
               "image: image is 0.8 MP (1024x768), more than the 0.2 MP limit");
  expect_error(http_call("POST", server.url("/v1/cutout"), "hello", {"Content-Type: text/plain"}), 415, "unsupported",
               "image: expected an image (JPEG, PNG, WebP, TIFF or BMP), got text/plain");
  expect_error(http_call("POST", server.url("/v1/cutout"), "GIF89a......", {"Content-Type: image/gif"}), 415,
               "unsupported", "image: unsupported image format");
  const std::string png = photo();
  expect_error(http_call("POST", server.url("/v1/cutout"), png.substr(0, png.size() / 2), {kPng}), 422, "data_loss",
               "image: corrupt or truncated PNG image");
  expect_error(http_call("POST", server.url("/v1/render"), "{\"format\": ", {"Content-Type: application/json"}), 422,
               "data_loss", "design:");
  // Every answer was logged once, with its route and status.
  const std::string log = server.stderr_text();
  EXPECT_NE(log.find("POST /v1/cutout 415 "), std::string::npos) << log;
  EXPECT_NE(log.find("GET unmatched 404 "), std::string::npos) << log;
}

TEST(ServeRoutes, ApiKeysGuardEverythingButHealth) {
  auto t = temp_dir();
  write_bytes(t.path() / "keys", {'#', ' ', 'k', '\n', 's', 'e', 'c', 'r', 'e', 't', '1', '\n'});
  ServeProcess server({"--api-keys", (t.path() / "keys").string()});
  EXPECT_EQ(http_call("GET", server.url("/healthz")).status, 200);
  HttpReply none = http_call("POST", server.url("/v1/saliency?saliency=fast"), photo(), {kPng});
  expect_error(none, 401, "unauthenticated", "missing or wrong API key");
  EXPECT_EQ(none.header("www-authenticate"), "Bearer");
  expect_error(http_call("GET", server.url("/metrics"), "", {"Authorization: Bearer secret2"}), 401, "unauthenticated", "");
  expect_error(http_call("GET", server.url("/metrics"), "", {"Authorization: Bearer secret"}), 401, "unauthenticated", "");
  EXPECT_EQ(http_call("POST", server.url("/v1/saliency?saliency=fast"), photo(), {kPng, "Authorization: Bearer secret1"}).status, 200);
  EXPECT_EQ(server.stderr_text().find("secret1"), std::string::npos) << "a key reached the log";
}

// A burst against one worker and a queue of one: every request is answered at once with
// 200 or 429 (with Retry-After), never anything else, and the queue never grows.
TEST(ServeRoutes, ABurstPastTheQueueGets429AtOnce) {
  ServeProcess server({"--workers", "1", "--queue", "1"});
  const std::string body = photo();
  std::vector<std::future<HttpReply>> replies;
  for (int i = 0; i < 6; ++i) {
    replies.push_back(std::async(std::launch::async, [&] { return http_call("POST", server.url("/v1/cutout"), body, {kPng}); }));
  }
  int ok = 0, busy = 0;
  for (auto& f : replies) {
    HttpReply r = f.get();
    if (r.status == 200) ++ok;
    else if (r.status == 429) {
      ++busy;
      EXPECT_EQ(r.header("retry-after"), "1");
      EXPECT_EQ(body_json(r)["error"]["code"], "overloaded");
    } else {
      ADD_FAILURE() << r.status << " " << r.body;
    }
  }
  EXPECT_GE(ok, 1);
  EXPECT_GE(busy, 1);
  const std::string metrics = http_call("GET", server.url("/metrics")).body;
  EXPECT_NE(metrics.find("atelier_http_requests_total{route=\"/v1/cutout\",status=\"429\"} " + std::to_string(busy)),
            std::string::npos) << metrics;
  EXPECT_NE(metrics.find("atelier_inference_duration_seconds_count{model=\"isnet\"} " + std::to_string(ok)),
            std::string::npos) << metrics;
}

// A request that waits in the queue past --timeout answers 504.
TEST(ServeRoutes, ADeadlinePassedInTheQueueAnswers504) {
  ServeProcess server({"--workers", "1", "--queue", "8", "--timeout", "0.3"});
  const std::string body = photo();
  std::vector<std::future<HttpReply>> replies;
  for (int i = 0; i < 4; ++i) {
    replies.push_back(std::async(std::launch::async, [&] { return http_call("POST", server.url("/v1/cutout"), body, {kPng}); }));
  }
  int late = 0;
  for (auto& f : replies) {
    HttpReply r = f.get();
    if (r.status == 504) {
      ++late;
      EXPECT_EQ(body_json(r)["error"]["code"], "deadline_exceeded");
    } else {
      EXPECT_EQ(r.status, 200) << r.body;
    }
  }
  EXPECT_GE(late, 1);
}

// A client that sends part of its request and stalls is cut off after --read-timeout.
TEST(ServeRoutes, ASlowClientIsCutOff) {
  ServeProcess server({"--read-timeout", "0.5"});
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(std::uint16_t(server.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string part = "POST /v1/cutout HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc";
  ASSERT_EQ(write(fd, part.data(), part.size()), ssize_t(part.size()));
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const auto start = std::chrono::steady_clock::now();
  char buf[256];
  const ssize_t n = read(fd, buf, sizeof buf);
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(n, 0) << "expected the connection closed";
  EXPECT_LT(waited, 3.0);
  EXPECT_GT(waited, 0.3);
  close(fd);
  EXPECT_EQ(http_call("GET", server.url("/healthz")).status, 200);  // and the server is fine
}

TEST(ServeRoutes, CorsOnlyWhenAllowedAndOpenApiFromTheDeclarations) {
  {
    ServeProcess closed;
    HttpReply r = http_call("GET", closed.url("/healthz"), "", {"Origin: http://app.example"});
    EXPECT_EQ(r.header("access-control-allow-origin"), "");
    EXPECT_EQ(http_call("OPTIONS", closed.url("/v1/cutout"), "", {"Origin: http://app.example"}).status, 405);
  }
  ServeProcess server({"--allow-origin", "http://app.example"});
  HttpReply pre = http_call("OPTIONS", server.url("/v1/cutout"), "",
                            {"Origin: http://app.example", "Access-Control-Request-Method: POST"});
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(pre.header("access-control-allow-origin"), "http://app.example");
  EXPECT_NE(pre.header("access-control-allow-headers").find("Authorization"), std::string::npos);
  EXPECT_EQ(http_call("GET", server.url("/healthz"), "", {"Origin: http://evil.example"}).header("access-control-allow-origin"), "");
  HttpReply doc = http_call("GET", server.url("/openapi.json"));
  ASSERT_EQ(doc.status, 200);
  const auto j = body_json(doc);
  EXPECT_EQ(j["openapi"], "3.1.0");
  for (const char* op : {"cutout", "crop", "saliency", "render"}) {
    EXPECT_TRUE(j["paths"].contains(std::string("/v1/") + op)) << op;
  }
  std::set<std::string> names;
  for (const auto& p : j["paths"]["/v1/cutout"]["post"]["parameters"]) names.insert(p["name"]);
  EXPECT_EQ(names, (std::set<std::string>{"mask", "background", "trim", "margin", "no-refine", "no-decontaminate", "format",
                                          "quality", "model"}));
  const auto& aspect = j["paths"]["/v1/crop"]["post"]["parameters"][0];
  EXPECT_EQ(aspect["name"], "aspect");
  EXPECT_EQ(aspect["schema"]["type"], "array");
  EXPECT_TRUE(j["paths"].contains("/v1/jobs/{id}"));
}

// SIGTERM while a request runs: it still gets its answer, and the process exits 0.
TEST(ServeRoutes, SigtermFinishesWhatRunsAndExitsZero) {
  ServeProcess server;
  auto pending = std::async(std::launch::async, [&] { return http_call("POST", server.url("/v1/cutout"), photo(), {kPng}); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the request is in
  EXPECT_EQ(server.stop(SIGTERM), 0);
  EXPECT_EQ(pending.get().status, 200);
}

}  // namespace
}  // namespace atelier::testing
