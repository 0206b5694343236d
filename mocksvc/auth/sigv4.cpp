#include "mocksvc/auth/sigv4.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include "mocksvc/base/hex.hpp"

namespace mocksvc::auth {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<int> digits(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (!is_digit(c)) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::optional<Clock::time_point> make_time(int y, int mon, int d, int h, int mi, int s) {
  using namespace std::chrono;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mon)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 59) return std::nullopt;
  return time_point_cast<Clock::duration>(sys_days{ymd} + hours{h} + minutes{mi} + seconds{s});
}

// Python's str.split() followed by ' '.join(): trims and collapses whitespace runs.
std::string trim_all(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool pending_space = false;
  for (char c : v) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

std::string remove_dot_segments(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string_view> kept;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    auto segment = path.substr(start, end - start);
    if (segment == "..") {
      if (!kept.empty()) kept.pop_back();
    } else if (!segment.empty() && segment != ".") {
      kept.push_back(segment);
    }
    start = end + 1;
  }
  std::string out = path.front() == '/' ? "/" : "";
  for (std::size_t i = 0; i < kept.size(); ++i) {
    if (i > 0) out.push_back('/');
    out.append(kept[i]);
  }
  if (path.back() == '/' && !kept.empty()) out.push_back('/');
  return out;
}

std::vector<std::string> normalized_names(std::vector<std::string> names) {
  for (auto& n : names) n = to_lower(n);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::vector<std::string> default_signed_headers(const HttpRequest& request) {
  std::vector<std::string> names{"host", "x-amz-date"};
  for (const auto& [name, value] : request.headers) {
    auto lower = to_lower(name);
    if (lower.starts_with("x-amz-") || lower == "content-type") names.push_back(std::move(lower));
  }
  return normalized_names(std::move(names));
}

}  // namespace

std::string format_amz_date(Clock::time_point t) {
  using namespace std::chrono;
  auto secs = floor<seconds>(t);
  auto days_part = floor<days>(secs);
  year_month_day ymd{days_part};
  hh_mm_ss hms{secs - days_part};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

std::optional<Clock::time_point> parse_amz_date(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
  auto y = digits(s.substr(0, 4)), mon = digits(s.substr(4, 2)), d = digits(s.substr(6, 2));
  auto h = digits(s.substr(9, 2)), mi = digits(s.substr(11, 2)), sec = digits(s.substr(13, 2));
  if (!y || !mon || !d || !h || !mi || !sec) return std::nullopt;
  return make_time(*y, *mon, *d, *h, *mi, *sec);
}

std::optional<Clock::time_point> parse_http_date(std::string_view s) {
  std::vector<std::string_view> tokens;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    auto j = s.find(' ', i);
    if (j == std::string_view::npos) j = s.size();
    if (j > i) tokens.push_back(s.substr(i, j - i));
    i = j;
  }
  if (tokens.size() != 6 || tokens[0].size() != 4 || tokens[0].back() != ',') return std::nullopt;
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto month_it = std::find(kMonths.begin(), kMonths.end(), tokens[2]);
  auto zone = tokens[5];
  if (month_it == kMonths.end() || tokens[1].size() > 2 || tokens[3].size() != 4) return std::nullopt;
  if (zone != "GMT" && zone != "UTC" && zone != "+0000" && zone != "-0000") return std::nullopt;
  auto hms = tokens[4];
  if (hms.size() != 8 || hms[2] != ':' || hms[5] != ':') return std::nullopt;
  auto d = digits(tokens[1]), y = digits(tokens[3]);
  auto h = digits(hms.substr(0, 2)), mi = digits(hms.substr(3, 2)), sec = digits(hms.substr(6, 2));
  if (!d || !y || !h || !mi || !sec) return std::nullopt;
  return make_time(*y, static_cast<int>(month_it - kMonths.begin()) + 1, *d, *h, *mi, *sec);
}

