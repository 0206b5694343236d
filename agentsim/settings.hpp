// What a simulated fleet is: where the service is, who the agents are (CustomIdentity-style ids
// and keys, or on-prem activations), what they report, and every timing constant of the real
// agent (agent.md §2.4, §2.6, §5.3, §7, §11), each adjustable so tests can shrink them. Plain
// values; args.hpp fills them from the command line.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agentsim/backoff.hpp"
#include "agentsim/ssm_bodies.hpp"
#include "mocksvc/agent/profile.hpp"
#include "mocksvc/auth/request.hpp"

namespace ssmh::agentsim {

struct Timing {
  // Control channel reconnect loop, and the extra random wait of up to this much before the
  // first reconnect attempt after a working channel is lost (§2.6).
  Backoff control_retry = control_channel_backoff();
  Millis reconnect_jitter_max{2500};
  // Data channel open and reconnect loop (§2.6).
  Backoff data_retry = data_channel_backoff();
  // Full UpdateInstanceInformation ("health") every this long; the first at a random point of
  // the first period, which spreads a fleet's reports (§7: Ssm.HealthFrequencyMinutes, 5 min).
  Millis heartbeat{300'000};
  // The health report that says SSMConnectionChannel "ssmmessages", this long after the first
  // control channel opened (§7: +14 s).
  Millis connected_report_after{14'000};
  // ListInstanceAssociations: the first this long after start, then every `associations`
  // (§7: +2 s, then every 30 s). Zero turns the poll off.
  Millis associations_first{2'000};
  Millis associations{30'000};
  // The ec2messages GetMessages poll every 2 s until 60 s after MGS is up (§7). Off by default:
  // a fleet of thousands would spend most of its first minute on it.
  bool mds_poll = false;
  Millis mds_poll_interval{2'000};
  Millis mds_poll_stop_after{60'000};
  // agent_task_complete resends without an acknowledgement (§5.3).
  Millis task_complete_resend{1000};
  // The REST calls' whole-request client timeout (§1), used for the SSM calls too.
  Millis request_timeout{15000};
  // The real agent's dialer has no handshake timeout (§2.2); a simulated fleet must not hang on
  // a service that accepts and never answers, so it gives up after this long and retries.
  Millis websocket_handshake_timeout{60000};
  // On-prem credentials are refreshed at this fraction of their lifetime (§9.2: half).
  double credential_refresh_fraction = 0.5;
  // The on-prem role-token loop retries a failed refresh with this schedule.
  Backoff credential_retry = control_channel_backoff();
  // How long a session's data socket may take to flush its last frames before the abrupt close.
  Millis flush_before_close{2000};
  // WebSocket ping ("keepalive") on every channel the agent owns (§2.4: every 54 s).
  Millis websocket_ping{54'000};

  // Every delay multiplied by `factor` (1.0 = the real agent).
  Timing scaled(double factor) const;
};

struct FleetIdentity {
  // Long-term or temporary keys (CustomIdentity with the DEFAULT provider, §9.1). Unused with
  // activation.
  std::optional<mocksvc::auth::Credentials> credentials;
  // Instance ids, one agent each (CustomIdentity). Empty with activation: the service assigns
  // mi- ids at registration.
  std::vector<std::string> instance_ids;
  // On-prem: every agent registers with this activation (§9.2), `count` of them.
  std::optional<Activation> activation;
  std::size_t count = 1;
};

struct SimConfig {
  // scheme://host[:port] of the mock: the SSM API, ssmmessages and ec2messages alike. https
  // maps to wss for the WebSockets, http to ws.
  std::string endpoint;
  std::string ca_bundle;  // PEM to verify https with; empty: the system store
  std::string region = "us-east-1";
  FleetIdentity identity;
  std::string agent_version = "3.3.987.0";
  mocksvc::agent::InstanceProfile::Shell shell = mocksvc::agent::InstanceProfile::Shell::emulated;
  std::string user = "ssm-user";
  std::map<std::string, std::string> port_targets;  // see agent::InstanceProfile
  Timing timing;
  // Seeds instance ids, backoff draws and report offsets.
  std::uint64_t seed = 1;
};

// "mi-" followed by 17 hex digits, distinct per index, derived from `seed`.
std::string generated_instance_id(std::uint64_t seed, std::size_t index);
// `prefix` followed by the hex index, zero-padded so the part after the prefix's first '-' is
// 17 characters long (just appended when the prefix is already that long).
std::string prefixed_instance_id(std::string_view prefix, std::size_t index);

// The WebSocket origin for an endpoint: https -> wss, http -> ws, path dropped. Error for
// anything that is not an http(s) URL.
Outcome<std::string> websocket_base(std::string_view endpoint);

}  // namespace ssmh::agentsim
