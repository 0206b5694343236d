// TLS material for the listener and for our own clients: a local CA and a server certificate
// created with OpenSSL on first start (SANs localhost, 127.0.0.1, ::1 and configured names),
// or certificate/key files given by the user; and the SSL contexts built from them.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/system/result.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace mocksvc::net {

struct TlsFiles {
  std::filesystem::path ca_bundle;  // PEM the clients trust (AWS_CA_BUNDLE / SSL_CERT_FILE)
  std::filesystem::path cert;       // server certificate chain, PEM
  std::filesystem::path key;        // server private key, PEM
};

// Reuses <dir>/ca.pem, ca-key.pem, server.pem, server-key.pem when present and the server
// certificate covers every name; otherwise (re)creates them. Names may be DNS names or IP
// addresses. Errors carry a one-line description.
boost::system::result<TlsFiles, std::string> ensure_local_ca(const std::filesystem::path& dir,
                                                              const std::vector<std::string>& extra_names);

boost::system::result<void, std::string> configure_server_context(boost::asio::ssl::context& ctx,
                                                                   const TlsFiles& files);
// Client context verifying the server against `ca_bundle` (empty: the system store).
boost::system::result<void, std::string> configure_client_context(boost::asio::ssl::context& ctx,
                                                                   const std::string& ca_bundle);

// The same, as a shared context for many client connections (parsing a CA file per
// connection is slow at load-test scale).
boost::system::result<std::shared_ptr<boost::asio::ssl::context>, std::string> make_client_tls(
    const std::string& ca_bundle);

}  // namespace mocksvc::net
