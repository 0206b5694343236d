#include <gtest/gtest.h>

#include "mocksvc/backend/text_codec.hpp"

namespace mocksvc::backend {
namespace {

TEST(TextCodec, FormatsIso8601InUtc) {
  EXPECT_EQ(format_iso8601(from_epoch_millis(0)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_iso8601(from_epoch_millis(1795499663123)), "2026-11-24T05:54:23Z");
}

TEST(TextCodec, ParsesIsoDatesTimesAndOffsets) {
  EXPECT_EQ(parse_timestamp("2026-11-24T05:54:23Z"), from_epoch_millis(1795499663000));
  EXPECT_EQ(parse_timestamp("2026-11-24T05:54:23.5Z"), from_epoch_millis(1795499663500));
  EXPECT_EQ(parse_timestamp("2026-11-24T07:54:23+02:00"), from_epoch_millis(1795499663000));
  EXPECT_EQ(parse_timestamp("2026-11-24T05:54"), from_epoch_millis(1795499640000));
  EXPECT_EQ(parse_timestamp("2026-11-24"), from_epoch_millis(1795478400000));
}

TEST(TextCodec, ParsesEpochSeconds) {
  EXPECT_EQ(parse_timestamp("1795499663"), from_epoch_millis(1795499663000));
  EXPECT_EQ(parse_timestamp("1795499663.25"), from_epoch_millis(1795499663250));
}

TEST(TextCodec, RejectsMalformedTimestamps) {
  for (const char* bad : {"", "yesterday", "2026-13-01", "2026-02-30", "2026-11-24T25:00",
                          "2026-11-24T05:54:23Q", "12.", "-5", "2026-11-24T05:54:23+2"}) {
    EXPECT_FALSE(parse_timestamp(bad)) << bad;
  }
}

TEST(TextCodec, Base64UrlRoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 40; ++i) {
    auto enc = base64url_encode(bytes);
    EXPECT_EQ(enc.find_first_of("+/="), std::string::npos);
    auto dec = base64url_decode(enc);
    ASSERT_TRUE(dec) << i;
    EXPECT_EQ(*dec, bytes);
    bytes.push_back(static_cast<char>(i * 37));
  }
}

TEST(TextCodec, Base64UrlRejectsForeignCharactersAndBadLengths) {
  EXPECT_FALSE(base64url_decode("ab+c"));
  EXPECT_FALSE(base64url_decode("abc="));
  EXPECT_FALSE(base64url_decode("a"));
  EXPECT_FALSE(base64url_decode("ab!d"));
  EXPECT_FALSE(base64url_decode("AB"));  // non-zero leftover bits
}

TEST(TextCodec, CountsCodePointsNotBytes) {
  EXPECT_EQ(count_code_points("abc"), 3u);
  EXPECT_EQ(count_code_points("h\xC3\xA9llo"), 5u);
  EXPECT_EQ(count_code_points("\xF0\x9F\x98\x80"), 1u);
}

}  // namespace
}  // namespace mocksvc::backend
