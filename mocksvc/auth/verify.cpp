#include "mocksvc/auth/verify.hpp"

#include <algorithm>
#include <stdexcept>

namespace mocksvc::auth {
namespace {

using std::chrono::seconds;

constexpr std::string_view kSignatureMismatch =
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details.";
constexpr std::string_view kInvalidToken = "The security token included in the request is invalid.";
constexpr std::string_view kRequiresDate =
    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ";
constexpr std::string_view kPresignParams =
    "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', "
    "'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Expires'. Re-examine the "
    "query-string parameters.";

VerifyFailure fail(AuthError code, std::string message) { return {code, std::move(message)}; }

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    auto end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

// AKID/date/region/service/terminator, every part non-empty.
bool split_credential(std::string_view credential, ParsedAuthorization& out) {
  auto parts = split(credential, '/');
  if (parts.size() != 5) return false;
  if (std::any_of(parts.begin(), parts.end(), [](auto p) { return p.empty(); })) return false;
  out.access_key_id = parts[0];
  out.date = parts[1];
  out.region = parts[2];
  out.service = parts[3];
  out.terminator = parts[4];
  return true;
}

bool split_signed_headers(std::string_view list, std::vector<std::string>& out) {
  out.clear();
  for (auto name : split(list, ';')) {
    if (name.empty()) return false;
    out.emplace_back(name);
  }
  return true;
}

std::string credential_malformed(std::string_view credential) {
  return "Credential is malformed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\", "
         "got " + quoted(credential) + ".";
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string skew_text(seconds skew) {
  if (skew.count() % 60 == 0) return std::to_string(skew.count() / 60) + " min.";
  return std::to_string(skew.count()) + " sec.";
}

Result<ParsedAuthorization> parse_header(std::string_view header_value, bool date_present) {
  const auto value = trim(header_value);
  const auto space = value.find_first_of(" \t");
  ParsedAuthorization parsed;
  parsed.algorithm = value.substr(0, space);
  if (space != std::string_view::npos && parsed.algorithm != kAlgorithm) {
    return fail(AuthError::unsupported_algorithm,
                "Unsupported AWS 'algorithm': " + quoted(parsed.algorithm) + ".");
  }
  std::optional<std::string_view> credential, signed_headers, signature;
  if (space != std::string_view::npos) {
    for (auto piece : split(value.substr(space + 1), ',')) {
      piece = trim(piece);
      if (piece.empty()) continue;
      auto eq = piece.find('=');
      if (eq == std::string_view::npos) {
        return fail(AuthError::malformed_authorization,
                    quoted(piece) + " not a valid key=value pair (missing equal-sign) in "
                    "Authorization header: " + quoted(value) + ".");
      }
      auto key = trim(piece.substr(0, eq));
      auto val = trim(piece.substr(eq + 1));
      if (val.empty()) continue;
      if (key == "Credential" && !credential) credential = val;
      if (key == "SignedHeaders" && !signed_headers) signed_headers = val;
      if (key == "Signature" && !signature) signature = val;
    }
  }
  std::string missing;
  if (!credential) missing += "Authorization header requires 'Credential' parameter. ";
  if (!signature) missing += "Authorization header requires 'Signature' parameter. ";
  if (!signed_headers) missing += "Authorization header requires 'SignedHeaders' parameter. ";
  if (!missing.empty()) {
    if (!date_present) missing += kRequiresDate;
    return fail(AuthError::malformed_authorization, missing + "Authorization=" + std::string(value));
  }
  if (!split_credential(*credential, parsed)) {
    return fail(AuthError::malformed_authorization, "Authorization header " + credential_malformed(*credential));
  }
  if (!split_signed_headers(*signed_headers, parsed.signed_headers)) {
    return fail(AuthError::malformed_authorization,
                "Authorization header SignedHeaders is malformed: " + quoted(*signed_headers) + ".");
  }
  parsed.signature = *signature;
  return parsed;
}

// What a request claims, from its Authorization header or its presign parameters.
struct Claim {
  ParsedAuthorization parsed;
  std::string amz_date;
  Clock::time_point time;
  std::optional<seconds> expires;  // presigned only
  std::string session_token;
};

Result<Claim> claim_from_header(const HttpRequest& request, std::string_view authorization) {
  auto x_amz_date = request.header("x-amz-date");
  auto date = request.header("date");
  auto parsed = parse_header(authorization, x_amz_date || date);
  if (!parsed) return parsed.error();
  Claim claim{std::move(*parsed), {}, {}, std::nullopt, {}};
  if (!x_amz_date && !date) {
    return fail(AuthError::missing_date,
                std::string(kRequiresDate) + "Authorization=" + std::string(trim(authorization)));
  }
  if (x_amz_date) {
    auto text = trim(*x_amz_date);
    auto t = parse_amz_date(text);
    if (!t) {
      return fail(AuthError::malformed_date, "Date must be in ISO-8601 'basic format'. Got " +
                                                 quoted(text) + ". See http://en.wikipedia.org/wiki/ISO_8601");
    }
    claim.time = *t;
    claim.amz_date = text;
  } else {
    auto text = trim(*date);
    auto t = parse_http_date(text);
    if (!t) {
      return fail(AuthError::malformed_date,
                  "Date header must be an RFC 1123 date such as 'Sun, 30 Aug 2015 12:36:00 GMT'. "
                  "Got " + quoted(text) + ".");
    }
    claim.time = *t;
    claim.amz_date = format_amz_date(*t);
  }
  if (auto token = request.header("x-amz-security-token")) claim.session_token = trim(*token);
  return claim;
}

struct QueryParams {
  std::vector<std::pair<std::string, std::string>> pairs;  // decoded, wire order
  std::optional<std::string_view> get(std::string_view key) const {
    for (const auto& [k, v] : pairs) {
      if (k == key) return std::string_view(v);
    }
    return std::nullopt;
  }
};

QueryParams parse_query(std::string_view raw) {
  QueryParams out;
  if (raw.empty()) return out;
  for (auto piece : split(raw, '&')) {
    if (piece.empty()) continue;
    auto eq = piece.find('=');
    out.pairs.emplace_back(percent_decode(piece.substr(0, eq)),
                           eq == std::string_view::npos ? "" : percent_decode(piece.substr(eq + 1)));
  }
  return out;
}

Result<Claim> claim_from_query(const QueryParams& query) {
  auto algorithm = query.get("X-Amz-Algorithm");
  auto credential = query.get("X-Amz-Credential");
  auto signature = query.get("X-Amz-Signature");
  auto date = query.get("X-Amz-Date");
  auto signed_headers = query.get("X-Amz-SignedHeaders");
  auto expires = query.get("X-Amz-Expires");
  if (!algorithm || !credential || !signature || !signed_headers || !expires) {
    return fail(AuthError::malformed_authorization, std::string(kPresignParams));
  }
  if (!date) return fail(AuthError::missing_date, std::string(kPresignParams));
  if (*algorithm != kAlgorithm) {
    return fail(AuthError::unsupported_algorithm,
                "X-Amz-Algorithm only supports \"" + std::string(kAlgorithm) + "\"");
  }
  Claim claim;
  claim.parsed.algorithm = *algorithm;
  claim.parsed.signature = *signature;
  if (!split_credential(*credential, claim.parsed)) {
    return fail(AuthError::malformed_authorization, "X-Amz-Credential " + credential_malformed(*credential));
  }
  if (!split_signed_headers(*signed_headers, claim.parsed.signed_headers)) {
    return fail(AuthError::malformed_authorization,
                "X-Amz-SignedHeaders is malformed: " + quoted(*signed_headers) + ".");
  }
  const bool numeric = !expires->empty() && expires->size() <= 7 &&
                       std::all_of(expires->begin(), expires->end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!numeric) {
    return fail(AuthError::malformed_authorization,
                "X-Amz-Expires should be a number of seconds, got " + quoted(*expires) + ".");
  }
  claim.expires = seconds{std::stol(std::string(*expires))};
  if (*claim.expires > kMaxPresignExpiry) {
    return fail(AuthError::malformed_authorization,
                "X-Amz-Expires must be less than a week (in seconds) that is 604800");
  }
  auto t = parse_amz_date(*date);
  if (!t) {
    return fail(AuthError::malformed_date, "Date must be in ISO-8601 'basic format'. Got " +
                                               quoted(*date) + ". See http://en.wikipedia.org/wiki/ISO_8601");
  }
  claim.time = *t;
  claim.amz_date = *date;
  if (auto token = query.get("X-Amz-Security-Token")) claim.session_token = *token;
  return claim;
}

std::optional<VerifyFailure> check_scope(const Claim& claim, const VerifyOptions& options) {
  const auto& p = claim.parsed;
  const auto request_date = std::string_view(claim.amz_date).substr(0, 8);
  if (p.date != request_date) {
    return fail(AuthError::scope_mismatch,
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
                "HTTP: " + quoted(p.date) + " != " + quoted(request_date) + ", from " +
                    quoted(claim.amz_date) + ".");
  }
  if (p.terminator != kScopeTerminator) {
    return fail(AuthError::scope_mismatch, "Credential should be scoped with a valid terminator: '" +
                                               std::string(kScopeTerminator) + "', not " +
                                               quoted(p.terminator) + ".");
  }
  if (options.expected_region && p.region != *options.expected_region) {
    return fail(AuthError::scope_mismatch,
                "Credential should be scoped to a valid region, not " + quoted(p.region) + ".");
  }
  if (options.expected_service && p.service != *options.expected_service) {
    return fail(AuthError::scope_mismatch,
                "Credential should be scoped to correct service: " + quoted(*options.expected_service) + ".");
  }
  return std::nullopt;
}

std::optional<VerifyFailure> check_signed_headers(const HttpRequest& request,
                                                  const std::vector<std::string>& signed_headers) {
  if (std::none_of(signed_headers.begin(), signed_headers.end(),
                   [](const auto& h) { return iequals(h, "host"); })) {
    return fail(AuthError::missing_signed_header,
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  for (const auto& name : signed_headers) {
    if (!request.header(name)) {
      return fail(AuthError::missing_signed_header,
                  "Header " + quoted(name) + " is listed in SignedHeaders but absent from the request.");
    }
  }
  return std::nullopt;
}

std::optional<VerifyFailure> check_time(const Claim& claim, const VerifyOptions& options) {
  const auto now = std::chrono::floor<seconds>(options.now);
  const auto skew = options.max_skew;
  if (claim.time > now + skew) {
    return fail(AuthError::request_in_future,
                "Signature not yet current: " + claim.amz_date + " is still later than " +
                    format_amz_date(now + skew) + " (" + format_amz_date(now) + " + " + skew_text(skew) + ")");
  }
  if (claim.expires) {
    const auto deadline = claim.time + *claim.expires;
    if (now > deadline) {
      return fail(AuthError::presign_expired,
                  "Request has expired: X-Amz-Date " + claim.amz_date + " + X-Amz-Expires " +
                      std::to_string(claim.expires->count()) + " seconds = " + format_amz_date(deadline) +
                      ", which is earlier than " + format_amz_date(now) + ".");
    }
  } else if (claim.time < now - skew) {
    return fail(AuthError::request_expired,
                "Signature expired: " + claim.amz_date + " is now earlier than " +
                    format_amz_date(now - skew) + " (" + format_amz_date(now) + " - " + skew_text(skew) + ")");
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(AuthError e) {
  switch (e) {
    case AuthError::missing_authentication: return "missing_authentication";
    case AuthError::malformed_authorization: return "malformed_authorization";
    case AuthError::unsupported_algorithm: return "unsupported_algorithm";
    case AuthError::missing_date: return "missing_date";
    case AuthError::malformed_date: return "malformed_date";
    case AuthError::missing_signed_header: return "missing_signed_header";
    case AuthError::scope_mismatch: return "scope_mismatch";
    case AuthError::unknown_access_key: return "unknown_access_key";
    case AuthError::invalid_security_token: return "invalid_security_token";
    case AuthError::signature_mismatch: return "signature_mismatch";
    case AuthError::payload_hash_mismatch: return "payload_hash_mismatch";
    case AuthError::request_expired: return "request_expired";
    case AuthError::request_in_future: return "request_in_future";
    case AuthError::presign_expired: return "presign_expired";
  }
  return "unknown";
}

std::string_view aws_error_code(AuthError e) {
  switch (e) {
    case AuthError::missing_authentication: return "MissingAuthenticationTokenException";
    case AuthError::malformed_authorization:
    case AuthError::unsupported_algorithm:
    case AuthError::missing_date:
    case AuthError::malformed_date:
    case AuthError::missing_signed_header: return "IncompleteSignatureException";
    case AuthError::unknown_access_key:
    case AuthError::invalid_security_token: return "UnrecognizedClientException";
    case AuthError::scope_mismatch:
    case AuthError::signature_mismatch:
    case AuthError::payload_hash_mismatch:
    case AuthError::request_expired:
    case AuthError::request_in_future:
    case AuthError::presign_expired: return "InvalidSignatureException";
  }
  return "InvalidSignatureException";
}

int http_status(AuthError e) { return e == AuthError::presign_expired ? 403 : 400; }

void throw_exception_from_error(const VerifyFailure& failure, const boost::source_location&) {
  throw std::runtime_error(std::string(to_string(failure.code)) + ": " + failure.message);
}

std::string ParsedAuthorization::scope() const {
  return date + "/" + region + "/" + service + "/" + terminator;
}

Result<ParsedAuthorization> parse_authorization(std::string_view header_value) {
  return parse_header(header_value, true);
}

Result<Identity> verify(const HttpRequest& request, const CredentialLookup& lookup,
                        const VerifyOptions& options) {
  auto authorization = request.header("authorization");
  if (authorization && trim(*authorization).empty()) authorization.reset();
  const QueryParams query = parse_query(request.query());
  const bool presigned = query.get("X-Amz-Algorithm") || query.get("X-Amz-Credential") ||
                         query.get("X-Amz-Signature");
  if (!authorization && !presigned) {
    return fail(AuthError::missing_authentication, "Missing Authentication Token");
  }
  if (authorization && presigned) {
    return fail(AuthError::malformed_authorization,
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                "Signature query string parameter or the Authorization header should be specified");
  }
  auto claim = authorization ? claim_from_header(request, *authorization) : claim_from_query(query);
  if (!claim) return claim.error();
  const ParsedAuthorization& parsed = claim->parsed;

  if (auto failure = check_scope(*claim, options)) return *failure;
  if (auto failure = check_signed_headers(request, parsed.signed_headers)) return *failure;
  if (options.check_time) {
    if (auto failure = check_time(*claim, options)) return *failure;
  }

  const auto content_sha = request.header("x-amz-content-sha256");
  const std::string body_hash = payload_hash(request.body);
  const std::string claimed_hash = content_sha ? std::string(trim(*content_sha)) : body_hash;
  const std::string canonical = canonical_request(request, parsed.signed_headers, claimed_hash);

  Identity identity;
  identity.access_key_id = parsed.access_key_id;
  identity.region = parsed.region;
  identity.service = parsed.service;
  identity.date = parsed.date;
  identity.amz_date = claim->amz_date;
  identity.session_token = claim->session_token;
  identity.presigned = presigned;
  identity.signed_headers = parsed.signed_headers;
  identity.signature = parsed.signature;
  identity.string_to_sign = string_to_sign(claim->amz_date, parsed.scope(), canonical);
  if (!options.check_signature) return identity;

  auto credentials = lookup ? lookup(parsed.access_key_id) : std::nullopt;
  if (!credentials) return fail(AuthError::unknown_access_key, std::string(kInvalidToken));
  if (claim->session_token != credentials->session_token) {
    return fail(AuthError::invalid_security_token, std::string(kInvalidToken));
  }
  if (content_sha && claimed_hash != kUnsignedPayload && to_lower(claimed_hash) != body_hash) {
    return fail(AuthError::payload_hash_mismatch,
                "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  auto matches = [&](std::string_view sts) {
    return constant_time_equal(signature(credentials->secret_access_key, parsed.date, parsed.region,
                                         parsed.service, sts),
                               parsed.signature);
  };
  if (matches(identity.string_to_sign)) return identity;
  // S3-style presigners sign UNSIGNED-PAYLOAD instead of the (empty) body's hash.
  if (presigned && !content_sha) {
    auto sts = string_to_sign(claim->amz_date, parsed.scope(),
                              canonical_request(request, parsed.signed_headers, kUnsignedPayload));
    if (matches(sts)) {
      identity.string_to_sign = std::move(sts);
      return identity;
    }
  }
  return fail(AuthError::signature_mismatch,
              std::string(kSignatureMismatch) + "\n\nThe Canonical String for this request should have been\n'" +
                  canonical + "'\n\nThe String-to-Sign should have been\n'" + identity.string_to_sign + "'\n");
}

}  // namespace mocksvc::auth
