#include "agentsim/settings.hpp"

#include <cmath>
#include <cstdio>
#include <random>

namespace ssmh::agentsim {

namespace {
template <typename D>
D scale(D d, double factor) {
  return D(static_cast<typename D::rep>(std::llround(static_cast<double>(d.count()) * factor)));
}
}  // namespace

Timing Timing::scaled(double factor) const {
  Timing t = *this;
  t.control_retry = control_retry.scaled(factor);
  t.reconnect_jitter_max = scale(reconnect_jitter_max, factor);
  t.data_retry = data_retry.scaled(factor);
  t.heartbeat = scale(heartbeat, factor);
  t.connected_report_after = scale(connected_report_after, factor);
  t.associations_first = scale(associations_first, factor);
  t.associations = scale(associations, factor);
  t.mds_poll_interval = scale(mds_poll_interval, factor);
  t.mds_poll_stop_after = scale(mds_poll_stop_after, factor);
  t.task_complete_resend = scale(task_complete_resend, factor);
  t.credential_retry = credential_retry.scaled(factor);
  t.websocket_ping = scale(websocket_ping, factor);
  return t;
}

std::string generated_instance_id(std::uint64_t seed, std::size_t index) {
  std::mt19937_64 rng(seed);
  const unsigned long long run = rng() & 0xFFFFFFFFFull;  // 9 hex digits shared by the fleet
  char buf[32];
  std::snprintf(buf, sizeof buf, "mi-%09llx%08llx", run, static_cast<unsigned long long>(index & 0xFFFFFFFFull));
  return buf;
}

std::string prefixed_instance_id(std::string_view prefix, std::size_t index) {
  char hex[24];
  std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(index));
  const std::string digits(hex);
  const auto dash = prefix.find('-');
  const std::size_t body = dash == std::string_view::npos ? prefix.size() : prefix.size() - dash - 1;
  constexpr std::size_t kIdDigits = 17;  // i-/mi- ids carry 17 hex digits
  std::string id(prefix);
  if (body + digits.size() < kIdDigits) id.append(kIdDigits - body - digits.size(), '0');
  id += digits;
  return id;
}

Outcome<std::string> websocket_base(std::string_view endpoint) {
  std::string_view rest;
  std::string scheme;
  if (endpoint.rfind("https://", 0) == 0) {
    scheme = "wss://";
    rest = endpoint.substr(8);
  } else if (endpoint.rfind("http://", 0) == 0) {
    scheme = "ws://";
    rest = endpoint.substr(7);
  } else {
    return failure<std::string>("the endpoint must be an http:// or https:// URL, not '" + std::string(endpoint) + "'");
  }
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (rest.empty()) return failure<std::string>("the endpoint '" + std::string(endpoint) + "' has no host");
  return success(scheme + std::string(rest));
}

}  // namespace ssmh::agentsim
