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

TEST(Text, Utf8PrefixNeverCutsACharacter) {
  EXPECT_EQ(utf8_prefix("Größe", 10), "Größe");
  EXPECT_EQ(utf8_prefix("Größe", 3), "Gr");    // "ö" is bytes 2..3: not cut in half
  EXPECT_EQ(utf8_prefix("Größe", 4), "Grö");
  EXPECT_EQ(utf8_prefix("✓✓", 4), "✓");      // 3-byte characters
  EXPECT_EQ(utf8_prefix("abc", 0), "");
}

}  // namespace
}  // namespace atelier