std::string uri_encode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0f]);
    }
  }
  return out;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) << 4 | hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string canonical_uri(std::string_view raw_path) {
  return uri_encode(remove_dot_segments(raw_path), true);
}

std::string canonical_query(std::string_view raw_query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::size_t start = 0;
  while (start <= raw_query.size()) {
    auto end = raw_query.find('&', start);
    if (end == std::string_view::npos) end = raw_query.size();
    auto piece = raw_query.substr(start, end - start);
    start = end + 1;
    if (piece.empty()) continue;
    auto eq = piece.find('=');
    auto key = percent_decode(piece.substr(0, eq));
    if (key == "X-Amz-Signature") continue;
    auto value = eq == std::string_view::npos ? std::string{} : percent_decode(piece.substr(eq + 1));
    pairs.emplace_back(uri_encode(key, false), uri_encode(value, false));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [k, v] : pairs) {
    if (!out.empty()) out.push_back('&');
    out.append(k).append("=").append(v);
  }
  return out;
}

std::string canonical_headers(const HttpRequest& request, std::span<const std::string> signed_headers) {
  std::string out;
  for (const auto& name : signed_headers) {
    out.append(name).push_back(':');
    bool first = true;
    for (auto value : request.header_values(name)) {
      if (!first) out.push_back(',');
      first = false;
      out.append(trim_all(value));
    }
    out.push_back('\n');
  }
  return out;
}

std::string join_signed_headers(std::span<const std::string> signed_headers) {
  std::string out;
  for (const auto& name : signed_headers) {
    if (!out.empty()) out.push_back(';');
    out.append(name);
  }
  return out;
}

std::string canonical_request(const HttpRequest& request, std::span<const std::string> signed_headers,
                              std::string_view payload_hash) {
  std::string out = request.method;
  out.push_back('\n');
  out.append(canonical_uri(request.path())).push_back('\n');
  out.append(canonical_query(request.query())).push_back('\n');
  out.append(canonical_headers(request, signed_headers)).push_back('\n');
  out.append(join_signed_headers(signed_headers)).push_back('\n');
  out.append(payload_hash);
  return out;
}

std::string credential_scope(std::string_view date8, std::string_view region, std::string_view service) {
  std::string out(date8);
  out.append("/").append(region).append("/").append(service).append("/").append(kScopeTerminator);
  return out;
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request) {
  std::string out(kAlgorithm);
  out.append("\n").append(amz_date).append("\n").append(scope).append("\n");
  out.append(base::to_hex(base::sha256(canonical_request)));
  return out;
}

base::Digest derive_signing_key(std::string_view secret_access_key, std::string_view date8,
                                std::string_view region, std::string_view service) {
  std::string secret = "AWS4";
  secret.append(secret_access_key);
  auto as_bytes = [](std::string_view s) {
    return std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  };
  auto k_date = base::hmac_sha256(as_bytes(secret), date8);
  auto k_region = base::hmac_sha256(k_date, region);
  auto k_service = base::hmac_sha256(k_region, service);
  return base::hmac_sha256(k_service, kScopeTerminator);
}

std::string signature(std::string_view secret_access_key, std::string_view date8,
                      std::string_view region, std::string_view service,
                      std::string_view string_to_sign) {
  auto key = derive_signing_key(secret_access_key, date8, region, service);
  return base::to_hex(base::hmac_sha256(key, string_to_sign));
}

std::string payload_hash(std::string_view body) { return base::to_hex(base::sha256(body)); }

