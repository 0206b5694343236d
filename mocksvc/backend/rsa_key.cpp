#include "mocksvc/backend/rsa_key.hpp"

#include <memory>

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "mocksvc/backend/text_codec.hpp"

namespace mocksvc::backend {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

const unsigned char* bytes_of(const std::string& s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// The whole of `der` must be one key: trailing bytes are refused.
Pkey public_key_from(std::string_view base64_der) {
  auto der = base64_decode(base64_der);
  if (!der || der->empty()) return nullptr;
  const unsigned char* p = bytes_of(*der);
  Pkey key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der->size())));
  if (!key || p != bytes_of(*der) + der->size()) return nullptr;
  return key;
}

// Sets PSS padding, a SHA-256 MGF1 and the agent's salt length on a sign or verify context.
bool use_agent_pss(EVP_PKEY_CTX* pctx) {
  return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, kRsaPssSaltBytes) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1;
}

std::optional<std::string> der_string(EVP_PKEY* key, bool private_half) {
  unsigned char* out = nullptr;
  int n = private_half ? i2d_PrivateKey(key, &out) : i2d_PUBKEY(key, &out);
  if (n <= 0 || !out) return std::nullopt;
  std::string der(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
  OPENSSL_free(out);
  return der;
}

}  // namespace

std::optional<std::string> rsa_public_key_problem(std::string_view base64_der) {
  auto der = base64_decode(base64_der);
  if (!der) return std::string("The public key is not valid base64.");
  Pkey key = public_key_from(base64_der);
  if (!key) return std::string("The public key is not a DER-encoded SubjectPublicKeyInfo.");
  if (EVP_PKEY_is_a(key.get(), "RSA") != 1) return std::string("The public key is not an RSA key.");
  if (EVP_PKEY_get_bits(key.get()) < kMinRsaKeyBits) {
    return "The public key must be at least " + std::to_string(kMinRsaKeyBits) + " bits.";
  }
  return std::nullopt;
}

bool verify_rsa_pss_sha256(std::string_view base64_der_public_key, std::string_view message,
                           std::string_view base64_signature) {
  Pkey key = public_key_from(base64_der_public_key);
  if (!key || EVP_PKEY_is_a(key.get(), "RSA") != 1) return false;
  auto signature = base64_decode(base64_signature);
  if (!signature || signature->empty()) return false;
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx) return false;
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key.get()) != 1) return false;
  if (!use_agent_pss(pctx)) return false;
  return EVP_DigestVerify(ctx.get(), bytes_of(*signature), signature->size(),
                          reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

std::optional<RsaKeyPair> generate_rsa_key_pair(int bits) {
  Pkey key(EVP_RSA_gen(static_cast<unsigned>(bits)));
  if (!key) return std::nullopt;
  auto pub = der_string(key.get(), false);
  auto priv = der_string(key.get(), true);
  if (!pub || !priv) return std::nullopt;
  return RsaKeyPair{base64_encode(*pub), base64_encode(*priv)};
}

std::optional<std::string> sign_rsa_pss_sha256(std::string_view base64_pkcs1_private_key,
                                               std::string_view message) {
  auto der = base64_decode(base64_pkcs1_private_key);
  if (!der || der->empty()) return std::nullopt;
  const unsigned char* p = bytes_of(*der);
  Pkey key(d2i_PrivateKey(EVP_PKEY_RSA, nullptr, &p, static_cast<long>(der->size())));
  if (!key) return std::nullopt;
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx) return std::nullopt;
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key.get()) != 1)
    return std::nullopt;
  if (!use_agent_pss(pctx)) return std::nullopt;
  std::size_t len = 0;
  const auto* msg = reinterpret_cast<const unsigned char*>(message.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &len, msg, message.size()) != 1) return std::nullopt;
  std::string signature(len, '\0');
  auto* out = reinterpret_cast<unsigned char*>(signature.data());
  if (EVP_DigestSign(ctx.get(), out, &len, msg, message.size()) != 1) return std::nullopt;
  signature.resize(len);
  return base64_encode(signature);
}

}  // namespace mocksvc::backend
