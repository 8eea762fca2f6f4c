// The service's transport-independent HTTP pieces (server/http_message.h): query strings,
// percent escapes, multipart forms, path segments and the error body, exactly.
#include "server/http_message.h"

#include <gtest/gtest.h>

namespace atelier::server {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST(HttpMessage, QueriesDecodeInOrderWithRepeatsAndEmptyValues) {
  auto q = parse_query("aspect=1%3A1&aspect=9:16&mask&background=a+b&&x=%2Fetc");
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_EQ(*q, (Pairs{{"aspect", "1:1"}, {"aspect", "9:16"}, {"mask", ""}, {"background", "a b"}, {"x", "/etc"}}));
  EXPECT_TRUE(parse_query("")->empty());
  for (const char* bad : {"a=%", "a=%4", "a=%zz", "%g1=x"}) {
    auto r = parse_query(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().message(), "bad percent escape in the URL");
  }
  EXPECT_EQ(*percent_decode("a+b%20c", false), "a+b c");  // '+' is a space only in queries
  EXPECT_EQ(*percent_decode("%00", false), std::string(1, '\0'));
}

TEST(HttpMessage, PathSegments) {
  EXPECT_EQ(path_segments("/v1/jobs/abc"), (std::vector<std::string>{"v1", "jobs", "abc"}));
  EXPECT_EQ(path_segments("/v2/"), (std::vector<std::string>{"v2", ""}));
  EXPECT_EQ(path_segments("/"), (std::vector<std::string>{""}));
}

const std::string kType = "multipart/form-data; boundary=XyZ";

std::string part(const std::string& disposition, const std::string& body, const std::string& type = "") {
  return "--XyZ\r\nContent-Disposition: form-data; " + disposition + "\r\n" +
         (type.empty() ? "" : "Content-Type: " + type + "\r\n") + "\r\n" + body + "\r\n";
}

TEST(HttpMessage, MultipartFieldsAndFilesKeepTheirBytes) {
  // Bytes a text parser would trip on: CR LF, NUL, 0xff, a boundary's start without its CR LF.
  const std::string binary("\x89PNG\r\n\x1a\n--XyZ\0\xff\r\n--Xy", 21);
  const std::string body = part(R"(name="image"; filename="a b.png")", binary, "image/png") +
                           part(R"(name="mask")", "true") + "--XyZ--\r\n";
  auto parts = parse_multipart(kType, body);
  ASSERT_TRUE(parts.ok()) << parts.status().message();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "image");
  EXPECT_EQ((*parts)[0].filename, "a b.png");
  EXPECT_EQ((*parts)[0].content_type, "image/png");
  EXPECT_TRUE((*parts)[0].is_file);
  EXPECT_EQ((*parts)[0].body, binary);
  EXPECT_EQ((*parts)[1].name, "mask");
  EXPECT_FALSE((*parts)[1].is_file);
  EXPECT_EQ((*parts)[1].body, "true");
}

TEST(HttpMessage, MalformedMultipartIsOneLineNamingTheProblem) {
  auto err = [](const std::string& type, const std::string& body, std::size_t max_parts = 64) {
    auto r = parse_multipart(type, body, max_parts);
    return r.ok() ? std::string("ok") : r.status().message();
  };
  EXPECT_EQ(err("multipart/form-data", "x"), "multipart body: no boundary in Content-Type");
  EXPECT_EQ(err(kType, "nothing"), "multipart body: no opening boundary");
  EXPECT_EQ(err(kType, "--XyZ\r\nContent-Disposition: form-data; name=\"a\""), "multipart body: a part without headers");
  EXPECT_EQ(err(kType, part("filename=\"x\"", "1") + "--XyZ--"), "multipart body: a part without a name");
  EXPECT_EQ(err(kType, "--XyZxx"), "multipart body: malformed boundary line");
  const std::string three = part(R"(name="a")", "1") + part(R"(name="b")", "2") + part(R"(name="c")", "3") + "--XyZ--";
  EXPECT_EQ(err(kType, three), "ok");
  EXPECT_NE(err(kType, three, 2), "ok");
}

TEST(HttpMessage, ErrorBodiesCarryTheWordAndTheTablesStatus) {
  Response r = error_response(Status(StatusCode::kOverloaded, "the queue is full"));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, R"({"error":{"code":"overloaded","message":"the queue is full"}})");
  EXPECT_EQ(error_response(Status(StatusCode::kDataLoss, "x")).status, 422);
  EXPECT_EQ(error_response(Status(StatusCode::kUnsupported, "x")).status, 415);
  EXPECT_EQ(error_response(404, "not_found", "no route /x").body, R"({"error":{"code":"not_found","message":"no route /x"}})");
}

}  // namespace
}  // namespace atelier::server
