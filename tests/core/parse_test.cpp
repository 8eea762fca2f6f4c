// Numbers from option text, limits and the small text helpers the shells share.
#include "core/parse.h"

#include <gtest/gtest.h>

#include "core/limits.h"
#include "core/text.h"
#include "core/threads.h"
#include "support/test_support.h"

namespace atelier {
namespace {

std::string err(const Result<std::int64_t>& r) { return r.status().message(); }

TEST(Parse, IntegersWithRanges) {
  EXPECT_EQ(*parse_integer("42", 0, 100), 42);
  EXPECT_EQ(*parse_integer("+7", 0, 100), 7);
  EXPECT_EQ(*parse_integer("-3", -5, 5), -3);
  EXPECT_EQ(err(parse_integer("0", 1, 256)), "must be at least 1, got 0");
  EXPECT_EQ(err(parse_integer("65537", 1, 256)), "must be at most 256, got 65537");
  EXPECT_EQ(err(parse_integer("99999999999999999999", 0, 10)), "must be at most 10, got 99999999999999999999");
  EXPECT_EQ(err(parse_integer("-99999999999999999999", 0, 10)), "must be at least 0, got -99999999999999999999");
  for (const char* bad : {"", "x", "1.5", "1e3", " 1", "1 ", "0x10", "--1"}) {
    EXPECT_EQ(err(parse_integer(bad, 0, 10)), std::string("expected an integer from 0 to 10, got '") + bad + "'");
  }
}

TEST(Parse, NumbersWithRanges) {
  EXPECT_DOUBLE_EQ(*parse_number("0.5", 0, 1), 0.5);
  EXPECT_DOUBLE_EQ(*parse_number("1e-3", 0, 1), 0.001);
  EXPECT_EQ(parse_number("1.5", 0, 1).status().message(), "must be at most 1, got 1.5");
  EXPECT_EQ(parse_number("nan", 0, 1).status().message(), "expected a number from 0 to 1, got 'nan'");
  EXPECT_EQ(parse_number("inf", 0, 1).status().message(), "expected a number from 0 to 1, got 'inf'");
}

TEST(Limits, OutputSizesAreCheckedWithoutOverflow) {
  Limits l;
  EXPECT_TRUE(check_output_size("crop", 10000, 10000, l).ok());
  EXPECT_EQ(check_output_size("crop", 40000, 20000, l).message(),
            "crop would be 800.0 MP (40000x20000), more than the 100.0 MP limit");
  EXPECT_EQ(check_output_size("crop", 1e30, 1e30, l).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(check_output_size("crop", 70000, 10, l).message(), "crop would be 70000x10, more than 65500 pixels a side");
  EXPECT_EQ(check_output_size("page", 0, 10, l).message(), "page has no area");
  l.max_output_pixels = 1;
  EXPECT_EQ(check_output_size("x", 2, 1, l).message(), "x would be 2 pixels (2x1), more than the 1 pixel limit");
  EXPECT_EQ(format_pixels(1), "1 pixel");
  EXPECT_EQ(format_pixels(262144), "0.3 MP");
}

TEST(Threads, CountsHaveARange) {
  EXPECT_EQ(*resolve_thread_count(3), 3);
  EXPECT_EQ(resolve_thread_count(-1).status().message(), "--threads: must be at least 1, got -1");
  EXPECT_EQ(resolve_thread_count(65537).status().message(), "--threads: must be at most 256, got 65537");
  testing::ScopedEnv env("ATELIER_THREADS", "0");
  EXPECT_EQ(resolve_thread_count(0).status().message(), "ATELIER_THREADS: must be at least 1, got 0");
  EXPECT_EQ(*resolve_thread_count(2), 2);  // the flag wins
}

TEST(Text, Utf8AndBase64) {
  EXPECT_TRUE(is_utf8("caf\xC3\xA9"));
  EXPECT_FALSE(is_utf8("caf\xE9"));
  EXPECT_FALSE(is_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(is_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_TRUE(is_utf8("\xF0\x9F\x98\x80"));
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("caf\xE9.png"), "Y2Fm6S5wbmc=");
}

}  // namespace
}  // namespace atelier
