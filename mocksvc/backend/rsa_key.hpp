// The RSA keys of on-premises agents and the signatures they make (agent.md §9.2): public keys
// travel as base64 of PKIX DER, private keys as base64 of PKCS#1 DER, and requests are signed
// with RSA-PSS over SHA-256 (MGF1-SHA-256, 32-byte salt), the signature sent as base64.
// Pure functions over OpenSSL 3's EVP API; no state. The signing half exists so tests and
// simulated agents can do exactly what the real agent does.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mocksvc::backend {

// The agent generates 2048-bit keys; the service refuses anything weaker.
inline constexpr int kMinRsaKeyBits = 2048;
// rsa.PSSOptions.SaltLength in the agent's signer.
inline constexpr int kRsaPssSaltBytes = 32;

// nullopt when `base64_der` is a base64 PKIX DER RSA public key of at least kMinRsaKeyBits;
// otherwise why not, in words fit for an InvalidPublicKey message.
std::optional<std::string> rsa_public_key_problem(std::string_view base64_der);

// True when `base64_signature` is an RSA-PSS(SHA-256, salt 32) signature of `message` under the
// key. Any malformed input is simply false.
bool verify_rsa_pss_sha256(std::string_view base64_der_public_key, std::string_view message,
                           std::string_view base64_signature);

struct RsaKeyPair {
  std::string public_key;   // base64 PKIX DER (what RegisterManagedInstance carries)
  std::string private_key;  // base64 PKCS#1 DER (what the agent keeps in its vault)
};
// A fresh key pair; nullopt only if OpenSSL fails.
std::optional<RsaKeyPair> generate_rsa_key_pair(int bits = kMinRsaKeyBits);
// base64 RSA-PSS(SHA-256, salt 32) signature of `message`; nullopt for an unusable key.
std::optional<std::string> sign_rsa_pss_sha256(std::string_view base64_pkcs1_private_key,
                                               std::string_view message);

}  // namespace mocksvc::backend
