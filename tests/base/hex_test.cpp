#include <gtest/gtest.h>

#include "mocksvc/base/hex.hpp"
#include "mocksvc/base/sha256.hpp"

namespace mocksvc::base {
namespace {

TEST(Hex, RoundTripsBytes) {
  std::vector<std::uint8_t> bytes{0x00, 0x7f, 0x80, 0xff};
  EXPECT_EQ(to_hex(bytes), "007f80ff");
  EXPECT_EQ(from_hex("007F80ff"), bytes);
}

TEST(Hex, RejectsOddLengthAndNonHex) {
  EXPECT_FALSE(from_hex("abc"));
  EXPECT_FALSE(from_hex("zz"));
}

TEST(Sha256, MatchesKnownVectors) {
  EXPECT_EQ(to_hex(sha256(std::string_view(""))),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(to_hex(sha256(std::string_view("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(HmacSha256, MatchesRfc4231Case2) {
  std::string key = "Jefe";
  auto d = hmac_sha256(std::span(reinterpret_cast<const std::uint8_t*>(key.data()), key.size()),
                       "what do ya want for nothing?");
  EXPECT_EQ(to_hex(d), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace
}  // namespace mocksvc::base
