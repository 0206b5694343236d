#include "agentsim/rsa_key.hpp"

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <array>
#include <vector>

#include "mocksvc/auth/sigv4.hpp"

namespace ssmh::agentsim {

namespace auth = mocksvc::auth;

namespace {

// The SDK signs these for a JSON 1.1 call without a session token (agent.md §3).
const std::array<std::string, 5> kRsaSignedHeaders = {"content-length", "content-type", "host", "x-amz-date",
                                                      "x-amz-target"};

template <typename Encode>
std::string der(Encode encode) {
  unsigned char* out = nullptr;
  const int n = encode(&out);
  if (n <= 0 || !out) return {};
  std::string bytes(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
  OPENSSL_free(out);
  return bytes;
}

}  // namespace

void RsaKey::Free::operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }

Outcome<RsaKey> RsaKey::generate(int bits) {
  EVP_PKEY* k = EVP_RSA_gen(static_cast<unsigned int>(bits));
  if (!k) return std::string("RSA key generation failed");
  return RsaKey(k);
}

Outcome<RsaKey> RsaKey::from_private_key_base64(std::string_view text) {
  auto bytes = base64_decode(text);
  if (!bytes) return bytes.error();
  const auto* p = reinterpret_cast<const unsigned char*>(bytes->data());
  EVP_PKEY* k = d2i_PrivateKey(EVP_PKEY_RSA, nullptr, &p, static_cast<long>(bytes->size()));
  if (!k) return std::string("not an RSA private key (PKCS#1 DER)");
  return RsaKey(k);
}

std::string RsaKey::public_key_base64() const {
  return base64_encode(der([this](unsigned char** out) { return i2d_PUBKEY(key_.get(), out); }));
}

std::string RsaKey::private_key_base64() const {
  // For an RSA key, i2d_PrivateKey writes the traditional PKCS#1 RSAPrivateKey structure.
  return base64_encode(der([this](unsigned char** out) { return i2d_PrivateKey(key_.get(), out); }));
}

Outcome<std::string> RsaKey::sign_pss(std::string_view message) const {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx) return failure<std::string>("out of memory");
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key_.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, kPssSaltLength) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1)
    return failure<std::string>("cannot set up RSA-PSS signing");
  const auto* data = reinterpret_cast<const unsigned char*>(message.data());
  std::size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, data, message.size()) != 1)
    return failure<std::string>("RSA-PSS signing failed");
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, data, message.size()) != 1)
    return failure<std::string>("RSA-PSS signing failed");
  sig.resize(len);
  return success(std::move(sig));
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

Outcome<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return failure<std::string>("base64 length is not a multiple of 4");
  for (char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
                    c == '/' || c == '=';
    if (!ok) return failure<std::string>("not base64");
  }
  std::string out(3 * text.size() / 4, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return failure<std::string>("not base64");
  // EVP_DecodeBlock counts the padding as zero bytes.
  std::size_t size = static_cast<std::size_t>(n);
  if (!text.empty() && text.back() == '=') --size;
  if (text.size() >= 2 && text[text.size() - 2] == '=') --size;
  out.resize(size);
  return success(std::move(out));
}

Outcome<void> sign_with_rsa(auth::HttpRequest& request, const RsaKey& key, std::string_view instance_id,
                            std::string_view region, std::chrono::system_clock::time_point now) {
  const std::string amz_date = auth::format_amz_date(now);
  const std::string date8 = amz_date.substr(0, 8);
  request.remove_header("Authorization");
  request.set_header("X-Amz-Date", amz_date);
  const std::vector<std::string> signed_headers(kRsaSignedHeaders.begin(), kRsaSignedHeaders.end());
  const std::string canonical =
      auth::canonical_request(request, signed_headers, auth::payload_hash(request.body));
  const std::string scope = auth::credential_scope(date8, region, "ssm");
  auto sig = key.sign_pss(auth::string_to_sign(amz_date, scope, canonical));
  if (!sig) return sig.error();
  request.set_header("Authorization", std::string(auth::kAlgorithm) + " Credential=" + std::string(instance_id) + "/" +
                                          scope + ", SignedHeaders=" + auth::join_signed_headers(signed_headers) +
                                          ", Signature=" + base64_encode(*sig));
  return {};
}

}  // namespace ssmh::agentsim
