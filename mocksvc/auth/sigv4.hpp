// AWS Signature Version 4 (AWS4-HMAC-SHA256): the canonical request, the string to sign, the
// signing key, and signing by header or by presigned query string, with the canonicalization
// botocore applies to non-S3 services (ssm-api.md §1, agent.md §3). The building blocks are
// public because on-prem registration signs the same string to sign with RSA-PSS (agent.md §9.2).
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mocksvc/auth/request.hpp"
#include "mocksvc/base/sha256.hpp"

namespace mocksvc::auth {

inline constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kScopeTerminator = "aws4_request";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
// SHA-256 of the empty string: the payload hash of a GET, of a WebSocket upgrade, of a presign.
inline constexpr std::string_view kEmptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
// The longest X-Amz-Expires AWS accepts on a presigned request: seven days.
inline constexpr std::chrono::seconds kMaxPresignExpiry{604800};

using Clock = std::chrono::system_clock;
using Headers = std::vector<std::pair<std::string, std::string>>;

// "20150830T123600Z" (ISO 8601 basic, UTC, whole seconds; sub-seconds are dropped).
std::string format_amz_date(Clock::time_point t);
// Strict: exactly YYYYMMDDTHHMMSSZ with a real calendar date; nullopt otherwise.
std::optional<Clock::time_point> parse_amz_date(std::string_view s);
// An HTTP Date header as botocore or a browser writes it: "Sun, 30 Aug 2015 12:36:00 GMT"
// (zone GMT, UTC, +0000 or -0000; the weekday is not checked).
std::optional<Clock::time_point> parse_http_date(std::string_view s);

// RFC 3986 percent-encoding as SigV4 wants it: A-Z a-z 0-9 - _ . ~ stay, every other byte
// becomes %XY with upper-case hex; '/' stays too when keep_slash.
std::string uri_encode(std::string_view s, bool keep_slash);
// %XY sequences decoded; a '%' not followed by two hex digits stays literal. '+' stays '+'
// (RFC 3986, not form encoding): no SDK puts a raw '+' in a signed query.
std::string percent_decode(std::string_view s);

// The path as botocore canonicalizes it for non-S3 services: dot segments and empty segments
// removed, then every byte except unreserved and '/' percent-encoded, so an already encoded
// path is encoded a second time ("%20" -> "%2520"). An empty path becomes "/".
std::string canonical_uri(std::string_view raw_path);
// Each key and value decoded then re-encoded, pairs sorted by key then value, joined with '&';
// "k" without '=' becomes "k=", empty pieces are skipped, X-Amz-Signature is left out.
std::string canonical_query(std::string_view raw_query);
// "name:value" lines for the signed headers, in the order given: values trimmed, runs of
// spaces and tabs collapsed to one space, repeated headers joined with ','. An absent header
// contributes an empty value (verify() rejects that case before it gets here).
std::string canonical_headers(const HttpRequest& request, std::span<const std::string> signed_headers);
std::string join_signed_headers(std::span<const std::string> signed_headers);

std::string canonical_request(const HttpRequest& request, std::span<const std::string> signed_headers,
                              std::string_view payload_hash);
// "20150830/us-east-1/ssm/aws4_request"
std::string credential_scope(std::string_view date8, std::string_view region, std::string_view service);
std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request);
base::Digest derive_signing_key(std::string_view secret_access_key, std::string_view date8,
                                std::string_view region, std::string_view service);
// Lower-case hex HMAC-SHA256 of the string to sign under the derived key.
std::string signature(std::string_view secret_access_key, std::string_view date8,
                      std::string_view region, std::string_view service,
                      std::string_view string_to_sign);
std::string payload_hash(std::string_view body);

struct SignOptions {
  std::string service{};  // "ssm", "ec2messages", "ssmmessages"
  std::string region{};
  Clock::time_point now{};
  // Empty: host, x-amz-date, x-amz-security-token (with a session token), every x-amz-* header
  // present and content-type if present, which is what botocore signs on an SSM JSON call.
  // Otherwise exactly these names (lower-cased, sorted and deduplicated here).
  std::vector<std::string> signed_headers{};
  // Also send X-Amz-Content-Sha256 (as the JS SDK v3 does) and sign it.
  bool add_content_sha256 = false;
};

// Signs a request that already carries its Host header and body. Returns the headers to set,
// in this order: X-Amz-Date, X-Amz-Security-Token (with a session token), X-Amz-Content-Sha256
// (when asked), Authorization. Any stale copies of these in the request are ignored. As
// botocore does, an X-Amz-Content-Sha256 header already present supplies the payload hash.
Headers sign(const HttpRequest& request, const Credentials& credentials, const SignOptions& options);
// sign() and set the returned headers on the request, replacing older ones.
void sign_in_place(HttpRequest& request, const Credentials& credentials, const SignOptions& options);

struct PresignOptions {
  std::string service{};
  std::string region{};
  Clock::time_point now{};
  std::chrono::seconds expires{3600};  // X-Amz-Expires; botocore's default
};

// Query-string SigV4 for a GET of `target` (origin-form, may carry a query) on `host` (as the
// Host header will carry it). Signs only `host`, with the empty-payload hash, as botocore's
// SigV4QueryAuth does, and returns the target with X-Amz-Algorithm, -Credential, -Date,
// -Expires, -SignedHeaders, [-Security-Token] and finally -Signature appended.
std::string presign_target(std::string_view host, std::string_view target,
                           const Credentials& credentials, const PresignOptions& options);
// The same for a whole URL (https, wss, http or ws), e.g. a StreamUrl. The Host is the URL's
// authority, lower-cased, without userinfo and without the scheme's default port. nullopt if
// the URL is not scheme://authority[/path][?query].
std::optional<std::string> presign_url(std::string_view url, const Credentials& credentials,
                                       const PresignOptions& options);

}  // namespace mocksvc::auth
