#include "mocksvc/base/sha256.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <memory>

namespace mocksvc::base {

namespace {
// OpenSSL 3's one-shot SHA256() fetches the algorithm on every call (~250 ns for small inputs);
// fetching once and reusing a per-thread context keeps small-frame hashing cheap.
const EVP_MD* sha256_md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}
}  // namespace

Digest sha256(std::span<const std::uint8_t> data) {
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                           &EVP_MD_CTX_free);
  Digest d;
  unsigned int len = 0;
  if (!ctx || !sha256_md() || EVP_DigestInit_ex2(ctx.get(), sha256_md(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), d.data(), &len) != 1) {
    SHA256(data.data(), data.size(), d.data());
  }
  return d;
}

Digest sha256(std::string_view data) {
  return sha256(std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()));
}

Digest hmac_sha256(std::span<const std::uint8_t> key, std::string_view data) {
  Digest d;
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), d.data(), &len);
  return d;
}

}  // namespace mocksvc::base
