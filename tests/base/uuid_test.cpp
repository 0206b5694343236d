#include <gtest/gtest.h>

#include "mocksvc/base/uuid.hpp"

namespace mocksvc::base {
namespace {

TEST(Uuid, ParsesAndFormatsCanonicalText) {
  auto u = Uuid::parse("AAB6886B-3925-401a-be5e-337b6fa403ba");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->bytes[0], 0xaa);
  EXPECT_EQ(u->bytes[15], 0xba);
  EXPECT_EQ(u->to_string(), "aab6886b-3925-401a-be5e-337b6fa403ba");
}

TEST(Uuid, RejectsMalformedText) {
  for (const char* bad : {"", "aab6886b39254-01a-be5e-337b6fa403ba", "aab6886b-3925-401a-be5e-337b6fa403b",
                          "zab6886b-3925-401a-be5e-337b6fa403ba", "aab6886b-3925-401a-be5e-337b6fa403ba0"}) {
    EXPECT_FALSE(Uuid::parse(bad)) << bad;
  }
}

TEST(Uuid, RandomIsVersion4AndDistinct) {
  auto a = Uuid::random();
  auto b = Uuid::random();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.bytes[6] >> 4, 4);
  EXPECT_EQ(a.bytes[8] & 0xc0, 0x80);
  EXPECT_EQ(a.to_string()[14], '4');
}

}  // namespace
}  // namespace mocksvc::base
