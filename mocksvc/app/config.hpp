// The service's configuration: where it listens, TLS, state directory, logging, and the
// backend's accounts, instances and preferences. Loaded from a JSON file (snake_case keys;
// instance objects as in api/instance_json.hpp) over the embedded default, then overridden by
// command-line flags. Every error names the file and the key.
#pragma once

#include <boost/system/result.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "mocksvc/backend/model.hpp"

namespace mocksvc::app {

struct ServiceConfig {
  std::string listen_host = "127.0.0.1";
  unsigned short listen_port = 8443;
  std::filesystem::path state_dir = ".state";
  bool tls = true;                    // serve TLS too (detected per connection)
  std::string tls_cert;               // PEM chain; empty: the local CA's server certificate
  std::string tls_key;
  std::vector<std::string> tls_names;  // extra SANs for the generated certificate
  unsigned threads = 0;               // 0: one per core
  std::string log_level = "info";
  std::string audit_log;              // empty: <state_dir>/audit.jsonl; "-": none
  bool session_logging = false;       // transcripts into <state_dir>/sessions/<id>.jsonl
  // Instances of the embedded default that forward port 80 get a built-in web page target.
  bool builtin_targets = true;
  backend::BackendConfig backend;
};

// The embedded default: us-east-1, the documented example key pair, a Linux shell host and a
// host whose port 80 leads to a built-in web page.
ServiceConfig default_config();

// Instance ids and credentials of the embedded default, for docs and tests.
inline constexpr const char* kDefaultAccessKeyId = "AKIAIOSFODNN7EXAMPLE";
inline constexpr const char* kDefaultSecretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
inline constexpr const char* kDefaultShellInstance = "i-0123456789abcdef0";
inline constexpr const char* kDefaultPortInstance = "i-0fedcba9876543210";

// Applies a JSON document to `config` (keys absent keep their value). `source` names the file
// in errors.
boost::system::result<void, std::string> apply_config_json(ServiceConfig& config, std::string_view json,
                                                            std::string_view source);
boost::system::result<void, std::string> load_config_file(ServiceConfig& config,
                                                           const std::filesystem::path& path);
// "host:port", "[v6]:port" or ":port".
boost::system::result<void, std::string> parse_listen(ServiceConfig& config, std::string_view value);

}  // namespace mocksvc::app
