// The on-prem identity's key pair (agent.md §9.2): an RSA-2048 key made with OpenSSL 3, its
// public half as base64 PKIX DER (what RegisterManagedInstance and UpdateManagedInstancePublicKey
// carry), its private half as base64 PKCS#1 DER (what the agent keeps in its vault), and the
// RSA-PSS signature that replaces the HMAC in a SigV4-shaped Authorization header. Never throws.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>

#include "mocksvc/auth/request.hpp"

typedef struct evp_pkey_st EVP_PKEY;

namespace ssmh::agentsim {

// A value, or one line saying what failed.
template <typename T>
using Outcome = boost::system::result<T, std::string>;

// The error side of an Outcome, spelled out so Outcome<std::string> is unambiguous.
template <typename T>
Outcome<T> failure(std::string why) {
  return Outcome<T>(boost::system::in_place_error, std::move(why));
}
template <typename T>
Outcome<T> success(T value) {
  return Outcome<T>(boost::system::in_place_value, std::move(value));
}

// The salt length of the agent's PSS signatures (the SHA-256 digest size).
inline constexpr int kPssSaltLength = 32;
inline constexpr int kRsaKeyBits = 2048;

class RsaKey {
 public:
  // A fresh key pair. Costs tens of milliseconds of CPU.
  static Outcome<RsaKey> generate(int bits = kRsaKeyBits);
  // From base64 PKCS#1 DER, as private_key_base64() writes it.
  static Outcome<RsaKey> from_private_key_base64(std::string_view text);

  std::string public_key_base64() const;   // SubjectPublicKeyInfo DER, base64
  std::string private_key_base64() const;  // RSAPrivateKey (PKCS#1) DER, base64
  // RSA-PSS over SHA-256(message), MGF1-SHA-256, salt kPssSaltLength; raw signature bytes.
  Outcome<std::string> sign_pss(std::string_view message) const;
  EVP_PKEY* native() const { return key_.get(); }

 private:
  struct Free {
    void operator()(EVP_PKEY* k) const;
  };
  explicit RsaKey(EVP_PKEY* k) : key_(k, Free{}) {}
  std::shared_ptr<EVP_PKEY> key_;
};

std::string base64_encode(std::string_view bytes);
// Standard alphabet with padding; nullopt-like error on anything else.
Outcome<std::string> base64_decode(std::string_view text);

// Signs an SSM JSON call the way the on-prem credential provider does: X-Amz-Date set, then an
// Authorization header "AWS4-HMAC-SHA256 Credential=<instance>/<date>/<region>/ssm/aws4_request,
// SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-target, Signature=<base64
// RSA-PSS over the SigV4 string to sign>". The request must already carry Host, Content-Type,
// Content-Length and X-Amz-Target.
Outcome<void> sign_with_rsa(mocksvc::auth::HttpRequest& request, const RsaKey& key,
                            std::string_view instance_id, std::string_view region,
                            std::chrono::system_clock::time_point now);

}  // namespace ssmh::agentsim
