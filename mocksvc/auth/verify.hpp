// SigV4 verification as the real service performs it: by Authorization header or by presigned
// query string, with AWS's own failure texts, and the AWS error code and HTTP status for each
// failure. Turning a failure into a JSON or XML body is left to api/. Never throws on bad input.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include "mocksvc/auth/request.hpp"
#include "mocksvc/auth/sigv4.hpp"

namespace mocksvc::auth {

enum class AuthError {
  missing_authentication = 1,  // no Authorization header and no presign query
  malformed_authorization,     // Authorization or presign parameters do not parse
  unsupported_algorithm,       // not AWS4-HMAC-SHA256
  missing_date,                // neither X-Amz-Date nor Date
  malformed_date,
  missing_signed_header,       // a header in SignedHeaders is absent, or host is not signed
  scope_mismatch,              // scope date != request date, wrong terminator, region or service
  unknown_access_key,
  invalid_security_token,      // session token absent, unexpected or different
  signature_mismatch,
  payload_hash_mismatch,       // X-Amz-Content-Sha256 disagrees with the body
  request_expired,             // request date more than max_skew in the past
  request_in_future,           // request date more than max_skew in the future
  presign_expired,             // now is past X-Amz-Date + X-Amz-Expires
};

std::string_view to_string(AuthError e);
// The __type the SSM JSON API answers with (IncompleteSignatureException, ...).
std::string_view aws_error_code(AuthError e);
// The HTTP status of that answer: 400 from the JSON API for every auth failure; 403 for an
// expired presigned URL, which only the ssmmessages WebSocket endpoints use.
int http_status(AuthError e);

struct VerifyFailure {
  AuthError code;
  std::string message;  // AWS's wording where AWS has one
};

template <typename T>
using Result = boost::system::result<T, VerifyFailure>;

// Lets Result::value() throw on an error; callers should test the result instead.
[[noreturn]] void throw_exception_from_error(const VerifyFailure& failure,
                                             const boost::source_location& location);

struct ParsedAuthorization {
  std::string algorithm;
  std::string access_key_id;
  std::string date;  // YYYYMMDD from the credential scope
  std::string region;
  std::string service;
  std::string terminator;  // "aws4_request" when well formed
  std::vector<std::string> signed_headers;
  std::string signature;  // as sent: 64 hex for HMAC, base64 for the on-prem RSA variant

  std::string scope() const;  // date/region/service/terminator
};

// "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/ssm/aws4_request,
//  SignedHeaders=host;x-amz-date, Signature=..." with or without spaces after the commas.
// Fails with malformed_authorization or unsupported_algorithm.
Result<ParsedAuthorization> parse_authorization(std::string_view header_value);

struct VerifyOptions {
  Clock::time_point now{};
  // AWS allows 15 minutes of clock difference either way (the "- 15 min." in its message).
  std::chrono::seconds max_skew{900};
  // false: parse and check shape, scope and time only; any signature, key and token pass, no
  // lookup is made. Identity::string_to_sign is still filled for a caller with its own check.
  bool check_signature = true;
  bool check_time = true;
  std::optional<std::string> expected_service{};
  std::optional<std::string> expected_region{};
};

struct Identity {
  std::string access_key_id;
  std::string region;
  std::string service;
  std::string date;      // YYYYMMDD from the credential scope
  std::string amz_date;  // request time, YYYYMMDDTHHMMSSZ
  std::string session_token;  // as sent; empty if none
  bool presigned = false;
  std::vector<std::string> signed_headers;
  std::string signature;       // as sent
  std::string string_to_sign;  // what the signature must cover
};

// Access key id -> its secret and the session token requests must carry with it (empty for a
// long-term key); nullopt for an unknown key.
using CredentialLookup = std::function<std::optional<Credentials>(std::string_view access_key_id)>;

// Checks run in this order, and the first failure is returned: authentication present,
// Authorization/presign parameters parse, date, credential scope, signed headers present,
// clock skew / presign expiry, then (check_signature) access key, session token,
// X-Amz-Content-Sha256 and the signature itself.
Result<Identity> verify(const HttpRequest& request, const CredentialLookup& lookup,
                        const VerifyOptions& options);

}  // namespace mocksvc::auth
