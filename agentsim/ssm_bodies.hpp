// The JSON bodies the agent sends to the SSM API and to the ssmmessages REST calls, with the
// keys in the order the real agent writes them (agent.md §1, §7, §9.2), and readers for the
// answers it uses. Pure values: no I/O; readers return an error string, never throw.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "agentsim/rsa_key.hpp"
#include "mocksvc/auth/request.hpp"

namespace ssmh::agentsim {

// What UpdateInstanceInformation reports about the host (agent.md §7).
struct HostFacts {
  std::string instance_id;
  std::string agent_version;
  std::string computer_name;
  std::string ip_address;
  std::string platform_name = "Debian GNU/Linux";
  std::string platform_version = "12";
};

// The health "ping" sent first: AgentName, AgentVersion, InstanceId, PlatformType "Linux".
std::string minimal_instance_information(const HostFacts& host);
// The full health report; `connection_channel` is "", "ssmmessages" or "ec2messages".
std::string full_instance_information(const HostFacts& host, std::string_view connection_channel);
std::string list_instance_associations(std::string_view instance_id);
// ec2messages GetMessages, the MDS poll the agent runs until MGS is up.
std::string get_messages(std::string_view instance_id, std::string_view request_id);

// CreateControlChannel: {"MessageSchemaVersion":"1.0","RequestId":...}; CreateDataChannel adds
// "ClientId":"" (agent.md §1).
std::string create_control_channel_body(std::string_view request_id);
std::string create_data_channel_body(std::string_view request_id);

// On-prem registration (agent.md §9.2).
struct Activation {
  std::string code;
  std::string id;
};
std::string register_managed_instance(const Activation& activation, std::string_view public_key,
                                      std::string_view fingerprint);
// The SDK's client-side checks before RegisterManagedInstance is sent: code >= 20 characters,
// id >= 36, public key >= 392. The error reads like the SDK's InvalidParameter message.
Outcome<void> validate_registration(const Activation& activation, std::string_view public_key);
Outcome<std::string> parse_register_response(std::string_view body);  // the mi- instance id

std::string request_role_token(std::string_view fingerprint);
struct RoleToken {
  mocksvc::auth::Credentials credentials;
  std::chrono::system_clock::time_point expires;
  bool update_key_pair = false;
};
// Every field is required: the real provider dereferences a missing expiry or UpdateKeyPair.
Outcome<RoleToken> parse_role_token(std::string_view body);
std::string update_managed_instance_public_key(std::string_view new_public_key);

// The AWS JSON 1.1 error code of a failed call (`__type` without its namespace), or "".
std::string json_error_code(std::string_view body);

}  // namespace ssmh::agentsim
