// Version numbers the client reports and the agent-version switches it makes (data-channel.md
// §1.2, §10.2-§10.4): 4-part numeric versions compared part by part, as the official plugin does.
#pragma once

#include <optional>
#include <string_view>

namespace mocksvc::client {

// What this client reports in OpenDataChannel, HandshakeResponse and `--version`. Above
// 1.2.497.0, so the AWS CLI hands the StartSession response over in AWS_SSM_START_SESSION_RESPONSE
// (§1.2), and 1.2.677.0 is the code line data-channel.md describes.
inline constexpr std::string_view kDefaultClientVersion = "1.2.677.0";

// -1, 0 or 1 comparing dotted numeric versions (missing parts count as 0); nullopt when either
// is empty or has a non-numeric part.
std::optional<int> compare_versions(std::string_view a, std::string_view b);

// Agent newer than 3.0.196.0: LocalPortForwarding runs multiplexed (smux), else basic (§10.2).
bool agent_supports_multiplexing(std::string_view agent_version);
// Agent newer than 3.1.1511.0: the client disables smux keep-alive (§10.4).
bool agent_supports_disabling_keepalive(std::string_view agent_version);
// Agent newer than 2.3.722.0: Ctrl-C in basic port forwarding sends the TerminateSession flag
// instead of calling the TerminateSession API (§10.3).
bool agent_supports_terminate_flag(std::string_view agent_version);

}  // namespace mocksvc::client
