// Where the program finds its AWS credentials and its TLS trust, the way the plugin's Go SDK
// (aws-sdk-go v1, shared config enabled) does for the two SSM calls it makes (data-channel.md
// §2, ssm-api.md §3): the standard environment variables first, then the shared credentials and
// config files for the profile argv[4] names; AWS_CA_BUNDLE, else SSL_CERT_FILE, else the
// system store. Plain values and file reads: no Asio, no network.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mocksvc/auth/request.hpp"
#include "mocksvc/client/args.hpp"

namespace ssmh::plugin {

// The profile the SDK uses: argv[4] when non-empty, else AWS_PROFILE, else AWS_DEFAULT_PROFILE,
// else "default".
std::string effective_profile(std::string_view argv_profile, const mocksvc::client::Environment& env);

// Keys of one profile in an INI file as the SDK reads it: `[name]` sections (in the config file
// `[profile name]`, and `[default]` for the default profile), `key = value` lines, `#` and `;`
// comment lines. Recognizes aws_access_key_id, aws_secret_access_key and aws_session_token
// (aws_security_token as its older spelling). nullopt when the profile or either key is absent.
std::optional<mocksvc::auth::Credentials> parse_credentials_ini(std::string_view text,
                                                               std::string_view profile,
                                                               bool config_file_syntax);

// AWS_ACCESS_KEY_ID (or AWS_ACCESS_KEY) + AWS_SECRET_ACCESS_KEY (or AWS_SECRET_KEY) +
// AWS_SESSION_TOKEN; then AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials); then
// AWS_CONFIG_FILE (default ~/.aws/config). nullopt when none has keys for the profile.
std::optional<mocksvc::auth::Credentials> load_credentials(std::string_view argv_profile,
                                                          const mocksvc::client::Environment& env);

// The CA bundle to verify TLS servers with: AWS_CA_BUNDLE, else SSL_CERT_FILE; empty means the
// system store.
std::string ca_bundle_path(const mocksvc::client::Environment& env);

}  // namespace ssmh::plugin
