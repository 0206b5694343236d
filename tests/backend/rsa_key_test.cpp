// Standard base64 and the on-premises agent's RSA keys and RSA-PSS signatures.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "mocksvc/backend/rsa_key.hpp"
#include "mocksvc/backend/text_codec.hpp"

namespace mocksvc::backend {
namespace {

TEST(Base64, EncodesWithPaddingAsGoStdEncodingDoes) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode(std::string("\xfb\xff", 2)), "+/8=");
}

TEST(Base64, DecodesStrictlyAndRefusesUrlSafeOrUnpaddedText) {
  EXPECT_EQ(base64_decode("Zm8="), "fo");
  EXPECT_EQ(base64_decode("+/8="), std::string("\xfb\xff", 2));
  EXPECT_FALSE(base64_decode("Zm8"));     // no padding
  EXPECT_FALSE(base64_decode("-_8="));    // URL-safe alphabet
  EXPECT_FALSE(base64_decode("Zm=8"));    // '=' inside
  EXPECT_FALSE(base64_decode("Zm8=\n"));  // whitespace
  EXPECT_FALSE(base64_decode("Z==="));
}

class RsaKeyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto k = generate_rsa_key_pair();
    ASSERT_TRUE(k);
    keys_ = new RsaKeyPair(*k);
  }
  static void TearDownTestSuite() {
    delete keys_;
    keys_ = nullptr;
  }
  static RsaKeyPair* keys_;
};
RsaKeyPair* RsaKeyTest::keys_ = nullptr;

TEST_F(RsaKeyTest, GeneratedPublicKeyIsLongEnoughForTheAgentsSdk) {
  // RegisterManagedInstance's PublicKey has min length 392 (agent.md §9.2).
  EXPECT_GE(keys_->public_key.size(), 392u);
  EXPECT_FALSE(rsa_public_key_problem(keys_->public_key));
}

TEST_F(RsaKeyTest, SignatureVerifiesAndAnyChangeBreaksIt) {
  const std::string message =
      "AWS4-HMAC-SHA256\n20261124T060417Z\n20261124/us-east-1/ssm/aws4_request\nabc";
  auto sig = sign_rsa_pss_sha256(keys_->private_key, message);
  ASSERT_TRUE(sig);
  EXPECT_EQ(base64_decode(*sig)->size(), 256u);
  EXPECT_TRUE(verify_rsa_pss_sha256(keys_->public_key, message, *sig));
  EXPECT_FALSE(verify_rsa_pss_sha256(keys_->public_key, message + "x", *sig));
  std::string raw = *base64_decode(*sig);
  raw[10] = static_cast<char>(raw[10] ^ 1);
  EXPECT_FALSE(verify_rsa_pss_sha256(keys_->public_key, message, base64_encode(raw)));
  auto other = generate_rsa_key_pair();
  ASSERT_TRUE(other);
  EXPECT_FALSE(verify_rsa_pss_sha256(other->public_key, message, *sig));
}

TEST_F(RsaKeyTest, PssSignatureWithAnotherSaltLengthIsRefused) {
  auto der = base64_decode(keys_->private_key);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der->data());
  EVP_PKEY* key = d2i_PrivateKey(EVP_PKEY_RSA, nullptr, &p, static_cast<long>(der->size()));
  ASSERT_TRUE(key);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  ASSERT_EQ(EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), nullptr, key), 1);
  EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
  EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 20);
  const std::string message = "string to sign";
  std::size_t len = 0;
  const auto* m = reinterpret_cast<const unsigned char*>(message.data());
  ASSERT_EQ(EVP_DigestSign(ctx, nullptr, &len, m, message.size()), 1);
  std::string sig(len, '\0');
  ASSERT_EQ(
      EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len, m, message.size()),
      1);
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  EXPECT_FALSE(verify_rsa_pss_sha256(keys_->public_key, message, base64_encode(sig)));
}

TEST_F(RsaKeyTest, MalformedInputIsRefusedWithoutCrashing) {
  EXPECT_TRUE(rsa_public_key_problem("not base64!"));
  EXPECT_TRUE(rsa_public_key_problem(base64_encode("definitely not DER")));
  EXPECT_TRUE(rsa_public_key_problem(""));
  // The private key's DER is not a SubjectPublicKeyInfo.
  EXPECT_TRUE(rsa_public_key_problem(keys_->private_key));
  // Trailing bytes after the key.
  EXPECT_TRUE(rsa_public_key_problem(base64_encode(*base64_decode(keys_->public_key) + "x")));
  EXPECT_FALSE(verify_rsa_pss_sha256("", "m", "AAAA"));
  EXPECT_FALSE(verify_rsa_pss_sha256(keys_->public_key, "m", ""));
  EXPECT_FALSE(verify_rsa_pss_sha256(keys_->public_key, "m", "@@@@"));
  EXPECT_FALSE(sign_rsa_pss_sha256("AAAA", "m"));
}

TEST(RsaKey, SmallKeysAreRefused) {
  auto small = generate_rsa_key_pair(1024);
  ASSERT_TRUE(small);
  auto problem = rsa_public_key_problem(small->public_key);
  ASSERT_TRUE(problem);
  EXPECT_NE(problem->find("2048"), std::string::npos);
}

}  // namespace
}  // namespace mocksvc::backend
