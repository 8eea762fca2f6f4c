// Text helpers: C-style quoting.
#include "core/text.h"

#include <gtest/gtest.h>

namespace atelier {
namespace {

TEST(Text, QuotedEscapesQuotesBackslashesAndLineBreaks) {
  EXPECT_EQ(quoted(""), "\"\"");
  EXPECT_EQ(quoted("Buy now"), "\"Buy now\"");
  EXPECT_EQ(quoted("say \"hi\"\\n"), "\"say \\\"hi\\\"\\\\n\"");
  EXPECT_EQ(quoted("a\nb\rc\td"), "\"a\\nb\\rc\\td\"");
  EXPECT_EQ(quoted("Café ✓"), "\"Café ✓\"");  // UTF-8 untouched
}

}  // namespace
}  // namespace atelier
