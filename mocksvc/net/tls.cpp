#include "mocksvc/net/tls.hpp"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <system_error>

#include <boost/asio/ip/address.hpp>

namespace mocksvc::net {
namespace {

using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Cert = std::unique_ptr<X509, decltype(&X509_free)>;
using Result = boost::system::result<void, std::string>;

// Certificates live ten years: a test fixture should never expire under a CI run.
constexpr long kValiditySeconds = 10L * 365 * 24 * 3600;

Key new_key() {
  return Key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
}

void set_serial(X509* x) {
  std::random_device rd;
  std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 31) ^ rd();
  ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), v | 1);
}

bool add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

Cert make_cert(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* issuer_key,
               const std::vector<std::string>& sans) {
  Cert x(X509_new(), &X509_free);
  X509_set_version(x.get(), 2);
  set_serial(x.get());
  X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), kValiditySeconds);
  X509_set_pubkey(x.get(), key);
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("ssm-harness"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* signer = issuer ? issuer : x.get();
  X509_set_issuer_name(x.get(), X509_get_subject_name(signer));
  if (!issuer) {
    add_ext(x.get(), x.get(), NID_basic_constraints, "critical,CA:TRUE");
    add_ext(x.get(), x.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(x.get(), x.get(), NID_subject_key_identifier, "hash");
  } else {
    add_ext(x.get(), issuer, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(x.get(), issuer, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    add_ext(x.get(), issuer, NID_ext_key_usage, "serverAuth");
    add_ext(x.get(), issuer, NID_authority_key_identifier, "keyid:always");
    std::string san;
    for (const auto& n : sans) {
      boost::system::error_code ec;
      boost::asio::ip::make_address(n, ec);
      if (!san.empty()) san += ",";
      san += (ec ? "DNS:" : "IP:") + n;
    }
    if (!san.empty()) add_ext(x.get(), issuer, NID_subject_alt_name, san);
  }
  if (X509_sign(x.get(), issuer_key, EVP_sha256()) == 0) return Cert(nullptr, &X509_free);
  return x;
}

bool write_pem(const std::filesystem::path& p, const std::function<int(FILE*)>& writer, bool secret) {
  std::filesystem::path tmp = p;
  tmp += ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return false;
  bool ok = writer(f) == 1;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) return false;
  std::error_code ec;
  if (secret)
    std::filesystem::permissions(tmp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                 ec);
  std::filesystem::rename(tmp, p, ec);
  return !ec;
}

Key read_key(const std::filesystem::path& p) {
  FILE* f = std::fopen(p.c_str(), "rb");
  if (!f) return Key(nullptr, &EVP_PKEY_free);
  Key k(PEM_read_PrivateKey(f, nullptr, nullptr, nullptr), &EVP_PKEY_free);
  std::fclose(f);
  return k;
}

Cert read_cert(const std::filesystem::path& p) {
  FILE* f = std::fopen(p.c_str(), "rb");
  if (!f) return Cert(nullptr, &X509_free);
  Cert c(PEM_read_X509(f, nullptr, nullptr, nullptr), &X509_free);
  std::fclose(f);
  return c;
}

bool covers(X509* cert, const std::vector<std::string>& names) {
  for (const auto& n : names) {
    boost::system::error_code ec;
    boost::asio::ip::make_address(n, ec);
    int r = ec ? X509_check_host(cert, n.c_str(), n.size(), 0, nullptr)
               : X509_check_ip_asc(cert, n.c_str(), 0);
    if (r != 1) return false;
  }
  return X509_cmp_current_time(X509_get0_notAfter(cert)) > 0;
}

}  // namespace

boost::system::result<TlsFiles, std::string> fail(std::string why) {
  return {boost::system::in_place_error, std::move(why)};
}

boost::system::result<TlsFiles, std::string> ensure_local_ca(const std::filesystem::path& dir,
                                                              const std::vector<std::string>& extra_names) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail("cannot create " + dir.string() + ": " + ec.message());
  TlsFiles files{dir / "ca.pem", dir / "server.pem", dir / "server-key.pem"};
  const auto ca_key_path = dir / "ca-key.pem";
  std::vector<std::string> names{"localhost", "127.0.0.1", "::1"};
  for (const auto& n : extra_names)
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);

  Key ca_key = read_key(ca_key_path);
  Cert ca = read_cert(files.ca_bundle);
  if (!ca_key || !ca || X509_check_private_key(ca.get(), ca_key.get()) != 1) {
    ca_key = new_key();
    if (!ca_key) return fail(std::string("cannot generate the CA key"));
    ca = make_cert(ca_key.get(), "ssm-harness local CA", nullptr, ca_key.get(), {});
    if (!ca) return fail(std::string("cannot sign the CA certificate"));
    if (!write_pem(ca_key_path, [&](FILE* f) { return PEM_write_PrivateKey(f, ca_key.get(), nullptr, nullptr, 0, nullptr, nullptr); }, true) ||
        !write_pem(files.ca_bundle, [&](FILE* f) { return PEM_write_X509(f, ca.get()); }, false))
      return fail("cannot write the CA into " + dir.string());
  }
  Cert server = read_cert(files.cert);
  Key server_key = read_key(files.key);
  bool reuse = server && server_key && X509_check_private_key(server.get(), server_key.get()) == 1 &&
               X509_check_issued(ca.get(), server.get()) == X509_V_OK && covers(server.get(), names);
  if (!reuse) {
    server_key = new_key();
    if (!server_key) return fail(std::string("cannot generate the server key"));
    server = make_cert(server_key.get(), "ssm-harness mocksvc", ca.get(), ca_key.get(), names);
    if (!server) return fail(std::string("cannot sign the server certificate"));
    if (!write_pem(files.key, [&](FILE* f) { return PEM_write_PrivateKey(f, server_key.get(), nullptr, nullptr, 0, nullptr, nullptr); }, true) ||
        !write_pem(files.cert, [&](FILE* f) { return PEM_write_X509(f, server.get()) && PEM_write_X509(f, ca.get()); }, false))
      return fail("cannot write the server certificate into " + dir.string());
  }
  return files;
}

Result configure_server_context(boost::asio::ssl::context& ctx, const TlsFiles& files) {
  boost::system::error_code ec;
  ctx.set_options(boost::asio::ssl::context::default_workarounds | boost::asio::ssl::context::no_sslv2 |
                      boost::asio::ssl::context::no_sslv3 | boost::asio::ssl::context::no_tlsv1 |
                      boost::asio::ssl::context::no_tlsv1_1,
                  ec);
  ctx.use_certificate_chain_file(files.cert.string(), ec);
  if (ec) return "cannot load certificate " + files.cert.string() + ": " + ec.message();
  ctx.use_private_key_file(files.key.string(), boost::asio::ssl::context::pem, ec);
  if (ec) return "cannot load key " + files.key.string() + ": " + ec.message();
  return {};
}

Result configure_client_context(boost::asio::ssl::context& ctx, const std::string& ca_bundle) {
  boost::system::error_code ec;
  ctx.set_verify_mode(boost::asio::ssl::verify_peer, ec);
  if (ca_bundle.empty())
    ctx.set_default_verify_paths(ec);
  else
    ctx.load_verify_file(ca_bundle, ec);
  if (ec) return "cannot load CA bundle " + ca_bundle + ": " + ec.message();
  return {};
}

boost::system::result<std::shared_ptr<boost::asio::ssl::context>, std::string> make_client_tls(
    const std::string& ca_bundle) {
  auto ctx = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
  if (auto r = configure_client_context(*ctx, ca_bundle); !r) return r.error();
  return ctx;
}

}  // namespace mocksvc::net
