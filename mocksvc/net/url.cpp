#include "mocksvc/net/url.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace mocksvc::net {

boost::system::result<Url, std::string> parse_url(std::string_view text) {
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed) return "invalid URL '" + std::string(text) + "'";
  const boost::urls::url_view& u = *parsed;
  Url out;
  const std::string scheme(u.scheme());
  if (scheme == "https" || scheme == "wss") {
    out.tls = true;
  } else if (scheme != "http" && scheme != "ws") {
    return "unsupported URL scheme '" + scheme + "'";
  }
  out.host = std::string(u.encoded_host());
  if (u.host_type() == boost::urls::host_type::ipv6) out.host = std::string(u.host_address());
  if (out.host.empty()) return "URL without a host: '" + std::string(text) + "'";
  const std::string def = out.tls ? "443" : "80";
  out.port = u.has_port() ? std::string(u.port()) : def;
  const std::string bracketed = u.host_type() == boost::urls::host_type::ipv6 ? "[" + out.host + "]" : out.host;
  out.host_header = out.port == def ? bracketed : bracketed + ":" + out.port;
  out.target = std::string(u.encoded_path());
  if (out.target.empty()) out.target = "/";
  if (u.has_query()) out.target += "?" + std::string(u.encoded_query());
  return out;
}

}  // namespace mocksvc::net
