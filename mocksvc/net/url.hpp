// Splitting http(s)/ws(s) URLs into what a client needs to connect and to address requests.
#pragma once

#include <boost/system/result.hpp>
#include <string>

namespace mocksvc::net {

struct Url {
  bool tls = false;         // https or wss
  std::string host;         // without brackets for IPv6
  std::string port;         // always set (default 80/443 filled in)
  std::string target;       // origin-form: path[?query], at least "/"
  std::string host_header;  // host[:port], the port only when not the scheme's default
};

boost::system::result<Url, std::string> parse_url(std::string_view url);

}  // namespace mocksvc::net