Headers sign(const HttpRequest& request, const Credentials& credentials, const SignOptions& options) {
  HttpRequest work = request;
  work.remove_header("authorization");
  work.remove_header("x-amz-security-token");
  const std::string amz_date = format_amz_date(options.now);
  Headers added;
  added.emplace_back("X-Amz-Date", amz_date);
  if (!credentials.session_token.empty()) {
    added.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  if (options.add_content_sha256) added.emplace_back("X-Amz-Content-Sha256", payload_hash(request.body));
  for (const auto& [name, value] : added) work.set_header(name, value);

  auto content_sha = work.header("x-amz-content-sha256");
  std::string hash = content_sha ? std::string(*content_sha) : payload_hash(work.body);
  auto signed_headers = options.signed_headers.empty() ? default_signed_headers(work)
                                                       : normalized_names(options.signed_headers);
  const std::string date8 = amz_date.substr(0, 8);
  const std::string scope = credential_scope(date8, options.region, options.service);
  const std::string sts = string_to_sign(amz_date, scope, canonical_request(work, signed_headers, hash));
  std::string authorization(kAlgorithm);
  authorization.append(" Credential=").append(credentials.access_key_id).append("/").append(scope);
  authorization.append(", SignedHeaders=").append(join_signed_headers(signed_headers));
  authorization.append(", Signature=")
      .append(signature(credentials.secret_access_key, date8, options.region, options.service, sts));
  added.emplace_back("Authorization", std::move(authorization));
  return added;
}

void sign_in_place(HttpRequest& request, const Credentials& credentials, const SignOptions& options) {
  auto added = sign(request, credentials, options);
  request.remove_header("authorization");
  request.remove_header("x-amz-security-token");
  for (auto& [name, value] : added) request.set_header(name, value);
}

std::string presign_target(std::string_view host, std::string_view target,
                           const Credentials& credentials, const PresignOptions& options) {
  const std::string amz_date = format_amz_date(options.now);
  const std::string date8 = amz_date.substr(0, 8);
  const std::string scope = credential_scope(date8, options.region, options.service);
  std::string out(target);
  if (out.find('?') == std::string::npos) {
    out.push_back('?');
  } else if (out.back() != '?') {
    out.push_back('&');
  }
  out.append("X-Amz-Algorithm=").append(kAlgorithm);
  out.append("&X-Amz-Credential=").append(uri_encode(credentials.access_key_id + "/" + scope, false));
  out.append("&X-Amz-Date=").append(amz_date);
  out.append("&X-Amz-Expires=").append(std::to_string(options.expires.count()));
  out.append("&X-Amz-SignedHeaders=host");
  if (!credentials.session_token.empty()) {
    out.append("&X-Amz-Security-Token=").append(uri_encode(credentials.session_token, false));
  }
  HttpRequest request{"GET", out, {{"host", std::string(host)}}, ""};
  const std::vector<std::string> signed_headers{"host"};
  const std::string sts =
      string_to_sign(amz_date, scope, canonical_request(request, signed_headers, kEmptyPayloadHash));
  out.append("&X-Amz-Signature=")
      .append(signature(credentials.secret_access_key, date8, options.region, options.service, sts));
  return out;
}

std::optional<std::string> presign_url(std::string_view url, const Credentials& credentials,
                                       const PresignOptions& options) {
  auto sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return std::nullopt;
  const std::string scheme = to_lower(url.substr(0, sep));
  auto rest = url.substr(sep + 3);
  auto authority_end = std::min(rest.find('/'), rest.find('?'));
  auto authority = rest.substr(0, authority_end);
  std::string target(authority_end == std::string_view::npos ? "" : rest.substr(authority_end));
  if (target.empty() || target.front() == '?') target.insert(0, "/");
  auto at = authority.rfind('@');
  std::string host = to_lower(at == std::string_view::npos ? authority : authority.substr(at + 1));
  if (host.empty()) return std::nullopt;
  auto colon = host.rfind(':');
  if (colon != std::string::npos && host.find(']', colon) == std::string::npos) {
    auto port = host.substr(colon + 1);
    bool secure = scheme == "https" || scheme == "wss";
    bool plain = scheme == "http" || scheme == "ws";
    if ((secure && port == "443") || (plain && port == "80")) host.resize(colon);
  }
  std::string out = std::string(url.substr(0, sep + 3)) + std::string(authority);
  out.append(presign_target(host, target, credentials, options));
  return out;
}

}  // namespace mocksvc::auth
