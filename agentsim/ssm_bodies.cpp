#include "agentsim/ssm_bodies.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

namespace ssmh::agentsim {

namespace {
using ojson = nlohmann::ordered_json;
constexpr std::string_view kAgentName = "amazon-ssm-agent";
constexpr std::string_view kPlatformType = "Linux";  // capitalised here, "linux" on MGS (§7)

// Minimum lengths aws-sdk-go validates for RegisterManagedInstanceInput (§9.2).
constexpr std::size_t kMinActivationCode = 20;
constexpr std::size_t kMinActivationId = 36;
constexpr std::size_t kMinPublicKey = 392;

std::string dump(const ojson& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

ojson parse(std::string_view body) {
  return ojson::parse(body.begin(), body.end(), nullptr, false);
}

}  // namespace

std::string minimal_instance_information(const HostFacts& host) {
  ojson j;
  j["AgentName"] = kAgentName;
  j["AgentVersion"] = host.agent_version;
  j["InstanceId"] = host.instance_id;
  j["PlatformType"] = kPlatformType;
  return dump(j);
}

std::string full_instance_information(const HostFacts& host, std::string_view connection_channel) {
  ojson j;
  j["AgentName"] = kAgentName;
  j["AgentStatus"] = "Active";
  j["AgentVersion"] = host.agent_version;
  j["AvailabilityZone"] = "";
  j["AvailabilityZoneId"] = "";
  j["ComputerName"] = host.computer_name;
  j["IPAddress"] = host.ip_address;
  j["InstanceId"] = host.instance_id;
  j["PlatformName"] = host.platform_name;
  j["PlatformType"] = kPlatformType;
  j["PlatformVersion"] = host.platform_version;
  j["SSMConnectionChannel"] = connection_channel;
  return dump(j);
}

std::string list_instance_associations(std::string_view instance_id) {
  ojson j;
  j["InstanceId"] = instance_id;
  j["MaxResults"] = 20;
  return dump(j);
}

std::string get_messages(std::string_view instance_id, std::string_view request_id) {
  ojson j;
  j["Destination"] = instance_id;
  j["MessagesRequestId"] = request_id;
  j["VisibilityTimeoutInSeconds"] = 10;
  return dump(j);
}

std::string create_control_channel_body(std::string_view request_id) {
  ojson j;
  j["MessageSchemaVersion"] = "1.0";
  j["RequestId"] = request_id;
  return dump(j);
}

std::string create_data_channel_body(std::string_view request_id) {
  ojson j;
  j["MessageSchemaVersion"] = "1.0";
  j["RequestId"] = request_id;
  j["ClientId"] = "";
  return dump(j);
}

std::string register_managed_instance(const Activation& activation, std::string_view public_key,
                                      std::string_view fingerprint) {
  ojson j;
  j["ActivationCode"] = activation.code;
  j["ActivationId"] = activation.id;
  j["PublicKey"] = public_key;
  j["PublicKeyType"] = "Rsa";
  j["Fingerprint"] = fingerprint;
  return dump(j);
}

Outcome<void> validate_registration(const Activation& activation, std::string_view public_key) {
  auto too_short = [](std::size_t min, std::string_view field) {
    return "InvalidParameter: 1 validation error(s) found.\n- minimum field size of " + std::to_string(min) +
           ", RegisterManagedInstanceInput." + std::string(field) + ".";
  };
  if (activation.code.size() < kMinActivationCode) return too_short(kMinActivationCode, "ActivationCode");
  if (activation.id.size() < kMinActivationId) return too_short(kMinActivationId, "ActivationId");
  if (public_key.size() < kMinPublicKey) return too_short(kMinPublicKey, "PublicKey");
  return {};
}

Outcome<std::string> parse_register_response(std::string_view body) {
  auto j = parse(body);
  if (!j.is_object()) return failure<std::string>("RegisterManagedInstance answered with something other than a JSON object");
  auto it = j.find("InstanceId");
  if (it == j.end() || !it->is_string() || it->get<std::string>().empty())
    return failure<std::string>("RegisterManagedInstance answered without an InstanceId");
  return success(it->get<std::string>());
}

std::string request_role_token(std::string_view fingerprint) {
  ojson j;
  j["Fingerprint"] = fingerprint;
  return dump(j);
}

Outcome<RoleToken> parse_role_token(std::string_view body) {
  auto j = parse(body);
  if (!j.is_object()) return std::string("RequestManagedInstanceRoleToken answered with something other than JSON");
  RoleToken t;
  auto str = [&](const char* key, std::string& out) -> bool {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return false;
    out = it->get<std::string>();
    return true;
  };
  if (!str("AccessKeyId", t.credentials.access_key_id) || !str("SecretAccessKey", t.credentials.secret_access_key) ||
      !str("SessionToken", t.credentials.session_token))
    return std::string("RequestManagedInstanceRoleToken answered without AccessKeyId/SecretAccessKey/SessionToken");
  auto exp = j.find("TokenExpirationDate");
  if (exp == j.end() || !exp->is_number())
    return std::string("RequestManagedInstanceRoleToken answered without a numeric TokenExpirationDate");
  const double seconds = exp->get<double>();
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e11)
    return std::string("RequestManagedInstanceRoleToken answered with an impossible TokenExpirationDate");
  t.expires = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(seconds)));
  auto upd = j.find("UpdateKeyPair");
  if (upd == j.end() || !upd->is_boolean())
    return std::string("RequestManagedInstanceRoleToken answered without UpdateKeyPair");
  t.update_key_pair = upd->get<bool>();
  return t;
}

std::string update_managed_instance_public_key(std::string_view new_public_key) {
  ojson j;
  j["NewPublicKey"] = new_public_key;
  j["NewPublicKeyType"] = "Rsa";
  return dump(j);
}

std::string json_error_code(std::string_view body) {
  auto j = parse(body);
  if (!j.is_object()) return {};
  for (const char* key : {"__type", "code"}) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) continue;
    std::string code = it->get<std::string>();
    if (auto hash = code.rfind('#'); hash != std::string::npos) code = code.substr(hash + 1);
    if (auto colon = code.find(':'); colon != std::string::npos) code = code.substr(0, colon);
    return code;
  }
  return {};
}

}  // namespace ssmh::agentsim
