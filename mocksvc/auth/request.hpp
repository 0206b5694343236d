// An HTTP request as the auth layer sees it (method, target, headers, body exactly as they
// arrived) and the credentials that sign it. Plain values: no Asio, no Beast, no parsing of the
// target beyond splitting path from query. HTTP/2 `:authority` must be presented as `host`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mocksvc::auth {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys
};

struct HttpRequest {
  std::string method;  // "POST", "GET"
  std::string target;  // origin-form as sent: path[?query], percent-encoding as on the wire
  std::vector<std::pair<std::string, std::string>> headers;  // names in any case, wire order
  std::string body;

  // First value of a header, name compared case-insensitively.
  std::optional<std::string_view> header(std::string_view name) const;
  // Every value of a header, in wire order.
  std::vector<std::string_view> header_values(std::string_view name) const;
  // Replaces every header of that name with one header appended at the end.
  void set_header(std::string_view name, std::string_view value);
  void remove_header(std::string_view name);

  std::string_view path() const;   // target before '?'
  std::string_view query() const;  // target after the first '?', without it; empty if none
};

bool iequals(std::string_view a, std::string_view b);
std::string to_lower(std::string_view s);

}  // namespace mocksvc::auth
