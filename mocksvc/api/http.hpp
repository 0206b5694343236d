// The plain HTTP values the api layer answers with, and what it knows about how a request
// reached us. net/ converts to and from the wire; nothing here does I/O.
#pragma once

#include <cctype>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mocksvc::api {

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Wait this long before writing the response (API latency faults).
  std::chrono::milliseconds delay{0};

  std::optional<std::string_view> header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n.size() != name.size()) continue;
      bool same = true;
      for (std::size_t i = 0; i < n.size() && same; ++i)
        same = std::tolower(static_cast<unsigned char>(n[i])) == std::tolower(static_cast<unsigned char>(name[i]));
      if (same) return std::string_view(v);
    }
    return std::nullopt;
  }
};

struct RequestContext {
  std::string source_ip;
  bool tls = false;
  std::string host;  // the Host header as received: how the client reached us
};

}  // namespace mocksvc::api
